// `npm run bench`: bundle bench/main.ts with esbuild (the same transform as dist/, so profiles
// name real functions and lines) into a temporary directory and run it in this process.
// Arguments pass through: `npm run bench -- --only=blk-read-64k,boot --reps=5`.
//
// Profile a metric: `node --cpu-prof --cpu-prof-dir=/tmp/prof bench/run.mjs --only=blk-read-64k`.
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'mic-bench-bundle-'));
const out = join(dir, 'bench.js');
await esbuild.build({
  // The --trace worker beside the bundle, as dist/ ships it (traceOffThread.ts starts it from there).
  entryPoints: [
    { in: join(root, 'bench/main.ts'), out: 'bench' },
    { in: join(root, 'src/emulator/sim/trace/traceWorker.ts'), out: 'traceWorker' },
  ],
  outdir: dir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  // timeline-paint drives Chromium through playwright-core, loaded from node_modules as it is.
  external: ['playwright-core'],
  logLevel: 'warning',
});
process.env.MIC_BENCH_ROOT = root;
// Profiles (--profile) name TypeScript sources through the bundle's inline source map.
process.setSourceMapsEnabled(true);
process.env.MIC_BENCH_BUNDLE = out;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const { main } = createRequire(import.meta.url)(out);
await main(process.argv.slice(2));
