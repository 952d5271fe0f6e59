// memory: resident set of a fresh process after booting 8 cards of 8 GiB GDDR each (sparse
// memory: only touched pages cost), and the sizes of the shipped bundles.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../src/emulator/machine.ts';
import { median } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { bootToShell } from '../lib/machine.ts';

const MB = 2 ** 20;

interface ChildReport {
  rssBefore: number;
  rssAfter: number;
  heapUsed: number;
  arrayBuffers: number;
  pages: number;
  ms: number;
}

/** Runs in the child: boot, collect garbage, report. */
export function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const m = new Machine({ cards: 8, cardMemoryBytes: 8 * 2 ** 30 });
  bootToShell(m);
  const ms = performance.now() - t0;
  if (!m.mics.every((d) => d.state === 'online'))
    throw new Error(`not all online: ${m.mics.map((d) => d.state)}`);
  gc?.();
  const u = process.memoryUsage();
  const pages = m.hostRam.pagesAllocated + m.cards.reduce((n, c) => n + c.gddr.pagesAllocated, 0);
  const r: ChildReport = {
    rssBefore,
    rssAfter: u.rss,
    heapUsed: u.heapUsed,
    arrayBuffers: u.arrayBuffers,
    pages,
    ms,
  };
  process.stdout.write(JSON.stringify(r) + '\n');
}

export function memory(bundle: string, reps: number): MetricResult {
  const runs: ChildReport[] = [];
  for (let i = 0; i < reps; i++) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '-e', `require(${JSON.stringify(bundle)}).memoryChild()`],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`memory child failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport);
  }
  const rss = median(runs.map((r) => r.rssAfter / MB));
  return {
    metric: 'memory',
    what: 'RSS of a fresh process after booting 8 cards × 8 GiB GDDR',
    value: rss,
    unit: 'MB',
    baseline: median(runs.map((r) => r.rssBefore / MB)),
    baselineWhat: 'RSS of the same process before creating the machine',
    ratio: null,
    target: '≤ 300 MB',
    pass: rss <= 300,
    notes: {
      'heap used MB': +median(runs.map((r) => r.heapUsed / MB)).toFixed(1),
      'array buffers MB': +median(runs.map((r) => r.arrayBuffers / MB)).toFixed(1),
      '4 KiB pages allocated': median(runs.map((r) => r.pages)),
      'boot of 8 cards ms': Math.round(median(runs.map((r) => r.ms))),
    },
    samples: { value: runs.map((r) => r.rssAfter / MB) },
  };
}

export function bundles(root: string): MetricResult[] {
  const out: MetricResult[] = [];
  for (const [name, file] of [
    ['bundle-extension', 'dist/extension.js'],
    ['bundle-adapter', 'dist/debugAdapter.js'],
  ] as const) {
    const p = path.join(root, file);
    if (!fs.existsSync(p)) {
      out.push({
        metric: name,
        what: `${file} (not built: src/extension has no entry yet)`,
        value: NaN,
        unit: 'KB',
        baseline: null,
        ratio: null,
        target: '≤ 1 MB',
        pass: null,
        notes: { present: 'no' },
      });
      continue;
    }
    const kb = fs.statSync(p).size / 1024;
    out.push({
      metric: name,
      what: `size of ${file}`,
      value: kb,
      unit: 'KB',
      baseline: null,
      ratio: null,
      target: '≤ 1 MB',
      pass: kb <= 1024,
      notes: {},
    });
  }
  return out;
}
