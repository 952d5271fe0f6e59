// What observers cost: blk-read-64k with 1,000 armed breakpoints that never match, through the
// debug adapter's real BreakpointManager attached to a DebugRuntime (both sides run under the
// runtime, whose own observer is always on), and blk-read-64k with the `--trace` recorder
// writing every event to a file, against the same machine without it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { BreakpointManager } from '../../src/debugAdapter/breakpoints/breakpointManager.ts';
import { LAUNCH_DEFAULTS } from '../../src/debugAdapter/launchConfig.ts';
import { blockDevice } from '../../src/emulator/cardSoftware/virtioBlock.ts';
import { createTraceWriter } from '../../src/emulator/sim/traceSink.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { interleave, median } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { diskMachine, tmpDir, type DiskMachine } from '../lib/machine.ts';
import { cardReadMs, sharedImage, warmUpReads, READ_WINDOW, type BlkOptions } from './blk.ts';

/** A DebugRuntime on `image`, booted to the shell, marked running so breakpoints are live. */
function runtimeMachine(image: string): { rt: DebugRuntime; bm: BreakpointManager; d: DiskMachine } {
  const rt = new DebugRuntime({ ...LAUNCH_DEFAULTS, disk: image });
  const bm = new BreakpointManager(() => rt);
  bm.attach(rt);
  rt.start();
  const m = rt.machine;
  if (!m.runUntil(() => m.cardOs.every((o) => o.shell !== null) && m.sched.idle))
    throw new Error('the runtime machine did not boot');
  m.run();
  // The session's run loop sets this on continue; the benchmark drives the machine itself.
  rt.running = true;
  const blk = blockDevice(m.cardOs[0], 'vda');
  if (!blk) throw new Error('no /dev/vda');
  return { rt, bm, d: { m, blk, image, out: [] } };
}

const hex = (n: number) => '0x' + n.toString(16);

/** 1,000 breakpoints of every category, none of which matches during block reads. */
export function armThousand(bm: BreakpointManager): number {
  // 700 data breakpoints on bytes nobody touches: host RAM above 12 GiB, GDDR above 4 GiB, and
  // the registers of DMA channels 4–7 (card-owned, idle).
  const access = ['write', 'read', 'readWrite'] as const;
  const data = [];
  for (let i = 0; i < 400; i++)
    data.push({ dataId: `host+${hex(0x3_0000_0000 + i * 0x1000)}/4`, accessType: access[i % 3] });
  for (let i = 0; i < 280; i++)
    data.push({ dataId: `mic0.gddr+${hex(0x1_0000_0000 + i * 0x2000)}/64`, accessType: access[i % 3] });
  for (let i = 0; i < 20; i++) {
    const ch = 4 + (i % 4);
    const reg = [R.DHPR(ch), R.DCHERR(ch), R.DRAR_LO(ch), R.DCAR(ch), R.DTPR(ch)][i % 5];
    data.push({ dataId: `mic0.bar4+${hex(reg)}/4`, accessType: access[i % 3] });
  }
  const d = bm.setDataBreakpoints({ breakpoints: data });
  // 297 function breakpoints with conditions that stay false: most on doorbells, descriptor
  // types, states and console text the block path never produces (the index files them under
  // values and kinds no event of the workload carries), some on kinds it does produce (virtqueue
  // chains of other queues, interrupts, MEMCPY on idle channels), whose matchers and conditions
  // then run on those events.
  const fns: { name: string; condition: string }[] = [];
  for (let i = 0; i < 100; i++)
    fns.push({ name: `doorbell h2c ${4 + (i % 12)}`, condition: `value == ${1000 + i}` });
  for (let i = 0; i < 50; i++)
    fns.push({ name: i % 2 ? 'dma general' : 'dma nop', condition: `len == ${i}` });
  for (let i = 0; i < 40; i++)
    fns.push({ name: i % 2 ? 'state suspended' : 'state reset_failed', condition: `card == ${5 + (i % 3)}` });
  for (let i = 0; i < 40; i++) fns.push({ name: `console "never printed ${i}"`, condition: 'card == 0' });
  for (let i = 0; i < 40; i++)
    fns.push({ name: i % 2 ? 'vq net.tx' : 'vq console.rx', condition: `head > ${1000 + i}` });
  for (let i = 0; i < 20; i++)
    fns.push({ name: i % 2 ? 'irq host' : 'irq card', condition: `vector == ${200 + i}` });
  for (let i = 0; i < 7; i++)
    fns.push({ name: `dma ch ${1 + i} memcpy`, condition: `len == ${64 * (9000 + i)}` });
  const f = bm.setFunctionBreakpoints({ breakpoints: fns });
  // 3 exception filters with conditions.
  const x = bm.setExceptionBreakpoints({
    filters: [],
    filterOptions: [
      { filterId: 'protocol', condition: 'rule == 99' },
      { filterId: 'dmaError', condition: 'channel == 7' },
      { filterId: 'cardCrash', condition: 'card == 3' },
    ],
  });
  const all = [...d, ...f, ...x];
  const bad = all.filter((b) => !b.verified);
  if (bad.length)
    throw new Error(
      `unverified breakpoints: ${bad
        .slice(0, 3)
        .map((b) => b.message)
        .join('; ')}`,
    );
  return bm.armedCount;
}

/**
 * The overhead metrics compare two machines within a few per cent of each other, where one
 * repetition (8 MiB, ~4 ms) moves ±5 %; they take OVERHEAD_REPS times the repetitions asked for
 * (105 by default, under a second) so that their median holds still.
 */
const OVERHEAD_REPS = 5;

export function bpOverhead(opts: BlkOptions): MetricResult {
  const o = { ...opts, reps: opts.reps * OVERHEAD_REPS };
  const { image } = sharedImage();
  const plain = runtimeMachine(image);
  const armed = runtimeMachine(image);
  const n = armThousand(armed.bm);
  if (!armed.bm.observing) throw new Error('the breakpoint manager does not observe the spine');
  warmUpReads(plain.d);
  warmUpReads(armed.d);
  const examined0 = armed.bm.examined;
  const seq0 = armed.d.m.spine.seq;
  const r = interleave(
    o.reps,
    o.warmup,
    (rep) => cardReadMs(armed.d, rep),
    (rep) => cardReadMs(plain.d, rep),
  );
  if (armed.rt.stopped || armed.d.m.spine.stopRequested) throw new Error('a breakpoint matched');
  const requests = ((o.reps + o.warmup) * READ_WINDOW) / 65536;
  const examined = (armed.bm.examined - examined0) / requests;
  const perRep = (armed.d.m.spine.seq - seq0) / (o.reps + o.warmup);
  plain.rt.dispose();
  armed.rt.dispose();
  const ratio = median(r.ratio);
  return {
    metric: 'bp-overhead',
    what: `blk-read-64k under the debug runtime with ${n} armed breakpoints that never match`,
    value: median(r.value),
    unit: 'ms',
    baseline: median(r.baseline),
    baselineWhat: 'the same reads under the debug runtime, no breakpoint',
    ratio,
    target: 'ratio ≤ 1.10',
    pass: ratio <= 1.1,
    notes: {
      breakpoints: n,
      'index entries examined per request': Math.round(examined),
      'events per repetition': Math.round(perRep),
      // What the breakpoint manager spends per event, whatever the speed of the rest.
      'ns per event (value − baseline)': Math.round(((median(r.value) - median(r.baseline)) * 1e6) / perRep),
      'bytes per repetition': READ_WINDOW,
    },
    samples: r,
  };
}

export function traceOverhead(opts: BlkOptions): MetricResult {
  const o = { ...opts, reps: opts.reps * OVERHEAD_REPS };
  const { image } = sharedImage();
  const plain = diskMachine(image);
  const traced = diskMachine(image);
  const file = path.join(tmpDir('trace'), 'trace.jsonl');
  // As the CLI's --trace: every event as a JSON line through the same writer to a file.
  const trace = createTraceWriter(fs.openSync(file, 'w'));
  warmUpReads(plain);
  warmUpReads(traced);
  traced.m.spine.observe(trace.observer);
  const r = interleave(
    o.reps,
    o.warmup,
    (rep) => cardReadMs(traced, rep),
    (rep) => cardReadMs(plain, rep),
  );
  trace.close();
  if (trace.error) throw trace.error;
  plain.m.dispose();
  traced.m.dispose();
  const perRep = trace.events / (o.reps + o.warmup);
  const ratio = median(r.ratio);
  return {
    metric: 'trace-overhead',
    what: 'blk-read-64k with the --trace recorder writing every event to a file',
    value: median(r.value),
    unit: 'ms',
    baseline: median(r.baseline),
    baselineWhat: 'the same reads, no observer',
    ratio,
    target: 'ratio ≤ 2.0',
    pass: ratio <= 2,
    notes: {
      'trace bytes written': trace.bytesWritten,
      'events per repetition': Math.round(perRep),
      'bytes per event': Math.round(trace.bytesWritten / trace.events),
      'ns per event (value − baseline)': Math.round(((median(r.value) - median(r.baseline)) * 1e6) / perRep),
      'bytes per repetition': READ_WINDOW,
    },
    samples: r,
  };
}
