// The console kept per card over the timeline (consoleHistory.ts): a replay's pieces are not
// doubled, a fork drops the future, the bound drops the oldest text and says so with "…".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConsoleHistory } from '../../src/debugAdapter/consoleHistory.ts';
import { lineAfter } from '../../src/emulator/sim/trace/traceFollower.ts';

test('console history: replays counted not doubled, seeks see the moment, a fork drops the future', () => {
  const h = new ConsoleHistory();
  assert.equal(h.add(0, 10, 'a'), true);
  h.add(0, 20, 'b');
  h.add(0, 30, 'c');
  assert.equal(h.now(0, 100), 'abc');
  h.powerOn(); // a seek back: a fresh machine
  assert.equal(h.now(0, 100), '');
  assert.equal(h.add(0, 10, 'a'), false, 'known: a replay of it');
  assert.equal(h.now(0, 100), 'a');
  assert.equal(h.lastSeq(0), 10);
  h.fork();
  h.add(0, 15, 'X');
  assert.equal(h.now(0, 100), 'aX');
  assert.equal(h.now(0, 1), '…X', 'the last characters, cut said');
  assert.deepEqual(h.cardNumbers(), [0]);
});

test('console history: bounded per card, what fell off said as …', () => {
  const h = new ConsoleHistory(10);
  for (let i = 0; i < 8; i++) h.add(1, i, `${i}${i}${i}`);
  assert.equal(h.now(1, 100), '…444555666777', 'whole pieces, at least the bound');
  h.powerOn();
  h.add(1, 0, '000');
  assert.equal(h.now(1, 100), '…', "the moment's text fell off the bound");
});

test('console history: bytes are kept as written and read as latin1 when shown', () => {
  const h = new ConsoleHistory(6);
  const slab = new Uint8Array([0x41, 0x42, 0xe9, 0x0d, 0x0a, 0x43, 0xff, 0x44]);
  h.add(0, 1, slab.subarray(0, 3)); // "ABé"
  h.add(0, 2, '\r\n');
  h.add(0, 3, slab.subarray(5, 8)); // "C\u00ffD"
  assert.equal(h.now(0, 100), 'AB\u00e9\r\nC\u00ffD', 'one character a byte, as latin1');
  assert.equal(h.now(0, 4), '…\nC\u00ffD', 'the last characters of the last pieces');
  h.add(0, 4, slab.subarray(0, 2)); // 10 characters, 7 without the oldest piece: it goes
  assert.equal(h.now(0, 100), '…\r\nC\u00ffDAB');
});

test('trace cut: the end of the line of event N, by binary search over the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mic-tcut-'));
  try {
    const path = join(dir, 't.jsonl');
    const pre = '{"seq":7,"x":"an older machine"}\n';
    const lines = Array.from(
      { length: 50 },
      (_, i) => `{"seq":${i + 1},"pad":"${'x'.repeat((i * 37) % 300)}"}\n`,
    );
    writeFileSync(path, pre + lines.join(''));
    const fd = openSync(path, 'r');
    const size = Buffer.byteLength(pre + lines.join(''));
    for (const n of [0, 1, 2, 17, 49, 50, 99]) {
      const want = pre.length + Buffer.byteLength(lines.slice(0, Math.min(n, 50)).join(''));
      assert.equal(lineAfter(fd, pre.length, size, n), want, `after event ${n}`);
    }
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
