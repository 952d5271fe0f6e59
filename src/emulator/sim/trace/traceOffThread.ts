// `--trace FILE` with the formatting on a worker thread. The machine's thread only copies each
// event's raw fields into a shared ring (traceProducer.ts, ~50 ns an event); the worker turns
// them into the same JSON lines TraceWriter always wrote and writes the file (traceConsumer.ts).
// That is a gain only with a second core: on one core the worker's formatting takes the same CPU
// time away from the machine as it did in-thread, plus the copying.
//
// The machine never loses an event and memory stays bounded: when the ring is full, the machine's
// thread waits (Atomics.wait) until the worker frees room. flush() and close() are synchronous:
// they return when the worker has written (and close() closed) everything put before them, so
// the debug adapter's file is complete at every stop and the CLI's at exit.
//
// Failures: a write error in the worker stops the trace and onError hears of it once, as in-thread.
// A worker that never starts is replaced by reading the ring on the machine's thread; one that
// stops answering ends the trace with an error. The worker never keeps the process alive (unref).

import { closeSync, existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BusEvent } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { TraceConsumer } from './traceConsumer.ts';
import { TraceProducer } from './traceProducer.ts';
import { BYTES_F64, H, Ring, State } from './traceRing.ts';
import { eventToJson } from './traceRecorder.ts';
import type { TraceWorkerData } from './traceWorker.ts';

export interface TraceOffThreadOptions {
  /** The line buffer's size (small in tests, so lines straddle writes). */
  bufferBytes?: number;
  /** The ring's size. */
  ringBytes?: number;
  /** How long a worker may take to start before the machine's thread reads the ring itself. */
  startupMs?: number;
  /** How long the worker may make no progress while the machine's thread waits for it. */
  stallMs?: number;
  /** Starts the worker (tests start ones that never start reading, hang or die). */
  start?: (data: TraceWorkerData) => Worker;
}

const STARTUP_MS = 10_000;
const STALL_MS = 60_000;

export class TraceOffThread {
  /** Events taken (written, or still on their way to the file). */
  events = 0;
  /** The error that stopped the trace, if one did. */
  error: Error | null = null;

  /** The spine observer: one line per event. */
  readonly observer: Observer = (e) => this.write(e);

  private readonly ring: Ring;
  private readonly producer: TraceProducer;
  /** The ring's reader on this thread, once the worker was given up on. */
  private local: TraceConsumer | null = null;
  private readonly born = performance.now();
  /** No more events: the trace failed or was closed. */
  private stopped = false;
  private closed = false;
  /** The worker stopped answering: nothing more is asked of it. */
  private dead = false;
  private flushes = 0;
  /** Time the machine's thread spent waiting for room in the ring (the worker behind). */
  waitedMs = 0;
  /** Bytes of the lines this thread wrote itself (events too big for a record). */
  private ownBytes = 0;
  private readonly bufferBytes: number | undefined;
  private readonly startupMs: number;
  private readonly stallMs: number;

  /**
   * Takes over `fd` (close() closes it). Throws if the worker cannot be created (the caller
   * then writes in-thread). `onError` hears of the first write error.
   */
  constructor(
    private readonly fd: number,
    private readonly onError: (err: Error) => void = () => {},
    options: TraceOffThreadOptions = {},
  ) {
    const { bufferBytes, ringBytes = 8 << 20, startupMs = STARTUP_MS, stallMs = STALL_MS } = options;
    this.bufferBytes = bufferBytes;
    this.startupMs = startupMs;
    this.stallMs = stallMs;
    this.ring = Ring.create(ringBytes);
    this.producer = new TraceProducer(
      this.ring,
      () => this.waitForRoom(),
      () => this.published(),
    );
    const worker = (options.start ?? startWorker)({ sab: this.ring.sab, fd, bufferBytes });
    worker.unref();
    worker.on('error', () => this.workerGone());
    worker.on('exit', () => this.workerGone());
  }

  /** Bytes handed to the file so far. */
  get bytesWritten(): number {
    return this.ring.hf[BYTES_F64] + this.ownBytes;
  }

  write(e: BusEvent): void {
    if (this.stopped) return;
    this.events++;
    if (!this.producer.put(e) && !this.stopped) this.writeOwn(e);
  }

  /** Return when every line so far is in the file. */
  flush(): void {
    if (this.stopped) return;
    this.producer.publish();
    const h = this.ring.h;
    const req = ++this.flushes;
    Atomics.store(h, H.FLUSH_REQ, req);
    this.ring.ringWorker();
    this.waitUntil(() => Atomics.load(h, H.FLUSH_DONE) === req);
    if (h[H.ERROR_LENGTH] !== 0) this.consumerFailed();
  }

  /** Flush, close the file; later events are not written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const h = this.ring.h;
    const ended = (): boolean => {
      const s = Atomics.load(h, H.STATE);
      return s === State.CLOSED || s === State.FAILED;
    };
    if (!this.dead) {
      this.producer.publish();
      Atomics.store(h, H.CLOSE_REQ, 1);
      this.ring.ringWorker();
      this.waitUntil(ended);
    }
    if (h[H.ERROR_LENGTH] !== 0) this.consumerFailed();
    try {
      closeSync(this.fd);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    this.stopped = true;
  }

  /** An event too big for a record: its line written here, after the worker wrote all before it. */
  private writeOwn(e: BusEvent): void {
    this.flush();
    if (this.stopped) return;
    const line = Buffer.from(eventToJson(e) + '\n', 'utf8');
    try {
      for (let off = 0; off < line.length;) {
        const n = writeSync(this.fd, line, off, line.length - off);
        if (n <= 0) throw new Error(`write returned ${n}`);
        off += n;
        this.ownBytes += n;
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** After each batch: a write error in the worker stops the trace (within a batch of events). */
  private published(): void {
    if (this.ring.h[H.ERROR_LENGTH] !== 0) this.consumerFailed();
  }

  private consumerFailed(): void {
    this.fail(this.ring.error() ?? new Error('the trace worker failed'));
  }

  private fail(err: Error): void {
    this.stopped = true;
    if (this.error) return;
    this.error = err;
    this.onError(err);
  }

  private waitForRoom(): boolean {
    const h = this.ring.h;
    const tail = Atomics.load(h, H.TAIL);
    const t0 = performance.now();
    const ok = this.waitUntil(() => Atomics.load(h, H.TAIL) !== tail);
    this.waitedMs += performance.now() - t0;
    return ok;
  }

  /**
   * Wait for the worker until `done()`; false if the trace stopped instead. A worker that has
   * not started after startupMs is given up on (this thread reads the ring from then on).
   */
  private waitUntil(done: () => boolean): boolean {
    const h = this.ring.h;
    let progress = -1;
    let since = performance.now();
    for (;;) {
      if (this.local) this.local.drain();
      if (done()) return true;
      if (this.local || this.dead) return false;
      const state = Atomics.load(h, H.STATE);
      if (state === State.FAILED) {
        this.consumerFailed();
        return false;
      }
      this.ring.sleep(H.MAIN_BELL, done, 50);
      const now = performance.now();
      if (state === State.STARTING && now - this.born > this.startupMs) this.abandonWorker();
      const p = Atomics.load(h, H.TAIL) + Atomics.load(h, H.FLUSH_DONE) + 7 * state;
      if (p !== progress) {
        progress = p;
        since = now;
      } else if (now - since > this.stallMs && !this.local) {
        this.dead = true;
        this.fail(new Error(`the trace worker made no progress in ${this.stallMs / 1000} s`));
        return false;
      }
    }
  }

  /** The worker failed to start or ended: if it never read the ring, read it here. */
  private workerGone(): void {
    const h = this.ring.h;
    if (Atomics.load(h, H.STATE) === State.STARTING) this.abandonWorker();
    else if (Atomics.compareExchange(h, H.STATE, State.WORKER, State.FAILED) === State.WORKER) {
      if (h[H.ERROR_LENGTH] === 0) this.ring.setError(new Error('the trace worker ended'));
    }
  }

  private abandonWorker(): void {
    const h = this.ring.h;
    if (Atomics.compareExchange(h, H.STATE, State.STARTING, State.ABANDONED) !== State.STARTING) return;
    this.local = new TraceConsumer(this.ring, this.fd, this.bufferBytes);
  }
}

/**
 * The worker, from the file beside this code: the bundles (dist/, the benchmark's) ship
 * traceWorker.js next to themselves; the sources (tests, under tsx) have traceWorker.ts, which
 * the worker loads through tsx's require hook.
 */
function startWorker(data: TraceWorkerData): Worker {
  const js = join(__dirname, 'traceWorker.js');
  if (existsSync(js)) return new Worker(js, { workerData: data });
  const ts = join(__dirname, 'traceWorker.ts');
  if (existsSync(ts)) return new Worker(ts, { workerData: data, execArgv: ['--require', 'tsx/cjs'] });
  throw new Error(`no trace worker at ${js}`);
}
