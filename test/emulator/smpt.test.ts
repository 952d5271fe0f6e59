// SMPT, the system memory page table (reference §3, §9 #15): the register encoding, card→host
// translation through the 32 slots, identity after reset, and the host driver's mic_map/mic_unmap.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SparseMemory } from '../../src/emulator/mem/sparseMemory.ts';
import { Scheduler } from '../../src/emulator/sim/scheduler.ts';
import { Spine } from '../../src/emulator/sim/spine.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import {
  SMPT_PAGE,
  SMPT_SLOTS,
  SMPT_WINDOW_BASE,
  SMPT_WINDOW_END,
  isSmptAddress,
  smptBase,
  smptEntry,
  smptSlot,
  smptTranslate,
} from '../../src/emulator/card/smpt.ts';
import { X100Card } from '../../src/emulator/card/x100Card.ts';
import { SMPT_MAX_MAP, SmptAllocator } from '../../src/emulator/hostSoftware/micHost/smptAllocator.ts';

const GiB = 2 ** 30;
const PAGE = 16 * GiB;
const WINDOW = 0x80_0000_0000;

function bareCard(hostRamBytes = 64 * GiB) {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', hostRamBytes);
  const card = new X100Card({ index: 0, memoryBytes: 8 * GiB }, sched, spine, hostRam, { msix() {} });
  const run = () => {
    while (sched.step()) {
      /* run to idle */
    }
  };
  return { sched, spine, hostRam, card, run };
}

/** An allocator whose register writes are logged as [slot, base]. */
function allocator() {
  const a = new SmptAllocator();
  const programmed: [number, number][] = [];
  a.program = (slot, base) => programmed.push([slot, base]);
  return { a, programmed };
}

// ---- encoding and translation ---------------------------------------------------------------

test('32 slots of 16 GiB from MIC 0x80_0000_0000 reach 512 GiB', () => {
  assert.equal(SMPT_WINDOW_BASE, WINDOW);
  assert.equal(SMPT_SLOTS, 32);
  assert.equal(SMPT_PAGE, 2 ** 34);
  assert.equal(SMPT_WINDOW_END, 0x100_0000_0000);
  assert.equal(SMPT_MAX_MAP, 512 * GiB);
});

test('the SMPT register value is ((hostAddr >> 34) << 2) | noSnoop', () => {
  assert.equal(smptEntry(0), 0);
  assert.equal(smptEntry(PAGE), 1 << 2);
  assert.equal(smptEntry(13 * GiB), 0, 'an address inside page 0 selects page 0');
  assert.equal(smptEntry(31 * PAGE, 1), (31 << 2) | 1);
  assert.equal(smptEntry(5 * PAGE + 0x1234, 0), 20);
  assert.equal(smptEntry(2 ** 50), (2 ** 16) << 2);
  // Host address bit 63 lands in register bit 31: the value stays unsigned.
  assert.equal(smptEntry(2 ** 63), 0x8000_0000);
  assert.equal(smptBase(0x8000_0000), 2 ** 63);
  assert.equal(smptBase(smptEntry(7 * PAGE, 1)), 7 * PAGE, 'the no-snoop bit is not part of the base');
  assert.equal(smptBase(2), 0, 'reserved bit 1 is not part of the base');
});

test('isSmptAddress covers exactly 0x80_0000_0000 … 0xFF_FFFF_FFFF', () => {
  assert.equal(isSmptAddress(WINDOW - 1), false);
  assert.equal(isSmptAddress(WINDOW), true);
  assert.equal(isSmptAddress(0xff_ffff_ffff), true);
  assert.equal(isSmptAddress(0x100_0000_0000), false);
  assert.equal(isSmptAddress(0), false);
  assert.equal(smptSlot(WINDOW), 0);
  assert.equal(smptSlot(WINDOW + PAGE - 1), 0);
  assert.equal(smptSlot(WINDOW + PAGE), 1);
  assert.equal(smptSlot(0xff_ffff_ffff), 31);
});

test('card→host translation: slot (mic − 0x80_0000_0000) >> 34, host = base[slot] + (mic & (2^34 − 1))', () => {
  const regs = Array.from({ length: 32 }, (_, i) => smptEntry(i * PAGE));
  regs[3] = smptEntry(100 * PAGE);
  regs[31] = smptEntry(0, 1);
  const read = (i: number) => regs[i];
  assert.equal(smptTranslate(WINDOW + 0x1000, read), 0x1000);
  assert.equal(smptTranslate(WINDOW + 2 * PAGE + 0x42, read), 2 * PAGE + 0x42);
  assert.equal(smptTranslate(WINDOW + 3 * PAGE + 0x3_0000_0040, read), 100 * PAGE + 0x3_0000_0040);
  assert.equal(smptTranslate(WINDOW + 31 * PAGE + PAGE - 1, read), PAGE - 1);
});

test('SMPT comes out of reset as identity for the first 512 GiB', () => {
  const { card } = bareCard();
  for (let i = 0; i < 32; i++) assert.equal(card.reg(R.SMPT(i)), i << 2, `SMPT${i}`);
  assert.equal(card.smptToHost(WINDOW + 0x1000), 0x1000);
  assert.equal(card.smptToHost(WINDOW + 2 * PAGE + 0x10), 2 * PAGE + 0x10);
  assert.equal(card.smptWindowBase, WINDOW);
});

test('a reprogrammed SMPT slot redirects the card, and an RGCR reset restores identity', () => {
  const m = bareCard();
  m.card.mmioWrite(R.SMPT(0), smptEntry(2 * PAGE), 'host');
  m.card.mmioWrite(R.SMPT(2), smptEntry(0), 'host');
  assert.equal(m.card.smptToHost(WINDOW + 0x1000), 2 * PAGE + 0x1000);
  assert.equal(m.card.smptToHost(WINDOW + 2 * PAGE + 0x42), 0x42);
  m.card.mmioWrite(R.RGCR, 1, 'host');
  m.run();
  for (let i = 0; i < 32; i++) assert.equal(m.card.reg(R.SMPT(i)), i << 2, `SMPT${i} after reset`);
  assert.equal(m.card.smptToHost(WINDOW + 0x1000), 0x1000);
});

test('the card reaches no host RAM through the SMPT in the PCI hole, beyond host RAM, or outside the window', () => {
  const { card } = bareCard(16 * GiB);
  assert.equal(card.smptToHost(WINDOW + 0xbfff_ffff), 0xbfff_ffff);
  assert.equal(card.smptToHost(WINDOW + 0xc000_0000), -1, 'PCI hole start');
  assert.equal(card.smptToHost(WINDOW + 0xffff_ffff), -1, 'PCI hole end');
  assert.equal(card.smptToHost(WINDOW + 0x1_0000_0000), 0x1_0000_0000);
  assert.equal(card.smptToHost(WINDOW + PAGE - 1), PAGE - 1, 'last byte of 16 GiB host RAM');
  assert.equal(card.smptToHost(WINDOW + PAGE), -1, 'slot 1 maps host 16 GiB: beyond RAM');
  assert.equal(card.smptToHost(0x1000), -1, 'GDDR address');
  assert.equal(card.smptToHost(0x100_0000_0000), -1, 'above the window');
});

// ---- the host allocator, mic_map / mic_unmap ------------------------------------------------

test('mic_map finds a page below 512 GiB in its identity entry; a page beyond takes the first free entry and reprograms it', () => {
  const { a, programmed } = allocator();
  assert.equal(a.map(0x1000, 0x1000), WINDOW + 0x1000);
  assert.equal(a.entries[0].refCount, 0x1000, 'a byte reference count');
  // Page 3 (48 GiB) is still held by entry 3 from init: it is found there, not in a free entry.
  assert.equal(a.map(3 * PAGE + 0x10, 0x20), WINDOW + 3 * PAGE + 0x10);
  assert.deepEqual(a.entries[3], { base: 3 * PAGE, refCount: 0x20 });
  assert.deepEqual(programmed, [], 'entries 0 and 3 already hold pages 0 and 3: no register write');
  // Page 40 (640 GiB) is in no entry: the first entry with refcount 0 (entry 1) is reprogrammed.
  assert.equal(a.map(40 * PAGE + 0x10, 0x20), WINDOW + PAGE + 0x10);
  assert.deepEqual(programmed, [[1, 40 * PAGE]]);
  assert.deepEqual(a.entries[1], { base: 40 * PAGE, refCount: 0x20 });
  // Page 1 has lost its identity entry, so it too goes to the next free entry (2).
  assert.equal(a.map(PAGE + 0x40, 0x40), WINDOW + 2 * PAGE + 0x40);
  assert.deepEqual(programmed, [
    [1, 40 * PAGE],
    [2, PAGE],
  ]);
  assert.deepEqual(a.entries[2], { base: PAGE, refCount: 0x40 });
  assert.equal(a.micAddressOf(40 * PAGE + 0x18), WINDOW + PAGE + 0x18);
  assert.equal(a.micAddressOf(3 * PAGE + 0x18), WINDOW + 3 * PAGE + 0x18);
  assert.equal(a.micAddressOf(9 * PAGE), 0, 'entry 9 holds page 9 but nothing is mapped there');
});

test('mic_map reuses the entry holding the same 16 GiB page, whatever its refcount', () => {
  const { a, programmed } = allocator();
  // Identity: page 5 lives in entry 5.
  assert.equal(a.map(5 * PAGE + 0x1000, 0x1000), WINDOW + 5 * PAGE + 0x1000);
  assert.equal(a.map(5 * PAGE + 0x8000, 0x200), WINDOW + 5 * PAGE + 0x8000, 'same entry 5');
  assert.equal(a.entries[5].refCount, 0x1200);
  assert.deepEqual(programmed, []);
  // Beyond identity: page 50 is programmed into entry 0 once, then found there.
  assert.equal(a.map(50 * PAGE + 0x1000, 0x1000), WINDOW + 0x1000);
  assert.equal(a.map(50 * PAGE + 0x8000, 0x200), WINDOW + 0x8000, 'same entry 0');
  assert.deepEqual(a.entries[0], { base: 50 * PAGE, refCount: 0x1200 });
  assert.deepEqual(programmed, [[0, 50 * PAGE]], 'programmed once');
  assert.equal(a.entries.filter((e) => e.refCount > 0).length, 2);
  // Page 51 goes to entry 1; once entries 0 and 1 are both unmapped, page 51 is still found in
  // entry 1 (refcount 0) rather than in the first free entry 0.
  assert.equal(a.map(51 * PAGE, 0x100), WINDOW + PAGE);
  a.unmap(WINDOW, 0x1200);
  a.unmap(WINDOW + PAGE, 0x100);
  assert.equal(a.map(51 * PAGE + 0x10, 0x10), WINDOW + PAGE + 0x10);
  assert.deepEqual(a.entries[1], { base: 51 * PAGE, refCount: 0x10 });
  assert.deepEqual(programmed, [
    [0, 50 * PAGE],
    [1, 51 * PAGE],
  ]);
  assert.deepEqual(a.warnings, []);
});

test('a range spanning 16 GiB pages takes consecutive entries with per-page byte counts', () => {
  const { a, programmed } = allocator();
  // Pages 4 and 5 are found in identity entries 4 and 5.
  const host = 5 * PAGE - 0x1000;
  const mic = a.map(host, 0x3000);
  assert.equal(mic, WINDOW + 5 * PAGE - 0x1000, 'entries 4 and 5');
  assert.equal(a.entries[4].refCount, 0x1000);
  assert.equal(a.entries[5].refCount, 0x2000);
  assert.equal(a.map(host + 0x800, 0x1000), mic + 0x800);
  assert.equal(a.entries[4].refCount, 0x1800);
  assert.equal(a.entries[5].refCount, 0x2800);
  assert.deepEqual(programmed, []);
  // Pages 40 and 41 are in no entry: with entry 0 busy, the first free run of two is 1–2.
  a.map(0, 0x100);
  const host2 = 41 * PAGE - 0x1000;
  const mic2 = a.map(host2, 0x3000);
  assert.equal(mic2, WINDOW + PAGE + (PAGE - 0x1000), 'entries 1 and 2');
  assert.deepEqual(programmed, [
    [1, 40 * PAGE],
    [2, 41 * PAGE],
  ]);
  assert.equal(a.entries[1].refCount, 0x1000);
  assert.equal(a.entries[2].refCount, 0x2000);
  // Mapping the same two pages again finds them.
  assert.equal(a.map(host2 + 0x800, 0x1000), mic2 + 0x800);
  assert.equal(a.entries[1].refCount, 0x1800);
  assert.equal(a.entries[2].refCount, 0x2800);
  assert.equal(programmed.length, 2);
});

test('size 0 and sizes above 512 GiB return 0', () => {
  const { a, programmed } = allocator();
  assert.equal(a.map(0x1000, 0), 0);
  assert.equal(a.map(0, 512 * GiB + 1), 0);
  assert.equal(a.map(0, 1024 * GiB), 0);
  assert.deepEqual(programmed, []);
  assert.ok(a.entries.every((e) => e.refCount === 0));
});

test('exactly 512 GiB, aligned, takes all 32 entries; unaligned it needs 33 and fails', () => {
  const { a } = allocator();
  assert.equal(a.map(PAGE, 0), 0);
  assert.equal(a.map(PAGE * 32, 512 * GiB), WINDOW);
  assert.ok(a.entries.every((e, i) => e.refCount === PAGE && e.base === (32 + i) * PAGE));
  const b = new SmptAllocator();
  assert.equal(b.map(0x1000, 512 * GiB), 0);
});

test('SMPT exhausted: the 33rd distinct page maps to 0 (§9 #15)', () => {
  const { a } = allocator();
  for (let i = 0; i < 32; i++) assert.equal(a.map((100 + i) * PAGE, 4096), WINDOW + i * PAGE);
  assert.equal(a.map(200 * PAGE, 4096), 0);
  // A page already mapped still maps.
  assert.equal(a.map(105 * PAGE + 0x40, 64), WINDOW + 5 * PAGE + 0x40);
  // A two-page range finds no run of free entries either.
  a.unmap(WINDOW + 7 * PAGE, 4096);
  assert.equal(a.map(300 * PAGE, 2 * PAGE), 0, 'one free entry is not a run of two');
  assert.equal(a.map(300 * PAGE, 4096), WINDOW + 7 * PAGE);
});

test('mic_unmap only lowers refcounts: the entry keeps its page until a map of another page takes it', () => {
  const { a, programmed } = allocator();
  const mic = a.map(70 * PAGE, 0x2000);
  assert.equal(mic, WINDOW);
  a.unmap(mic, 0x1000);
  assert.deepEqual(a.entries[0], { base: 70 * PAGE, refCount: 0x1000 });
  a.unmap(mic + 0x1000, 0x1000);
  assert.deepEqual(a.entries[0], { base: 70 * PAGE, refCount: 0 });
  assert.deepEqual(programmed, [[0, 70 * PAGE]]);
  assert.deepEqual(a.warnings, []);
  // The same page maps straight back to entry 0 without a register write.
  assert.equal(a.map(70 * PAGE + 0x40, 1), WINDOW + 0x40);
  assert.deepEqual(programmed, [[0, 70 * PAGE]]);
  a.unmap(WINDOW + 0x40, 1);
  // A page held by no entry takes the free entry 0 and rewrites it.
  assert.equal(a.map(90 * PAGE, 1), WINDOW);
  assert.deepEqual(programmed, [
    [0, 70 * PAGE],
    [0, 90 * PAGE],
  ]);
  // Page 0 has lost its identity entry: it goes to the first free entry, 1.
  assert.equal(a.map(0x10, 1), WINDOW + PAGE + 0x10);
  assert.deepEqual(programmed.at(-1), [1, 0]);
  assert.deepEqual(a.warnings, []);
});

test('unmapping a range across pages lowers each entry by its own bytes', () => {
  const { a } = allocator();
  const mic = a.map(5 * PAGE - 0x1000, 0x3000);
  // Pages 4 and 5 sit in their identity entries: 0x1000 bytes in entry 4, 0x2000 in entry 5.
  assert.equal(a.entries[4].refCount, 0x1000);
  assert.equal(a.entries[5].refCount, 0x2000);
  a.unmap(mic, 0x1800);
  assert.equal(a.entries[4].refCount, 0, 'the first 0x1000 bytes come off entry 4');
  assert.equal(a.entries[5].refCount, 0x1800, 'the next 0x800 off entry 5');
  a.unmap(mic + 0x1800, 0x1800);
  assert.equal(a.entries[5].refCount, 0);
  assert.deepEqual(a.warnings, []);
});

test('E8 an unmap that drives a refcount negative logs a warning and leaves it negative, as mic_smpt.c does', () => {
  const { a } = allocator();
  const mic = a.map(0x1000, 0x100);
  a.unmap(mic, 0x200);
  assert.equal(a.warnings.length, 1);
  assert.match(a.warnings[0], /entry 0 went negative \(-256\)/);
  assert.equal(a.entries[0].refCount, -256, 'not clamped to 0');
  // A negative entry is not free: a page no entry holds takes the next free one, entry 1.
  assert.equal(a.map(40 * PAGE, 0x100), WINDOW + 1 * PAGE);
  a.unmap(WINDOW + 4 * PAGE, 1);
  assert.equal(a.warnings.length, 2);
  assert.match(a.warnings[1], /entry 4/);
});

test('unmap of an address below the window or of size 0 changes nothing', () => {
  const { a } = allocator();
  a.map(0, 0x100);
  a.unmap(0x1000, 0x100);
  a.unmap(WINDOW, 0);
  assert.equal(a.entries[0].refCount, 0x100);
  assert.deepEqual(a.warnings, []);
});

test('quirk: a partial match of existing entries fails outright and never tries free entries', () => {
  const { a, programmed } = allocator();
  for (let p = 0; p < 4; p++) assert.equal(a.map(p * PAGE, 1), WINDOW + p * PAGE); // entries 0–3 busy
  assert.equal(a.map(40 * PAGE, 1), WINDOW + 4 * PAGE); // entry 4 now holds page 40
  assert.deepEqual(programmed, [[4, 40 * PAGE]]);
  // Pages 3 and 4: entry 3 holds page 3 but entry 4 does not hold page 4 → fail, though 27 are free.
  assert.equal(a.map(4 * PAGE - 0x1000, 0x2000), 0);
  assert.deepEqual(programmed, [[4, 40 * PAGE]]);
  assert.equal(a.entries[3].refCount, 1, 'the failed map took no reference');
  assert.deepEqual(a.entries[4], { base: 40 * PAGE, refCount: 1 });
  assert.ok(a.entries.slice(5).every((e) => e.refCount === 0));
  // Pages 4 and 5: no entry holds page 4, so the run of free entries 5–6 is taken and reprogrammed.
  assert.equal(a.map(5 * PAGE - 0x1000, 0x2000), WINDOW + 6 * PAGE - 0x1000);
  assert.deepEqual(programmed, [
    [4, 40 * PAGE],
    [5, 4 * PAGE],
    [6, 5 * PAGE],
  ]);
  assert.deepEqual(a.entries[5], { base: 4 * PAGE, refCount: 0x1000 });
  assert.deepEqual(a.entries[6], { base: 5 * PAGE, refCount: 0x1000 });
});
