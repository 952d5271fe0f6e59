// mic/timelineData and mic/timelineLanes: what the MIC Timeline panel draws for a time window,
// summarised by level of detail so that a frame stays small whatever the session's size
// (docs/timeline.md, "Timeline panel: data"; docs/custom-requests.md).
//
// Per lane: the events themselves when the window holds few of them, else buckets (one per
// BUCKET_PX pixels with events: bucket index, count, first seq, kind mask). Then the virtio
// requests overlapping the window (bars on their queue's lane), and, when events are listed, the
// causal links between lanes that touch them.

import { EVENT_KINDS } from '../../emulator/sim/busEvent.ts';
import type { EventStore, Lane } from '../../emulator/timeTravel/eventStore.ts';
import { SMALL, type SummaryLevel } from '../../emulator/timeTravel/blockSummary.ts';
import { requestEnd } from '../../emulator/timeTravel/requestIndex.ts';
import { latency, type VirtioRequest } from '../../emulator/sim/requestTracker.ts';

/** Pixels a bucket covers. */
export const BUCKET_PX = 4;
/** A lane lists its events when it has at most this many per BUCKET_PX-wide bucket on average … */
const LIST_PER_BUCKET = 0.5;
/** … and never more than this many. */
const LIST_MAX = 1000;
/** Requests a frame carries at most: one per 8 px, ≤ 1000 (the rest counted); links at most. */
const REQUESTS_PER_PX = 1 / 8;
const REQUESTS_MAX = 1000;
const LINKS_MAX = 2000;

export interface LaneInfo {
  id: string;
  name: string;
  group: string;
  kind: Lane['kind'];
  card: number;
}

export function laneInfo(l: Lane): LaneInfo {
  return { id: l.key, name: l.name, group: l.group, kind: l.kind, card: l.card };
}

/** mic/timelineLanes: every lane, the virtqueue lanes of the requests seen included. */
export function timelineLanes(store: EventStore): { lanes: LaneInfo[]; kinds: readonly string[] } {
  for (const r of store.requests.all) if (r.queue && r.card >= 0) store.queueLane(r.card, r.queue);
  return { lanes: store.lanes.map(laneInfo), kinds: EVENT_KINDS };
}

export interface TimelineQuery {
  from: number;
  to: number;
  width: number;
  lanes?: string[];
}

export interface LaneEvents {
  lane: string;
  /** Events in the window on this lane (held in full and coarse). */
  count: number;
  /** Listed: parallel arrays. */
  events?: { seq: number[]; time: number[]; kind: number[]; name: number[] };
  /** Summarised: parallel arrays, bucket i covers [from + i·bucketNs, from + (i+1)·bucketNs). */
  buckets?: { i: number[]; count: number[]; first: number[]; mask: number[] };
}

export interface RequestBar {
  id: number;
  queue: string;
  lane: string;
  card: number;
  availTime: number;
  availSeq: number;
  usedTime: number;
  usedSeq: number;
  doneTime: number;
  doneSeq: number;
  bytes: number;
  usedLen: number;
  /** Virtual ns from avail to used; −1 while open. */
  latency: number;
}

export interface Link {
  from: number;
  fromLane: string;
  fromTime: number;
  to: number;
  toLane: string;
  toTime: number;
}

export interface TimelineData {
  from: number;
  to: number;
  width: number;
  bucketNs: number;
  /** The seqs of the window held in full (first..last), and the store's range. */
  firstSeq: number;
  lastSeq: number;
  kept: { lo: number; head: number };
  /** Names by id for the `name` of listed events (only those used). */
  names: Record<number, string>;
  lanes: LaneEvents[];
  requests: RequestBar[];
  requestsOmitted: number;
  links: Link[];
  linksOmitted: number;
}

/** Check and complete the arguments; an error text names what is wrong. */
export function parseTimelineQuery(a: Record<string, unknown>, store: EventStore): TimelineQuery | string {
  const num = (k: string) => (typeof a[k] === 'number' && Number.isFinite(a[k]) ? (a[k] as number) : null);
  const from = a.from === undefined ? 0 : num('from');
  const to = a.to === undefined ? (store.head > 0 ? store.timeOf(store.head) + 1 : 1) : num('to');
  const width = a.width === undefined ? 1000 : num('width');
  if (from === null || from < 0) return 'from: virtual ns (a number ≥ 0)';
  if (to === null || to <= from) return `to: virtual ns after from (${from})`;
  if (width === null || width < 1 || width > 20000) return 'width: the window’s width in pixels (1 … 20000)';
  let lanes: string[] | undefined;
  if (a.lanes !== undefined) {
    if (!Array.isArray(a.lanes) || a.lanes.some((x) => typeof x !== 'string'))
      return 'lanes: an array of lane ids (mic/timelineLanes)';
    const bad = (a.lanes as string[]).filter((x) => store.laneId(x) === undefined);
    if (bad.length)
      return `no lane ${bad.map((x) => JSON.stringify(x)).join(', ')}: the lanes are ${store.lanes.map((l) => l.key).join(', ')}`;
    lanes = a.lanes as string[];
  }
  return { from, to, width: Math.floor(width), lanes };
}

/**
 * The frame for window `q`. `opts.plain`: the straightforward answer (every event read, every
 * request scanned), the reference the tests hold the summarised one to.
 */
export function timelineData(
  store: EventStore,
  q: TimelineQuery,
  opts: { plain?: boolean } = {},
): TimelineData {
  const { from, to, width } = q;
  const nb = Math.max(1, Math.ceil(width / BUCKET_PX));
  const bucketNs = (to - from) / nb;
  const nl = store.lanes.length;
  const wanted = new Uint8Array(nl);
  if (q.lanes) for (const k of q.lanes) wanted[store.laneId(k)!] = 1;
  else wanted.fill(1);
  const listMax = Math.min(LIST_MAX, Math.max(8, Math.floor(nb * LIST_PER_BUCKET)));

  const counts = new Uint32Array(nl * nb);
  const first = new Float64Array(nl * nb);
  const masks = new Uint32Array(nl * nb);
  const total = new Uint32Array(nl);
  const listed: number[][] = Array.from({ length: nl }, () => []);
  const summarised = new Uint8Array(nl);

  // Events that left the ring: their block's counts, at the block's first time.
  for (const c of store.coarse) {
    if (c.t1 < from || c.t0 >= to) continue;
    const b = Math.min(nb - 1, Math.max(0, Math.floor((c.t0 - from) / bucketNs)));
    for (let l = 0; l < c.counts.length; l++) {
      if (!wanted[l] || c.counts[l] === 0) continue;
      const k = l * nb + b;
      if (counts[k] === 0) first[k] = c.fromSeq;
      counts[k] += c.counts[l];
      masks[k] |= c.masks[l];
      total[l] += c.counts[l];
      summarised[l] = 1; // some not held in full: never listed
    }
  }

  const s0 = store.seqAtTime(from);
  const s1 = store.seqAtTime(to) - 1;
  const time = store.time;
  const lane = store.lane;
  const name = store.name;
  const nameKind = store.nameKind;
  const mask = store.lane.length - 1;
  const bucketOf = (t: number) => Math.min(nb - 1, Math.floor((t - from) / bucketNs));
  // Events s … e, all in bucket b, one by one; listed while their lane may still be.
  const events = (s: number, e: number, b: number) => {
    for (let x = s; x <= e; x++) {
      const i = x & mask;
      const l = lane[i];
      if (!wanted[l]) continue;
      const k = l * nb + b;
      if (counts[k] === 0) first[k] = x;
      counts[k]++;
      masks[k] |= 1 << nameKind[name[i]];
      total[l]++;
      const list = listed[l];
      if (list.length <= listMax) list.push(x);
    }
  };
  // Block `slot` of level `lv` (starting at seq s), all in bucket b, from its summary.
  const block = (lv: SummaryLevel, slot: number, s: number, b: number) => {
    const base = slot * lv.maxLanes;
    for (let e = base, n = base + lv.nLanes[slot]; e < n; e++) {
      const l = lv.lane[e];
      if (!wanted[l]) continue;
      const c = lv.count[e];
      const k = l * nb + b;
      if (counts[k] === 0) first[k] = s + lv.first[e];
      counts[k] += c;
      masks[k] |= lv.mask[e];
      total[l] += c;
    }
  };
  // Bucket by bucket (binary search for where each ends), each bucket's seqs as the events up to
  // a 64-event boundary, small blocks up to a 1024-event one, large blocks, small blocks, events
  // (docs/timeline.md, "Level of detail"). `merged`: the blocks summarised (start, level, slot),
  // for the lanes listed. `plain`: every event one by one.
  const sum = opts.plain ? null : store.summaries;
  const levels = sum ? [sum.large, sum.small] : [];
  const merged: number[] = [];
  let a = s0;
  while (a <= s1) {
    const b = bucketOf(time[a & mask]);
    let lo = a + 1;
    let hi = s1 + 1;
    while (lo < hi) {
      const m = Math.floor((lo + hi) / 2);
      if (bucketOf(time[m & mask]) <= b) lo = m + 1;
      else hi = m;
    }
    const e = lo - 1;
    if (!sum) events(a, e, b);
    let s = sum ? a : e + 1;
    while (s <= e) {
      let took = false;
      for (let v = 0; v < 2 && !took; v++) {
        const lv = levels[v];
        if (s % lv.size !== 0 || s + lv.size - 1 > e) continue;
        const slot = sum!.slot(lv, s / lv.size);
        if (slot < 0) continue;
        block(lv, slot, s, b);
        merged.push(s, v, slot);
        s += lv.size;
        took = true;
      }
      if (took) continue;
      const stop = Math.min(e, (Math.floor(s / SMALL) + 1) * SMALL - 1);
      events(s, stop, b);
      s = stop + 1;
    }
    a = e + 1;
  }
  // Lanes with few events in the window are listed: their events in merged blocks too.
  const toList = new Uint8Array(nl);
  let anyToList = false;
  for (let l = 0; l < nl; l++)
    if (wanted[l] && !summarised[l] && total[l] <= listMax && listed[l].length < total[l]) {
      toList[l] = 1;
      anyToList = true;
    }
  if (anyToList) {
    for (let m = 0; m < merged.length; m += 3) {
      const lv = levels[merged[m + 1]];
      const base = merged[m + 2] * lv.maxLanes;
      let hit = false;
      for (let e = base, n = base + lv.nLanes[merged[m + 2]]; e < n && !hit; e++)
        hit = toList[lv.lane[e]] === 1;
      if (!hit) continue;
      for (let x = merged[m], e = x + lv.size; x < e; x++)
        if (toList[lane[x & mask]]) listed[lane[x & mask]].push(x);
    }
    for (let l = 0; l < nl; l++) if (toList[l]) listed[l].sort((a, b) => a - b);
  }

  const names: Record<number, string> = {};
  const shown = new Set<number>();
  const lanes: LaneEvents[] = [];
  for (let l = 0; l < nl; l++) {
    if (!wanted[l] || store.lanes[l].kind === 'queue') continue;
    const out: LaneEvents = { lane: store.lanes[l].key, count: total[l] };
    if (total[l] <= listMax && !summarised[l]) {
      const ev = { seq: [] as number[], time: [] as number[], kind: [] as number[], name: [] as number[] };
      for (const s of listed[l]) {
        const n = store.nameOfSeq(s);
        ev.seq.push(s);
        ev.time.push(store.timeOf(s));
        ev.kind.push(nameKind[n]);
        ev.name.push(n);
        names[n] = store.names[n];
        shown.add(s);
      }
      out.events = ev;
    } else {
      const bk = { i: [] as number[], count: [] as number[], first: [] as number[], mask: [] as number[] };
      for (let b = 0; b < nb; b++) {
        const k = l * nb + b;
        if (counts[k] === 0) continue;
        bk.i.push(b);
        bk.count.push(counts[k]);
        bk.first.push(first[k]);
        bk.mask.push(masks[k]);
      }
      out.buckets = bk;
    }
    lanes.push(out);
  }

  const reqMax = Math.max(16, Math.min(REQUESTS_MAX, Math.floor(width * REQUESTS_PER_PX)));
  const { requests, omitted } = (opts.plain ? requestsScan : requestsIn)(store, from, to, q.lanes, reqMax);
  const { links, linksOmitted } = linksOf(store, shown);
  return {
    from,
    to,
    width,
    bucketNs,
    firstSeq: s0,
    lastSeq: s1,
    kept: { lo: store.lo, head: store.head },
    names,
    lanes,
    requests,
    requestsOmitted: omitted,
    links,
    linksOmitted,
  };
}

export function requestBar(store: EventStore, r: VirtioRequest): RequestBar {
  return {
    id: r.id,
    queue: r.queue,
    lane: store.queueLane(r.card, r.queue).key,
    card: r.card,
    availTime: r.availTime,
    availSeq: r.availSeq,
    usedTime: r.usedTime,
    usedSeq: r.usedSeq,
    doneTime: r.doneTime,
    doneSeq: r.doneSeq,
    bytes: r.chainBytes,
    usedLen: r.usedLen,
    latency: latency(r),
  };
}

/**
 * Requests made available before `to` and not used before `from` (open ones included), through
 * the store's request index: the window's own by binary search per queue lane, those still going
 * from before it block by block (requestIndex.ts). The same answer as requestsScan.
 */
function requestsIn(
  store: EventStore,
  from: number,
  to: number,
  lanes: string[] | undefined,
  max: number,
): { requests: RequestBar[]; omitted: number } {
  const idx = store.requestIndex;
  if (!idx.ok) return requestsScan(store, from, to, lanes, max);
  const all = store.requests.all;
  const inside: number[] = [];
  const spanning: number[] = [];
  let total = 0;
  for (const key of lanes ? new Set(lanes) : idx.lanes.keys()) {
    const l = idx.lanes.get(key);
    if (!l) continue;
    const w = idx.window(all, l, from, to);
    total += w.before.length + w.k - w.j;
    for (const p of w.before) (requestEnd(all[p]) < to ? inside : spanning).push(p);
    for (let x = w.j; x < Math.min(w.k, w.j + max); x++) inside.push(l.pos[x]);
  }
  const byPos = (a: number, b: number) => a - b;
  const chosen = inside.sort(byPos).slice(0, max);
  if (chosen.length < max) chosen.push(...spanning.sort(byPos).slice(0, max - chosen.length));
  return { requests: chosen.map((p) => requestBar(store, all[p])), omitted: total - chosen.length };
}

/** The same, reading every request of the session (the reference; and if the index cannot serve). */
function requestsScan(
  store: EventStore,
  from: number,
  to: number,
  lanes: string[] | undefined,
  max: number,
): { requests: RequestBar[]; omitted: number } {
  const want = lanes ? new Set(lanes) : null;
  // Those that begin or end in the window first; then those that span it (buffers posted long
  // ago and still open, such as a receive queue's, would otherwise crowd out the window's own).
  const inside: VirtioRequest[] = [];
  const spanning: VirtioRequest[] = [];
  for (const r of store.requests.all) {
    if (!r.availSeq || r.availTime >= to) continue;
    const end = requestEnd(r);
    if (end < from) continue;
    if (want && !want.has(store.queueLane(r.card, r.queue).key)) continue;
    (r.availTime >= from || end < to ? inside : spanning).push(r);
  }
  const all = inside.concat(spanning);
  const out = all.slice(0, max).map((r) => requestBar(store, r));
  return { requests: out, omitted: all.length - out.length };
}

/** Causal links between lanes that end at a listed event (its cause → it; the cause may be off screen). */
function linksOf(store: EventStore, shown: Set<number>): { links: Link[]; linksOmitted: number } {
  const links: Link[] = [];
  let linksOmitted = 0;
  const key = (s: number) => store.lanes[store.laneOfSeq(s)].key;
  const add = (c: number, s: number) => {
    if (links.length >= LINKS_MAX) return void linksOmitted++;
    links.push({
      from: c,
      fromLane: key(c),
      fromTime: store.timeOf(c),
      to: s,
      toLane: key(s),
      toTime: store.timeOf(s),
    });
  };
  for (const s of shown) {
    const c = store.causeOf(s);
    if (c === 0 || !store.has(c) || store.laneOfSeq(c) === store.laneOfSeq(s)) continue;
    add(c, s);
  }
  return { links, linksOmitted };
}
