// Causal links and virtio requests as data (sim/requests.ts, sim/requestTracker.ts): each
// event names the event that caused it (`cause`) and the request it belongs to (`req`). These
// tests pin the story of one 512-byte block read and of one console line, event by event, and
// check the links the debugger's views draw: doorbell write → doorbell → interrupt → handler,
// DHPR write → DMA descriptor → data moves → the host seeing DSTAT move → used entry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bootedMachine, recordEvents, typeLine, type TestMachine } from '../helpers/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { latency, RequestTracker, type VirtioRequest } from '../../src/emulator/sim/requestTracker.ts';

interface Session {
  t: TestMachine;
  events: Map<number, BusEvent>;
  requests: RequestTracker;
  done(): void;
}

/** A booted card with a disk image of its own; `line` typed with every event recorded. */
function run(line: string): Session {
  const dir = mkdtempSync(join(tmpdir(), 'mic-cause-'));
  const t = bootedMachine({
    disk: () => ({ path: join(dir, 'd.img'), sizeBytes: 1 << 20, readonly: false }),
  });
  const requests = new RequestTracker();
  const off = t.m.spine.observe(requests.observer);
  const list = recordEvents(
    t.m,
    () => true,
    () => typeLine(t, line),
  );
  off();
  return {
    t,
    events: new Map(list.map((e) => [e.seq, e])),
    requests,
    done: () => {
      t.m.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An event in a few words: who, what kind, and the register, queue, descriptor or doorbell it names. */
function words(e: BusEvent): string {
  return [
    e.initiator,
    e.kind,
    e.register,
    e.queue && `${e.queue} (${e.side})`,
    e.descType,
    e.dir && `${e.dir} ${e.db}`,
    e.kind === 'irq' && `to ${e.side}`,
    e.kind.startsWith('mem') && `${e.space} ${e.size}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** A request's events, each with the index of its cause among them ('·': a cause outside the request). */
function story(s: Session, r: VirtioRequest): string[] {
  const at = new Map(r.events.map((seq, i) => [seq, i]));
  return r.events.map((seq, i) => {
    const e = s.events.get(seq)!;
    return `${i} ${words(e)} ← ${at.get(e.cause) ?? '·'}`;
  });
}

/** `later` follows from `earlier` through cause links (happens-before, as the machine recorded it). */
function follows(s: Session, earlier: number, later: number): boolean {
  for (let e = s.events.get(later), n = 0; e && n < 1000; e = s.events.get(e.cause), n++)
    if (e.seq === earlier) return true;
  return false;
}

const one = (s: Session, queue: string): VirtioRequest => {
  const rs = s.requests.all.filter((r) => r.queue === queue && r.doneSeq !== 0);
  assert.equal(rs.length, 1, `one ${queue} request`);
  return rs[0];
};

const BLOCK_READ_512 = [
  '0 mic0.cpu mem.write host 16 ← ·',
  '1 mic0.cpu mem.write host 16 ← 0',
  '2 mic0.cpu mem.write host 16 ← 1',
  '3 mic0.cpu mem.write host 2 ← 2',
  '4 mic0.cpu mem.write host 2 ← 3',
  '5 mic0.cpu vring.avail block.requestq (card) ← 4',
  '6 mic0.cpu mmio.write SDBIC3 ← 5',
  '7 mic0.cpu doorbell SDBIC3 c2h 3 ← 6',
  '8 hw irq to host ← 7',
  '9 host.driver mmio.read SICE0 ← 8',
  '10 host.driver mmio.write SICE0 ← 9',
  '11 host.driver mmio.read SIAC0 ← 10',
  '12 host.driver mmio.write SIAC0 ← 11',
  '13 host.driver mem.read host 1 ← 12',
  '14 host.driver mem.read host 1 ← 13',
  '15 host.mic0.block mem.read host 2 ← ·',
  '16 host.mic0.block mem.read host 2 ← 15',
  '17 host.mic0.block mem.read host 2 ← 16',
  '18 host.mic0.block mem.read host 16 ← 17',
  '19 host.mic0.block mem.read host 16 ← 18',
  '20 host.mic0.block mem.read host 16 ← 19',
  '21 host.mic0.block mem.read host 1 ← 20',
  '22 host.mic0.block mem.read host 2 ← 21',
  '23 host.mic0.block mem.read host 2 ← 22',
  '24 host.mic0.block mem.read host 16 ← 23',
  '25 host.mic0.block mem.read host 16 ← 24',
  '26 host.mic0.block mem.read host 16 ← 25',
  '27 host.mic0.block vring.avail block.requestq (host) ← 26',
  '28 host.mic0.block mem.write host 16 ← 27',
  '29 host.mic0.block mem.write host 16 ← 28',
  '30 host.mic0.block mmio.write DHPR0 ← 29',
  '31 mic0.dma0 dma.desc memcpy ← 30',
  '32 mic0.dma0 mem.read mic0.gddr 64 ← 31',
  '33 mic0.dma0 mem.write host 64 ← 32',
  '34 mic0.dma0 dma.desc status ← 33',
  '35 mic0.dma0 mem.write host 8 ← 34',
  '36 host.mic0.block mmio.read DSTAT0 ← 35',
  '37 host.mic0.block mem.read host 16 ← 36',
  '38 host.mic0.block mem.read host 1 ← 37',
  '39 host.mic0.block mem.write host 512 ← 38',
  '40 host.mic0.block mem.write host 16 ← 39',
  '41 host.mic0.block mem.write host 16 ← 40',
  '42 host.mic0.block mmio.write DHPR0 ← 41',
  '43 mic0.dma0 dma.desc memcpy ← 42',
  '44 mic0.dma0 mem.read host 512 ← 43',
  '45 mic0.dma0 mem.write mic0.gddr 512 ← 44',
  '46 mic0.dma0 dma.desc status ← 45',
  '47 mic0.dma0 mem.write host 8 ← 46',
  '48 host.mic0.block mmio.read DSTAT0 ← 47',
  '49 host.mic0.block mem.read host 1 ← 48',
  '50 host.mic0.block mem.write mic0.gddr 1 ← 49',
  '51 host.mic0.block mem.write mic0.gddr 8 ← 50',
  '52 host.mic0.block mem.write mic0.gddr 2 ← 51',
  '53 host.mic0.block vring.used block.requestq (host) ← 52',
  '54 host.mic0.block mem.read host 2 ← 53',
  '55 host.mic0.block mem.read host 1 ← 54',
  '56 host.mic0.block mmio.read APICICR3 ← 55',
  '57 host.mic0.block mmio.write APICICR3 ← 56',
  '58 host.mic0.block doorbell APICICR3 h2c 3 ← 57',
  '59 host.mic0.block mem.write host 2 ← 58',
  '60 hw irq to card ← 58',
  '61 mic0.cpu mem.read mic0.gddr 2 ← 60',
  '62 mic0.cpu mem.read mic0.gddr 8 ← 61',
  '63 mic0.cpu vring.used block.requestq (card) ← 62',
];

const CONSOLE_LINE = [
  '0 mic0.cpu mem.write host 16 ← ·',
  '1 mic0.cpu mem.write host 2 ← 0',
  '2 mic0.cpu mem.write host 2 ← 1',
  '3 mic0.cpu vring.avail console.tx (card) ← 2',
  '4 mic0.cpu mmio.write SDBIC1 ← 3',
  '5 mic0.cpu doorbell SDBIC1 c2h 1 ← 4',
  '6 host.mic0.console mem.read host 2 ← ·',
  '7 host.mic0.console mem.read host 2 ← 6',
  '8 host.mic0.console mem.read host 16 ← 7',
  '9 host.mic0.console vring.avail console.tx (host) ← 8',
  '10 host.mic0.console mem.write host 16 ← 9',
  '11 host.mic0.console mem.write host 16 ← 10',
  '12 host.mic0.console mmio.write DHPR0 ← 11',
  '13 mic0.dma0 dma.desc memcpy ← 12',
  '14 mic0.dma0 mem.read mic0.gddr 64 ← 13',
  '15 mic0.dma0 mem.write host 64 ← 14',
  '16 hw irq to host ← 5',
  '17 host.driver mmio.read SICE0 ← 16',
  '18 host.driver mmio.write SICE0 ← 17',
  '19 host.driver mmio.read SIAC0 ← 18',
  '20 host.driver mmio.write SIAC0 ← 19',
  '21 host.driver mem.read host 1 ← 20',
  '22 host.driver mem.read host 1 ← 21',
  '23 mic0.dma0 dma.desc status ← 15',
  '24 mic0.dma0 mem.write host 8 ← 23',
  '25 host.mic0.console mmio.read DSTAT0 ← 24',
  '26 host.mic0.console mem.read host 28 ← 25',
  '27 host.mic0.console mem.write mic0.gddr 8 ← 26',
  '28 host.mic0.console mem.write mic0.gddr 2 ← 27',
  '29 host.mic0.console vring.used console.tx (host) ← 28',
  '30 host.mic0.console mem.read host 2 ← 29',
  '31 host.mic0.console mem.read host 1 ← 30',
  '32 host.mic0.console mmio.read APICICR1 ← 31',
  '33 host.mic0.console mmio.write APICICR1 ← 32',
  '34 host.mic0.console doorbell APICICR1 h2c 1 ← 33',
  '35 host.mic0.console mem.write host 2 ← 34',
  '36 hw irq to card ← 34',
  '37 mic0.cpu mem.read mic0.gddr 2 ← ·',
  '38 mic0.cpu mem.read mic0.gddr 8 ← 37',
  '39 mic0.cpu vring.used console.tx (card) ← 38',
];

test('the causal chain of one 512-byte block read, event by event', () => {
  const s = run('dd if=/dev/vda of=/dev/null bs=512 count=1');
  try {
    const r = one(s, 'block.requestq');
    assert.deepEqual(story(s, r), BLOCK_READ_512);
    assert.equal(r.device, 'block');
    assert.equal(r.head, 0);
    assert.equal(r.chainBytes, 16 + 512 + 1, 'header, data, status');
    assert.equal(r.usedLen, 529);
    assert.equal(r.dmaBytes, 64 + 512, 'the header (64-byte aligned) and the data');
    assert.ok(latency(r) > 0 && r.doneTime >= r.usedTime);
    // The links the issue names, in order: each follows from the one before through `cause`.
    const kinds = (k: string, side?: string) =>
      r.events.filter(
        (q) => s.events.get(q)!.kind === k && (side === undefined || s.events.get(q)!.side === side),
      );
    const availIdxRead = r.events.find((q) => {
      const e = s.events.get(q)!;
      return e.initiator === 'host.mic0.block' && e.kind === 'mem.read' && e.size === 2;
    })!;
    const descs = kinds('dma.desc');
    const cardUsedIdxRead = r.events.find((q) => {
      const e = s.events.get(q)!;
      return e.initiator === 'mic0.cpu' && e.kind === 'mem.read' && e.size === 2 && q > r.usedSeq;
    })!;
    const dataMoves = r.events.filter(
      (q) => s.events.get(q)!.initiator === 'mic0.dma0' && s.events.get(q)!.kind !== 'dma.desc',
    );
    const chain = [
      r.availSeq,
      availIdxRead,
      r.takenSeq,
      descs[0],
      dataMoves[0],
      descs[descs.length - 1],
      r.usedSeq,
      kinds('irq', 'card')[0],
      cardUsedIdxRead,
      r.doneSeq,
    ];
    for (let i = 1; i < chain.length; i++)
      assert.ok(
        follows(s, chain[i - 1], chain[i]),
        `${words(s.events.get(chain[i])!)} follows ${words(s.events.get(chain[i - 1])!)}`,
      );
  } finally {
    s.done();
  }
});

test('the causal chain of one console line (the echo of a typed command), event by event', () => {
  const s = run('echo hi');
  try {
    const tx = one(s, 'console.tx');
    assert.deepEqual(story(s, tx), CONSOLE_LINE);
    assert.equal(tx.usedLen, 'echo hi\r\n'.length + 'hi\r\n'.length + '[root@mic0 ~]# '.length);
    // What was typed comes in on console.rx: the input event starts the chain the card reads.
    const input = [...s.events.values()].find((e) => e.kind === 'input')!;
    assert.equal(input.cause, 0, 'an input from outside has no cause');
    const rx = one(s, 'console.rx');
    assert.ok(follows(s, input.seq, rx.takenSeq), 'the back-end takes an rx buffer because of the input');
    assert.ok(follows(s, rx.doneSeq, tx.availSeq), 'the shell echoes what the card received');
  } finally {
    s.done();
  }
});

test("a doorbell write → the doorbell → the interrupt it raised → the handler's first access", () => {
  const s = run('dd if=/dev/vda of=/dev/null bs=512 count=1');
  try {
    const all = [...s.events.values()];
    for (const db of all.filter((e) => e.kind === 'doorbell')) {
      const write = s.events.get(db.cause)!;
      assert.equal(write.kind, 'mmio.write', `${words(db)} comes from a register write`);
      assert.match(write.register, db.dir === 'h2c' ? /^(APICICR|RDMASR)\d/ : /^SDBIC\d/);
      const irq = all.find((e) => e.kind === 'irq' && e.cause === db.seq)!;
      assert.ok(irq, `${words(db)} raised an interrupt`);
      assert.equal(irq.side, db.dir === 'h2c' ? 'card' : 'host');
      const handler = all.find((e) => e.cause === irq.seq)!;
      assert.ok(handler, 'the handler ran');
      assert.equal(handler.initiator, db.dir === 'h2c' ? 'mic0.cpu' : 'host.driver');
    }
  } finally {
    s.done();
  }
});

test('every DMA descriptor of a block request belongs to it and follows from its DHPR write', () => {
  const s = run('dd if=/dev/vda of=/dev/null bs=65536 count=2');
  try {
    const blocks = s.requests.all.filter((r) => r.queue === 'block.requestq' && r.doneSeq !== 0);
    assert.equal(blocks.length, 2);
    for (const r of blocks) {
      const descs = r.events.map((q) => s.events.get(q)!).filter((e) => e.kind === 'dma.desc');
      assert.ok(descs.length >= 4, `${descs.length} descriptors`);
      for (const d of descs) {
        assert.equal(d.req, r.id);
        // The first of a batch follows from the DHPR write that handed it over, the rest from
        // the descriptor before them; either way a DHPR write of this request is behind it.
        let e: BusEvent | undefined = d;
        while (e && !(e.kind === 'mmio.write' && e.register === 'DHPR0')) e = s.events.get(e.cause);
        assert.ok(e, `descriptor ${d.seq} follows from a DHPR write`);
        assert.equal(e!.req, r.id, "the DHPR write is the request's own");
      }
      assert.equal(r.dmaBytes, 64 + 65536);
    }
    // No descriptor of the session is left without a request.
    for (const e of s.events.values())
      if (e.kind === 'dma.desc') assert.notEqual(e.req, 0, `descriptor ${e.seq}`);
  } finally {
    s.done();
  }
});
