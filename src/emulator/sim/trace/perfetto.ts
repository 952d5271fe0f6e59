// The session as a Chrome Trace Event JSON file, the format ui.perfetto.dev and chrome://tracing
// open (docs/timeline.md, "Perfetto"). An observer like any other: feed it the events of a live
// run (spine.observe) or of a replay, in seq order; it writes as it goes and keeps only what is
// open (requests in flight, the handler each initiator is in, recent flow sources), never the
// session.
//
// What becomes what:
// - process = `host` or `micN` (an initiator `host.*` is the host's, `micN.*` and the link's
//   `hw` go to their card); thread = initiator; names by ph M metadata.
// - every bus event: a zero-length complete slice (ph X, dur 0) on its initiator's thread, with
//   its fields as args. Zero-length slices rather than instants (ph i) because flows bind to slices.
// - software handlers: a complete slice (ph X, written when it ends) per run of an initiator's events under one outermost
//   frame (one invocation of `mic_interrupt`, `mpssd.virtio_block`, `virtcons_intr` …).
// - virtio requests: an async slice (ph b/e, id = the request) from the card's avail to the
//   host's used, named by the queue, so every queue gets its own track in the card's process.
// - causal links that cross threads: a flow (ph s after its source, ph f with bp e after its
//   target). Sources are the events whose effect lands on another initiator: a doorbell, an
//   interrupt, a DHPR write, a DMA channel's write (the status the host polls for), an input.
// - counters (ph C) per card: ring occupancy per queue (chains made available, not yet used)
//   and DMA bytes in flight per channel (a MEMCPY's length from its descriptor to its write).
// - ts: virtual time in µs with three decimals (ns precision).
//
// The array's closing `]` is written by finish(); the format allows it to be missing, so a file
// cut short by a crash still opens.
//
// Speed (the bench row perfetto-export): the lines are encoded straight into a byte buffer
// (perfettoBytes.ts), not built as strings — a string per event and the UTF-8 pass over them
// cost more than the rest of the export. What repeats is encoded once: a thread's line heads,
// the slice names per (kind, register/space/descriptor type), the field names with their
// string values. The bytes are those the template strings of the first version gave.

import type { BusEvent, Frame } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { eventName, groupOf } from './eventName.ts';
import { ByteOut } from './perfettoBytes.ts';
import { Encodings, FnBytes, PairEncodings, piece, plain, type Piece } from './traceBytes.ts';

/** The first characters of every export (the file policy recognises its own files by them). */
export const PERFETTO_MAGIC = '[{"name":"mic-emu"';

/** Flow sources remembered for their target (the first target closes a flow; older ones fall off). */
const MAX_OPEN_FLOWS = 4096;

/** Bytes gathered before they go to the sink. */
const CHUNK = 1 << 20;

interface Track {
  pid: number;
  tid: number;
  /** The initiator (`hw` for every card's link). */
  initiator: string;
  /** The outermost frame of the handler slice open on this thread, null for none. */
  root: Frame | null;
  /** The frames of the thread's last event (whose outermost is root). */
  frames: Frame | null;
  /** Virtual time of the open handler's first event. */
  start: number;
  /** Virtual time of the thread's last event (where its open handler slice ends). */
  last: number;
  /** `{"ph":"X","pid":P,"tid":T,"ts":` */
  x: Piece;
  /** `,"pid":P,"tid":T,"ts":` */
  at: Piece;
  /** A DMA channel's thread (`micN.dmaK`): its bytes in flight, else null. */
  dma: Dma | null;
}

interface Dma {
  bytes: number;
  memcpy: boolean;
  /** `{"ph":"C","pid":P,"tid":0,"ts":` */
  c: Piece;
  /** `,"name":"dmaK bytes in flight","args":{"bytes":` */
  name: Piece;
}

interface OpenRequest {
  pid: number;
  queue: string;
  key: string;
}

/** ".001" … ".999" with trailing zeros dropped, per remainder of ns (index 0: ""). */
const FRACTION: string[] = [''];
for (let r = 1; r < 1000; r++) FRACTION.push(('.' + String(r).padStart(3, '0')).replace(/0+$/, ''));
const FRACTION_BYTES: Piece[] = FRACTION.map(piece);

// Consecutive events mostly share their time: the last one's text is kept at hand.
let lastNs = -1;
let lastText = '0';

/** Virtual ns → µs with three decimals (trailing zeros dropped), as text. */
export function usText(ns: number): string {
  if (ns === lastNs) return lastText;
  const n = Math.round(ns);
  const us = Math.floor(n / 1000);
  const text = String(us) + FRACTION[n - us * 1000];
  lastNs = ns;
  lastText = text;
  return text;
}

/** usText(ns) into o. */
function putUs(o: ByteOut, ns: number): void {
  if (ns >= 0 && ns <= Number.MAX_SAFE_INTEGER) {
    const n = Math.round(ns);
    const us = Math.floor(n / 1000);
    o.num(us);
    o.piece(FRACTION_BYTES[n - us * 1000]);
  } else o.str(usText(ns));
}

const quoted = new Map<string, string>();
/** JSON string literal, cached for the strings that repeat (queues, names). */
function q(s: string): string {
  let r = quoted.get(s);
  if (r === undefined) {
    r = JSON.stringify(s);
    if (quoted.size < 8192) quoted.set(s, r);
  }
  return r;
}

const DMA_INITIATOR = /^(mic\d+)\.dma(\d+)$/;

// The pieces of a bus event's line:
// {"ph":"X","pid":P,"tid":T,"ts":TS,"dur":0,"cat":"bus","name":NAME,"args":{"seq":N,"cause":N,
// "req":N,"space":S,"address":A,"size":N,"value":V,"len":N[, the kind's own]}},\n
const CAUSE = piece(',"cause":');
const REQ = piece(',"req":');
const SIZE = piece(',"size":');
const VALUE = piece(',"value":"0x');
const LEN = piece('","len":');
const CARD = piece(',"card":');
const DB = piece(',"db":');
const CHANNEL = piece(',"channel":');
const SRC = piece(',"src":');
const DST = piece(',"dst":');
const VECTOR = piece(',"vector":');
const RULE = piece(',"rule":');
const TEXT = piece(',"text":');
const DETAIL = piece(',"detail":');
const LINE_END = piece('}},\n');
// {"ph":"f","bp":"e","id":N,"pid":P,"tid":T,"ts":TS,"cat":"bus","name":"cause"},\n and ph s.
const FLOW_IN = piece('{"ph":"f","bp":"e","id":');
const FLOW_OUT = piece('{"ph":"s","id":');
const FLOW_END = piece(',"cat":"bus","name":"cause"},\n');

/** `,"key":"value"` (or what else `tail` adds) per value. */
const field = (key: string, tail = '') => new Encodings((s) => `,${JSON.stringify(key)}:${q(s)}${tail}`);

export interface PerfettoStats {
  events: number;
  flows: number;
  requests: number;
}

export class PerfettoExporter {
  readonly stats: PerfettoStats = { events: 0, flows: 0, requests: 0 };
  /** The spine observer. */
  readonly observer: Observer = (e) => this.event(e);

  private readonly o: ByteOut;
  private readonly tracks = new Map<string, Track>();
  private lastInitiator = '';
  private lastCard = -2;
  private lastTrack: Track | null = null;
  private readonly pids = new Map<string, number>();
  private nextTid = 1;
  /** Flow sources by seq: the thread they are on. */
  private readonly flowSources = new Map<number, Track>();
  private readonly openRequests = new Map<number, OpenRequest>();
  /** Chains made available and not yet used, per `pid queue`. */
  private readonly occupancy = new Map<string, number>();
  private finished = false;
  /** Handler names' bytes with their arguments', per name. */
  private readonly fns = new Map<string, FnBytes>();

  // `,"dur":0,"cat":"bus","name":NAME,"args":{"seq":` per name: by (kind, the field that names
  // it) for the kinds most events are, by the name for the others.
  private readonly kindNames = new Map<string, Map<string, Piece>>();
  private lastKind = '';
  private lastSub = '';
  private lastName: Piece = piece('');
  private readonly otherNames = new Encodings((name) => this.namePiece(name));
  private readonly spaces = new Encodings((s) => `,"space":${q(s)},"address":`);
  private readonly dirs = field('dir');
  private readonly descTypes = field('descType');
  private readonly queues = new PairEncodings(
    (device, queue) => `,"device":${q(device)},"queue":${q(queue)},"head":`,
  );
  private readonly sides = field('side');
  private readonly states = field('state');
  private readonly milestones = field('milestone');
  private readonly registers = field('register');
  /** `{"ph":"X","pid":P,"tid":T,"ts":` of the handler slices … `,"dur":` */
  private readonly handlerNames = new Encodings((fn) => `,"cat":"handler","name":${q(fn)},"args":{"frame":`);

  /**
   * `out` takes the bytes (whole lines, UTF-8) in order, in chunks of about 1 MiB (and at
   * flush() and finish()); the buffer is reused after the call, so it must take them then.
   */
  constructor(out: (bytes: Uint8Array) => void) {
    this.o = new ByteOut(CHUNK, out);
    this.o.str(
      `${PERFETTO_MAGIC},"ph":"M","pid":0,"tid":0,"args":{"format":"Chrome Trace Event JSON","time":"virtual, µs"}},\n`,
    );
  }

  private namePiece(name: string): string {
    return `,"dur":0,"cat":"bus","name":${q(name)},"args":{"seq":`;
  }

  private pidOf(e: BusEvent): number {
    const pname = groupOf(e.initiator, e.card);
    let pid = this.pids.get(pname);
    if (pid === undefined) {
      pid = pname === 'host' ? 1 : 2 + Number(pname.slice(3));
      if (!Number.isFinite(pid)) pid = 100 + this.pids.size;
      this.pids.set(pname, pid);
      this.o.str(
        `{"name":"process_name","ph":"M","pid":${pid},"tid":0,"args":{"name":${q(pname)}}},\n` +
          `{"name":"process_sort_index","ph":"M","pid":${pid},"tid":0,"args":{"sort_index":${pid}}},\n`,
      );
    }
    return pid;
  }

  private track(e: BusEvent): Track {
    if (e.initiator === this.lastInitiator && e.card === this.lastCard) return this.lastTrack!;
    const key = e.initiator === 'hw' ? `hw.${e.card}` : e.initiator;
    let t = this.tracks.get(key);
    if (t === undefined) {
      const pid = this.pidOf(e);
      const tid = this.nextTid++;
      const m = DMA_INITIATOR.exec(e.initiator);
      t = {
        pid,
        tid,
        initiator: e.initiator,
        root: null,
        frames: null,
        start: e.time,
        last: e.time,
        x: piece(`{"ph":"X","pid":${pid},"tid":${tid},"ts":`),
        at: piece(`,"pid":${pid},"tid":${tid},"ts":`),
        dma: m
          ? {
              bytes: 0,
              memcpy: false,
              c: piece(`{"ph":"C","pid":${pid},"tid":0,"ts":`),
              name: piece(`,"name":${q(`dma${m[2]} bytes in flight`)},"args":{"bytes":`),
            }
          : null,
      };
      this.tracks.set(key, t);
      const name = e.initiator === 'hw' ? 'hw (doorbells, interrupts)' : e.initiator;
      this.o.str(`{"name":"thread_name","ph":"M","pid":${pid},"tid":${tid},"args":{"name":${q(name)}}},\n`);
    }
    this.lastInitiator = e.initiator;
    this.lastCard = e.card;
    this.lastTrack = t;
    return t;
  }

  /** `,"dur":0,"cat":"bus","name":NAME,"args":{"seq":` for e. */
  private name(e: BusEvent): Piece {
    // The field that, with the kind, makes the name (eventName), for the kinds most events are.
    let sub: string;
    switch (e.kind) {
      case 'mem.read':
      case 'mem.write':
        sub = e.space;
        break;
      case 'mmio.read':
      case 'mmio.write':
        sub = e.register;
        break;
      case 'dma.desc':
        sub = e.descType;
        break;
      default:
        return this.otherNames.get(eventName(e));
    }
    if (e.kind === this.lastKind && sub === this.lastSub) return this.lastName;
    let m = this.kindNames.get(e.kind);
    if (m === undefined) {
      m = new Map();
      this.kindNames.set(e.kind, m);
    }
    let w = m.get(sub);
    if (w === undefined) {
      w = piece(this.namePiece(eventName(e)));
      if (m.size < 4096) m.set(sub, w);
    }
    this.lastKind = e.kind;
    this.lastSub = sub;
    this.lastName = w;
    return w;
  }

  /** Take one event (in seq order). */
  event(e: BusEvent): void {
    if (this.finished) return;
    this.stats.events++;
    const o = this.o;
    o.lineStart();
    const t = this.track(e);
    const time = e.time;

    // Handler slice: one per invocation of the outermost frame.
    let root = e.frames;
    if (root === t.frames) root = t.root;
    else {
      t.frames = root;
      while (root && root.parent) root = root.parent;
    }
    if (root !== t.root) {
      if (t.root) this.handlerSlice(t);
      t.root = root;
      t.start = time;
    }
    t.last = time;

    // The event itself.
    o.piece(t.x);
    putUs(o, time);
    o.piece(this.name(e));
    o.num(e.seq);
    o.piece(CAUSE);
    o.num(e.cause);
    o.piece(REQ);
    o.num(e.req);
    o.piece(this.spaces.get(e.space));
    o.hexq(e.address);
    o.piece(SIZE);
    o.num(e.size);
    o.piece(VALUE);
    o.hex(e.value >>> 0);
    o.piece(LEN);
    o.num(e.len);
    this.eventArgs(e);
    o.piece(LINE_END);

    // A flow arrives here from another thread.
    const c = e.cause;
    if (c !== 0) {
      const from = this.flowSources.get(c);
      // Another initiator's work (program order within one initiator is no arrow).
      if (from !== undefined && from !== t && from.initiator !== e.initiator) {
        this.flowSources.delete(c);
        o.piece(FLOW_IN);
        o.num(c);
        o.piece(t.at);
        putUs(o, time);
        o.piece(FLOW_END);
        this.stats.flows++;
      }
    }
    // A flow may leave from here.
    if (isFlowSource(e, t)) {
      o.piece(FLOW_OUT);
      o.num(e.seq);
      o.piece(t.at);
      putUs(o, time);
      o.piece(FLOW_END);
      this.flowSources.set(e.seq, t);
      if (this.flowSources.size > MAX_OPEN_FLOWS)
        this.flowSources.delete(this.flowSources.keys().next().value as number);
    }

    // Requests and ring occupancy.
    if (e.kind === 'vring.avail' && e.side === 'card' && e.req !== 0) {
      const ts = usText(time);
      const key = `${t.pid} ${e.queue}`;
      this.openRequests.set(e.req, { pid: t.pid, queue: e.queue, key });
      this.stats.requests++;
      const n = (this.occupancy.get(key) ?? 0) + 1;
      this.occupancy.set(key, n);
      o.str(
        `{"ph":"b","cat":"request","id":${e.req},"pid":${t.pid},"tid":0,"ts":${ts},"name":${q(e.queue)},"args":{"req":${e.req},"head":${e.head},"chainBytes":${e.len},"avail":${e.seq}}},\n` +
          `{"ph":"C","pid":${t.pid},"tid":0,"ts":${ts},"name":${q(`${e.queue} occupancy`)},"args":{"chains":${n}}},\n`,
      );
    } else if (e.kind === 'vring.used' && e.side === 'host' && e.req !== 0) {
      const r = this.openRequests.get(e.req);
      if (r) {
        const ts = usText(time);
        this.openRequests.delete(e.req);
        const n = Math.max(0, (this.occupancy.get(r.key) ?? 1) - 1);
        this.occupancy.set(r.key, n);
        o.str(
          `{"ph":"e","cat":"request","id":${e.req},"pid":${r.pid},"tid":0,"ts":${ts},"name":${q(r.queue)},"args":{"usedLen":${e.len},"used":${e.seq}}},\n` +
            `{"ph":"C","pid":${r.pid},"tid":0,"ts":${ts},"name":${q(`${r.queue} occupancy`)},"args":{"chains":${n}}},\n`,
        );
      }
    }

    // DMA bytes in flight per channel.
    const d = t.dma;
    if (d !== null && e.channel >= 0 && (e.kind === 'dma.desc' || e.kind === 'mem.write')) {
      let changed = false;
      if (e.kind === 'dma.desc') {
        d.memcpy = e.descType === 'memcpy';
        if (d.memcpy && e.len > 0) {
          d.bytes += e.len;
          changed = true;
        }
      } else if (d.memcpy && d.bytes > 0) {
        d.bytes -= Math.min(d.bytes, e.len);
        changed = true;
      }
      if (changed) {
        o.piece(d.c);
        putUs(o, time);
        o.piece(d.name);
        o.num(d.bytes);
        o.piece(LINE_END);
      }
    }
  }

  /** The event's own fields after the common ones (args), in a fixed order. */
  private eventArgs(e: BusEvent): void {
    const o = this.o;
    if (e.card >= 0) {
      o.piece(CARD);
      o.num(e.card);
    }
    if (e.db >= 0) {
      o.piece(DB);
      o.num(e.db);
    }
    if (e.dir) o.piece(this.dirs.get(e.dir));
    if (e.channel >= 0) {
      o.piece(CHANNEL);
      o.num(e.channel);
    }
    if (e.descType) {
      o.piece(this.descTypes.get(e.descType));
      o.piece(SRC);
      o.hexq(e.src);
      o.piece(DST);
      o.hexq(e.dst);
    }
    if (e.queue) {
      o.piece(this.queues.get(e.device, e.queue));
      o.num(e.head);
    }
    if (e.vector >= 0) {
      o.piece(VECTOR);
      o.num(e.vector);
    }
    if (e.side) o.piece(this.sides.get(e.side));
    if (e.state) o.piece(this.states.get(e.state));
    if (e.milestone) o.piece(this.milestones.get(e.milestone));
    if (e.rule > 0) {
      o.piece(RULE);
      o.num(e.rule);
    }
    if (e.register) o.piece(this.registers.get(e.register));
    if (e.text) {
      o.piece(TEXT);
      o.json(e.text);
    }
    if (e.detail) {
      o.piece(DETAIL);
      o.json(e.detail);
    }
  }

  /**
   * The handler slice that ends on thread t: complete (ph X), written when it ends, so that B/E
   * pairs of different threads never interleave (DevTools' reader keeps one stack for all threads).
   */
  private handlerSlice(t: Track): void {
    const o = this.o;
    const root = t.root!;
    o.piece(t.x);
    putUs(o, t.start);
    o.piece(DUR);
    putUs(o, t.last - t.start);
    o.piece(this.handlerNames.get(root.fn));
    this.frameText(root);
    o.piece(LINE_END);
  }

  /** JSON.stringify(frameText(f)), from the name's and the argument names' bytes. */
  private frameText(f: Frame): void {
    const o = this.o;
    let fb = this.fns.get(f.fn);
    if (fb === undefined) {
      fb = new FnBytes(f.fn);
      if (this.fns.size < 4096) this.fns.set(f.fn, fb);
    }
    o.piece(fb.name);
    const a = f.args;
    if (a) {
      const keys = Object.keys(a);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const v = a[k];
        if (typeof v === 'number') {
          o.piece(fb.arg(i, k, true));
          if (plain(v)) o.hex(v);
          else o.str(v.toString(16));
        } else {
          o.piece(fb.arg(i, k, false));
          o.inside(`${v}`);
        }
      }
      if (keys.length > 0) o.byte(0x29); // )
    }
    o.byte(0x22); // "
  }

  /** Write what is gathered to the sink (whole lines). */
  flush(): void {
    this.o.emit();
  }

  /** Close the open handler slices and the array, and flush. Later events are not written. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.tracks.values()) if (t.root) this.handlerSlice(t);
    // The last element has no comma after it: one metadata record closes the array.
    this.o.str(
      `{"name":"mic-emu","ph":"M","pid":0,"tid":0,"args":{"events":${this.stats.events},"flows":${this.stats.flows},"requests":${this.stats.requests}}}\n]\n`,
    );
    this.o.emit();
  }
}

const DUR = piece(',"dur":');

/** Does the event's effect land on another initiator (a flow starts here)? */
function isFlowSource(e: BusEvent, t: Track): boolean {
  switch (e.kind) {
    case 'doorbell':
    case 'irq':
    case 'input':
      return true;
    case 'mmio.write':
      return e.register.startsWith('DHPR');
    case 'mem.write':
      // A DMA channel's writes: the data and the status the host waits for.
      return e.channel >= 0 && t.dma !== null;
    default:
      return false;
  }
}
