// The adapter's DAP reader (src/debugAdapter/framing.ts): linear in the size of a message,
// whatever the chunking, and resynchronising after framing it cannot read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageReader } from '../../src/debugAdapter/framing.ts';

function reader() {
  const got: unknown[] = [];
  const problems: string[] = [];
  const r = new MessageReader({ message: (m) => got.push(m), problem: (p) => problems.push(p) });
  return { r, got, problems };
}

test('a 32 MiB message in 64 KiB chunks is joined once: bytes copied stay under twice its size', () => {
  const { r, got, problems } = reader();
  const body = Buffer.from(
    JSON.stringify({ seq: 1, type: 'request', command: 'x', data: 'a'.repeat(32 * 2 ** 20) }),
  );
  const all = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
  for (let i = 0; i < all.length; i += 65536) r.push(all.subarray(i, i + 65536));
  assert.equal(got.length, 1);
  assert.deepEqual(problems, []);
  assert.ok(
    r.bytesCopied <= 2 * all.length,
    `${r.bytesCopied} bytes copied for a ${all.length}-byte message`,
  );
});

test('one byte at a time: every message arrives, none is reported', () => {
  const { r, got, problems } = reader();
  const msgs = [1, 2, 3].map((seq) => JSON.stringify({ seq, type: 'request', command: 'threads' }));
  const all = Buffer.from(msgs.map((m) => `Content-Length: ${m.length}\r\n\r\n${m}`).join(''));
  for (let i = 0; i < all.length; i++) r.push(all.subarray(i, i + 1));
  assert.deepEqual(
    got.map((m) => (m as { seq: number }).seq),
    [1, 2, 3],
  );
  assert.deepEqual(problems, []);
});

test('junk, a header without length and an oversized length are reported; the next message is read', () => {
  const { r, got, problems } = reader();
  const ok = JSON.stringify({ seq: 9, type: 'request', command: 'threads' });
  r.push(Buffer.from(`xyz\r\nFoo: bar\r\n\r\nContent-Length: 999999999999\r\n\r\n`));
  r.push(Buffer.from(`Content-Length: ${ok.length}\r\n\r\n${ok}`));
  assert.equal(problems.length >= 2, true, problems.join(' | '));
  assert.deepEqual(got, [JSON.parse(ok)]);
  r.dispose();
  const fresh = reader();
  fresh.r.push(Buffer.from(`junk Content-Length: ${ok.length}\r\n\r\n${ok}`));
  assert.deepEqual(fresh.got, [JSON.parse(ok)]);
  assert.match(fresh.problems[0], /skipped 5 bytes before a Content-Length header/);
});
