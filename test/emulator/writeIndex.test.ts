// The write index behind "who last wrote this?" (timeTravel/writeIndex.ts): overlapping
// ranges, bulk writes, page and region boundaries, limit and before, a replay that feeds the
// same events again, a fork that drops the future — and the same answers as a plain search.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteIndex, type IndexedWrite } from '../../src/emulator/timeTravel/writeIndex.ts';
import { Timeline } from '../../src/emulator/timeTravel/timeline.ts';
import { Machine } from '../../src/emulator/machine.ts';
import type { BusEvent, EventKind } from '../../src/emulator/sim/busEvent.ts';
import { busEvent } from '../helpers/events.ts';

let seq = 0;
let time = 0;
function w(space: string, address: number, size: number, value = 0, over: Partial<BusEvent> = {}): BusEvent {
  seq += 1 + (over.seq ?? 0);
  time += 7;
  const kind: EventKind = space.endsWith('.bar4') ? 'mmio.write' : 'mem.write';
  return busEvent(kind, { initiator: 'mic0.cpu', ...over, seq, time, space, address, size, value });
}

function fresh(): WriteIndex {
  seq = 0;
  time = 0;
  return new WriteIndex();
}

const seqs = (ws: IndexedWrite[]) => ws.map((x) => x.seq);

test('a query lists the writes that overlap its range, newest first, with every field', () => {
  const ix = fresh();
  ix.add(w('mic0.gddr', 0x1000, 4, 0x11)); // 1
  ix.add(w('mic0.gddr', 0x1002, 2, 0x22, { initiator: 'mic0.dma0' })); // 2
  ix.add(w('mic0.gddr', 0x1004, 4, 0x33)); // 3: next to the range, not in it
  ix.add(w('host', 0x1000, 4, 0x44)); // 4: another space
  ix.add(w('mic0.gddr', 0xffc, 4, 0x55)); // 5: ends just before
  ix.add(w('mic0.gddr', 0xffd, 4, 0x66)); // 6: its last byte is 0x1000
  const got = ix.writes('mic0.gddr', 0x1000, 4, Infinity, 20);
  assert.deepEqual(seqs(got), [6, 2, 1]);
  assert.deepEqual(got[1], {
    seq: 2,
    time: 14,
    initiator: 'mic0.dma0',
    kind: 'mem.write',
    space: 'mic0.gddr',
    address: 0x1002,
    size: 2,
    value: 0x22,
  });
  assert.deepEqual(seqs(ix.writes('host', 0x1003, 1, Infinity, 20)), [4]);
  assert.deepEqual(ix.writes('host', 0x2000, 4, Infinity, 20), []);
  assert.deepEqual(ix.writes('mic1.gddr', 0x1000, 4, Infinity, 20), []);
});

test('limit and before: the newest N before a moment', () => {
  const ix = fresh();
  for (let i = 0; i < 100; i++) ix.add(w('mic0.bar4', 0x1cc90, 4, i));
  assert.deepEqual(seqs(ix.writes('mic0.bar4', 0x1cc90, 4, Infinity, 3)), [100, 99, 98]);
  assert.deepEqual(seqs(ix.writes('mic0.bar4', 0x1cc90, 4, 50, 3)), [49, 48, 47]);
  assert.deepEqual(seqs(ix.writes('mic0.bar4', 0x1cc90, 4, 2, 3)), [1]);
  assert.deepEqual(ix.writes('mic0.bar4', 0x1cc90, 4, 1, 3), []);
  assert.equal(ix.writes('mic0.bar4', 0x1cc90, 4, Infinity, 1)[0].kind, 'mmio.write');
  assert.equal(ix.writes('mic0.bar4', 0x1cc90, 4, Infinity, 1)[0].value, 99);
});

test('a write across a page boundary is found from either page, once', () => {
  const ix = fresh();
  ix.add(w('host', 0x1ffe, 4, 1)); // 0x1ffe..0x2001
  assert.deepEqual(seqs(ix.writes('host', 0x1fff, 1, Infinity, 20)), [1]);
  assert.deepEqual(seqs(ix.writes('host', 0x2001, 1, Infinity, 20)), [1]);
  assert.deepEqual(seqs(ix.writes('host', 0x1000, 0x2000, Infinity, 20)), [1], 'not twice');
  assert.deepEqual(ix.writes('host', 0x2002, 2, Infinity, 20), []);
  assert.deepEqual(ix.writes('host', 0x1f00, 0xfe, Infinity, 20), []);
});

test('bulk writes: a 64 KiB DMA copy and a 4 MiB one are found at any byte they cover, and not beside', () => {
  const ix = fresh();
  ix.add(w('host', 0x10_0000 - 0x8000, 0x10000, 0xaa, { initiator: 'mic0.dma0' })); // 1: across a 1 MiB region
  ix.add(w('host', 0x40_0000, 4 << 20, 0xbb)); // 2: 4 MiB from 4 MiB
  ix.add(w('host', 0x10_0010, 4, 0xcc)); // 3: small, inside the first copy
  ix.add(w('host', 0x1234_5678, 1000, 0xdd)); // 4: an odd size (not a power of two)
  assert.deepEqual(seqs(ix.writes('host', 0x0f_8000, 1, Infinity, 20)), [1]);
  assert.deepEqual(seqs(ix.writes('host', 0x10_7fff, 1, Infinity, 20)), [1]);
  assert.deepEqual(ix.writes('host', 0x10_8000, 1, Infinity, 20), []);
  assert.deepEqual(ix.writes('host', 0x0f_7fff, 1, Infinity, 20), []);
  assert.deepEqual(seqs(ix.writes('host', 0x10_0000, 0x20, Infinity, 20)), [3, 1]);
  assert.deepEqual(seqs(ix.writes('host', 0x7f_fffc, 8, Infinity, 20)), [2]);
  assert.deepEqual(ix.writes('host', 0x80_0000, 8, Infinity, 20), []);
  const odd = ix.writes('host', 0x1234_5678 + 999, 1, Infinity, 20);
  assert.deepEqual(
    odd.map((x) => [x.seq, x.size, x.value]),
    [[4, 1000, 0xdd]],
  );
  assert.equal(ix.writes('host', 0x0f_8000, 1, Infinity, 1)[0].size, 0x10000);
  assert.deepEqual(seqs(ix.writes('host', 0, 2 ** 40, Infinity, 20)), [4, 3, 2, 1], 'a huge range');
});

test('wide addresses, odd values, seq and time gaps, many spaces and initiators keep their exact values', () => {
  const ix = fresh();
  const big = 0x3f_ffff_f000 + 0x7_0000_0000_00; // beyond 40 bits
  ix.add(w('host', big, 8, 0xffffffff));
  ix.add(w('host', 0x10, 4, 5, { seq: 1_000_000 })); // a seq gap beyond 16 bits
  time += 3_000_000_000.5; // a time gap, and a time that is no whole number
  ix.add(w('host', 0x10, 4, 6));
  for (let i = 0; i < 300; i++) ix.add(w(`mic${i}.gddr`, 0x40, 4, i, { initiator: `mic${i}.dma1` }));
  const [a] = ix.writes('host', big + 4, 1, Infinity, 1);
  assert.equal(a.address, big);
  assert.equal(a.value, 0xffffffff);
  const [c, b] = ix.writes('host', 0x10, 4, Infinity, 5);
  assert.equal(b.seq, 1_000_002);
  assert.equal(c.seq, 1_000_003);
  assert.equal(c.time - b.time, 3_000_000_007.5);
  const [z] = ix.writes('mic299.gddr', 0x40, 4, Infinity, 5);
  assert.equal(z.initiator, 'mic299.dma1');
  assert.equal(z.value, 299);
});

test('a replay feeds the same events again: nothing is indexed twice', () => {
  const ix = fresh();
  const evs: BusEvent[] = [];
  for (let i = 0; i < 50; i++) evs.push({ ...w('mic0.gddr', 0x2000 + (i % 5) * 4, 4, i) });
  for (const e of evs) ix.add(e);
  for (const e of evs.slice(0, 30)) ix.add(e);
  for (const e of evs) ix.add(e);
  assert.equal(ix.count, 50);
  assert.equal(ix.writes('mic0.gddr', 0x2000, 4, Infinity, 100).length, 10);
});

test('a fork drops the writes after its moment; the new timeline goes on from there', () => {
  const ix = fresh();
  for (let i = 0; i < 200; i++) ix.add(w('mic0.gddr', 0x3000, 4, i));
  ix.add(w('mic0.gddr', 0x80_0000, 0x10000, 7)); // 201: a bulk write in the dropped future
  ix.truncate(120);
  assert.equal(ix.count, 120);
  assert.equal(ix.head, 120);
  assert.deepEqual(seqs(ix.writes('mic0.gddr', 0x3000, 4, Infinity, 2)), [120, 119]);
  assert.deepEqual(ix.writes('mic0.gddr', 0x80_0000, 4, Infinity, 2), []);
  // The new timeline's events carry seqs after the fork.
  seq = 120;
  ix.add(w('mic0.gddr', 0x3000, 4, 999));
  const [top] = ix.writes('mic0.gddr', 0x3000, 4, Infinity, 1);
  assert.deepEqual([top.seq, top.value], [121, 999]);
  ix.truncate(0);
  assert.equal(ix.count, 0);
  assert.deepEqual(ix.writes('mic0.gddr', 0x3000, 4, Infinity, 2), []);
});

test('the same answers as a plain search, on random writes and queries', () => {
  const ix = fresh();
  let x = 12345;
  const rnd = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const all: BusEvent[] = [];
  const sizes = [1, 2, 4, 8, 16, 64, 512, 4096, 0x10000, 0x30_0000];
  for (let i = 0; i < 5000; i++) {
    const e = {
      ...w(rnd(2) ? 'host' : 'mic0.gddr', rnd(0x40_0000), sizes[rnd(sizes.length)], rnd(1000), {
        seq: rnd(3),
      }),
    };
    all.push(e);
    ix.add(e);
    if (i === 2500) {
      // A fork in the middle: the last 100 go.
      const at = all[all.length - 100].seq - 1;
      ix.truncate(at);
      all.length -= 100;
      seq = at;
    }
  }
  for (let q = 0; q < 300; q++) {
    const space = rnd(2) ? 'host' : 'mic0.gddr';
    const address = rnd(0x40_0000);
    const length = [1, 4, 100, 5000, 0x20_0000][rnd(5)];
    const before = rnd(seq + 10);
    const limit = 1 + rnd(30);
    const want = all
      .filter(
        (e) =>
          e.space === space && e.seq < before && e.address < address + length && e.address + e.size > address,
      )
      .reverse()
      .slice(0, limit)
      .map((e) => e.seq);
    assert.deepEqual(seqs(ix.writes(space, address, length, before, limit)), want, `query ${q}`);
  }
});

test('on a Timeline: every write is indexed once, and a seek back replays without doubling', () => {
  const tl = new Timeline({
    build: () => new Machine({ terminal: () => ({ write: () => {} }) }),
    observeSelf: true,
  });
  const m = tl.machine;
  let writes = 0;
  let lastBar4: BusEvent | null = null;
  m.spine.observe((e) => {
    if (e.kind === 'mem.write' || e.kind === 'mmio.write' || e.kind === 'cfg.write') writes++;
    if (e.kind === 'mmio.write') lastBar4 = { ...e };
  });
  m.start();
  m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle);
  m.run();
  const n = tl.writes.count;
  assert.equal(n, writes);
  assert.ok(n > 500, `${n} writes while booting`);
  const head = tl.head;
  tl.seekNow(Math.floor(head / 2));
  tl.seekNow(head);
  assert.equal(tl.writes.count, n, 'the replay added nothing');
  const last = lastBar4 as BusEvent | null;
  assert.ok(last);
  const [top] = tl.writes.writes(last.space, last.address, last.size, Infinity, 1);
  assert.deepEqual(
    [top.seq, top.time, top.initiator, top.kind, top.value],
    [last.seq, last.time, last.initiator, 'mmio.write', last.value],
  );
  tl.dispose();
});
