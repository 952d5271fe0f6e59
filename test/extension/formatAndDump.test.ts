// Numbers as the trees write them and memory-reference arithmetic. (The text hex dump "Show in
// Memory" fell back to is gone: the MIC memory view replaced it, tested in memoryModel.test.ts.)

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
