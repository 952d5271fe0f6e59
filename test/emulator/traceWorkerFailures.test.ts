// The trace worker misbehaving: it never starts reading, starts and then hangs, fails as it
// starts, or ends in the middle of a trace. Whatever it does, the machine's thread must not hang
// or throw: it writes the trace itself when the worker never took the ring (nothing lost), and
// ends the trace with one error when a worker that took the ring stops. The limits are short here
// (the product waits 10 s for a start and 60 s for progress); the workers are real threads.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { busEvent } from '../helpers/events.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { eventToJson } from '../../src/emulator/sim/trace/traceRecorder.ts';
import { TraceOffThread } from '../../src/emulator/sim/trace/traceOffThread.ts';
import { H, State } from '../../src/emulator/sim/trace/traceRing.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-traceworker-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let files = 0;

/** A ring that 3,000 events overfill many times, so the machine's thread must wait for room. */
const RING_BYTES = 64 << 10;

/** Events with frames and details, as a booted card makes them. */
function events(n: number): BusEvent[] {
  const out: BusEvent[] = [];
  for (let i = 1; i <= n; i++)
    out.push(
      busEvent(i % 3 === 0 ? 'mem.write' : 'mmio.read', {
        seq: i,
        time: i * 10,
        address: 0x1_0000_0000 + i * 16,
        value: i * 7,
        detail: i % 5 === 0 ? `request ${i} "quoted"` : '',
        frames: {
          fn: 'virtio_queue_rq',
          args: { req: i },
          parent: { fn: 'virtblk_read', args: undefined, parent: null },
        },
      }),
    );
  return out;
}

const started: Worker[] = [];
after(async () => {
  await Promise.all(started.map((w) => w.terminate()));
});

/** A worker thread running `code` (CommonJS, workerData at hand), never keeping the test alive. */
function workerRunning(code: string): (data: { sab: SharedArrayBuffer }) => Worker {
  return (data) => {
    const w = new Worker(`const { workerData } = require('node:worker_threads');\n${code}`, {
      eval: true,
      workerData: data,
    });
    started.push(w);
    return w;
  };
}

// Pieces of worker code. Sleeping in short waits (not one endless wait) lets terminate() end it.
const SLEEP_FOREVER =
  'const idle = new Int32Array(new SharedArrayBuffer(4)); for (;;) Atomics.wait(idle, 0, 0, 20);';
const TAKE_THE_RING = `Atomics.store(new Int32Array(workerData.sab), ${H.STATE}, ${State.WORKER});`;

function traceFile(): { file: string; fd: number } {
  const file = path.join(tmpRoot, `trace${files++}.jsonl`);
  return { file, fd: fs.openSync(file, 'w') };
}

const lines = (evs: BusEvent[]) => evs.map((e) => eventToJson(e) + '\n').join('');

test('a worker that never starts reading: after the start-up limit the machine thread writes every line itself', () => {
  const { file, fd } = traceFile();
  const errors: Error[] = [];
  const w = new TraceOffThread(fd, (e) => errors.push(e), {
    ringBytes: RING_BYTES,
    startupMs: 200,
    start: workerRunning(SLEEP_FOREVER),
  });
  const evs = events(3000);
  for (const e of evs) w.write(e);
  w.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), lines(evs), 'complete at flush()');
  const more = events(3100).slice(3000);
  for (const e of more) w.write(e);
  w.close();
  assert.deepEqual(errors, []);
  assert.equal(w.error, null);
  assert.equal(w.events, 3100);
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text, lines([...evs, ...more]));
  assert.equal(w.bytesWritten, Buffer.byteLength(text));
  assert.ok(w.waitedMs > 0, 'the machine thread did wait for room before taking over');
});

test('a worker that fails as it starts: the machine thread writes the trace itself, nothing lost', async () => {
  const { file, fd } = traceFile();
  const errors: Error[] = [];
  let worker: Worker | undefined;
  const startDying = workerRunning('throw new Error("no threads today");');
  const w = new TraceOffThread(fd, (e) => errors.push(e), {
    ringBytes: RING_BYTES,
    // Far beyond the test: the writer must act on the worker's exit, not on this limit.
    startupMs: 60_000,
    start: (d) => (worker = startDying(d)),
  });
  // The writer unref()s its worker: ref it, or nothing keeps the event loop waiting for the exit.
  // (events.once would reject on the worker's 'error'; the writer hears that one.)
  worker!.ref();
  await new Promise((resolve) => worker!.on('exit', resolve));
  const evs = events(3000);
  for (const e of evs) w.write(e);
  w.close();
  assert.deepEqual(errors, [], 'the worker never took the ring: not an error of the trace');
  assert.equal(fs.readFileSync(file, 'utf8'), lines(evs));
  assert.ok(w.waitedMs < 30_000, `it read the ring as soon as the worker was gone (waited ${w.waitedMs} ms)`);
});

test('a worker that takes the ring and then hangs: one error after the stall limit, the caller runs on', () => {
  const { file, fd } = traceFile();
  const errors: Error[] = [];
  const w = new TraceOffThread(fd, (e) => errors.push(e), {
    ringBytes: RING_BYTES,
    stallMs: 300,
    start: workerRunning(TAKE_THE_RING + SLEEP_FOREVER),
  });
  // The ring fills, the machine thread waits for room that never comes, then gives up.
  for (const e of events(3000)) w.write(e);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'the trace worker made no progress in 0.3 s');
  assert.equal(w.error, errors[0]);
  // From then on the trace is over: writes, flushes and close() return at once, no new error.
  for (const e of events(100)) w.write(e);
  w.flush();
  w.close();
  assert.equal(errors.length, 1);
  assert.throws(() => fs.fstatSync(fd), /EBADF/, 'close() closed the file');
  assert.equal(fs.readFileSync(file, 'utf8'), '', 'the hung worker wrote nothing');
});

test('a worker that ends in the middle of a trace: the next write reports it once, close() returns', async () => {
  const { fd } = traceFile();
  const errors: Error[] = [];
  let worker: Worker | undefined;
  const startEnding = workerRunning(TAKE_THE_RING + 'process.exit(3);');
  const w = new TraceOffThread(fd, (e) => errors.push(e), {
    ringBytes: RING_BYTES,
    start: (d) => (worker = startEnding(d)),
  });
  worker!.ref(); // as above
  const [code] = await once(worker!, 'exit');
  assert.equal(code, 3);
  for (const e of events(3000)) w.write(e);
  w.flush();
  w.close();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'the trace worker ended');
  assert.equal(w.error, errors[0]);
});
