// mic/timelineStats: the MIC Timeline's small charts — per virtqueue the request latency
// (histogram, p50, p99, virtual ns) and the ring occupancy over time; per DMA channel the bytes
// its MEMCPY descriptors moved; per card the doorbells and their rate (docs/custom-requests.md).

import type { EventStore } from '../../emulator/timeTravel/eventStore.ts';
import { latency, type VirtioRequest } from '../../emulator/sim/requestTracker.ts';

/** Points of an occupancy series at most (the maximum of each stretch is kept). */
const SERIES_MAX = 200;

export interface QueueStats {
  card: number;
  queue: string;
  lane: string;
  requests: number;
  /** Used so far. */
  completed: number;
  latency: {
    p50: number;
    p99: number;
    min: number;
    max: number;
    /** Power-of-two buckets: `count[i]` requests took [2^lo+i, 2^(lo+i+1)) ns. */
    histogram: { log2From: number; count: number[] };
  } | null;
  /** Chains made available and not yet used: [time, occupancy] at each change (downsampled). */
  occupancy: [number, number][];
  bytes: number;
}

export interface TimelineStats {
  queues: QueueStats[];
  dma: { lane: string; card: number; memcpyBytes: number; descriptors: number }[];
  doorbells: { card: number; count: number; perSecond: number }[];
  /** Stats cover the events held in full (lo … head); requests the whole session. */
  kept: { lo: number; head: number };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function queueStats(store: EventStore, card: number, queue: string, rs: VirtioRequest[]): QueueStats {
  const lat = rs
    .map(latency)
    .filter((x) => x >= 0)
    .sort((a, b) => a - b);
  let histogram = null;
  if (lat.length) {
    const lo = Math.floor(Math.log2(Math.max(1, lat[0])));
    const count: number[] = [];
    for (const x of lat) {
      const i = Math.floor(Math.log2(Math.max(1, x))) - lo;
      while (count.length <= i) count.push(0);
      count[i]++;
    }
    histogram = {
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      min: lat[0],
      max: lat[lat.length - 1],
      histogram: { log2From: lo, count },
    };
  }
  // Occupancy: +1 at avail, −1 at used, in time order.
  const steps: [number, number][] = [];
  for (const r of rs) {
    if (r.availSeq) steps.push([r.availTime, 1]);
    if (r.usedSeq) steps.push([r.usedTime, -1]);
  }
  steps.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const full: [number, number][] = [];
  let n = 0;
  for (const [t, d] of steps) {
    n = Math.max(0, n + d);
    full.push([t, n]);
  }
  let occupancy = full;
  if (full.length > SERIES_MAX) {
    occupancy = [];
    const per = full.length / SERIES_MAX;
    for (let k = 0; k < SERIES_MAX; k++) {
      const part = full.slice(Math.floor(k * per), Math.floor((k + 1) * per));
      let best = part[0];
      for (const p of part) if (p[1] > best[1]) best = p;
      occupancy.push(best);
    }
  }
  return {
    card,
    queue,
    lane: store.queueLane(card, queue).key,
    requests: rs.length,
    completed: rs.filter((r) => r.usedSeq).length,
    latency: histogram,
    occupancy,
    bytes: rs.reduce((a, r) => a + r.chainBytes, 0),
  };
}

export function timelineStats(store: EventStore, card: number | null, queue: string | null): TimelineStats {
  const groups = new Map<string, VirtioRequest[]>();
  for (const r of store.requests.all) {
    if (!r.queue || (card !== null && r.card !== card) || (queue !== null && r.queue !== queue)) continue;
    const k = `${r.card} ${r.queue}`;
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  const queues = [...groups.values()].map((rs) => queueStats(store, rs[0].card, rs[0].queue, rs));

  // DMA bytes and doorbells from the events held in full.
  const dma = new Map<number, { memcpyBytes: number; descriptors: number }>();
  const bells = new Map<number, number>();
  const memcpy = new Set<number>();
  store.names.forEach((n, id) => n === 'dma.desc memcpy' && memcpy.add(id));
  let t0 = Infinity;
  let t1 = 0;
  for (let s = store.lo; s <= store.head; s++) {
    const lane = store.lanes[store.laneOfSeq(s)];
    if (card !== null && lane.card !== card) continue;
    const kind = store.kindOf(s);
    if (kind === 'dma.desc' && lane.kind === 'dma') {
      let d = dma.get(lane.id);
      if (!d) dma.set(lane.id, (d = { memcpyBytes: 0, descriptors: 0 }));
      d.descriptors++;
      if (memcpy.has(store.nameOfSeq(s))) d.memcpyBytes += store.argOfSeq(s);
    } else if (kind === 'doorbell') {
      bells.set(lane.card, (bells.get(lane.card) ?? 0) + 1);
    }
    const t = store.timeOf(s);
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  const span = t1 > t0 ? (t1 - t0) / 1e9 : 0;
  return {
    queues,
    dma: [...dma].map(([id, d]) => ({ lane: store.lanes[id].key, card: store.lanes[id].card, ...d })),
    doorbells: [...bells].map(([c, count]) => ({
      card: c,
      count,
      perSecond: span > 0 ? Math.round(count / span) : 0,
    })),
    kept: { lo: store.lo, head: store.head },
  };
}
