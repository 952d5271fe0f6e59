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

import { frameText, type BusEvent, type Frame } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { hex } from './traceRecorder.ts';
import { eventName, groupOf } from './eventName.ts';

/** The first characters of every export (the file policy recognises its own files by them). */
export const PERFETTO_MAGIC = '[{"name":"mic-emu"';

/** Flow sources remembered for their target (the first target closes a flow; older ones fall off). */
const MAX_OPEN_FLOWS = 4096;

interface Track {
  pid: number;
  tid: number;
  /** The outermost frame of the handler slice open on this thread, null for none. */
  root: Frame | null;
  /** Virtual time of the open handler's first event. */
  start: number;
  /** Virtual time of the thread's last event (where its open handler slice ends). */
  last: number;
}

interface OpenRequest {
  pid: number;
  queue: string;
  key: string;
}

/** ".001" … ".999" with trailing zeros dropped, per remainder of ns (index 0: ""). */
const FRACTION: string[] = [''];
for (let r = 1; r < 1000; r++) FRACTION.push(('.' + String(r).padStart(3, '0')).replace(/0+$/, ''));

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

const quoted = new Map<string, string>();
/** JSON string literal, cached for the strings that repeat (kinds, registers, queues, names). */
function q(s: string): string {
  let r = quoted.get(s);
  if (r === undefined) {
    r = JSON.stringify(s);
    if (quoted.size < 8192) quoted.set(s, r);
  }
  return r;
}

const DMA_INITIATOR = /^(mic\d+)\.dma(\d+)$/;

export interface PerfettoStats {
  events: number;
  flows: number;
  requests: number;
}

export class PerfettoExporter {
  readonly stats: PerfettoStats = { events: 0, flows: 0, requests: 0 };
  /** The spine observer. */
  readonly observer: Observer = (e) => this.event(e);

  private readonly tracks = new Map<string, Track>();
  private readonly pids = new Map<string, number>();
  private nextTid = 1;
  /** Flow sources by seq: the thread they are on. */
  private readonly flowSources = new Map<number, number>();
  private readonly flowInitiators = new Map<number, string>();
  private readonly openRequests = new Map<number, OpenRequest>();
  /** Chains made available and not yet used, per `pid queue`. */
  private readonly occupancy = new Map<string, number>();
  /** Per DMA initiator: bytes in flight and whether its last descriptor was a MEMCPY. */
  private readonly dma = new Map<string, { bytes: number; memcpy: boolean; pid: number; channel: string }>();
  private finished = false;

  /** `out` takes the text (whole lines) in order. */
  constructor(private readonly out: (text: string) => void) {
    out(
      `${PERFETTO_MAGIC},"ph":"M","pid":0,"tid":0,"args":{"format":"Chrome Trace Event JSON","time":"virtual, µs"}},\n`,
    );
  }

  private pidOf(e: BusEvent): { pid: number; pname: string } {
    const pname = groupOf(e.initiator, e.card);
    let pid = this.pids.get(pname);
    if (pid === undefined) {
      pid = pname === 'host' ? 1 : 2 + Number(pname.slice(3));
      if (!Number.isFinite(pid)) pid = 100 + this.pids.size;
      this.pids.set(pname, pid);
      this.out(
        `{"name":"process_name","ph":"M","pid":${pid},"tid":0,"args":{"name":${q(pname)}}},\n` +
          `{"name":"process_sort_index","ph":"M","pid":${pid},"tid":0,"args":{"sort_index":${pid}}},\n`,
      );
    }
    return { pid, pname };
  }

  private track(e: BusEvent): Track {
    const key = e.initiator === 'hw' ? `hw.${e.card}` : e.initiator;
    let t = this.tracks.get(key);
    if (t === undefined) {
      const { pid } = this.pidOf(e);
      t = { pid, tid: this.nextTid++, root: null, start: e.time, last: e.time };
      this.tracks.set(key, t);
      const name = e.initiator === 'hw' ? 'hw (doorbells, interrupts)' : e.initiator;
      this.out(`{"name":"thread_name","ph":"M","pid":${pid},"tid":${t.tid},"args":{"name":${q(name)}}},\n`);
    }
    return t;
  }

  /** Take one event (in seq order). */
  event(e: BusEvent): void {
    if (this.finished) return;
    this.stats.events++;
    const t = this.track(e);
    const ts = usText(e.time);
    let text = '';

    // Handler slice: one per invocation of the outermost frame.
    let root = e.frames;
    while (root && root.parent) root = root.parent;
    if (root !== t.root) {
      if (t.root) text += handlerSlice(t);
      t.root = root;
      t.start = e.time;
    }
    t.last = e.time;

    // The event itself.
    text += `{"ph":"X","pid":${t.pid},"tid":${t.tid},"ts":${ts},"dur":0,"cat":"bus","name":${q(eventName(e))},"args":${eventArgs(e)}},\n`;

    // A flow arrives here from another thread.
    const c = e.cause;
    if (c !== 0) {
      const from = this.flowSources.get(c);
      // Another initiator's work (program order within one initiator is no arrow).
      if (from !== undefined && from !== t.tid && this.flowInitiators.get(c) !== e.initiator) {
        this.flowSources.delete(c);
        this.flowInitiators.delete(c);
        text += `{"ph":"f","bp":"e","id":${c},"pid":${t.pid},"tid":${t.tid},"ts":${ts},"cat":"bus","name":"cause"},\n`;
        this.stats.flows++;
      }
    }
    // A flow may leave from here.
    if (isFlowSource(e)) {
      text += `{"ph":"s","id":${e.seq},"pid":${t.pid},"tid":${t.tid},"ts":${ts},"cat":"bus","name":"cause"},\n`;
      this.flowSources.set(e.seq, t.tid);
      this.flowInitiators.set(e.seq, e.initiator);
      if (this.flowSources.size > MAX_OPEN_FLOWS) {
        const oldest = this.flowSources.keys().next().value as number;
        this.flowSources.delete(oldest);
        this.flowInitiators.delete(oldest);
      }
    }

    // Requests and ring occupancy.
    if (e.kind === 'vring.avail' && e.side === 'card' && e.req !== 0) {
      const key = `${t.pid} ${e.queue}`;
      this.openRequests.set(e.req, { pid: t.pid, queue: e.queue, key });
      this.stats.requests++;
      text += `{"ph":"b","cat":"request","id":${e.req},"pid":${t.pid},"tid":0,"ts":${ts},"name":${q(e.queue)},"args":{"req":${e.req},"head":${e.head},"chainBytes":${e.len},"avail":${e.seq}}},\n`;
      const n = (this.occupancy.get(key) ?? 0) + 1;
      this.occupancy.set(key, n);
      text += `{"ph":"C","pid":${t.pid},"tid":0,"ts":${ts},"name":${q(`${e.queue} occupancy`)},"args":{"chains":${n}}},\n`;
    } else if (e.kind === 'vring.used' && e.side === 'host' && e.req !== 0) {
      const r = this.openRequests.get(e.req);
      if (r) {
        this.openRequests.delete(e.req);
        text += `{"ph":"e","cat":"request","id":${e.req},"pid":${r.pid},"tid":0,"ts":${ts},"name":${q(r.queue)},"args":{"usedLen":${e.len},"used":${e.seq}}},\n`;
        const n = Math.max(0, (this.occupancy.get(r.key) ?? 1) - 1);
        this.occupancy.set(r.key, n);
        text += `{"ph":"C","pid":${r.pid},"tid":0,"ts":${ts},"name":${q(`${r.queue} occupancy`)},"args":{"chains":${n}}},\n`;
      }
    }

    // DMA bytes in flight per channel.
    if (e.channel >= 0 && (e.kind === 'dma.desc' || e.kind === 'mem.write')) {
      const m = DMA_INITIATOR.exec(e.initiator);
      if (m) {
        let d = this.dma.get(e.initiator);
        if (!d) {
          d = { bytes: 0, memcpy: false, pid: t.pid, channel: `dma${m[2]} bytes in flight` };
          this.dma.set(e.initiator, d);
        }
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
        if (changed)
          text += `{"ph":"C","pid":${d.pid},"tid":0,"ts":${ts},"name":${q(d.channel)},"args":{"bytes":${d.bytes}}},\n`;
      }
    }
    this.out(text);
  }

  /** Close the open handler slices and the array. Later events are not written. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    let text = '';
    for (const t of this.tracks.values()) if (t.root) text += handlerSlice(t);
    // The last element has no comma after it: one metadata record closes the array.
    text += `{"name":"mic-emu","ph":"M","pid":0,"tid":0,"args":{"events":${this.stats.events},"flows":${this.stats.flows},"requests":${this.stats.requests}}}\n]\n`;
    this.out(text);
  }
}

/**
 * The handler slice that ends on thread t: complete (ph X), written when it ends, so that B/E
 * pairs of different threads never interleave (DevTools' reader keeps one stack for all threads).
 */
function handlerSlice(t: Track): string {
  const root = t.root!;
  return `{"ph":"X","pid":${t.pid},"tid":${t.tid},"ts":${usText(t.start)},"dur":${usText(t.last - t.start)},"cat":"handler","name":${q(root.fn)},"args":{"frame":${JSON.stringify(frameText(root))}}},\n`;
}

/** Does the event's effect land on another initiator (a flow starts here)? */
function isFlowSource(e: BusEvent): boolean {
  switch (e.kind) {
    case 'doorbell':
    case 'irq':
    case 'input':
      return true;
    case 'mmio.write':
      return e.register.startsWith('DHPR');
    case 'mem.write':
      // A DMA channel's writes: the data and the status the host waits for.
      return e.channel >= 0 && DMA_INITIATOR.test(e.initiator);
    default:
      return false;
  }
}

function hexq(n: number): string {
  return n >= 0 ? `"0x${hex(n)}"` : 'null';
}

/** The event's fields as an args object: the common ones, then the kind's own. */
function eventArgs(e: BusEvent): string {
  let s =
    `{"seq":${e.seq},"cause":${e.cause},"req":${e.req},"space":${q(e.space)},"address":${hexq(e.address)},` +
    `"size":${e.size},"value":${hexq(e.value >>> 0)},"len":${e.len}`;
  if (e.card >= 0) s += `,"card":${e.card}`;
  if (e.db >= 0) s += `,"db":${e.db}`;
  if (e.dir) s += `,"dir":${q(e.dir)}`;
  if (e.channel >= 0) s += `,"channel":${e.channel}`;
  if (e.descType) s += `,"descType":${q(e.descType)},"src":${hexq(e.src)},"dst":${hexq(e.dst)}`;
  if (e.queue) s += `,"device":${q(e.device)},"queue":${q(e.queue)},"head":${e.head}`;
  if (e.vector >= 0) s += `,"vector":${e.vector}`;
  if (e.side) s += `,"side":${q(e.side)}`;
  if (e.state) s += `,"state":${q(e.state)}`;
  if (e.milestone) s += `,"milestone":${q(e.milestone)}`;
  if (e.rule > 0) s += `,"rule":${e.rule}`;
  if (e.register) s += `,"register":${q(e.register)}`;
  if (e.text) s += `,"text":${JSON.stringify(e.text)}`;
  if (e.detail) s += `,"detail":${JSON.stringify(e.detail)}`;
  return s + '}';
}
