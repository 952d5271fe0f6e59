// The machine's side of the trace ring (traceRing.ts): each event's raw fields as a record, for
// the worker to format. What costs ~300 ns an event as a JSON line costs a few stores here:
// numbers go as they are; initiator, kind, space, frame and argument names as ids of strings
// defined once; the frame chain as what it keeps of the last event's plus its new frames (the
// same walk TraceWriter does, so the worker can rebuild the chain with shared Frame objects and
// TraceWriter copies what it shares as before). Details and string arguments go as UTF-16 units.

import type { BusEvent, Frame } from '../busEvent.ts';
import { Arg, H, KEEP_ALL, MAX_RECORD, Tag, type Ring } from './traceRing.ts';

/** Chains deeper than this are written by the machine's thread itself. */
const MAX_DEPTH = 64;
/** Strings longer than this are not given ids (their event is written by the machine's thread). */
const MAX_NAME = 4096;
/** Ids the tables hold before both sides forget them all and start again. */
const MAX_IDS = 4096;
/** Details longer than this (UTF-16 units) make the event too big for a record. */
const MAX_DETAIL = MAX_RECORD / 4 - 64;
/** The most frame and argument names one event's new frames may have. */
const MAX_NAMES = 1024;
/** Records are handed to the worker in batches of about this many bytes (and on flush). */
const PUBLISH_BYTES = 1 << 15;

export class TraceProducer {
  /** Where the next record goes (byte offset in the ring's data). */
  private w = 0;
  private unpublished = 0;
  /** TAIL as last read: room is known up to here. */
  private tail = 0;
  private readonly ids = new Map<string, number>();
  /** How often the ids were forgotten (an event's ids taken across a FORGET are void). */
  private forgets = 0;
  // The last initiator's, kind's and space's ids (most events repeat them).
  private lastInitiator = '';
  private lastInitiatorId = -1;
  private lastKind = '';
  private lastKindId = -1;
  private lastSpace = '';
  private lastSpaceId = -1;
  /** The consumer's chain (the last event's), outermost first, and its innermost frame. */
  private readonly chain: (Frame | null)[] = new Array<Frame | null>(MAX_DEPTH).fill(null);
  private chainDepth = 0;
  private chainLast: Frame | null = null;
  /** The current event's chain (scratch), and its new frames' fn and argument key ids. */
  private readonly frames: (Frame | null)[] = new Array<Frame | null>(MAX_DEPTH).fill(null);
  private readonly names = new Int32Array(MAX_NAMES);

  /**
   * `waitForConsumer` returns when the consumer may have freed room (TAIL moved), or false if
   * it never will (the trace has stopped). `published` hears of each batch handed over.
   */
  constructor(
    private readonly ring: Ring,
    private readonly waitForConsumer: () => boolean,
    private readonly published: () => void = () => {},
  ) {}

  /**
   * The event as a record. False if it is too big for one (the caller writes it another way)
   * or the consumer is gone; nothing of it is in the ring then.
   */
  put(e: BusEvent): boolean {
    const detail = e.detail;
    if (detail.length > MAX_DETAIL) return false;
    const f = e.frames;
    let keep = KEEP_ALL;
    let depth = 0;
    if (f !== this.chainLast) {
      for (let x = f; x !== null; x = x.parent) depth++;
      if (depth > MAX_DEPTH) return false;
      const frames = this.frames;
      for (let x = f, i = depth; x !== null; x = x.parent) frames[--i] = x;
      const shared = depth < this.chainDepth ? depth : this.chainDepth;
      keep = 0;
      while (keep < shared && frames[keep] === this.chain[keep]) keep++;
    }
    // Ids first: a new one is a STRING record, which must come before the event's. Should the
    // tables be forgotten on the way, ids taken before are void: take them again, once.
    let names = this.nameIds(e, keep, depth);
    if (names === 'forgot') names = this.nameIds(e, keep, depth);
    if (names !== 'ok') return false;
    if (!this.ensure(MAX_RECORD)) return false;
    const end = this.putEvent(e, keep, depth);
    if (end < 0) return false;
    this.unpublished += end - this.w;
    this.w = end;
    if (keep !== KEEP_ALL) {
      for (let i = keep; i < depth; i++) this.chain[i] = this.frames[i];
      this.chainDepth = depth;
      this.chainLast = f;
    }
    if (this.unpublished >= PUBLISH_BYTES) this.publish();
    return true;
  }

  /** Hand the records written so far to the consumer. */
  publish(): void {
    if (this.unpublished === 0) return;
    this.unpublished = 0;
    Atomics.store(this.ring.h, H.HEAD, this.w);
    this.ring.ringWorker();
    this.published();
  }

  /** Initiator, kind and space ids, and the new frames' names in `names`. */
  private nameIds(e: BusEvent, keep: number, depth: number): 'ok' | 'forgot' | 'failed' {
    const forgets = this.forgets;
    if (e.initiator !== this.lastInitiator || this.lastInitiatorId < 0) {
      this.lastInitiatorId = this.id(e.initiator);
      this.lastInitiator = e.initiator;
    }
    if (e.kind !== this.lastKind || this.lastKindId < 0) {
      this.lastKindId = this.id(e.kind);
      this.lastKind = e.kind;
    }
    if (e.space !== this.lastSpace || this.lastSpaceId < 0) {
      this.lastSpaceId = this.id(e.space);
      this.lastSpace = e.space;
    }
    let ok = this.lastInitiatorId >= 0 && this.lastKindId >= 0 && this.lastSpaceId >= 0;
    if (keep !== KEEP_ALL) {
      const names = this.names;
      let n = 0;
      for (let i = keep; i < depth && ok; i++) {
        const x = this.frames[i] as Frame;
        names[n++] = this.id(x.fn);
        for (const k in x.args) {
          if (n === MAX_NAMES) return 'failed';
          names[n++] = this.id(k);
        }
      }
      for (let i = 0; i < n; i++) if (names[i] < 0) ok = false;
    }
    if (this.forgets !== forgets) return 'forgot';
    return ok ? 'ok' : 'failed';
  }

  /** The string's id, defining it (a STRING record) if it is new; -1 if it cannot have one. */
  private id(s: string): number {
    const known = this.ids.get(s);
    if (known !== undefined) return known;
    if (s.length > MAX_NAME) return -1;
    const r = this.ring;
    if (this.ids.size >= MAX_IDS) {
      if (!this.ensure(8)) return -1;
      r.i32[this.w >> 2] = Tag.FORGET;
      this.advance(8);
      this.ids.clear();
      this.forgets++;
      this.lastInitiatorId = this.lastKindId = this.lastSpaceId = -1;
    }
    const bytes = (12 + 2 * s.length + 7) & ~7;
    if (!this.ensure(bytes)) return -1;
    const id = this.ids.size;
    const q = this.w >> 2;
    r.i32[q] = Tag.STRING;
    r.i32[q + 1] = id;
    r.i32[q + 2] = s.length;
    putUnits(r.u16, 2 * (q + 3), s);
    this.advance(bytes);
    this.ids.set(s, id);
    return id;
  }

  private advance(bytes: number): void {
    this.w += bytes;
    this.unpublished += bytes;
  }

  /** The EVENT record at w; returns its end, or -1 if its strings overflow MAX_RECORD. */
  private putEvent(e: BusEvent, keep: number, depth: number): number {
    const { i32, f64, u16 } = this.ring;
    const q = this.w >> 2;
    const limit = q + (MAX_RECORD >> 2);
    i32[q] = Tag.EVENT;
    i32[q + 1] = e.value;
    const d = q >> 1;
    f64[d + 1] = e.seq;
    f64[d + 2] = e.time;
    f64[d + 3] = e.address;
    f64[d + 4] = e.size;
    i32[q + 10] = this.lastInitiatorId;
    i32[q + 11] = this.lastKindId;
    i32[q + 12] = this.lastSpaceId;
    const detail = e.detail;
    i32[q + 13] = detail.length;
    i32[q + 14] = keep;
    i32[q + 15] = keep === KEEP_ALL ? 0 : depth - keep;
    let p = q + 16;
    if (detail.length > 0) p = (putUnits(u16, 2 * p, detail) + 1) >> 1;
    if (keep !== KEEP_ALL) {
      const names = this.names;
      let n = 0;
      for (let i = keep; i < depth; i++) {
        const x = this.frames[i] as Frame;
        i32[p] = names[n++];
        const count = p + 1;
        p += 2;
        let args = 0;
        const a = x.args;
        for (const k in a) {
          const v = (a as Record<string, unknown>)[k];
          i32[p++] = names[n++];
          args++;
          if (typeof v === 'number') {
            i32[p++] = Arg.NUMBER;
            p = (p + 1) & ~1;
            f64[p >> 1] = v;
            p += 2;
          } else {
            // frameText writes any other value as `${v}`: the same text as a string.
            const s = typeof v === 'string' ? v : `${v as string}`;
            if (p + 2 + (s.length >> 1) + 2 > limit) return -1;
            i32[p++] = Arg.TEXT;
            i32[p++] = s.length;
            p = (putUnits(u16, 2 * p, s) + 1) >> 1;
          }
          if (p + 8 > limit) return -1;
        }
        i32[count] = args;
        if (p + 8 > limit) return -1;
      }
    }
    return ((p + 1) & ~1) << 2;
  }

  /** Room for `bytes` in one piece at w (wrapping to 0 if need be), waiting for the consumer. */
  private ensure(bytes: number): boolean {
    const size = this.ring.size;
    for (;;) {
      const w = this.w;
      const t = this.tail;
      // Records never end at `size` (a WRAP must fit after them) nor reach the tail (w = t is empty).
      if (w >= t) {
        if (size - w >= bytes + 8) return true;
        if (t > bytes) {
          this.ring.i32[w >> 2] = Tag.WRAP;
          this.unpublished += 8;
          this.w = 0;
          return true;
        }
      } else if (t - w > bytes) return true;
      const now = Atomics.load(this.ring.h, H.TAIL);
      if (now !== t) this.tail = now;
      else {
        this.publish();
        if (!this.waitForConsumer()) return false;
        this.tail = Atomics.load(this.ring.h, H.TAIL);
      }
    }
  }
}

/** s's UTF-16 units at u16[at…]; returns the index after them. */
function putUnits(u16: Uint16Array, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) u16[at + i] = s.charCodeAt(i);
  return at + n;
}
