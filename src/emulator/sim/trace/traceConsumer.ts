// The reading side of the trace ring (traceRing.ts): records back into events, which go through
// TraceWriter as before, so the file is byte for byte what the in-thread writer gives. Frames are
// rebuilt as the producer saw them — the kept part of the chain is the same Frame objects — so
// TraceWriter copies shared frames from the line before, as it does on the machine's thread.
// Runs on the trace worker (run()), or on the machine's thread if the worker never started
// (drain() from there).

import { blankEvent, type BusEvent, type EventKind, type Frame } from '../busEvent.ts';
import { Arg, BYTES_F64, H, KEEP_ALL, State, Tag, type Ring } from './traceRing.ts';
import { TraceWriter } from './traceWriter.ts';

/** Consumed bytes after which the producer gets their room back (it may be waiting for it). */
const RELEASE_BYTES = 1 << 16;

export class TraceConsumer {
  private readonly writer: TraceWriter;
  private readonly strings: string[] = [];
  /** The chain of the last event, outermost first. */
  private readonly chain: Frame[] = [];
  /** The one event object, refilled per record (TraceWriter keeps nothing of it). */
  private readonly e: BusEvent = blankEvent();
  private flushed = 0;
  private closed = false;

  constructor(
    private readonly ring: Ring,
    fd: number,
    bufferBytes?: number,
  ) {
    this.writer = new TraceWriter(fd, (err) => ring.setError(err), bufferBytes);
  }

  /** The worker's loop: read until the producer asks for the close (the file stays open). */
  run(): void {
    const h = this.ring.h;
    if (Atomics.compareExchange(h, H.STATE, State.STARTING, State.WORKER) !== State.STARTING) return;
    while (!this.closed) {
      this.drain();
      if (this.closed) break;
      // The timeout only bounds a sleep nobody rings for; the producer rings when it publishes.
      this.ring.sleep(H.WORKER_BELL, () => this.pending(), 10_000);
    }
  }

  private pending(): boolean {
    const h = this.ring.h;
    return (
      Atomics.load(h, H.HEAD) !== Atomics.load(h, H.TAIL) ||
      Atomics.load(h, H.FLUSH_REQ) !== this.flushed ||
      Atomics.load(h, H.CLOSE_REQ) !== 0
    );
  }

  /** Everything published, then the flush or close asked for (requests are made after publishing). */
  drain(): void {
    if (this.closed) return;
    const { h, hf } = this.ring;
    const flush = Atomics.load(h, H.FLUSH_REQ);
    const close = Atomics.load(h, H.CLOSE_REQ);
    const head = Atomics.load(h, H.HEAD);
    let t = Atomics.load(h, H.TAIL);
    // Room is handed back by the batch: an atomic store and a look at the producer's flag per
    // record cost as much as formatting the record.
    let released = t;
    while (t !== head) {
      t = this.record(t);
      if (t - released >= RELEASE_BYTES || t < released) {
        Atomics.store(h, H.TAIL, t);
        this.ring.ringMain();
        released = t;
      }
    }
    Atomics.store(h, H.TAIL, t);
    // The machine's thread closes the file: Node warns when a worker closes a descriptor it
    // did not open.
    if (close !== 0) this.closed = true;
    if (close !== 0 || flush !== this.flushed) this.writer.flush();
    hf[BYTES_F64] = this.writer.bytesWritten;
    if (close !== 0) Atomics.store(h, H.STATE, State.CLOSED);
    if (flush !== this.flushed) {
      this.flushed = flush;
      Atomics.store(h, H.FLUSH_DONE, flush);
    }
    this.ring.ringMain();
  }

  /** The record at byte offset t; returns the next one's offset. */
  private record(t: number): number {
    const { i32, u16 } = this.ring;
    const q = t >> 2;
    switch (i32[q]) {
      case Tag.WRAP:
        return 0;
      case Tag.FORGET:
        this.strings.length = 0;
        return t + 8;
      case Tag.STRING: {
        const n = i32[q + 2];
        this.strings[i32[q + 1]] = text(u16, 2 * (q + 3), n);
        return (t + 12 + 2 * n + 7) & ~7;
      }
      case Tag.EVENT:
        return this.event(q) << 2;
      default:
        throw new Error(`trace ring: no record at ${t} (tag ${i32[q]})`);
    }
  }

  /** The EVENT record at word q, through the writer; returns the word after it. */
  private event(q: number): number {
    const { i32, f64, u16 } = this.ring;
    const s = this.strings;
    const e = this.e;
    const d = q >> 1;
    e.value = i32[q + 1];
    e.seq = f64[d + 1];
    e.time = f64[d + 2];
    e.address = f64[d + 3];
    e.size = f64[d + 4];
    e.initiator = s[i32[q + 10]];
    e.kind = s[i32[q + 11]] as EventKind;
    e.space = s[i32[q + 12]];
    const detailLength = i32[q + 13];
    const keep = i32[q + 14];
    const fresh = i32[q + 15];
    let p = q + 16;
    if (detailLength > 0) {
      e.detail = text(u16, 2 * p, detailLength);
      p += (detailLength + 1) >> 1;
    } else e.detail = '';
    if (keep !== KEEP_ALL) {
      const chain = this.chain;
      chain.length = keep;
      for (let i = 0; i < fresh; i++) {
        const fn = s[i32[p]];
        const count = i32[p + 1];
        p += 2;
        let args: Record<string, string | number> | undefined;
        if (count > 0) {
          args = {};
          for (let a = 0; a < count; a++) {
            const key = s[i32[p++]];
            if (i32[p++] === Arg.NUMBER) {
              p = (p + 1) & ~1;
              args[key] = f64[p >> 1];
              p += 2;
            } else {
              const n = i32[p++];
              args[key] = text(u16, 2 * p, n);
              p += (n + 1) >> 1;
            }
          }
        }
        chain.push({ fn, args, parent: chain.length > 0 ? chain[chain.length - 1] : null });
      }
      e.frames = chain.length > 0 ? chain[chain.length - 1] : null;
    }
    this.writer.write(e);
    return (p + 1) & ~1;
  }
}

/** n UTF-16 units from u16[at…] as a string (lone surrogates and all). */
function text(u16: Uint16Array, at: number, n: number): string {
  if (n <= 256) return String.fromCharCode.apply(null, u16.subarray(at, at + n) as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i += 4096)
    s += String.fromCharCode.apply(
      null,
      u16.subarray(at + i, at + Math.min(n, i + 4096)) as unknown as number[],
    );
  return s;
}
