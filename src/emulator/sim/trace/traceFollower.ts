// The trace file follows the timeline (docs/time-travel.md, "Host files follow the timeline"):
// after a seek back to moment N it holds the lines of events up to N and no more, and the
// machine's next events follow there. The owner writes an event's line only if its seq is past
// `head` (a replay goes through events that are in the file already) and calls cutTo(seq) when
// a travel ends.
//
// Where event N's line ends is found in the file itself, by a binary search over its lines
// (each begins `{"seq":N,` and within one machine's run the numbers go up): no map of offsets
// is kept, nothing grows with the session. A restart's machine numbers its events from 1 again,
// after the last machine's lines: the search starts where its lines start (`base`).
//
// The sink writes through a descriptor opened for appending (buildMachine.ts), so after the
// file is cut its next lines go to the new end, not to the old offset.

import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import type { TraceSink } from './traceSink.ts';

export class TraceFollower {
  /** The last event whose line is in the file (or in the sink's buffer). */
  head = 0;
  /** Where this machine's lines begin (after a restart's predecessor's). */
  private base = 0;

  constructor(
    private readonly sink: TraceSink,
    readonly path: string,
  ) {}

  /** A new machine (a restart) numbers its events from 1: its lines follow the file's end. */
  restart(): void {
    this.head = 0;
    this.sink.flush();
    if (this.sink.error) return;
    try {
      this.base = this.withFile((fd) => fstatSync(fd).size);
    } catch {
      // The file cannot be read: cuts search from the start (and fail there, said then).
    }
  }

  /**
   * The machine is at moment `seq`: flush, and cut the file after event `seq`'s line if it goes
   * further.
   * Returns what went wrong, in words (the trace goes on uncut), or null.
   */
  cutTo(seq: number): string | null {
    // Every line so far in the file (a stop's file is complete), then cut what lies past `seq`.
    this.sink.flush();
    if (seq >= this.head || this.sink.error) return null;
    try {
      this.withFile((fd) => {
        const end = lineAfter(fd, this.base, fstatSync(fd).size, seq);
        ftruncateSync(fd, end);
      });
      this.head = seq;
      return null;
    } catch (e) {
      return `cutting ${this.path} back to event ${seq} failed (${(e as Error).message}); its later lines stay`;
    }
  }

  private withFile<T>(f: (fd: number) => T): T {
    const fd = openSync(this.path, 'r+');
    try {
      return f(fd);
    } finally {
      closeSync(fd);
    }
  }
}

const CHUNK = 1 << 16;

/**
 * The offset of the first line at or after `from` whose event number is above `seq`, or `size`
 * if none: the file's length with the lines up to event `seq`. Lines from `from` on are in
 * ascending seq order.
 */
export function lineAfter(fd: number, from: number, size: number, seq: number): number {
  const buf = Buffer.allocUnsafe(CHUNK);
  /** The first line start at or after `at` (`size`: none). */
  const lineStart = (at: number): number => {
    if (at <= from) return from;
    for (let p = at - 1; p < size;) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - p), p);
      if (n <= 0) break;
      const i = buf.subarray(0, n).indexOf(0x0a);
      if (i >= 0) return p + i + 1;
      p += n;
    }
    return size;
  };
  const seqAt = (p: number): number => {
    const n = readSync(fd, buf, 0, Math.min(32, size - p), p);
    const m = /^\{"seq":(\d+)[,}]/.exec(buf.toString('latin1', 0, n));
    if (!m) throw new Error(`the line at byte ${p} does not begin with {"seq":N`);
    return Number(m[1]);
  };
  let answer = size;
  let lo = from;
  let hi = size;
  // The answer is a line start in [lo, hi), or `answer` if there is none there.
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const p = lineStart(mid);
    if (p >= hi) hi = mid;
    else if (seqAt(p) > seq) {
      answer = p;
      hi = mid;
    } else lo = p + 1;
  }
  return answer;
}
