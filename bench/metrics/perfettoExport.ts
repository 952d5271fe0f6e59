// The Perfetto export (sim/trace/perfetto.ts) of 1 M events: the events of real block reads
// (recorded once from a booted machine, frames and all), fed again and again with their seq and
// time moved on, through PerfettoFile into a file, as the CLI's --perfetto writes them. Time is
// wall time for the million; memory is the peak of heap + external + array buffers above what
// the process held before the export began (the recorded sample included), sampled every 10 000
// events. Target (issue 17): ≤ 3 s and ≤ 100 MB above the session's.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { PerfettoFile } from '../../src/emulator/sim/trace/perfettoFile.ts';
import type { MetricResult } from '../lib/result.ts';
import { diskMachine, tmpDir } from '../lib/machine.ts';
import { cardReadMs, sharedImage, warmUpReads } from './blk.ts';

const EVENTS = 1_000_000;

function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

export function perfettoExport(): MetricResult {
  const { image } = sharedImage();
  const d = diskMachine(image);
  warmUpReads(d);
  const sample: BusEvent[] = [];
  const off = d.m.spine.observe((e) => void sample.push(cloneEvent(e)));
  for (let rep = 0; sample.length < 20_000; rep++) cardReadMs(d, rep);
  off();
  d.m.dispose();
  const file = path.join(tmpDir('perfetto'), 'session.json');
  global.gc?.();
  const before = held();
  let peak = before;
  const t0 = performance.now();
  const out = new PerfettoFile(fs.openSync(file, 'w'));
  const span = sample[sample.length - 1].time - sample[0].time + 1000;
  const seqSpan = sample[sample.length - 1].seq;
  const e = cloneEvent(sample[0]);
  for (let i = 0, round = 0; i < EVENTS; round++)
    for (let k = 0; k < sample.length && i < EVENTS; k++, i++) {
      const s = sample[k];
      Object.assign(e, s);
      e.seq = s.seq + round * seqSpan;
      e.cause = s.cause && s.cause + round * seqSpan;
      e.req = s.req && s.req + round * 1_000_000;
      e.time = s.time + round * span;
      out.write(e);
      if (i % 10_000 === 0) peak = Math.max(peak, held());
    }
  out.close();
  const ms = performance.now() - t0;
  peak = Math.max(peak, held());
  if (out.error) throw out.error;
  const bytes = fs.statSync(file).size;
  fs.rmSync(file);
  const mb = (peak - before) / 1e6;
  return {
    metric: 'perfetto-export',
    what: 'export 1 M events (real block-read events, replayed) as Chrome Trace Event JSON to a file',
    value: ms,
    unit: 'ms',
    baseline: null,
    ratio: null,
    target: '≤ 3000 ms and ≤ 100 MB above the session',
    pass: ms <= 3000 && mb <= 100,
    notes: {
      events: EVENTS,
      'MB above session (peak)': Math.round(mb),
      'file MB': Math.round(bytes / 1e6),
      'ns/event': Math.round((ms * 1e6) / EVENTS),
    },
  };
}
