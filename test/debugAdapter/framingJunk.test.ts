// Issue 12c: requests lost after broken framing. The DAP fuzzer (seed 22) lost case 7603, an
// ordinary readMemory sent after `Content-Length: 40` with a 20-byte body and then
// `garbage before\r\n`: the 40 bytes read as that body were its 20 bytes, the 16 of garbage and
// the first 4 of the next header ("Cont"); the body was not JSON, held no whole
// `Content-Length:`, and was dropped with the header's start, so the request behind it was never
// read. Here: that sequence over a real adapter process (stdio), written whole, message by
// message, and with pauses longer than the reader's stall timer; and every sequence of up to
// three of the fuzzer's junk messages before two requests, split at every point, with and
// without the stall timer firing at the split, in the reader alone.

import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headerStartInside, MessageReader, STALL_MS } from '../../src/debugAdapter/framing.ts';
import { JUNK } from '../fuzz/dapFuzz.ts';
import { buildAdapter, removeAdapterCopy } from '../helpers/dap.ts';
import { RawDap } from '../helpers/rawDap.ts';

const CUT_SHORT = 'Content-Length: 40\r\n\r\n{"seq":1,"type":"req';
const GARBAGE = 'garbage before\r\n';

function frame(msg: unknown): string {
  const text = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

// ---- over a real adapter ------------------------------------------------------------------

let adapter: string;
let tmp: string;
before(() => {
  adapter = buildAdapter();
  tmp = mkdtempSync(join(tmpdir(), 'mic-framing-junk-'));
});
after(() => {
  removeAdapterCopy();
  rmSync(tmp, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [how, gapMs] of [
  ['in one write', -1],
  ['message by message', 0],
  [`with pauses of ${STALL_MS + 200} ms (the stall timer fires between)`, STALL_MS + 200],
] as const) {
  test(
    `fuzz seed 22 case 7603: a readMemory after a cut-short body and junk is answered (${how})`,
    { timeout: 60_000 },
    async () => {
      const dap = RawDap.stdio(adapter);
      try {
        await dap.launch({
          autoBoot: false,
          disk: join(tmp, `d${gapMs}.img`),
          diskSizeMiB: 1,
          cardMemoryMiB: 1024,
        });
        const seq = 100;
        const read = frame({
          seq,
          type: 'request',
          command: 'readMemory',
          arguments: { memoryReference: 'mic0.gddr+0x4000000', offset: 0, count: 65536 },
        });
        const parts = [CUT_SHORT, GARBAGE, read];
        if (gapMs < 0) dap.write(parts.join(''));
        else
          for (const p of parts) {
            dap.write(p);
            await pause(gapMs);
          }
        const r = await dap.response(seq, 10_000);
        assert.equal(r.success, true, r.message);
        assert.equal(Buffer.from(r.body.data, 'base64').length, 65536);
        assert.equal((await dap.request('threads')).success, true, 'the session goes on');
        assert.match(dap.output(), /not JSON/, 'the cut-short body is reported');
      } finally {
        await dap.close();
      }
    },
  );
}

// ---- the reader alone: every junk sequence, every split, stall or not ---------------------

function sequences(depth: number): string[][] {
  if (depth === 0) return [[]];
  const shorter = sequences(depth - 1);
  return [
    ...shorter.filter((s) => s.length === depth - 1).flatMap((s) => JUNK.map((j) => [...s, j])),
    ...shorter,
  ];
}

test('every sequence of up to 3 fuzzer junk messages before two requests: both are read, split anywhere, with or without a stall', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const reqs =
      frame({ seq: 7, type: 'request', command: 'threads' }) +
      frame({ seq: 8, type: 'request', command: 'x' });
    const lost: string[] = [];
    let runs = 0;
    for (const seq of sequences(3)) {
      const all = Buffer.from(seq.join('') + reqs, 'latin1');
      for (let cut = 0; cut <= all.length; cut++) {
        for (const stall of [false, true]) {
          const got: number[] = [];
          const r = new MessageReader({
            message: (m) => got.push((m as { seq?: number } | null)?.seq ?? -1),
            problem: () => {},
          });
          r.push(all.subarray(0, cut));
          if (stall) mock.timers.tick(STALL_MS);
          r.push(all.subarray(cut));
          r.dispose();
          runs++;
          if (!(got.includes(7) && got.includes(8)))
            lost.push(
              `${JSON.stringify(seq)} cut at ${cut}${stall ? ' + stall' : ''}: got ${JSON.stringify(got)}`,
            );
        }
      }
    }
    assert.ok(runs > 100_000, `${runs} runs`);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${runs} lost a request`);
  } finally {
    mock.timers.reset();
  }
});

test('headerStartInside: a whole header, a header cut anywhere, nothing', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.equal(headerStartInside(b('{"seq":1,"type":"reqgarbage before\r\nCont')), 36);
  assert.equal(headerStartInside(b('xxContent-Length: 5\r')), 2);
  assert.equal(headerStartInside(b('xxCONTENT-LENGTH  ')), 2);
  assert.equal(headerStartInside(b('xxc')), 2);
  assert.equal(headerStartInside(b('hello')), -1);
  assert.equal(headerStartInside(b('Content-Length: 5')), -1, 'not at its own first byte');
});
