// Sparse memory behind host RAM and GDDR: 4 KiB pages allocated on first write, so an 8 GiB
// card or a 16 GiB host costs nothing until used. Little-endian like the x86 on both sides.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PAGE_SIZE, SparseMemory } from '../../src/emulator/mem/sparseMemory.ts';

const GiB = 2 ** 30;

function bytes(mem: SparseMemory, addr: number, len: number): number[] {
  const b = new Uint8Array(len);
  mem.read(addr, b);
  return [...b];
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

test('untouched pages read zero at every width and allocate nothing', () => {
  const m = new SparseMemory('gddr', 8 * GiB);
  assert.equal(m.read8(0), 0);
  assert.equal(m.read16(0x1234), 0);
  assert.equal(m.read32(4 * GiB + 8), 0);
  assert.equal(m.read64(8 * GiB - 8), 0);
  assert.equal(m.read16(PAGE_SIZE - 1), 0, 'cross-page');
  assert.deepEqual(bytes(m, PAGE_SIZE - 3, 10), new Array(10).fill(0));
  const dirty = new Uint8Array(8).fill(0xee);
  m.read(0x9000, dirty, 2, 4);
  assert.deepEqual([...dirty], [0xee, 0xee, 0, 0, 0, 0, 0xee, 0xee], 'reads clear only the bytes asked for');
  assert.equal(m.pagesAllocated, 0);
  assert.deepEqual(m.allocatedPages(), []);
});

test('an 8 GiB memory with one write allocates one 4 KiB page', () => {
  const m = new SparseMemory('mic0.gddr', 8 * GiB);
  assert.equal(PAGE_SIZE, 4096);
  m.write32(6 * GiB + 0x123, 0xdead_beef);
  assert.equal(m.pagesAllocated, 1);
  assert.deepEqual(m.allocatedPages(), [(6 * GiB) / PAGE_SIZE]);
  assert.equal(m.pageData((6 * GiB) / PAGE_SIZE)?.length, PAGE_SIZE);
  assert.equal(m.pageData(0), undefined);
  assert.equal(m.read32(6 * GiB + 0x123), 0xdead_beef);
});

test('values are little-endian at every width', () => {
  const m = new SparseMemory('host', 1 * GiB);
  m.write32(0x100, 0x1122_3344);
  assert.deepEqual(bytes(m, 0x100, 4), [0x44, 0x33, 0x22, 0x11]);
  assert.equal(m.read16(0x100), 0x3344);
  assert.equal(m.read16(0x102), 0x1122);
  assert.equal(m.read8(0x103), 0x11);
  m.write16(0x200, 0xabcd);
  assert.deepEqual(bytes(m, 0x200, 2), [0xcd, 0xab]);
  m.write64(0x300, 0x80_1234_5678);
  assert.deepEqual(bytes(m, 0x300, 8), [0x78, 0x56, 0x34, 0x12, 0x80, 0, 0, 0]);
  assert.equal(m.read64(0x300), 0x80_1234_5678);
  // Writes keep only the bytes of their width.
  m.write8(0x400, 0x1ff);
  m.write16(0x402, 0x1_2345);
  assert.deepEqual(bytes(m, 0x400, 4), [0xff, 0, 0x45, 0x23]);
  // 32-bit reads are unsigned.
  m.write32(0x500, 0xffff_ffff);
  assert.equal(m.read32(0x500), 0xffff_ffff);
});

test('16-, 32- and 64-bit accesses that straddle a page boundary split correctly', () => {
  const m = new SparseMemory('host', 1 * GiB);
  const edge = 5 * PAGE_SIZE;
  m.write16(edge - 1, 0xbbaa);
  assert.deepEqual(bytes(m, edge - 1, 2), [0xaa, 0xbb]);
  assert.equal(m.read16(edge - 1), 0xbbaa);
  for (const off of [1, 2, 3]) {
    m.write32(2 * edge - off, 0x8877_6655);
    assert.equal(m.read32(2 * edge - off), 0x8877_6655, `32-bit, ${off} byte(s) before the edge`);
  }
  for (const off of [1, 3, 4, 7]) {
    const a = 3 * edge - off;
    m.write64(a, 0xff_eedd_ccbb_aa);
    assert.equal(m.read64(a), 0xff_eedd_ccbb_aa, `64-bit, ${off} byte(s) before the edge`);
    assert.deepEqual(bytes(m, a, 8), [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0]);
  }
  assert.deepEqual(m.allocatedPages(), [4, 5, 9, 10, 14, 15]);
});

test('a cross-page read of which only one page is allocated reads zeros from the other', () => {
  const m = new SparseMemory('host', 1 * GiB);
  m.write8(PAGE_SIZE - 1, 0x5a);
  assert.equal(m.read32(PAGE_SIZE - 1), 0x5a);
  assert.equal(m.read32(PAGE_SIZE - 3), 0x005a_0000);
  assert.equal(m.read64(PAGE_SIZE - 7), 0x5a00_0000 * 2 ** 24);
  assert.equal(m.pagesAllocated, 1);
});

test('bulk write and read across several pages, with source and destination offsets', () => {
  const m = new SparseMemory('host', 1 * GiB);
  const data = pattern(3 * PAGE_SIZE + 100, 7);
  const start = 2 * PAGE_SIZE - 50;
  m.write(start, data);
  assert.deepEqual(m.allocatedPages(), [1, 2, 3, 4, 5]);
  const back = new Uint8Array(data.length);
  m.read(start, back);
  assert.deepEqual(back, data);
  // Part of a source buffer at an offset.
  m.write(0x10_0000 - 2, data, 10, 5);
  assert.deepEqual(bytes(m, 0x10_0000 - 2, 5), [...data.subarray(10, 15)]);
  // Into a destination at an offset.
  const dst = new Uint8Array(8);
  m.read(start + 1, dst, 3, 4);
  assert.deepEqual([...dst], [0, 0, 0, ...data.subarray(1, 5), 0]);
});

test('fill with a non-zero byte allocates; fill with 0 leaves untouched pages unallocated', () => {
  const m = new SparseMemory('host', 1 * GiB);
  m.fill(0x4_0000, 10 * PAGE_SIZE, 0);
  assert.equal(m.pagesAllocated, 0);
  m.fill(PAGE_SIZE - 2, 4, 0xa5);
  assert.deepEqual(bytes(m, PAGE_SIZE - 3, 6), [0, 0xa5, 0xa5, 0xa5, 0xa5, 0]);
  assert.equal(m.pagesAllocated, 2);
  // Zero-filling allocated pages does zero them, and still allocates nothing new.
  m.fill(0, 3 * PAGE_SIZE, 0);
  assert.deepEqual(bytes(m, PAGE_SIZE - 2, 4), [0, 0, 0, 0]);
  assert.equal(m.pagesAllocated, 2);
});

test('copyTo moves bytes into another memory page-wise, zeroing where the source is untouched', () => {
  const src = new SparseMemory('mic0.gddr', 8 * GiB);
  const dst = new SparseMemory('host', 16 * GiB);
  const data = pattern(PAGE_SIZE + 200, 3);
  src.write(7 * GiB - 100, data);
  dst.fill(0x1_0000_0000, 3 * PAGE_SIZE, 0xee);
  src.copyTo(dst, 0x1_0000_0000 + 10, 7 * GiB - 100, data.length);
  assert.deepEqual(bytes(dst, 0x1_0000_0000 + 10, data.length), [...data]);
  assert.deepEqual(bytes(dst, 0x1_0000_0000, 10), new Array(10).fill(0xee), 'bytes before are untouched');
  // Copying from an untouched source region writes zeros over the destination ...
  src.copyTo(dst, 0x1_0000_0000, 0x4000, 16);
  assert.deepEqual(bytes(dst, 0x1_0000_0000, 16), new Array(16).fill(0));
  // ... but into an untouched destination it allocates nothing.
  const before = dst.pagesAllocated;
  src.copyTo(dst, 0x2_0000_0000, 0x4000, 4 * PAGE_SIZE);
  assert.equal(dst.pagesAllocated, before);
});

test('copyTo inside one memory copies non-overlapping ranges', () => {
  const m = new SparseMemory('host', 1 * GiB);
  const data = pattern(5000, 11);
  m.write(0x1000, data);
  m.copyTo(m, 0x8_0000 + 7, 0x1000, data.length);
  assert.deepEqual(bytes(m, 0x8_0000 + 7, data.length), [...data]);
});

test('contains checks the whole range against the size', () => {
  const m = new SparseMemory('gddr', 8 * GiB);
  assert.equal(m.contains(0), true);
  assert.equal(m.contains(8 * GiB - 4, 4), true);
  assert.equal(m.contains(8 * GiB - 4, 5), false);
  assert.equal(m.contains(8 * GiB), false);
  assert.equal(m.contains(-1), false);
  assert.equal(m.contains(0, -1), false);
  assert.equal(m.contains(8 * GiB, 0), true, 'an empty range at the end');
});

test('clear drops every page', () => {
  const m = new SparseMemory('host', 1 * GiB);
  m.write32(0, 1);
  m.write32(0x10_0000, 2);
  m.clear();
  assert.equal(m.pagesAllocated, 0);
  assert.equal(m.read32(0), 0);
});

test('addresses above 4 GiB keep their low bits (40-bit card, 48-bit host addresses)', () => {
  const m = new SparseMemory('host', 2 ** 48);
  const a = 2 ** 40 + 0xffe;
  m.write32(a, 0x0102_0304);
  assert.equal(m.read32(a), 0x0102_0304);
  assert.equal(m.read8(a + 3), 0x01);
  assert.deepEqual(m.allocatedPages(), [Math.floor(a / PAGE_SIZE), Math.floor(a / PAGE_SIZE) + 1]);
  assert.equal(m.read32(0xffe), 0, 'no aliasing onto the low 4 GiB');
});
