// addr() (src/emulator/lib/numbers.ts) writes hex from a table: the text must be what
// '0x' + Math.floor(n).toString(16) writes, for every number (event details and traces hold it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/emulator/lib/numbers.ts';

function reference(n: number): string {
  if (n < 0) return '-' + reference(-n);
  return '0x' + Math.floor(n).toString(16);
}

test('addr writes what toString(16) writes, on edge cases and random numbers of every size', () => {
  const edge = [0, -0, 1, 15, 16, 255, 256, 0xfff, 0x1000, 0xffff, 0x1_0000, 0xff_ffff, 0x100_0000];
  for (let b = 0; b <= 60; b++) edge.push(2 ** b - 1, 2 ** b, 2 ** b + 1, 2 ** b + 0.5, 2 ** b - 0.5);
  edge.push(0x380_0000_0000, 0x380_100a_5002, 2 ** 53 - 1, 2 ** 53, 2 ** 64, Number.MAX_SAFE_INTEGER);
  edge.push(Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 0.999, NaN, Infinity, -Infinity);
  for (const n of [...edge, ...edge.map((x) => -x)]) assert.equal(addr(n), reference(n), String(n));
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  for (let i = 0; i < 200_000; i++) {
    const bits = Math.floor(next() * 56);
    const n = next() * 2 ** bits * (i % 7 === 0 ? -1 : 1);
    const m = i % 2 ? Math.floor(n) : n;
    assert.equal(addr(m), reference(m), String(m));
  }
});
