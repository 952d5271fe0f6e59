// The launch attribute `trace`: the debug runtime writes every event of the session to the file
// as eventToJson lines, written out whenever the machine stops or goes idle. A trace that cannot
// be written says so once in the Debug Console; the session runs on.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { parseLaunchConfig } from '../../src/debugAdapter/launchConfig.ts';
import { eventToJson } from '../../src/emulator/sim/traceRecorder.ts';
import { buildAdapter, Dap, removeAdapterCopy } from '../helpers/dap.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-rt-trace-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runtime on a small fresh disk, its Debug Console lines and console text recorded. */
function runtime(trace: string): { rt: DebugRuntime; important: string[]; tty: () => string } {
  const disk = path.join(tmpRoot, `disk-${path.basename(trace)}.img`);
  const rt = new DebugRuntime(parseLaunchConfig({ trace, disk, diskSizeMiB: 1 }));
  const important: string[] = [];
  let text = '';
  rt.on('output', (category, line) => {
    if (category === 'important') important.push(line);
  });
  rt.on('console', (_card: number, b: Uint8Array) => (text += Buffer.from(b).toString('latin1')));
  return { rt, important, tty: () => text };
}

/** Run until the card's shell is up and idle, then pause (which writes the trace out). */
async function bootAndPause(rt: DebugRuntime): Promise<void> {
  rt.resume();
  const m = rt.machine;
  const deadline = Date.now() + 30_000;
  while (!(m.cardOs[0].shell !== null && m.sched.idle)) {
    if (Date.now() > deadline) throw new Error(`the card did not boot: ${m.state(0)}`);
    await sleep(20);
  }
  const stopped = once(rt, 'stopped');
  rt.pause();
  await stopped;
}

test('trace: the session so far is in the file at a pause, every event as its eventToJson line', async () => {
  const file = path.join(tmpRoot, 'session.jsonl');
  const { rt } = runtime(file);
  let want = '';
  rt.onMachine((m) => m.spine.observe((e) => (want += eventToJson(e) + '\n')));
  rt.start();
  try {
    await bootAndPause(rt);
    assert.ok(want.length > 100_000, `${want.length} bytes of trace`);
    assert.equal(fs.readFileSync(file, 'utf8'), want);
  } finally {
    rt.dispose();
  }
  assert.equal(fs.readFileSync(file, 'utf8'), want, 'nothing lost at the end');
});

test('trace to a full disk: one line in the Debug Console, the card still answers', async () => {
  // A full disk, as a file-size limit on the adapter process makes it (writes past 512 KiB fail
  // with EFBIG): the trace of a boot and a cpuinfo (about 1 MB) is more than that.
  const adapter = buildAdapter();
  const dap = Dap.stdio(adapter, [], { fileSizeLimitKiB: 512 });
  try {
    const disk = path.join(tmpRoot, 'full.img');
    fs.writeFileSync(disk, Buffer.alloc(256 << 10));
    const trace = path.join(tmpRoot, 'full.jsonl');
    await dap.launchBooted({ trace, disk });
    const since = dap.mark();
    await dap.type('cat /proc/cpuinfo\n');
    await dap.waitConsole(/cache_alignment[^]*# $/, since);
    const said = dap
      .output(0, 'important')
      .split('\n')
      .filter((l) => l.startsWith('trace:'));
    assert.deepEqual(said, [
      `trace: writing ${trace} failed (EFBIG: file too large, write); the trace stops here`,
    ]);
    const after = dap.mark();
    await dap.type('echo after\n');
    await dap.waitConsole(/echo after\r\nafter\r\n/, after);
    assert.equal(
      dap
        .output(0, 'important')
        .split('\n')
        .filter((l) => l.startsWith('trace:')).length,
      1,
      'said once',
    );
  } finally {
    await dap.close();
    removeAdapterCopy();
  }
});
