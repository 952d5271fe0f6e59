// `--trace FILE` as bytes: each event's JSON line is encoded straight into one preallocated
// buffer, which goes to the file (writeSync) when it is nearly full and on flush()/close().
//
// Why bytes: a line as a JS string costs an allocation per event, then a flattening of the
// batched lines and a UTF-8 pass inside writeSync — about 1 µs an event, more than the emulator
// spends making the event. Here the strings that repeat (initiator, kind and space, frame and
// argument names, the size) are encoded once per value and copied as words; numbers and hex
// digits are written as bytes; details and string arguments are copied char by char when they
// need no escaping. Consecutive events mostly share their time, initiator and frame chain, so a
// line copies those from the line before it. Chains are not cached per Frame: every routine
// call makes a fresh Frame, so such a cache would encode and allocate about as often as it hit;
// the frames a chain shares with the last line's are copied, only the new ones are encoded.
// The bytes are exactly eventToJson(e) + '\n' in UTF-8 (what JSON.stringify gives); events with
// odd fields (negative or fractional numbers, huge strings, non-string arguments) go through
// eventToJson as text.
//
// A write error (disk full, a closed descriptor) never reaches the emulator: the trace stops
// there, and onError hears of it once.

import { closeSync, writeSync } from 'node:fs';
import type { BusEvent, Frame } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { eventToJson } from './traceRecorder.ts';
import {
  Encodings,
  FnBytes,
  PairEncodings,
  SLACK,
  copyBack,
  piece,
  plain,
  putDec,
  putHex,
  putHex32,
  putPiece,
  putText,
  utf8,
  type Piece,
} from './traceBytes.ts';

// A line is {"seq":N,"time":N,"initiator":S,"kind":S,"space":S,"address":"0xH","size":N,
// "value":"0xH"[,"detail":S],"frames":[S,…]}\n — the pieces between the fields' values:
const SEQ = piece('{"seq":');
const TIME = piece(',"time":');
const DETAIL = piece('","detail":"');
const FRAMES = piece(',"frames":[');

/** Room kept free for a line at its start; longer lines go as text. */
const LINE_MAX = 1 << 14;
/** Chains deeper than this go as text (the emulator's are a handful of frames). */
const MAX_DEPTH = 64;
/** A line's bytes besides its named pieces, its detail and its frames: constants, digits, hex. */
const FIXED_MAX = 160;

export class TraceWriter {
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  /** Events encoded (in the file or still in the buffer). */
  events = 0;
  /** The write error that stopped the trace, if one did. */
  error: Error | null = null;

  /** The spine observer: one line per event. */
  readonly observer: Observer = (e) => this.write(e);

  private readonly buf: Buffer;
  private readonly dv: DataView;
  private used = 0;
  /** No more lines: the trace failed or was closed. */
  private stopped = false;

  private readonly initiators = new Encodings((s) => `,"initiator":${JSON.stringify(s)}`);
  private readonly kindSpaces = new PairEncodings(
    (kind, space) => `,"kind":${JSON.stringify(kind)},"space":${JSON.stringify(space)},"address":"0x`,
  );
  /** `","size":N,"value":"0x` per size (a handful of sizes recur). */
  private readonly sizes = new Map<number, Piece>();
  private lastSize = 0;
  private lastSizePiece = piece('","size":0,"value":"0x');
  // The last line's `,"time":N,"initiator":S` (nearly every event repeats both): its time and
  // initiator and where its bytes are in the buffer (headEnd < 0: nothing to copy).
  private headTime = -1;
  private headInitiator = '';
  private headStart = 0;
  private headEnd = -1;
  /** Frame names' bytes with their arguments', per name. */
  private readonly fns = new Map<string, FnBytes>();

  // The last line's chain, for the next line to copy what it shares: its frames outermost first,
  // where its `,"frames":[` starts in the buffer and where each frame ends (chainEnds[0]: the
  // opening bracket's end). chainDepth < 0: nothing to copy (the buffer was written out).
  private readonly chainFrames: (Frame | null)[] = new Array<Frame | null>(MAX_DEPTH).fill(null);
  private readonly chainEnds = new Int32Array(MAX_DEPTH + 1);
  private chainStart = 0;
  private chainDepth = -1;
  /** The last line's innermost frame and the end of its line. */
  private chainLast: Frame | null = null;
  private chainEnd = 0;
  /** The current event's chain, outermost first (scratch). */
  private readonly frames: (Frame | null)[] = new Array<Frame | null>(MAX_DEPTH).fill(null);

  /**
   * Takes over `fd` (close() closes it). `onError` hears of the first write error; the trace
   * has stopped by then and the caller's run goes on.
   */
  constructor(
    private fd: number,
    private readonly onError: (err: Error) => void = () => {},
    bufferBytes = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(bufferBytes, 2 * LINE_MAX));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Append the event's line (to the buffer; to the file when the buffer is nearly full). */
  write(e: BusEvent): void {
    if (this.stopped) return;
    this.events++;
    const b = this.buf;
    const dv = this.dv;
    if (this.used > b.length - LINE_MAX) {
      this.flush();
      if (this.stopped) return;
    }
    const { seq, time, initiator, address, size, detail } = e;
    const sameHead = time === this.headTime && initiator === this.headInitiator && this.headEnd >= 0;
    const head = sameHead ? null : this.initiators.get(initiator);
    const kindSpace = this.kindSpaces.get(e.kind, e.space);
    // JSON.stringify writes at most 6 bytes per UTF-16 unit of a string.
    const headBytes = head === null ? this.headEnd - this.headStart : 4 * head.length;
    const need = FIXED_MAX + headBytes + 4 * kindSpace.length + 6 * detail.length;
    if (!(plain(seq) && plain(time) && plain(address) && plain(size)) || need > LINE_MAX / 2)
      return this.writeText(e);
    let p = putPiece(dv, this.used, SEQ);
    p = putDec(dv, p, seq);
    if (head === null) p = copyBack(b, dv, p, this.headStart, this.headEnd);
    else {
      const start = p;
      p = putPiece(dv, p, TIME);
      p = putDec(dv, p, time);
      p = putPiece(dv, p, head);
      this.headTime = time;
      this.headInitiator = initiator;
      this.headStart = start;
      this.headEnd = p;
    }
    p = putPiece(dv, p, kindSpace);
    p = putHex(dv, p, address);
    p = putPiece(dv, p, size === this.lastSize ? this.lastSizePiece : this.sizePiece(size));
    p = putHex32(dv, p, e.value);
    if (detail !== '') {
      p = putPiece(dv, p, DETAIL);
      p = putText(b, p, detail);
    }
    b[p++] = 0x22; // the closing quote of "value" or "detail"
    const end = this.putChain(b, p, e.frames);
    if (end < 0) return this.writeText(e);
    this.used = end;
  }

  private sizePiece(size: number): Piece {
    let w = this.sizes.get(size);
    if (w === undefined) {
      w = piece(`","size":${size},"value":"0x`);
      if (this.sizes.size < 4096) this.sizes.set(size, w);
    }
    this.lastSize = size;
    this.lastSizePiece = w;
    return w;
  }

  /**
   * `,"frames":[…]}\n`. The frames the chain shares with the last line's (outermost first,
   * the same Frame objects) are copied from that line; only the rest are encoded. Returns the
   * end, or -1 if out of room or the chain is deeper than MAX_DEPTH.
   */
  private putChain(b: Buffer, p: number, f: Frame | null): number {
    if (f === this.chainLast && this.chainDepth >= 0) {
      // The same chain as the last line's (most events): copy it whole.
      if (p + this.chainEnd - this.chainStart + SLACK > b.length) return -1;
      return copyBack(b, this.dv, p, this.chainStart, this.chainEnd);
    }
    let depth = 0;
    for (let x = f; x !== null; x = x.parent) depth++;
    if (depth > MAX_DEPTH) return -1;
    const frames = this.frames;
    for (let x = f, i = depth; x !== null; x = x.parent) frames[--i] = x;
    const last = this.chainFrames;
    const ends = this.chainEnds;
    const start = p;
    let same = 0;
    if (this.chainDepth < 0) {
      if (p + 4 * FRAMES.length > b.length) return -1;
      p = putPiece(this.dv, p, FRAMES);
    } else {
      const shared = depth < this.chainDepth ? depth : this.chainDepth;
      while (same < shared && frames[same] === last[same]) same++;
      const from = this.chainStart;
      if (p + ends[same] - from + SLACK > b.length) return -1;
      p = copyBack(b, this.dv, p, from, ends[same]);
    }
    // From here on the last chain's record describes this line's.
    const shift = start - this.chainStart;
    for (let i = 0; i <= same; i++) ends[i] += shift;
    ends[0] = start + FRAMES[0];
    this.chainStart = start;
    for (let i = same; i < depth; i++) {
      p = this.putFrame(b, p, frames[i] as Frame, i > 0);
      if (p < 0) {
        this.chainDepth = -1;
        return -1;
      }
      last[i] = frames[i];
      ends[i + 1] = p;
    }
    if (p + 3 > b.length) {
      this.chainDepth = -1;
      return -1;
    }
    this.chainDepth = depth;
    b[p++] = 0x5d; // ]
    b[p++] = 0x7d; // }
    b[p++] = 0x0a;
    this.chainLast = f;
    this.chainEnd = p;
    return p;
  }

  /**
   * One frame as busEvent's frameText writes it, `"fn(k=0x10, name=text)"`; -1 if out of
   * room or an argument is neither a string nor a plain number (the line then goes as text).
   */
  private putFrame(b: Buffer, p: number, f: Frame, comma: boolean): number {
    let fn = this.fns.get(f.fn);
    if (fn === undefined) {
      fn = new FnBytes(f.fn);
      if (this.fns.size < 4096) this.fns.set(f.fn, fn);
    }
    if (p + 4 * fn.name.length + 3 > b.length) return -1;
    if (comma) b[p++] = 0x2c;
    p = putPiece(this.dv, p, fn.name);
    const a = f.args;
    let i = 0;
    // for…in gives a literal's own keys in Object.keys order, without an array per frame.
    for (const k in a) {
      const v = a[k];
      const arg = fn.arg(i++, k, typeof v === 'number');
      const room = 4 * arg.length + 24 + (typeof v === 'string' ? 6 * v.length : 0);
      if (p + room > b.length) return -1;
      p = putPiece(this.dv, p, arg);
      if (typeof v === 'string') p = putText(b, p, v);
      else if (typeof v === 'number' && plain(v)) p = putHex(this.dv, p, v);
      else return -1;
    }
    if (i > 0) b[p++] = 0x29; // )
    b[p++] = 0x22;
    return p;
  }

  /**
   * A line the byte path does not take, as text. What this line's bytes may have overwritten
   * (an abandoned attempt) is no longer there for the next line to copy.
   */
  private writeText(e: BusEvent): void {
    this.headEnd = -1;
    this.chainDepth = -1;
    const line = eventToJson(e) + '\n';
    const n = Buffer.byteLength(line);
    if (this.used + n > this.buf.length) this.flush();
    if (this.stopped) return;
    if (n <= this.buf.length) this.used += this.buf.write(line, this.used, 'utf8');
    else this.writeAll(utf8(line), n);
  }

  /** Hand the buffered lines to the file. */
  flush(): void {
    this.headEnd = -1;
    this.chainDepth = -1;
    if (this.used === 0 || this.stopped) return;
    const used = this.used;
    this.used = 0;
    this.writeAll(this.buf, used);
  }

  /** Flush, close the file; later events are not written. */
  close(): void {
    this.flush();
    this.stopped = true;
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.attempt(() => closeSync(fd));
  }

  private writeAll(b: Buffer, length: number): void {
    this.attempt(() => {
      for (let off = 0; off < length;) {
        const n = writeSync(this.fd, b, off, length - off);
        if (n <= 0) throw new Error(`write returned ${n}`);
        off += n;
        this.bytesWritten += n;
      }
    });
  }

  private attempt(io: () => void): void {
    try {
      io();
    } catch (err) {
      this.stopped = true;
      this.used = 0;
      if (this.error) return;
      this.error = err instanceof Error ? err : new Error(String(err));
      this.onError(this.error);
    }
  }
}
