// The running hash (timeTravel/eventHash.ts) is stored in recordings: any change to how it is
// computed must give the same values. This keeps the first form of RunningHash.add here and
// checks the current one against it on random and edge-case events of every kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningHash } from '../../src/emulator/timeTravel/eventHash.ts';
import { EVENT_KINDS, blankEvent, type BusEvent, type EventKind } from '../../src/emulator/sim/busEvent.ts';

/** RunningHash.add as first written (commit b3232f0), the reference. */
const KIND_CODE_V1: Readonly<Record<string, number>> = Object.fromEntries(
  EVENT_KINDS.map((k, i) => [k, i + 1]),
);
const LOG_CODE_V1 = KIND_CODE_V1['log'];
function addV1(value: number, e: BusEvent): number {
  let h = value;
  h = Math.imul(h ^ e.seq, 0x01000193);
  h = Math.imul(h ^ (e.time % 0x1_0000_0000), 0x01000193);
  h = Math.imul(h ^ (e.address % 0x1_0000_0000), 0x01000193);
  h = Math.imul(h ^ e.value, 0x01000193);
  const kind = KIND_CODE_V1[e.kind];
  h = Math.imul(h ^ ((kind === LOG_CODE_V1 ? 0 : e.size) | (kind << 24)), 0x01000193);
  h = Math.imul(h ^ e.cause, 0x01000193);
  h = Math.imul(h ^ e.req, 0x01000193);
  return h >>> 0;
}

/** xorshift32: the same numbers every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const EDGE = [
  0,
  1,
  -1,
  0.5,
  -0.5,
  1.999,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31 + 0.25,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 32 + 0.75,
  -(2 ** 32) - 3.5,
  2 ** 40 + 12345,
  2 ** 48 - 1,
  2 ** 52 + 0.5,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 60,
  -(2 ** 60),
  Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  NaN,
  Infinity,
  -Infinity,
];

function randomNumber(r: () => number): number {
  switch (Math.floor(r() * 6)) {
    case 0:
      return EDGE[Math.floor(r() * EDGE.length)];
    case 1:
      return Math.floor(r() * 2 ** 32);
    case 2:
      return Math.floor(r() * 2 ** 53);
    case 3:
      return r() * 2 ** 44; // fractional, past 2^32
    case 4:
      return Math.floor(r() * 2 ** 16);
    default:
      return -Math.floor(r() * 2 ** 40) - r();
  }
}

test('RunningHash.add gives the values of its first form, event by event, on every kind', () => {
  const r = rng(0x5eed);
  const kinds: string[] = [...EVENT_KINDS, 'no-such-kind'];
  const h = new RunningHash();
  let ref = h.value;
  const e = blankEvent();
  let n = 0;
  for (let i = 0; i < 200_000; i++) {
    e.seq = i % 7 === 0 ? randomNumber(r) : i;
    e.time = randomNumber(r);
    e.address = randomNumber(r);
    e.value = i % 5 === 0 ? randomNumber(r) : Math.floor(r() * 2 ** 32);
    e.size = i % 3 === 0 ? randomNumber(r) : Math.floor(r() * 4096);
    e.kind = kinds[i % kinds.length] as EventKind;
    e.cause = i % 11 === 0 ? randomNumber(r) : Math.floor(r() * i);
    e.req = i % 13 === 0 ? randomNumber(r) : Math.floor(r() * 100);
    h.add(e);
    ref = addV1(ref, e);
    assert.equal(
      h.value,
      ref,
      `event ${i}: ${JSON.stringify([e.seq, e.time, e.address, e.value, e.size, e.kind])}`,
    );
    n++;
  }
  assert.equal(n, 200_000);
});

test('RunningHash.add: every edge-case time and address with every kind, log lines without size', () => {
  const e = blankEvent();
  for (const kind of [...EVENT_KINDS, 'no-such-kind'] as EventKind[])
    for (const time of EDGE)
      for (const address of EDGE) {
        const h = new RunningHash();
        const start = h.value;
        Object.assign(e, { seq: 42, time, address, value: 0xdeadbeef, size: 1000, kind, cause: 41, req: 3 });
        h.add(e);
        assert.equal(h.value, addV1(start, e), `${kind} time ${time} address ${address}`);
      }
  // A log line's size is left out: two log events differing only in size hash alike.
  const a = new RunningHash();
  const b = new RunningHash();
  a.add({ ...blankEvent(), kind: 'log', seq: 1, size: 10 });
  b.add({ ...blankEvent(), kind: 'log', seq: 1, size: 99 });
  assert.equal(a.value, b.value);
});

test('RunningHash over a real session equals the first form over the same events', async () => {
  const { Machine } = await import('../../src/emulator/machine.ts');
  const m = new Machine({ cards: 1 });
  const h = new RunningHash();
  let ref = h.value;
  const kinds = new Set<string>();
  m.spine.observe((e) => {
    h.add(e);
    ref = addV1(ref, e);
    kinds.add(e.kind);
  });
  m.start();
  assert.ok(m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle));
  for (let i = 0; i < 3; i++) {
    m.consoleInput(0, new TextEncoder().encode('cat /proc/cpuinfo\r'));
    m.run();
  }
  assert.ok(m.spine.seq > 5000 && kinds.has('log') && kinds.has('mem.write'), [...kinds].join());
  assert.equal(h.value, ref);
});
