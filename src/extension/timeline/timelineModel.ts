// The MIC Timeline panel's pure logic (no DOM, no vscode; tested with Node): the time scale and
// its zoom and pan, the layout of the lanes, hit-testing on the canvas, the lanes the filters
// leave, the search over what is loaded, the rows of overlapping request bars, axis ticks and
// the messages between the panel (timelinePanel.ts) and its webview (webview/main.ts).
// The wire types are the adapter's (type-only imports: nothing of the adapter is bundled).

import type { LaneInfo, RequestBar, TimelineData } from '../../debugAdapter/timeline/timelineData.ts';
import type { TimelineEvent } from '../../debugAdapter/timeline/timelineEvent.ts';
import type { TimelineStats } from '../../debugAdapter/timeline/timelineStats.ts';

export type { LaneInfo, RequestBar, TimelineData, TimelineEvent, TimelineStats };

/** What the panel reads of mic/timeline's answer (the adapter's TimelinePosition; its runtime needs Node's types). */
export interface TimelinePosition {
  seq: number;
  head: number;
  time: number;
}

export const TIMELINE_REQUESTS = {
  lanes: 'mic/timelineLanes',
  data: 'mic/timelineData',
  event: 'mic/timelineEvent',
  stats: 'mic/timelineStats',
} as const;

// ---- messages ----

export type ToView =
  | { type: 'lanes'; lanes: LaneInfo[]; kinds: string[] }
  | { type: 'data'; id: number; data: TimelineData }
  | { type: 'event'; seq: number; event: TimelineEvent }
  | { type: 'stats'; stats: TimelineStats }
  /** Where the session is; `stopped`: it just stopped (redraw), else a live tick while running. */
  /** `end`: the session's last virtual time (the head's), what zooming out shows. */
  | { type: 'position'; position: TimelinePosition; running: boolean; stopped: boolean; end: number }
  | { type: 'status'; text: string; error?: boolean };

export type FromView =
  | { type: 'ready' }
  | { type: 'data'; id: number; from: number; to: number; width: number; lanes?: string[] }
  | { type: 'event'; seq: number }
  | { type: 'stats' }
  | { type: 'seek'; seq: number };

// ---- the time scale ----

/** The visible window [from, to) in virtual ns over `width` pixels of the plot. */
export interface View {
  from: number;
  to: number;
}

/** The narrowest window (ns): a few ns per pixel is as far as zoom goes. */
export const MIN_SPAN = 20;

export const xOf = (v: View, width: number, t: number): number => ((t - v.from) / (v.to - v.from)) * width;
export const timeAt = (v: View, width: number, x: number): number => v.from + (x / width) * (v.to - v.from);

/** Keeps a window inside [0, end] (end: the session's last time, at least MIN_SPAN) and ≥ MIN_SPAN wide. */
export function clampView(v: View, end: number): View {
  const hi = Math.max(end, MIN_SPAN);
  let span = Math.min(Math.max(v.to - v.from, MIN_SPAN), hi);
  if (!Number.isFinite(span)) span = hi;
  let from = Math.min(Math.max(0, v.from), hi - span);
  if (!Number.isFinite(from)) from = 0;
  return { from, to: from + span };
}

/** Zoom by `factor` (< 1 in, > 1 out) keeping the time under pixel `x` where it is. */
export function zoomAt(v: View, width: number, x: number, factor: number, end: number): View {
  const t = timeAt(v, width, x);
  const span = (v.to - v.from) * factor;
  const frac = width > 0 ? x / width : 0.5;
  return clampView({ from: t - frac * span, to: t - frac * span + span }, end);
}

/** Pan by `dx` pixels (positive: later times come into view). */
export function panBy(v: View, width: number, dx: number, end: number): View {
  const dt = (dx / width) * (v.to - v.from);
  return clampView({ from: v.from + dt, to: v.to + dt }, end);
}

/** The window that shows a request: its bar from avail to done (or used, or `end` while open) and a margin each side. */
export function requestView(r: RequestBar, end: number): View {
  const stop = r.doneTime >= 0 ? r.doneTime : r.usedTime >= 0 ? r.usedTime : end;
  const len = Math.max(stop - r.availTime, MIN_SPAN);
  return clampView({ from: r.availTime - len * 0.25, to: stop + len * 0.25 }, end);
}

/** The window that follows the head live: the same width, ending at `now`. */
export function followView(v: View, now: number): View {
  const span = v.to - v.from;
  return clampView({ from: now - span * 0.95, to: now + span * 0.05 }, Math.max(now + span * 0.05, MIN_SPAN));
}

/** Axis ticks: round times (1, 2, 5 × 10^k ns) about every `px` pixels. */
export function ticks(v: View, width: number, px = 100): number[] {
  const span = v.to - v.from;
  if (!(span > 0) || width <= 0) return [];
  const raw = (span / width) * px;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(v.from / step) * step; t < v.to; t += step) out.push(t);
  return out;
}

/** Virtual time for people, precise enough for the window's scale: `2.350000116 s`, `1.5 µs`. */
export function timeLabel(ns: number, span: number): string {
  const digits = (unit: number) =>
    Math.max(0, Math.min(9, Math.ceil(-Math.log10(Math.max(span, 1) / unit / 100))));
  if (ns >= 1e9 || span >= 1e9) return `${(ns / 1e9).toFixed(digits(1e9))} s`;
  if (ns >= 1e6 || span >= 1e6) return `${(ns / 1e6).toFixed(digits(1e6))} ms`;
  if (ns >= 1e3 || span >= 1e3) return `${(ns / 1e3).toFixed(digits(1e3))} µs`;
  return `${Math.round(ns)} ns`;
}

// ---- lanes and filters ----

/** A lane's device (`block`, `console`, `net`) for back-ends and queues, else null. */
export function deviceOf(l: LaneInfo): string | null {
  const m = /^host\.mic\d+\.(\w+)$/.exec(l.id) ?? /^mic\d+\.vq\.(\w+)\./.exec(l.id);
  return m ? m[1] : null;
}

export interface Filters {
  /** Hidden cards, devices, queue lanes and event kinds (by name); empty: all shown. */
  cards: Set<number>;
  devices: Set<string>;
  queues: Set<string>;
  kinds: Set<string>;
}

export const noFilters = (): Filters => ({
  cards: new Set(),
  devices: new Set(),
  queues: new Set(),
  kinds: new Set(),
});

const ORDER: Record<LaneInfo['kind'], number> = {
  driver: 0,
  backend: 1,
  os: 2,
  dma: 3,
  irq: 4,
  state: 5,
  queue: 6,
  other: 7,
};

/** The lanes shown, in order: the host's (driver, back-ends), then per card OS, DMA, doorbells & interrupts, state, queues. */
export function visibleLanes(lanes: LaneInfo[], f: Filters): LaneInfo[] {
  const group = (l: LaneInfo) => (l.group === 'host' ? -1 : l.card >= 0 ? l.card : 1e6);
  return lanes
    .filter((l) => {
      if (l.card >= 0 && f.cards.has(l.card)) return false;
      const d = deviceOf(l);
      if (d && f.devices.has(d)) return false;
      if (l.kind === 'queue' && f.queues.has(l.id)) return false;
      return true;
    })
    .sort((a, b) => group(a) - group(b) || ORDER[a.kind] - ORDER[b.kind] || a.id.localeCompare(b.id, 'en'));
}

/** Bit mask of the event kinds shown (bit k: kinds[k]). */
export function kindMask(kinds: string[], f: Filters): number {
  let m = 0;
  kinds.forEach((k, i) => {
    if (!f.kinds.has(k)) m |= 1 << i;
  });
  return m;
}

export interface LaneRow {
  lane: LaneInfo;
  y: number;
  h: number;
  /** Queue lanes: rows of bars (overlapping requests stack). */
  rows: number;
}

export const LANE_H = 18;
export const BAR_H = 10;

/** Rows top to bottom from `top`; a queue lane is as tall as its stacked bars need (`rowsOf`). */
export function layoutLanes(
  lanes: LaneInfo[],
  top: number,
  barRows: Map<string, number> = new Map(),
): LaneRow[] {
  let y = top;
  return lanes.map((lane) => {
    const rows = lane.kind === 'queue' ? Math.max(1, Math.min(4, barRows.get(lane.id) ?? 1)) : 1;
    const h = lane.kind === 'queue' ? Math.max(LANE_H, rows * (BAR_H + 2) + 4) : LANE_H;
    const r = { lane, y, h, rows };
    y += h;
    return r;
  });
}

/** The end of a bar: done, else used, else `open` (an open request runs to the head). */
export const barEnd = (r: RequestBar, open: number): number =>
  r.doneTime >= 0 ? r.doneTime : r.usedTime >= 0 ? r.usedTime : open;

/** Stacks overlapping bars of one lane: request id → row (0 …), greedily by start time; rows past `max` share the last. */
export function barRows(bars: RequestBar[], open: number, max = 4): Map<number, number> {
  const out = new Map<number, number>();
  const ends: number[] = [];
  for (const r of [...bars].sort((a, b) => a.availTime - b.availTime || a.id - b.id)) {
    let row = ends.findIndex((e) => e <= r.availTime);
    if (row < 0) row = ends.length < max ? ends.push(0) - 1 : max - 1;
    ends[row] = Math.max(ends[row], barEnd(r, open));
    out.set(r.id, row);
  }
  return out;
}

// ---- hit-testing ----

export type Hit =
  | { type: 'event'; seq: number; lane: string; time: number; name: string }
  | { type: 'bucket'; seq: number; lane: string; time: number; count: number }
  | { type: 'request'; seq: number; lane: string; time: number; request: RequestBar };

/** What is drawn under (x, y) on a plot of `width` px: a request bar, else the nearest event (≤ 4 px), else a bucket. */
export function hitTest(
  data: TimelineData,
  rows: LaneRow[],
  stacks: Map<number, number>,
  width: number,
  x: number,
  y: number,
  shown = -1,
): Hit | null {
  const row = rows.find((r) => y >= r.y && y < r.y + r.h);
  if (!row) return null;
  const v = { from: data.from, to: data.to };
  const id = row.lane.id;
  if (row.lane.kind === 'queue') {
    for (const r of data.requests) {
      if (r.lane !== id) continue;
      const x0 = xOf(v, width, r.availTime);
      const x1 = Math.max(x0 + 3, xOf(v, width, barEnd(r, data.to)));
      const by = row.y + 2 + (stacks.get(r.id) ?? 0) * (BAR_H + 2);
      if (x >= x0 - 2 && x <= x1 + 2 && y >= by - 1 && y <= by + BAR_H + 1)
        return { type: 'request', seq: r.availSeq, lane: id, time: r.availTime, request: r };
    }
    return null;
  }
  const le = data.lanes.find((l) => l.lane === id);
  if (!le) return null;
  if (le.events) {
    let best = -1;
    let dist = 4.5;
    const e = le.events;
    for (let i = 0; i < e.seq.length; i++) {
      if (!((1 << e.kind[i]) & shown)) continue;
      const d = Math.abs(xOf(v, width, e.time[i]) - x);
      if (d < dist) {
        dist = d;
        best = i;
      }
    }
    if (best < 0) return null;
    return {
      type: 'event',
      seq: e.seq[best],
      lane: id,
      time: e.time[best],
      name: data.names[e.name[best]] ?? '',
    };
  }
  if (le.buckets) {
    const b = le.buckets;
    const bucketPx = width / Math.ceil((data.to - data.from) / data.bucketNs);
    for (let i = 0; i < b.i.length; i++) {
      if (!(b.mask[i] & shown)) continue;
      const bx = b.i[i] * bucketPx;
      if (x >= bx - 1 && x < bx + bucketPx + 1)
        return {
          type: 'bucket',
          seq: b.first[i],
          lane: id,
          time: data.from + b.i[i] * data.bucketNs,
          count: b.count[i],
        };
    }
  }
  return null;
}

// ---- keyboard selection ----

/** The things of a lane one can select, in time order: listed events, buckets' first events, request bars. */
export function selectables(data: TimelineData, lane: LaneInfo, shown = -1): Hit[] {
  if (lane.kind === 'queue')
    return data.requests
      .filter((r) => r.lane === lane.id)
      .sort((a, b) => a.availTime - b.availTime)
      .map((r) => ({ type: 'request', seq: r.availSeq, lane: lane.id, time: r.availTime, request: r }));
  const le = data.lanes.find((l) => l.lane === lane.id);
  const out: Hit[] = [];
  if (le?.events)
    le.events.seq.forEach((s, i) => {
      if ((1 << le.events!.kind[i]) & shown)
        out.push({
          type: 'event',
          seq: s,
          lane: lane.id,
          time: le.events!.time[i],
          name: data.names[le.events!.name[i]] ?? '',
        });
    });
  else if (le?.buckets)
    le.buckets.first.forEach((s, i) => {
      if (le.buckets!.mask[i] & shown)
        out.push({
          type: 'bucket',
          seq: s,
          lane: lane.id,
          time: data.from + le.buckets!.i[i] * data.bucketNs,
          count: le.buckets!.count[i],
        });
    });
  return out;
}

/** The next (dir 1) or previous (−1) selectable after `seq` on the list (the first / last one if none). */
export function step(list: Hit[], seq: number | undefined, dir: 1 | -1): Hit | undefined {
  if (list.length === 0) return undefined;
  const i = seq === undefined ? -1 : list.findIndex((h) => h.seq === seq);
  if (i < 0) return dir > 0 ? list[0] : list[list.length - 1];
  return list[Math.max(0, Math.min(list.length - 1, i + dir))];
}

// ---- search (client-side, over the frame loaded) ----

/** The listed events and request bars of the frame whose text matches `q` (case-insensitive words, all must match), in time order. */
export function search(data: TimelineData, q: string): Hit[] {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const ok = (text: string) => {
    const t = text.toLowerCase();
    return words.every((w) => t.includes(w));
  };
  const out: Hit[] = [];
  for (const le of data.lanes) {
    const e = le.events;
    if (!e) continue;
    for (let i = 0; i < e.seq.length; i++) {
      const name = data.names[e.name[i]] ?? '';
      if (ok(`${name} ${le.lane} event ${e.seq[i]} #${e.seq[i]}`))
        out.push({ type: 'event', seq: e.seq[i], lane: le.lane, time: e.time[i], name });
    }
  }
  for (const r of data.requests)
    if (ok(requestText(r)))
      out.push({ type: 'request', seq: r.availSeq, lane: r.lane, time: r.availTime, request: r });
  return out.sort((a, b) => a.time - b.time || a.seq - b.seq);
}

/** A request's fields as one line (the hover card of a bar, and what search reads). */
export function requestText(r: RequestBar): string {
  const lat = r.latency >= 0 ? `latency ${r.latency} ns` : 'open';
  return `request ${r.id} ${r.queue} mic${r.card} ${r.lane}: avail event ${r.availSeq}, used event ${r.usedSeq}, done event ${r.doneSeq}, ${r.bytes} bytes in the chain, used len ${r.usedLen}, ${lat}`;
}

// ---- the causal chain ----

/** The seqs of an event's chain (itself, its causes, its effects): what is highlighted. */
export function chainOf(ev: TimelineEvent): Set<number> {
  return new Set([ev.seq, ...ev.causes.map((c) => c.seq), ...ev.effects.map((c) => c.seq)]);
}

// ---- charts ----

/**
 * The bars of a latency histogram (power-of-two buckets from 2^log2From) on a log-time axis of
 * `width` × `height` px, tallest bar full height; `xOf(ns)` places p50/p99 on the same axis.
 */
export function histogramBars(
  h: { log2From: number; count: number[] },
  width: number,
  height: number,
): { x: number; y: number; w: number; h: number }[] & { xOf: (ns: number) => number } {
  const n = Math.max(1, h.count.length);
  const bw = width / n;
  const max = Math.max(1, ...h.count);
  const bars = h.count.map((c, i) => {
    const bh = c > 0 ? Math.max(2, (c / max) * height) : 0;
    return { x: i * bw + 1, y: height - bh, w: Math.max(1, bw - 2), h: bh };
  });
  const xOfNs = (ns: number) =>
    Math.min(width - 1, Math.max(0, (Math.log2(Math.max(1, ns)) - h.log2From) * bw));
  return Object.assign(bars, { xOf: xOfNs });
}

// ---- throttling ----

/**
 * One request in flight at a time, at most one every `minMs`: `want()` says a new window is
 * wanted; `next(now)` gives the id to send now (or null); `done()` when the answer is in.
 * The last answer stays drawn while the next is on its way.
 */
export class Throttle {
  private inFlight = false;
  private wanted = false;
  private last = -Infinity;
  private id = 0;
  constructor(private readonly minMs: number) {}
  want(): void {
    this.wanted = true;
  }
  /** Milliseconds until a send is allowed (0: now; Infinity: nothing to send or one in flight). */
  wait(now: number): number {
    if (!this.wanted || this.inFlight) return Infinity;
    return Math.max(0, this.last + this.minMs - now);
  }
  next(now: number): number | null {
    if (this.wait(now) !== 0) return null;
    this.wanted = false;
    this.inFlight = true;
    this.last = now;
    return ++this.id;
  }
  done(): void {
    this.inFlight = false;
  }
}
