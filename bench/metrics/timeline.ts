// The MIC Timeline's data side (docs/timeline.md, "Timeline panel: data"):
// - timeline-store: bytes the event store holds per event, for 1 M real block-read events
//   (recorded once, fed again with seq and time moved on, as perfetto-export does);
// - timeline-overhead: blk-read-64k on the debug adapter's DebugRuntime with the store recording
//   against the same runtime with the store off (issue 16's target for time travel: ≤ 1.10);
// - timeline-frame: what mic/timelineData answers for that 1 M-event session at several zoom
//   levels — JSON bytes (≤ 200 KB a frame) and the adapter's time to build it (the panel's
//   ≤ 16 ms frame budget; adapter side only, not the drawing), wall and CPU time (a shared
//   machine), the first frame (it builds the block summaries) and the per-event answer beside;
//   the same for a 10 M-event session (the last 4 Mi events in full, the rest coarse).

import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { LAUNCH_DEFAULTS } from '../../src/debugAdapter/launchConfig.ts';
import { blockDevice } from '../../src/emulator/cardSoftware/virtioBlock.ts';
import { EventStore } from '../../src/emulator/timeTravel/eventStore.ts';
import { timelineData } from '../../src/debugAdapter/timeline/timelineData.ts';
import { interleave, median } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { diskMachine, type DiskMachine } from '../lib/machine.ts';
import { cardReadMs, sharedImage, warmUpReads, type BlkOptions } from './blk.ts';

const EVENTS = 1_000_000;

function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** Real block-read events, recorded once. */
export function sample(): BusEvent[] {
  const { image } = sharedImage();
  const d = diskMachine(image);
  warmUpReads(d);
  const out: BusEvent[] = [];
  const off = d.m.spine.observe((e) => void out.push(cloneEvent(e)));
  for (let rep = 0; out.length < 20_000; rep++) cardReadMs(d, rep);
  off();
  d.m.dispose();
  return out;
}

/** A store with `events` events: the sample again and again, seq, cause, req and time moved on. */
export function millionStore(s: BusEvent[], EVENTS: number): EventStore {
  const store = new EventStore();
  const span = s[s.length - 1].time - s[0].time + 1000;
  const first = s[0].seq;
  const seqSpan = s[s.length - 1].seq - first + 1;
  const e = cloneEvent(s[0]);
  for (let i = 0, round = 0; i < EVENTS; round++)
    for (let k = 0; k < s.length && i < EVENTS; k++, i++) {
      Object.assign(e, s[k]);
      e.seq = i + 1;
      const shift = round * seqSpan - first + 1;
      e.cause = s[k].cause >= first ? s[k].cause + shift : 0;
      e.req = s[k].req && s[k].req + round * 1_000_000;
      e.time = s[k].time - s[0].time + round * span;
      store.add(e);
    }
  return store;
}

export function timelineMetrics(opts: BlkOptions): MetricResult[] {
  const s = sample();
  global.gc?.();
  const before = held();
  const t0 = performance.now();
  const store = millionStore(s, EVENTS);
  const feedMs = performance.now() - t0;
  global.gc?.();
  // The columns per event held (the ring is a power of two: 1 M events sit in 2^20 slots), and,
  // for the reader, the heap growth measured around the feed (requests, garbage not yet collected).
  const perEvent = store.bytes / store.size;
  const heapPerEvent = (held() - before) / EVENTS;
  const rows: MetricResult[] = [
    {
      metric: 'timeline-store',
      what: 'the event store: memory per event held (1 M real block-read events)',
      value: perEvent,
      unit: 'B/event',
      baseline: null,
      ratio: null,
      target: '≤ 24 B/event (columns; + ~3 B/event of requests)',
      pass: perEvent <= 25.2,
      notes: {
        events: EVENTS,
        'heap growth B/event (incl. requests, uncollected)': Math.round(heapPerEvent),
        requests: store.requests.all.length,
        'ns/event to copy the sample and add': Math.round((feedMs * 1e6) / EVENTS),
      },
    },
  ];

  rows.push(...frameRows(store, '', EVENTS));
  // 10 M events: the store keeps the last 4 Mi in full (its default cap), the rest as coarse blocks.
  const ten = millionStore(s, 10 * EVENTS);
  rows.push(...frameRows(ten, '10M ', 10 * EVENTS, 0.8)); // windows at 80 %: in the part held in full
  rows.push(recordingOverhead(opts));
  return rows;
}

/** CPU ms (user + system) of this process since `c` (the machine is shared: wall time alone misleads). */
function cpuMs(c: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

/**
 * mic/timelineData at several zooms: the summarised frame (the median of 10 after 5, blocks
 * summarised by then), the first frame (it builds the summaries it reads), and the straightforward
 * per-event answer for comparison.
 */
function frameRows(store: EventStore, prefix: string, events: number, at = 0.45): MetricResult[] {
  const rows: MetricResult[] = [];
  const end = store.timeOf(store.head) + 1;
  const width = 1600;
  const frame = (q: { from: number; to: number; width: number }, plain: boolean) => {
    const c = process.cpuUsage();
    const t = performance.now();
    const d = timelineData(store, q, { plain });
    const json = JSON.stringify(d);
    return { ms: performance.now() - t, cpu: cpuMs(c), bytes: json.length, d };
  };
  for (const [label, frac] of [
    ['all', 1],
    ['1/10', 0.1],
    ['1/1000', 0.001],
    ['1/100000', 0.00001],
  ] as const) {
    const from = end * at;
    const q = { from: label === 'all' ? 0 : from, to: label === 'all' ? end : from + end * frac, width };
    const built = store.summaries.built;
    const cold = frame(q, false);
    const buildBlocks = store.summaries.built - built;
    const times: number[] = [];
    const cpus: number[] = [];
    let last = cold;
    for (let r = 0; r < 15; r++) {
      last = frame(q, false);
      times.push(last.ms);
      cpus.push(last.cpu);
    }
    const plain: number[] = [];
    for (let r = 0; r < 3; r++) plain.push(frame(q, true).ms);
    const ms = median(times.slice(5));
    const cpu = median(cpus.slice(5));
    const bytes = last.bytes;
    rows.push({
      metric: `timeline-frame ${prefix}${label}`,
      what: `mic/timelineData on a ${events / 1e6} M-event session, window ${label} of it, ${width} px: bytes and adapter time (query + JSON)`,
      value: ms,
      unit: 'ms',
      baseline: null,
      ratio: null,
      target: '≤ 16 ms (adapter side) and ≤ 200 KB',
      pass: ms <= 16 && bytes <= 200_000,
      notes: {
        'CPU ms (user+sys, median)': +cpu.toFixed(2),
        'frame KB': Math.round(bytes / 1000),
        'events in window (held in full)': store.seqAtTime(q.to) - store.seqAtTime(q.from),
        'held in full / coarse blocks': `${store.size} / ${store.coarse.length}`,
        'lanes listing events': last.d.lanes.filter((l) => l.events).length,
        requests: `${last.d.requests.length} + ${last.d.requestsOmitted} omitted`,
        'first frame ms (builds summaries)': +cold.ms.toFixed(2),
        'blocks summarised by the first frame': buildBlocks,
        'per-event answer ms (median of 3)': +median(plain).toFixed(2),
      },
    });
  }
  return rows;
}

function runtimeMachine(image: string, store: boolean): { rt: DebugRuntime; d: DiskMachine } {
  const rt = new DebugRuntime({ ...LAUNCH_DEFAULTS, disk: image });
  rt.start();
  if (store) rt.timeline.keepEvents();
  if (!store) (rt.timeline as unknown as { events: EventStore | null }).events = null;
  const m = rt.machine;
  if (!m.runUntil(() => m.cardOs.every((o) => o.shell !== null) && m.sched.idle))
    throw new Error('the runtime machine did not boot');
  m.run();
  rt.running = true;
  const blk = blockDevice(m.cardOs[0], 'vda');
  if (!blk) throw new Error('no /dev/vda');
  return { rt, d: { m, blk, image, out: [] } };
}

function recordingOverhead(opts: BlkOptions): MetricResult {
  const o = { ...opts, reps: opts.reps * 5 };
  const { image } = sharedImage();
  const on = runtimeMachine(image, true);
  const off = runtimeMachine(image, false);
  warmUpReads(on.d);
  warmUpReads(off.d);
  const r = interleave(
    o.reps,
    o.warmup,
    (rep) => cardReadMs(on.d, rep),
    (rep) => cardReadMs(off.d, rep),
  );
  const events = on.rt.timeline.events!;
  const notes = {
    'events stored': events.head,
    'held in full': events.size,
    'coarse blocks': events.coarse.length,
  };
  on.rt.dispose();
  off.rt.dispose();
  const ratio = median(r.ratio);
  return {
    metric: 'timeline-overhead',
    what: 'blk-read-64k on the DebugRuntime with the timeline event store recording',
    value: median(r.value),
    unit: 'ms',
    baseline: median(r.baseline),
    baselineWhat: 'the same runtime and reads, store off',
    ratio,
    target: 'ratio ≤ 1.10',
    pass: ratio <= 1.1,
    notes,
    samples: r,
  };
}
