// The ring between the machine's thread and the trace worker (traceWorker.ts): one
// SharedArrayBuffer, a header of words both sides agree on, then records of raw event fields.
// The machine's thread writes records (traceProducer.ts); the worker reads them and turns them
// back into events for TraceWriter (traceConsumer.ts).
//
// Records are 8-byte aligned, never split at the ring's end (a WRAP record sends the reader back
// to 0), and begin with their tag word:
//   WRAP                           the next record is at offset 0
//   STRING id length units…        string `id` is these UTF-16 units from now on
//   FORGET                         every string id is forgotten (the table reached its bound)
//   EVENT value                    an event: f64 seq, time, address, size; i32 initiator, kind,
//                                  space (string ids), detail length, frames kept from the last
//                                  event's chain (KEEP_ALL: the same chain), new frames; the
//                                  detail's units; per new frame (outermost first) fn id, argument
//                                  count, per argument key id, then NUMBER + f64 or TEXT + length
//                                  + units.

export const enum Tag {
  WRAP = 1,
  STRING = 2,
  FORGET = 3,
  EVENT = 4,
}

export const enum Arg {
  NUMBER = 0,
  TEXT = 1,
}

/** The frames field of an event whose chain is the last event's. */
export const KEEP_ALL = -1;

// Header words (Int32 indices), a 64-byte cache line per writer: a line one thread writes and
// the other reads on every event would cost a cache miss an event.
export const enum H {
  // Written by the producer.
  /** Where the producer's published records end (byte offset). */
  HEAD = 0,
  FLUSH_REQ = 1,
  CLOSE_REQ = 2,
  /** Bumped and notified to wake the worker (when WORKER_SLEEPING says it sleeps). */
  WORKER_BELL = 3,
  // Written by the consumer.
  /** Where the consumer reads next (byte offset). */
  TAIL = 16,
  FLUSH_DONE = 17,
  STATE = 18,
  /** Bumped and notified to wake the machine's thread (when MAIN_WAITING says it waits). */
  MAIN_BELL = 19,
  /** Length of the error text (UTF-16 units at ERROR_TEXT); 0: no error. */
  ERROR_LENGTH = 20,
  WORKER_SLEEPING = 32,
  MAIN_WAITING = 48,
}

/** The consumer's count of bytes written: this f64 of the header (in the consumer's line). */
export const BYTES_F64 = 11;

/** Who reads the ring. */
export const enum State {
  /** The worker has not started yet. */
  STARTING = 0,
  /** The worker reads it. */
  WORKER = 1,
  /** The machine's thread gave up waiting for the worker and reads it itself. */
  ABANDONED = 2,
  /** The consumer has written everything and stopped (the machine's thread closes the file). */
  CLOSED = 3,
  /** The worker failed (error text set); the machine's thread closes the file. */
  FAILED = 4,
}

const HEADER_BYTES = 256;
const ERROR_UNITS = 1024;
/** Byte offset of the data: after the header and the error text. */
const DATA_OFFSET = HEADER_BYTES + 2 * ERROR_UNITS;

/** The most one record may take: longer events are written by the machine's thread itself. */
export const MAX_RECORD = 1 << 16;

/** Views over one ring. */
export class Ring {
  readonly h: Int32Array;
  readonly hf: Float64Array;
  readonly errorText: Uint16Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u16: Uint16Array;
  /** Data bytes (a multiple of 8). */
  readonly size: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.hf = new Float64Array(sab, 0, HEADER_BYTES / 8);
    this.errorText = new Uint16Array(sab, HEADER_BYTES, ERROR_UNITS);
    this.size = (sab.byteLength - DATA_OFFSET) & ~7;
    this.i32 = new Int32Array(sab, DATA_OFFSET, this.size / 4);
    this.f64 = new Float64Array(sab, DATA_OFFSET, this.size / 8);
    this.u16 = new Uint16Array(sab, DATA_OFFSET, this.size / 2);
  }

  static create(dataBytes: number): Ring {
    const size = Math.max(dataBytes, 4 * MAX_RECORD) & ~7;
    return new Ring(new SharedArrayBuffer(DATA_OFFSET + size));
  }

  /** Record the consumer's error (its text, cut to what fits); the producer reports it. */
  setError(err: Error): void {
    const text = err.message.slice(0, ERROR_UNITS);
    for (let i = 0; i < text.length; i++) this.errorText[i] = text.charCodeAt(i);
    Atomics.store(this.h, H.ERROR_LENGTH, text.length);
  }

  error(): Error | null {
    const n = Atomics.load(this.h, H.ERROR_LENGTH);
    return n === 0 ? null : new Error(String.fromCharCode(...this.errorText.subarray(0, n)));
  }

  /** The worker gives up (after setError). */
  fail(): void {
    Atomics.store(this.h, H.STATE, State.FAILED);
    this.ringMain();
  }

  /** Wake the worker if it sleeps (after storing what it should see). */
  ringWorker(): void {
    if (Atomics.load(this.h, H.WORKER_SLEEPING) !== 0) {
      Atomics.add(this.h, H.WORKER_BELL, 1);
      Atomics.notify(this.h, H.WORKER_BELL);
    }
  }

  /** Wake the machine's thread if it waits (after storing what it should see). */
  ringMain(): void {
    if (Atomics.load(this.h, H.MAIN_WAITING) !== 0) {
      Atomics.add(this.h, H.MAIN_BELL, 1);
      Atomics.notify(this.h, H.MAIN_BELL);
    }
  }

  /**
   * Sleep on `bell` (WORKER_BELL or MAIN_BELL, with its flag) unless `ready()` already holds;
   * at most `ms`. The flag goes up before ready() is checked, so a ring after the check cannot
   * be missed.
   */
  sleep(bell: H.WORKER_BELL | H.MAIN_BELL, ready: () => boolean, ms: number): void {
    const flag = bell === H.WORKER_BELL ? H.WORKER_SLEEPING : H.MAIN_WAITING;
    Atomics.store(this.h, flag, 1);
    const seen = Atomics.load(this.h, bell);
    if (!ready()) Atomics.wait(this.h, bell, seen, ms);
    Atomics.store(this.h, flag, 0);
  }
}
