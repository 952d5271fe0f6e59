// `--profile`: each metric runs under the V8 sampling profiler (node:inspector, in this process),
// the profile is saved as bench/<metric>.cpuprofile (open it in Chrome DevTools or VS Code), and
// the frames with the most self time are listed with their place in the TypeScript sources
// (through the bundle's source map). The DAP metrics' work happens in the adapter process,
// which this does not see: profile it with `node --cpu-prof dist/debugAdapter.js`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';

export interface TopFrame {
  /** Share of all samples, in percent. */
  percent: number;
  fn: string;
  /** `src/emulator/sim/scheduler.ts:301`, or the bundle/internal location. */
  where: string;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

/** Run fn under the profiler; returns its result and the profile. */
export async function profiled<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const s = new Session();
  s.connect();
  await post(s, 'Profiler.enable');
  await post(s, 'Profiler.setSamplingInterval', { interval: 100 });
  await post(s, 'Profiler.start');
  try {
    const result = await fn();
    const { profile } = await post<{ profile: CpuProfile }>(s, 'Profiler.stop');
    return { result, profile };
  } finally {
    s.disconnect();
  }
}

function locate(root: string, url: string, line: number, column: number): string {
  if (!url) return '(native)';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const map = file.endsWith('.cjs') ? findSourceMap(file) : undefined;
  const e = map?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
  if (e?.originalSource) {
    const src = e.originalSource.startsWith('file://')
      ? new URL(e.originalSource).pathname
      : e.originalSource;
    return `${path.relative(root, path.resolve(path.dirname(file), src))}:${(e.originalLine ?? 0) + 1}`;
  }
  return `${path.basename(file)}:${line + 1}`;
}

/** Self time by function, largest first. */
export function topFrames(root: string, p: CpuProfile, n = 8): TopFrame[] {
  const dt = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i] ?? 0;
    dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + d);
    total += d;
  }
  const by = new Map<string, { fn: string; where: string; t: number }>();
  for (const node of p.nodes) {
    const t = dt.get(node.id) ?? 0;
    if (t === 0) continue;
    const c = node.callFrame;
    if (c.functionName === '(idle)' || c.functionName === '(program)') continue;
    // The inspector's own message dispatch (starting and stopping the profiler), not the metric.
    if (c.functionName === 'dispatch' && c.url === '') continue;
    const where = locate(root, c.url, c.lineNumber, c.columnNumber);
    const fn = c.functionName || '(anonymous)';
    const key = `${fn} ${where}`;
    const e = by.get(key) ?? { fn, where, t: 0 };
    e.t += t;
    by.set(key, e);
  }
  return [...by.values()]
    .sort((a, b) => b.t - a.t)
    .slice(0, n)
    .map((e) => ({ percent: +((100 * e.t) / total).toFixed(1), fn: e.fn, where: e.where }));
}

export function saveProfile(root: string, metric: string, p: CpuProfile): string {
  const file = path.join(root, 'bench', `${metric.replace(/[^a-z0-9-]/gi, '_')}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(p));
  return file;
}
