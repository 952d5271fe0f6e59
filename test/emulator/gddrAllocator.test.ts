// The card's GDDR allocator edits its free list in place: checked against a bitmap of 64-byte
// units, which says where first fit must put each block.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { GddrAllocator } from '../../src/emulator/cardSoftware/gddrAllocator.ts';

const BASE = 0x1000_0000;
const UNITS = 1024; // 64 KiB in 64-byte units

/** Lowest aligned address where `units` free units start, or −1: first fit, by brute force. */
function firstFit(used: boolean[], units: number, align: number): number {
  for (let a = BASE; a + units * 64 <= BASE + UNITS * 64; a += align) {
    const u = (a - BASE) / 64;
    let ok = true;
    for (let i = 0; i < units && ok; i++) ok = !used[u + i];
    if (ok) return a;
  }
  return -1;
}

test('GDDR allocator: first fit, aligned, no overlap, and every release merges back', () => {
  const g = new GddrAllocator(BASE, UNITS * 64);
  const used: boolean[] = new Array(UNITS).fill(false);
  const live: { addr: number; size: number }[] = [];
  let x = 12345;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };
  for (let step = 0; step < 3000; step++) {
    if (live.length > 0 && rnd(3) === 0) {
      const [b] = live.splice(rnd(live.length), 1);
      g.release(b.addr, b.size);
      for (let i = 0; i < Math.ceil(b.size / 64); i++) used[(b.addr - BASE) / 64 + i] = false;
      continue;
    }
    const size = 1 + rnd(6000);
    const align = [64, 4096][rnd(2)];
    const units = Math.ceil(size / 64);
    const want = firstFit(used, units, align);
    const got = g.alloc(size, align);
    assert.equal(got, want, `step ${step}: alloc(${size}, ${align})`);
    if (got < 0) continue;
    for (let i = 0; i < units; i++) used[(got - BASE) / 64 + i] = true;
    live.push({ addr: got, size });
  }
  for (const b of live) g.release(b.addr, b.size);
  assert.equal(g.alloc(UNITS * 64, 64), BASE, 'all free again, as one extent');
  assert.equal(g.alloc(64, 64), -1, 'and nothing beyond it');
});
