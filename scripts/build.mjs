// Bundles each entry point into one file under dist/ (architecture: one bundled file per entry).
// Quiet on success so `npm start --silent` prints only what the card prints.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const entries = [
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'src/debugAdapter/main.ts', out: 'debugAdapter' },
  { in: 'src/extension/extension.ts', out: 'extension' },
  // The --trace worker: the bundles above start it from the file beside them (traceOffThread.ts).
  { in: 'src/emulator/sim/trace/traceWorker.ts', out: 'traceWorker' },
].filter((e) => existsSync(e.in));

await esbuild.build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode'],
  logLevel: 'warning',
});

// The memory view's webview script and its stylesheet (dist/memoryView.js, dist/memoryView.css):
// for the browser, self-contained — the workbench may be offline and the page's CSP loads nothing
// from elsewhere.
await esbuild.build({
  entryPoints: [
    { in: 'src/extension/memory/webview/main.ts', out: 'memoryView' },
    // The MIC Timeline's (dist/timelineView.js, .css): canvas drawing, no library.
    { in: 'src/extension/timeline/webview/main.ts', out: 'timelineView' },
  ],
  outdir: 'dist',
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: true,
  logLevel: 'warning',
});
