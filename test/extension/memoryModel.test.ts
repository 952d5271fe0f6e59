// The MIC memory view's pure parts (src/extension/memory/memoryModel.ts): address parsing, paging,
// rows, the register overlay, change marks, the writes an edit makes and cursor moves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteChangeMarks,
  PAGE_BYTES,
  canonicalSpace,
  formatAddress,
  moveCursor,
  pageStart,
  pageStep,
  parseAddress,
  parseNumber,
  registerAt,
  registersIn,
  rowsOf,
  writesFor,
  variableBytes,
  type RegisterSpan,
} from '../../src/extension/memory/memoryModel.ts';

test('addresses: spaces, offsets in hex or decimal with _, old spellings, host-physical', () => {
  assert.deepEqual(parseAddress('mic0.bar4+0x9004'), { space: 'mic0.bar4', offset: 0x9004 });
  assert.deepEqual(parseAddress(' mic1.gddr + 4_096 '), { space: 'mic1.gddr', offset: 4096 });
  assert.deepEqual(parseAddress('mic0.mmio+0x10'), { space: 'mic0.bar4', offset: 0x10 });
  assert.deepEqual(parseAddress('mic0.sbox+0x10'), { space: 'mic0.bar4', offset: 0x10 });
  assert.deepEqual(parseAddress('mic0.bar0+0x10'), { space: 'mic0.gddr', offset: 0x10 });
  assert.deepEqual(parseAddress('host'), { space: 'host', offset: 0 });
  assert.deepEqual(parseAddress('0x80_0000_0000'), { space: null, offset: 0x8000000000 });
  assert.deepEqual(parseAddress('+0x10', { space: 'host', offset: 0x1000 }), {
    space: 'host',
    offset: 0x1010,
  });
  assert.deepEqual(parseAddress('-16', { space: 'host', offset: 0x1000 }), { space: 'host', offset: 0xff0 });
  for (const bad of ['', 'mic0.dram+0x0', 'mic0.bar4+0xzz', 'fish', '-1', '0x1_']) {
    const r = parseAddress(bad, { space: 'host', offset: 0 });
    assert.ok('error' in r, `${JSON.stringify(bad)} was accepted: ${JSON.stringify(r)}`);
  }
  assert.match((parseAddress('mic0.dram+0x0') as { error: string }).error, /not an address space/);
  assert.equal(canonicalSpace('MIC3.MMIO'), 'mic3.bar4');
  assert.ok(Number.isNaN(parseNumber('0x')));
});

test('addresses are written as docs/naming.md says: lower-case hex, no leading zeros, no grouping', () => {
  assert.equal(formatAddress({ space: 'mic0.bar4', offset: 0x1cc90 }), 'mic0.bar4+0x1cc90');
  assert.equal(formatAddress({ space: null, offset: 0x3800000000 }), '0x3800000000');
  assert.equal(formatAddress({ space: 'host', offset: 0 }), 'host+0x0');
});

test('paging: 4 KiB pages, never below 0', () => {
  assert.equal(PAGE_BYTES, 4096);
  assert.equal(pageStart(0x19004), 0x19000);
  assert.equal(pageStart(0x8000000fff), 0x8000000000);
  assert.equal(pageStep(0x19000, 1), 0x1a000);
  assert.equal(pageStep(0x19abc, -1), 0x18000);
  assert.equal(pageStep(0x0, -1), 0);
});

test('rows: 16 bytes, the address of each row, ASCII, unreadable bytes as -1', () => {
  const data = [...'MIC!'].map((c) => c.charCodeAt(0)).concat(Array(14).fill(0));
  const rows = rowsOf('mic0.gddr', 0x1000, data, 2);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].address, 'mic0.gddr+0x1000');
  assert.equal(rows[0].ascii, 'MIC!............');
  assert.deepEqual(rows[1].bytes, [0, 0, -1, -1]);
  assert.equal(rows[1].address, 'mic0.gddr+0x1010');
});

const REGS: RegisterSpan[] = [
  { name: 'SPAD1', offset: 0x1ab24, size: 4, access: 'rw', writable: true },
  { name: 'SPAD0', offset: 0x1ab20, size: 4, access: 'rw', writable: true },
  { name: 'SICR0', offset: 0x19004, size: 4, access: 'w1c', writable: true },
  { name: 'SID', offset: 0x19008, size: 4, access: 'ro', writable: false },
];

test('register overlay: the registers of a page, sorted, and the register of a byte', () => {
  assert.deepEqual(
    registersIn(REGS, 0x1a000, PAGE_BYTES).map((r) => r.name),
    ['SPAD0', 'SPAD1'],
  );
  assert.equal(registerAt(REGS, 0x1ab23)?.name, 'SPAD0');
  assert.equal(registerAt(REGS, 0x1ab28), undefined);
});

test('change marks: none at first, the stop before at a stop, kept while looking, the last stop while running', () => {
  const m = new ByteChangeMarks();
  assert.deepEqual(m.update('p', [1, 2, 3], 'look'), [false, false, false]);
  assert.deepEqual(m.update('p', [1, 9, 3], 'running'), [false, true, false]);
  assert.deepEqual(m.update('p', [1, 9, 4], 'newStop'), [false, true, true]);
  assert.deepEqual(m.update('p', [1, 9, 4], 'look'), [false, true, true], 'looking again keeps the marks');
  assert.deepEqual(m.update('p', [1, 9, 4], 'newStop'), [false, false, false]);
  assert.deepEqual(m.update('p', [7, 9, 4], 'running'), [true, false, false]);
  assert.deepEqual(m.update('other page', [0, 0, 0], 'newStop'), [false, false, false]);
  assert.deepEqual(m.update('p', [1, -1, 4], 'running'), [false, false, false], 'a new page: no marks');
});

test('edits: a register is written whole in one access, with its semantics; other bytes in runs', () => {
  const screen: Record<number, number> = { 0x1ab20: 0x11, 0x1ab21: 0x22, 0x1ab22: 0x33, 0x1ab23: 0x44 };
  const cur = (o: number) => screen[o] ?? 0xee;
  assert.deepEqual(writesFor(new Map([[0x1ab20, 0x5a]]), REGS, cur), [
    { offset: 0x1ab20, data: [0x5a, 0x22, 0x33, 0x44], register: 'SPAD0' },
  ]);
  // Two bytes of one register: one write.
  assert.deepEqual(
    writesFor(
      new Map([
        [0x1ab21, 1],
        [0x1ab23, 2],
      ]),
      REGS,
      cur,
    ),
    [{ offset: 0x1ab20, data: [0x11, 1, 0x33, 2], register: 'SPAD0' }],
  );
  // w1c: only the typed bits are written as 1s.
  assert.deepEqual(writesFor(new Map([[0x19005, 0x01]]), REGS, cur), [
    { offset: 0x19004, data: [0, 1, 0, 0], register: 'SICR0' },
  ]);
  // read-only: refused, named.
  assert.match(
    (writesFor(new Map([[0x19008, 1]]), REGS, cur) as { error: string }).error,
    /SID is read-only/,
  );
  // plain memory: runs of adjacent bytes.
  assert.deepEqual(
    writesFor(
      new Map([
        [0x10, 1],
        [0x11, 2],
        [0x20, 3],
      ]),
      [],
      cur,
    ),
    [
      { offset: 0x10, data: [1, 2] },
      { offset: 0x20, data: [3] },
    ],
  );
});

test('cursor: arrows by byte and row, Home/End in the row, clamped to the page', () => {
  assert.equal(moveCursor(0, 'ArrowLeft', 4096), 0);
  assert.equal(moveCursor(0, 'ArrowRight', 4096), 1);
  assert.equal(moveCursor(5, 'ArrowDown', 4096), 21);
  assert.equal(moveCursor(21, 'ArrowUp', 4096), 5);
  assert.equal(moveCursor(21, 'Home', 4096), 16);
  assert.equal(moveCursor(21, 'End', 4096), 31);
  assert.equal(moveCursor(4090, 'ArrowDown', 4096), 4095);
  assert.equal(moveCursor(7, 'x', 4096), 7);
});

test('a Variables row: the target is as wide as its fixed-width hex value', () => {
  assert.equal(variableBytes('0x00000057'), 4);
  assert.equal(variableBytes('0x0057'), 2);
  assert.equal(variableBytes('0x57'), 1);
  assert.equal(variableBytes('87'), 1);
  assert.equal(variableBytes(undefined), 1);
});
