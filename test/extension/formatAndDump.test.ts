// Numbers as the trees write them, memory-reference arithmetic, and the hex dump "Show in Memory"
// falls back to without the Hex Editor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  count,
  fieldValue,
  hex,
  hexAddr,
  offsetRef,
  regValue,
  size,
} from '../../src/extension/model/format.ts';
import { dumpWindow, hexDump } from '../../src/extension/model/hexDump.ts';

test('docs/naming.md numbers: addresses unpadded, registers fixed width, counts decimal', () => {
  assert.equal(hex(0x19004), '0x19004');
  assert.equal(hexAddr(0x8010015000), '0x8010015000');
  assert.equal(regValue(0x57), '0x00000057');
  assert.equal(regValue(0xffffffff), '0xffffffff');
  assert.equal(fieldValue(3, '1:0'), '0x3');
  assert.equal(fieldValue(0xf, '15:8'), '0x0f');
  assert.equal(count(1, 'byte'), '1 byte');
  assert.equal(count(64, 'byte'), '64 bytes');
  assert.equal(count(1, 'entry', 'entries'), '1 entry');
  assert.equal(size(8 * 2 ** 30), '8 GiB');
  assert.equal(size(128 * 1024), '128 KiB');
  assert.equal(size(100), '100 bytes');
  assert.equal(size(1), '1 byte');
});

test('memory references move by byte offsets', () => {
  assert.equal(offsetRef('host+0x10001000', 0x802), 'host+0x10001802');
  assert.equal(offsetRef('mic0.bar4+0x0', 4), 'mic0.bar4+0x4');
  assert.equal(offsetRef(undefined, 4), undefined);
  assert.equal(offsetRef('SICR0', 4), undefined);
});

test('the dump window is line-aligned and covers the bytes', () => {
  assert.deepEqual(dumpWindow('mic0.bar4+0x19004', 4), {
    reference: 'mic0.bar4+0x19000',
    count: 256,
    lead: 4,
  });
  assert.equal(dumpWindow('host+0x0', 100000).count, 4096);
});

test('hex dump lines: address, 16 bytes in two halves, ASCII; unreadable bytes as ??', () => {
  const data = new Uint8Array([...'MIC!'].map((c) => c.charCodeAt(0)).concat(Array(14).fill(0)));
  const lines = hexDump('mic0.gddr+0x1000', data, 2).split('\n');
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    'mic0.gddr+0x1000  4d 49 43 21 00 00 00 00  00 00 00 00 00 00 00 00  |MIC!............|',
  );
  assert.ok(lines[1].startsWith('mic0.gddr+0x1010  00 00 ?? ??'), lines[1]);
});
