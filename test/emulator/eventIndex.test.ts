// The matcher index: candidates only for an event's kind (card, value) or the pages an access
// touches, so a thousand armed breakpoints cost about the same as one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventIndex, PAGE_SIZE } from '../../src/emulator/sim/eventIndex.ts';
import { nameInfo } from '../../src/emulator/sim/spine.ts';
import type { BusEvent, EventKind } from '../../src/emulator/sim/busEvent.ts';
import { busEvent } from '../helpers/events.ts';

const ev = (kind: EventKind, over: Partial<BusEvent> = {}): BusEvent => busEvent(kind, over);
import { bootedMachine, typeLine } from '../helpers/machine.ts';

test('an event names its card from its space, else its initiator (the machine names them)', () => {
  assert.equal(nameInfo('mic1.bar4').card, 1);
  assert.equal(ev('doorbell', { space: 'mic1.bar4' }).card, 1);
  assert.equal(ev('dma.desc', { space: 'host', initiator: 'mic2.dma0' }).card, 2);
  assert.equal(ev('vring.used', { space: 'host', initiator: 'host.mic3.console' }).card, 3);
  assert.equal(ev('log', { space: 'host', initiator: 'host.driver', detail: 'microcode' }).card, -1);
  assert.deepEqual(nameInfo('mic2.dma5'), { card: 2, channel: 5 });
  assert.equal(nameInfo('mic12.gddr').card, 12);
  assert.equal(nameInfo('mice').card, -1);
  assert.equal(nameInfo('mic').card, -1);
});

test('kind entries: only the event kind, narrowed by card and value', () => {
  const ix = new EventIndex<string>();
  ix.addKind({ kind: 'doorbell' }, 'any doorbell');
  ix.addKind({ kind: 'doorbell', value: 3 }, 'db 3');
  ix.addKind({ kind: 'doorbell', card: 1 }, 'mic1 doorbells');
  ix.addKind({ kind: 'doorbell', card: 1, value: 3 }, 'mic1 db 3');
  ix.addKind({ kind: 'irq' }, 'irq');
  const got = (e: BusEvent) => [...ix.candidates(e)].sort();
  assert.deepEqual(got(ev('doorbell', { space: 'mic0.bar4', value: 3 })), ['any doorbell', 'db 3']);
  assert.deepEqual(got(ev('doorbell', { space: 'mic0.bar4', value: 2 })), ['any doorbell']);
  assert.deepEqual(got(ev('doorbell', { space: 'mic1.bar4', value: 3 })), [
    'any doorbell',
    'db 3',
    'mic1 db 3',
    'mic1 doorbells',
  ]);
  assert.deepEqual(got(ev('irq', { space: 'mic1.msix' })), ['irq']);
  assert.deepEqual(got(ev('mem.write')), []);
  assert.equal(ix.size, 5);
  // A kind outside EVENT_KINDS (its slot in the kind table belongs to none) is still found.
  ix.addKind({ kind: 'trace.mark' as EventKind }, 'mark');
  assert.deepEqual(got(ev('trace.mark' as EventKind)), ['mark']);
  ix.clear();
  assert.deepEqual(got(ev('irq')), []);
});

test('refined entries: only events whose key equals theirs, one lookup for all of them', () => {
  const ix = new EventIndex<string>();
  let asked = 0;
  const queue = (e: BusEvent) => {
    asked++;
    return e.detail.split(' ')[1] ?? null;
  };
  const channel = (e: BusEvent) => Number(/dma(\d)$/.exec(e.initiator)?.[1] ?? -1);
  for (let i = 0; i < 40; i++)
    ix.addKind(
      { kind: 'vring.avail', refine: { of: queue, key: i % 2 ? 'net.tx' : 'console.tx' } },
      `other ${i}`,
    );
  ix.addKind({ kind: 'vring.avail', refine: { of: queue, key: 'console.rx' } }, 'console.rx');
  ix.addKind({ kind: 'vring.avail', card: 1, refine: { of: queue, key: 'console.rx' } }, 'mic1 console.rx');
  ix.addKind({ kind: 'vring.avail' }, 'any queue');
  ix.addKind({ kind: 'dma.desc', value: 1, refine: { of: channel, key: 3 } }, 'ch 3 memcpy');
  const got = (e: BusEvent) => [...ix.candidates(e)].sort();
  const rx = (card: number) =>
    ev('vring.avail', { space: `mic${card}.cpu`, detail: `mic${card} console.rx head 1` });
  const before = ix.examined;
  assert.deepEqual(got(rx(0)), ['any queue', 'console.rx']);
  assert.equal(ix.examined - before, 2, 'the forty on other queues are not looked at');
  assert.deepEqual(got(rx(1)), ['any queue', 'console.rx', 'mic1 console.rx']);
  assert.deepEqual(got(ev('vring.avail', { detail: 'mic0 block.requestq head 0' })), ['any queue']);
  assert.deepEqual(got(ev('vring.avail', { detail: 'mic0' })), ['any queue'], 'no key');
  assert.equal(got(ev('vring.avail', { detail: 'mic0 net.tx head 3' })).length, 21);
  asked = 0;
  got(rx(0));
  assert.equal(asked, 1, 'one key per event, however many entries it refines');
  const desc = (initiator: string, value: number) => ev('dma.desc', { space: 'host', initiator, value });
  assert.deepEqual(got(desc('mic0.dma3', 1)), ['ch 3 memcpy']);
  assert.deepEqual(got(desc('mic0.dma3', 2)), [], 'the value narrows inside the refinement');
  assert.deepEqual(got(desc('mic0.dma0', 1)), []);
  // Entries added after a lookup are found (the last key's bucket is not kept stale).
  ix.addKind({ kind: 'vring.avail', refine: { of: queue, key: 'block.requestq' } }, 'block');
  assert.deepEqual(got(ev('vring.avail', { detail: 'mic0 block.requestq head 0' })), ['any queue', 'block']);
});

test('range entries: only overlapping accesses of the registered kinds and space', () => {
  const ix = new EventIndex<string>();
  ix.addRange(['mmio.write'], 'mic0.bar4', 0x1cc90, 4, 'SDBIC0');
  ix.addRange(['mem.read', 'mem.write'], 'mic0.gddr', 0x10_0ff0, 0x20, 'across a page boundary');
  const got = (e: BusEvent) => [...ix.candidates(e)].sort();
  assert.deepEqual(got(ev('mmio.write', { space: 'mic0.bar4', address: 0x1cc90 })), ['SDBIC0']);
  assert.deepEqual(
    got(ev('mmio.write', { space: 'mic0.bar4', address: 0x1cc92, size: 2 })),
    ['SDBIC0'],
    'narrow write inside',
  );
  assert.deepEqual(got(ev('mmio.write', { space: 'mic0.bar4', address: 0x1cc94 })), [], 'next register');
  assert.deepEqual(
    got(ev('mmio.read', { space: 'mic0.bar4', address: 0x1cc90 })),
    [],
    'a read is not a write',
  );
  assert.deepEqual(got(ev('mmio.write', { space: 'mic1.bar4', address: 0x1cc90 })), [], 'another card');
  assert.deepEqual(got(ev('mem.write', { space: 'mic0.gddr', address: 0x10_1000, size: 4 })), [
    'across a page boundary',
  ]);
  assert.deepEqual(
    got(ev('mem.read', { space: 'mic0.gddr', address: 0x10_0f00, size: 0xf0 })),
    [],
    'ends right before',
  );
  assert.deepEqual(got(ev('mem.read', { space: 'mic0.gddr', address: 0x10_0f00, size: 0xf1 })), [
    'across a page boundary',
  ]);
  // A bulk DMA write spanning many pages hits once, even though the range sits on two pages.
  assert.deepEqual(got(ev('mem.write', { space: 'mic0.gddr', address: 0xc_0000, size: 512 * 1024 })), [
    'across a page boundary',
  ]);
  assert.deepEqual(
    got(ev('mem.write', { space: 'mic0.gddr', address: 0x20_0000, size: 64 * 1024 * 1024 })),
    [],
  );
});

test('a range wider than the page budget is still found', () => {
  const ix = new EventIndex<string>();
  ix.addRange(['mem.write'], 'host', 0x1000_0000, 1 << 30, 'a gigabyte');
  assert.deepEqual(
    [...ix.candidates(ev('mem.write', { space: 'host', address: 0x2000_0000 }))],
    ['a gigabyte'],
  );
  assert.deepEqual([...ix.candidates(ev('mem.write', { space: 'host', address: 0x5000_0000 }))], []);
});

test('1,000 armed breakpoints that do not match cost no per-event scan', () => {
  const ix = new EventIndex<number>();
  for (let i = 0; i < 1000; i++) {
    ix.addRange(['mem.write'], 'mic0.gddr', 0x4000_0000 + i * PAGE_SIZE * 2, 8, i); // pages nobody touches
    ix.addKind({ kind: 'doorbell', card: 1, value: i % 4 }, i); // another card
  }
  ix.addRange(['mem.write'], 'mic0.gddr', 0x1000, 4, -1);
  const before = ix.examined;
  let found = 0;
  for (let k = 0; k < 10_000; k++) {
    found += ix.candidates(
      ev('mem.write', { space: 'mic0.gddr', address: 0x1000 + (k % 8) * 4, size: 4 }),
    ).length;
    found += ix.candidates(ev('doorbell', { space: 'mic0.bar4', value: k % 4 })).length;
    found += ix.candidates(ev('mmio.write', { space: 'mic0.bar4', address: 0x1cc90 })).length;
  }
  assert.equal(found, 10_000 / 8);
  // Only the one breakpoint on the touched page is ever looked at: one per access of that page.
  assert.equal(ix.examined - before, 10_000);
});

test('with 1,000 breakpoints on untouched pages a real workload examines only what it touches', () => {
  const t = bootedMachine();
  const ix = new EventIndex<number>();
  for (let i = 0; i < 1000; i++)
    ix.addRange(['mem.read', 'mem.write', 'mmio.write'], 'mic0.gddr', 0x1_0000_0000 + i * PAGE_SIZE, 4, i);
  for (let i = 0; i < 1000; i++) ix.addKind({ kind: 'doorbell', card: 5, value: i & 15 }, i);
  let events = 0;
  let hits = 0;
  const off = t.m.spine.observe((e) => {
    events++;
    hits += ix.candidates(e).length;
  });
  typeLine(t, 'cat /proc/cpuinfo');
  off();
  assert.ok(events > 1000, `a real workload (${events} events)`);
  assert.equal(hits, 0);
  assert.equal(ix.examined, 0, 'no armed entry was even looked at');
  t.m.dispose();
});
