// Numbers as the trees write them and memory-reference arithmetic. (The text hex dump "Show in
// Memory" fell back to is gone: the MIC memory view replaced it, tested in memoryModel.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, hexAddr, hexDec, offsetRef, sizeText } from '../../src/extension/model/format.ts';

test('hex values, grouped MIC addresses, counters and sizes', () => {
  assert.equal(hex(0x19004), '0x19004');
  assert.equal(hexAddr(0x8010015000), '0x80_1001_5000');
  assert.equal(hexDec(128), '0x80 (128)');
  assert.equal(hexDec(3), '0x3');
  assert.equal(sizeText(8 * 2 ** 30), '8 GiB');
  assert.equal(sizeText(128 * 1024), '128 KiB');
  assert.equal(sizeText(100), '100 bytes');
});

test('memory references move by byte offsets', () => {
  assert.equal(offsetRef('host+0x10001000', 0x802), 'host+0x10001802');
  assert.equal(offsetRef('mic0.bar4+0x0', 4), 'mic0.bar4+0x4');
  assert.equal(offsetRef(undefined, 4), undefined);
  assert.equal(offsetRef('SICR0', 4), undefined);
});
