// npm run test:vscode — the extension's integration suite (test/vscode/suite.ts) inside desktop VS
// Code, through @vscode/test-electron. Where desktop VS Code can be neither downloaded nor found
// (VSCODE_EXECUTABLE_PATH), it SKIPS with a message and exits 0: on machines without network, the
// end-to-end run in code-server (npm run test:e2e) covers the workbench instead.
// env: VSCODE_EXECUTABLE_PATH (a desktop VS Code binary), VSCODE_TEST_VERSION (default: stable),
//      MIC_E2E_ROOT (download cache and sandbox; default ~/.cache/mic-e2e)
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch =
  process.env.MIC_E2E_ROOT ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mic-e2e');
const cachePath = path.join(scratch, 'vscode-test');

function skip(why) {
  console.log(`SKIP test:vscode — ${why}`);
  console.log('  Give a desktop VS Code with VSCODE_EXECUTABLE_PATH=/path/to/code, or run where it can be');
  console.log('  downloaded. The workbench is tested offline by npm run test:e2e (code-server).');
  process.exit(0);
}

// Desktop VS Code on Linux needs a display: re-run under xvfb-run when there is none.
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.MIC_VSCODE_UNDER_XVFB) {
  const xvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).stdout.trim();
  if (xvfb) {
    const r = spawnSync(xvfb, ['-a', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, MIC_VSCODE_UNDER_XVFB: '1' },
    });
    process.exit(r.status ?? 1);
  }
}

let vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH;
if (vscodeExecutablePath) {
  if (!fs.existsSync(vscodeExecutablePath)) {
    console.error(`test:vscode: VSCODE_EXECUTABLE_PATH=${vscodeExecutablePath} does not exist`);
    process.exit(1);
  }
} else {
  try {
    fs.mkdirSync(cachePath, { recursive: true });
    vscodeExecutablePath = await downloadAndUnzipVSCode({
      version: process.env.VSCODE_TEST_VERSION || 'stable',
      cachePath,
      timeout: 20000,
    });
  } catch (e) {
    skip(
      `desktop VS Code could not be downloaded (${String(e?.message ?? e).split('\n')[0]}) and VSCODE_EXECUTABLE_PATH is not set.`,
    );
  }
}
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.MIC_VSCODE_UNDER_XVFB) {
  skip(
    'there is no display (DISPLAY is unset) and xvfb-run is not installed (Debian: apt-get install xvfb).',
  );
}

// The suite runs inside VS Code's extension host: bundle it to CommonJS with vscode left external.
const outDir = path.join(repo, 'out', 'vscode-suite');
await esbuild.build({
  entryPoints: [path.join(repo, 'test', 'vscode', 'suite.ts')],
  outfile: path.join(outDir, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  logLevel: 'warning',
});

const sandbox = path.join(scratch, 'vscode-test-run');
fs.rmSync(sandbox, { recursive: true, force: true });
const workspace = path.join(sandbox, 'ws');
fs.cpSync(path.join(repo, 'test', 'e2e', 'workspace'), workspace, { recursive: true });
try {
  const code = await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(outDir, 'index.js'),
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      '--disable-gpu',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      `--user-data-dir=${path.join(sandbox, 'ud')}`,
      `--extensions-dir=${path.join(sandbox, 'ext')}`,
    ],
  });
  process.exit(code);
} catch (e) {
  console.error(`test:vscode failed: ${e?.message ?? e}`);
  process.exit(1);
}
