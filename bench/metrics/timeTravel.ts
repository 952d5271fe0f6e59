// Time travel's speed (issue 16), in the debug adapter's configuration: a DebugRuntime (its
// timeline: running hash, write index, disk journals) with 1,000 breakpoints armed that never
// match, on a disk image, typing `cat /proc/cpuinfo` and 64 KiB `dd` reads on mic0's console in
// turn until 10 M events. Then:
//   tt-replay-rate   events per second of a replay from power-on to the end (target ≥ 5 M/s)
//   tt-seek          a seek 10 M events back (from the end to the start, and from the end to one
//                    access before it: a replay of the whole session), median (target ≤ 2 s)
//   tt-reverse       reverse continue to the previous `doorbell` hit from the end (target ≤ 2 s)
//   tt-overhead      blk-read-64k with recording on / off (target ≤ 1.10)
// Replays run through the runtime's own seek (the generator with its progress turns).

import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { BreakpointManager } from '../../src/debugAdapter/breakpoints/breakpointManager.ts';
import { LAUNCH_DEFAULTS } from '../../src/debugAdapter/launchConfig.ts';
import { Timeline } from '../../src/emulator/timeTravel/timeline.ts';
import { buildMachine } from '../../src/emulator/buildMachine.ts';
import { blockDevice } from '../../src/emulator/cardSoftware/virtioBlock.ts';
import { interleave, median } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { diskMachine, type DiskMachine } from '../lib/machine.ts';
import { cardReadMs, sharedImage, warmUpReads } from './blk.ts';
import { armThousand } from './observers.ts';
import { runConsoleAndBlock } from '../lib/consoleAndBlock.ts';

const EVENTS = 10_000_000;

/** A 10 M-event session under the adapter's runtime, breakpoints armed. */
function session(image: string): { rt: DebugRuntime; bm: BreakpointManager; buildS: number } {
  const rt = new DebugRuntime({ ...LAUNCH_DEFAULTS, disk: image, diskSizeMiB: 64 });
  const bm = new BreakpointManager(() => rt);
  bm.attach(rt);
  rt.start();
  armThousand(bm);
  const buildS = runConsoleAndBlock(rt, EVENTS);
  return { rt, bm, buildS };
}

const seconds = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

export async function timeTravelMetrics(o: { reps: number }): Promise<MetricResult[]> {
  const { image } = sharedImage();
  const { rt, bm, buildS } = session(image);
  const head = rt.timeline.head;
  const reps = Math.max(3, Math.min(o.reps, 5));
  // Replay rate: from power-on to the end (a seek to the start first, which costs nothing).
  const rates: number[] = [];
  const back: number[] = [];
  const toStart: number[] = [];
  for (let i = 0; i < reps; i++) {
    toStart.push(await seconds(() => rt.goto(0)));
    const s = await seconds(() => rt.goto(head));
    rates.push(head / s / 1e6);
    // One access back from the end: the whole session again.
    back.push(await seconds(() => rt.goto(rt.timeline.momentBefore(head))));
    await rt.goto(head);
  }
  // Reverse continue to the previous doorbell from the end.
  bm.setFunctionBreakpoints({ breakpoints: [{ name: 'doorbell' }] });
  const reverse: number[] = [];
  for (let i = 0; i < reps; i++) {
    await rt.goto(head);
    reverse.push(await seconds(() => rt.reverseContinue()));
  }
  const landed = rt.stopped?.event;
  if (!landed || landed.kind !== 'doorbell') throw new Error('reverse continue did not land on a doorbell');
  const divergence = rt.timeline.divergence;
  rt.dispose();
  if (divergence) throw new Error(divergence);

  const rate = median(rates);
  const seek = median(back);
  const rev = median(reverse);
  const common = { events: head, 'seconds to build the session': Number(buildS.toFixed(1)) };
  return [
    {
      metric: 'tt-replay-rate',
      what: 'replay from power-on to the end of a 10 M-event session, adapter configuration, 1,000 breakpoints armed',
      value: rate,
      unit: 'M/s',
      baseline: null,
      ratio: null,
      target: '≥ 5 M/s',
      pass: rate >= 5,
      notes: { ...common, 'replay seconds (median)': Number((head / rate / 1e6).toFixed(2)) },
      limit:
        'a replay is the machine running again from power-on, at the rate the adapter runs it live (its observers: the running hash, the write index, the breakpoint index)',
      samples: { value: rates },
    },
    {
      metric: 'tt-seek',
      what: 'seek 10 M events back in a 10 M-event session: to one access before the end (a replay of all of it); to the start in the notes',
      value: seek,
      unit: 's',
      baseline: null,
      ratio: null,
      target: '≤ 2 s',
      pass: seek <= 2,
      notes: { ...common, 'seek to the start (s, median)': Number(median(toStart).toFixed(3)) },
      limit:
        'a seek back is a replay from power-on to the target: its cost is the target’s event number at the replay rate, not the distance back',
      samples: { value: back },
    },
    {
      metric: 'tt-reverse',
      what: 'reverse continue to the previous doorbell from the end of a 10 M-event session',
      value: rev,
      unit: 's',
      baseline: null,
      ratio: null,
      target: '≤ 2 s',
      pass: rev <= 2,
      notes: { ...common, 'landed on event': landed.seq },
      limit:
        'reverse continue replays twice: once from power-on to here noting every hit (breakpoints set after the fact included), then to the last hit',
      samples: { value: reverse },
    },
  ];
}

/** blk-read-64k with the timeline recording (hash, write index, journals) on / off. */
export function recordingOverhead(o: { reps: number; warmup: number }): MetricResult {
  const { image } = sharedImage();
  const bare = diskMachine(image);
  let out = '';
  const tl = new Timeline({
    observeSelf: true,
    build: (journalFor) =>
      buildMachine({
        cards: 1,
        memoryBytes: 8 * 2 ** 30,
        stepping: 'C0',
        disk: image,
        diskSizeBytes: 64 * 2 ** 20,
        diskReadonly: false,
        pcap: null,
        terminal: () => ({ write: (b) => void (out += b.length) }),
        journalFor,
      }).machine,
  });
  const m = tl.machine;
  m.start();
  if (!m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle)) throw new Error('no shell');
  m.run();
  const blk = blockDevice(m.cardOs[0], 'vda');
  if (!blk) throw new Error('no /dev/vda');
  const rec: DiskMachine = { m, blk, image, out: [] };
  warmUpReads(bare);
  warmUpReads(rec);
  const r = interleave(
    o.reps * 3,
    o.warmup,
    (rep) => cardReadMs(rec, rep),
    (rep) => cardReadMs(bare, rep),
  );
  bare.m.dispose();
  tl.dispose();
  const ratio = median(r.ratio);
  return {
    metric: 'tt-overhead',
    what: 'blk-read-64k time with time travel recording (running hash, write index, disk journal) on / off',
    value: median(r.value),
    unit: 'ms',
    baseline: median(r.baseline),
    baselineWhat: 'the same reads on a machine without recording',
    ratio,
    target: 'ratio ≤ 1.10',
    pass: ratio <= 1.1,
    notes: { repetitions: r.ratio.length, 'writes indexed': tl.writes.count },
    samples: r,
  };
}
