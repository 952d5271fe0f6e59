// The benchmark run: every metric of issue 6 in one process (the DAP metrics talk to a child
// adapter process, the memory metric boots in a fresh child). Prints a table and writes
// bench/results.json. Benchmarks are not tests: nothing in `npm test` runs this.
//
//   npm run bench                          all metrics
//   npm run bench -- --only=blk-read-64k   a subset (comma-separated metric names or groups)
//   npm run bench -- --reps=5 --warmup=1   fewer repetitions
//   npm run bench -- --profile             also profile each metric (bench/<metric>.cpuprofile)

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, type MetricResult } from './lib/result.ts';
import { blk512, blkRead64k, blkWrite64k, sharedImage } from './metrics/blk.ts';
import { bpOverhead, traceOverhead } from './metrics/observers.ts';
import { boot, eventsPerSecond, eventsPerSecondAdapter } from './metrics/machineRate.ts';
import { dapMetrics } from './metrics/dap.ts';
import { bundles, memory, memoryChild } from './metrics/footprint.ts';
import { perfettoExport } from './metrics/perfettoExport.ts';
import { recordingOverhead, timeTravelMetrics } from './metrics/timeTravel.ts';
import { whoLastWrote } from './metrics/whoLastWrote.ts';
import { recordingSize } from './metrics/recordingSize.ts';
import { timelineMetrics } from './metrics/timeline.ts';
import { timelinePaint } from './metrics/timelinePaint.ts';
import { profiled, saveProfile, topFrames, type TopFrame } from './lib/profile.ts';

export { memoryChild };

interface Options {
  only: Set<string> | null;
  reps: number;
  warmup: number;
  profile: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { only: null, reps: 21, warmup: 5, profile: false };
  for (const a of argv) {
    const [k, v] = a.split('=');
    if (k === '--only') o.only = new Set(v.split(',').map((x) => x.trim()));
    else if (k === '--reps') o.reps = Math.max(1, Number(v));
    else if (k === '--warmup') o.warmup = Math.max(0, Number(v));
    else if (k === '--profile') o.profile = true;
    else throw new Error(`unknown argument ${a} (use --only=a,b --reps=N --warmup=N --profile)`);
  }
  const unknown = [...(o.only ?? [])].filter((n) => !KNOWN.includes(n));
  if (unknown.length)
    throw new Error(`unknown metric ${unknown.join(', ')}: choose from ${KNOWN.join(', ')}`);
  return o;
}

const KNOWN = [
  'blk-read-64k',
  'blk-write-64k',
  'blk-512',
  'events/s',
  'events/s (adapter)',
  'events-adapter',
  'events',
  'bp-overhead',
  'trace-overhead',
  'perfetto-export',
  'tt',
  'tt-replay-rate',
  'tt-seek',
  'tt-reverse',
  'tt-overhead',
  'who-last-wrote',
  'write-index memory',
  'recording-size',
  'timeline',
  'timeline-paint',
  'boot',
  'dap',
  'dap-stop',
  'dap-readMemory',
  'dap-virtqueue',
  'memory',
  'bundle',
];

export function machineInfo(): Record<string, string | number> {
  const cpu = (() => {
    try {
      return (
        /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model
      );
    } catch {
      return os.cpus()[0]?.model;
    }
  })();
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    // not a checkout
  }
  return {
    nproc: os.availableParallelism(),
    cpu: cpu ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    commit,
    date: new Date().toISOString(),
  };
}

function table(rows: MetricResult[]): string {
  const head = ['metric', 'value', 'baseline', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [
    r.metric,
    Number.isFinite(r.value) ? `${fmt(r.value)} ${r.unit}` : 'n/a',
    r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.unit}`,
    r.ratio === null ? '—' : fmt(r.ratio),
    r.target,
    r.pass === null ? 'n/a' : r.pass ? 'pass' : 'FAIL',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd(w[i])).join(' | ') + ' |';
  return [line(head), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  const root = process.env.MIC_BENCH_ROOT ?? process.cwd();
  const bundle = process.env.MIC_BENCH_BUNDLE ?? '';
  const want = (name: string) => o.only === null || o.only.has(name);
  const rows: MetricResult[] = [];
  const profiles: Record<string, { file: string; top: TopFrame[] }> = {};
  const run = async (
    name: string,
    f: () => MetricResult | MetricResult[] | Promise<MetricResult | MetricResult[]>,
  ) => {
    const t0 = performance.now();
    process.stderr.write(`bench: ${name} …`);
    let r: MetricResult | MetricResult[];
    if (o.profile) {
      const p = await profiled(async () => f());
      r = p.result;
      profiles[name] = { file: saveProfile(root, name, p.profile), top: topFrames(root, p.profile) };
    } else r = await f();
    const list = Array.isArray(r) ? r : [r];
    rows.push(...list);
    process.stderr.write(
      ` ${((performance.now() - t0) / 1000).toFixed(1)} s: ${list.map((x) => `${x.metric} ${fmt(x.value)} ${x.unit}`).join(', ')}\n`,
    );
  };
  const blk = { reps: o.reps, warmup: o.warmup };
  // The 64 MiB image the block metrics share, written before anything is timed or profiled.
  if (
    [
      'blk-read-64k',
      'blk-write-64k',
      'blk-512',
      'bp-overhead',
      'trace-overhead',
      'timeline',
      'timeline-paint',
    ].some(want)
  )
    sharedImage();
  if (want('blk-read-64k')) await run('blk-read-64k', () => blkRead64k(blk));
  if (want('blk-write-64k')) await run('blk-write-64k', () => blkWrite64k(blk));
  if (want('blk-512')) await run('blk-512', () => blk512(blk));
  if (want('events/s') || want('events')) await run('events/s', () => eventsPerSecond(blk));
  if (want('events/s (adapter)') || want('events-adapter') || want('events'))
    await run('events/s (adapter)', () => eventsPerSecondAdapter(blk));
  if (want('bp-overhead')) await run('bp-overhead', () => bpOverhead(blk));
  if (want('trace-overhead')) await run('trace-overhead', () => traceOverhead(blk));
  if (want('perfetto-export')) await run('perfetto-export', () => perfettoExport());
  if (want('tt') || want('tt-overhead')) await run('tt-overhead', () => recordingOverhead(blk));
  if (want('tt') || want('tt-replay-rate') || want('tt-seek') || want('tt-reverse'))
    await run('tt', () => timeTravelMetrics({ reps: o.reps }));
  if (want('who-last-wrote') || want('write-index memory'))
    await run('who-last-wrote', () => whoLastWrote({ reps: o.reps, warmup: o.warmup }));
  if (want('recording-size')) await run('recording-size', () => recordingSize());
  if (want('timeline')) await run('timeline', () => timelineMetrics(blk));
  if (want('timeline-paint'))
    await run('timeline-paint', () => timelinePaint({ root, reps: o.reps, warmup: o.warmup }));
  if (want('boot')) await run('boot', () => boot({ reps: o.reps, warmup: o.warmup }));
  if (want('dap') || want('dap-stop') || want('dap-readMemory') || want('dap-virtqueue'))
    await run('dap', () => dapMetrics({ root, reps: o.reps, warmup: o.warmup }));
  if (want('memory')) {
    if (!bundle) throw new Error('the memory metric needs the bundle (run through bench/run.mjs)');
    await run('memory', () => memory(bundle, 3));
  }
  if (want('bundle')) await run('bundle', () => bundles(root));

  const info = machineInfo();
  process.stdout.write(`\n${table(rows)}\n\n`);
  process.stdout.write(
    `machine: ${info.nproc} × ${info.cpu}, ${info.memoryGB} GB, Node ${info.node}, ${info.platform}\n`,
  );
  process.stdout.write(
    `figures: medians of ${o.reps} repetitions after ${o.warmup} warm-up; ratios: median of per-repetition ratios (baseline run next to each measured run)\n`,
  );
  for (const [name, p] of Object.entries(profiles)) {
    process.stdout.write(`\nprofile of ${name} (self time; ${p.file}):\n`);
    for (const t of p.top) process.stdout.write(`  ${String(t.percent).padStart(5)}%  ${t.fn}  ${t.where}\n`);
  }
  const file = path.join(root, 'bench', 'results.json');
  const options = { reps: o.reps, warmup: o.warmup, profile: o.profile };
  fs.writeFileSync(file, JSON.stringify({ machine: info, options, results: rows, profiles }, null, 2) + '\n');
  process.stdout.write(`results: ${file}\n`);
  const failed = rows.filter((r) => r.pass === false).map((r) => r.metric);
  if (failed.length) process.stdout.write(`missed targets: ${failed.join(', ')} (see BENCHMARKS.md)\n`);
  for (const r of rows) if (r.pass === false && r.limit) process.stdout.write(`  ${r.metric}: ${r.limit}\n`);
  for (const r of rows) if (r.pass === null && r.limit) process.stdout.write(`${r.metric}: ${r.limit}\n`);
}
