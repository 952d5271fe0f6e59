// Sessions over the real protocol (DebugClient against dist/debugAdapter.js): bad launch
// attributes start nothing; pause, continue, restart and disconnect on stdio; and 100
// launch/terminate cycles in one `--server=0` adapter that leave no file descriptors behind,
// with the disk image written, closed and not held open.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  buildAdapter,
  Dap,
  openFiles,
  removeAdapterCopy,
  resultNumber,
  startServer,
  stopProcess,
} from '../helpers/dap.ts';

const T = { timeout: 60_000 };
const PROMPT = /\[root@mic0 ~\]# $/;
const HAVE_PROC = existsSync('/proc/self/fd');

let adapter: string;
let d: Dap | null = null;
let tmp: string;

before(() => {
  adapter = buildAdapter();
  tmp = mkdtempSync(join(tmpdir(), 'mic-dap-files-'));
});
after(() => {
  removeAdapterCopy();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await d?.close();
  d = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): string[] {
  const out: string[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const f = `/proc/${pid}/task/${task}/children`;
    if (existsSync(f)) out.push(...readFileSync(f, 'utf8').split(/\s+/).filter(Boolean));
  }
  return out;
}

// ---- bad launch attributes ---------------------------------------------------------------

for (const [attrs, attr, allowed] of [
  [{ cards: 9 }, 'cards', 'a whole number from 1 to 8'],
  [{ cardMemoryMiB: 'x' }, 'cardMemoryMiB', 'a whole number from 64 to 65536'],
  [{ stepping: 'D0' }, 'stepping', "one of 'A0', 'B0', 'B1', 'C0'"],
  [{ autoBoot: 'yes' }, 'autoBoot', 'true or false'],
] as const) {
  test(
    `launch with ${JSON.stringify(attrs)} fails naming '${attr}' and what is allowed; nothing starts`,
    T,
    async () => {
      const dap = (d = Dap.stdio(adapter));
      await assert.rejects(dap.launch(attrs), (e: Error) => {
        assert.equal(
          e.message,
          `launch attribute '${attr}': ${JSON.stringify(attrs[attr as keyof typeof attrs])} is not allowed; expected ${allowed}.`,
        );
        return true;
      });
      assert.deepEqual(await dap.threads(), []);
      await assert.rejects(dap.custom('mic/cards'), /no machine: launch first/);
      await assert.rejects(dap.dc.continueRequest({ threadId: 1 }), /no machine: launch first/);
      await sleep(50);
      for (const ev of ['thread', 'progressStart', 'output', 'mic/state', 'mic/console', 'stopped'])
        assert.equal(dap.all(ev).length, 0, `no ${ev} events`);
      if (HAVE_PROC) assert.deepEqual(childrenOf(dap.proc!.pid!), [], 'the adapter started no process');
      // Disconnect: the adapter ends by itself.
      await dap.dc.disconnectRequest({});
      assert.equal(await dap.exited(10_000), true, 'the adapter process exits after disconnect');
      assert.equal(dap.proc!.exitCode, 0);
    },
  );
}

// ---- run control on stdio ----------------------------------------------------------------

test(
  'pause stops within one event during cat /proc/cpuinfo; continue resumes; restart boots again with breakpoints armed; disconnect ends the adapter',
  T,
  async () => {
    const dap = (d = Dap.stdio(adapter));
    let bps: { id?: number; verified: boolean }[] = [];
    await dap.launch({}, async () => {
      bps = (
        await dap.dc.setFunctionBreakpointsRequest({
          // (the boot banner says "coprocessor": the tab makes it cpuinfo's first line)
          breakpoints: [{ name: 'state online' }, { name: 'console "processor\\t: 0"' }],
        })
      ).body.breakpoints;
    });
    const online = await dap.stopped(0);
    assert.equal(online.text, 'mic0 state online');
    assert.deepEqual(online.hitBreakpointIds, [bps[0].id]);
    await dap.dc.continueRequest({ threadId: online.threadId! });
    await dap.waitConsole(PROMPT);

    // Stop in the middle of the output: the console write with cpuinfo's first line.
    let since = dap.mark();
    await dap.type('cat /proc/cpuinfo\n');
    const mid = await dap.stopped(since);
    assert.deepEqual(mid.hitBreakpointIds, [bps[1].id]);
    const [midTop] = await dap.frames(mid.threadId!);
    const midSeq = resultNumber((await dap.evaluate('seq', midTop.id)).result);

    // Continue and pause in one write: the pause lands before the machine takes a step.
    await dap.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'state online' }] });
    since = dap.mark();
    await dap.together(() => [dap.dc.continueRequest({ threadId: 1 }), dap.dc.pauseRequest({ threadId: 1 })]);
    const paused = await dap.stopped(since);
    assert.equal(paused.reason, 'pause');
    assert.match(paused.text ?? '', /^paused after /);
    const [top] = await dap.frames(paused.threadId!);
    const pausedSeq = resultNumber((await dap.evaluate('seq', top.id)).result);
    assert.ok(pausedSeq - midSeq <= 1, `paused at event ${pausedSeq}, one after ${midSeq} at most`);
    // Nothing runs while paused: `next` performs exactly the next event.
    const step = await dap.resumeUntilStop(() => dap.dc.nextRequest({ threadId: paused.threadId! }));
    const [stepTop] = await dap.frames(step.threadId!);
    assert.equal(resultNumber((await dap.evaluate('seq', stepTop.id)).result), pausedSeq + 1);
    const shown = dap.console(0);
    assert.ok(!/cpuinfo[^]*processor[^]*# $/.test(shown), 'the output is not finished yet');

    // Continue: the rest of the output and the prompt.
    since = dap.mark();
    await dap.dc.continueRequest({ threadId: 1 });
    const rest = await dap.waitConsole(PROMPT, since);
    assert.match(dap.console(0), /processor\t: 0\r\n[^]*processor\t: 1\r\n/);
    assert.ok(rest.length > 0);
    assert.equal(dap.all('stopped', since).length, 0);

    // Restart: a new machine boots; the 'state online' breakpoint is still armed.
    since = dap.mark();
    await dap.dc.restartRequest({});
    const again = await dap.stopped(since);
    assert.equal(again.text, 'mic0 state online');
    assert.deepEqual(again.hitBreakpointIds, [bps[0].id]);
    assert.equal(dap.all('progressStart', since).length, 1, 'a new boot, with progress');
    assert.ok(dap.all('mic/state', since).some((e) => e.body.state === 'hardware reset'));
    await dap.dc.continueRequest({ threadId: again.threadId! });
    await dap.waitConsole(PROMPT, since);
    assert.match(dap.output(since, 'stdout'), /mic0: Linux version/, 'the boot log again');
    since = dap.mark();
    await dap.type('echo again\n');
    await dap.waitConsole(/again\r\n[^]*# $/, since);

    // Disconnect: the adapter process ends by itself (DAP: the adapter shuts down).
    await dap.dc.disconnectRequest({});
    assert.equal(await dap.exited(10_000), true, 'the adapter process exits after disconnect');
    assert.equal(dap.proc!.exitCode, 0);
  },
);

// ---- --server=PORT: many sessions in one process ----------------------------------------

test(
  '100 launch/terminate cycles in one --server=0 adapter leave no handles behind; disk, pcap and trace closed',
  { timeout: 120_000 },
  async () => {
    const { proc, port } = await startServer(adapter);
    const pid = proc.pid!;
    const disk = join(tmp, 'disk.img');
    const pcap = join(tmp, 'net.pcap');
    const trace = join(tmp, 'trace.jsonl');
    const ours = () => openFiles(pid).filter((f) => f.startsWith(tmp));
    let baseline = 0;
    try {
      for (let i = 0; i < 100; i++) {
        const dap = await Dap.server(adapter, port);
        try {
          if (i % 25 === 0) {
            // A few full boots with every file attribute, and real block I/O.
            await dap.launchBooted({ disk, diskSizeMiB: 1, pcap, trace });
            if (i === 0) {
              const since = dap.mark();
              await dap.type('dd if=pattern:deadbeef of=/dev/vda bs=4096 count=1\n');
              await dap.waitConsole(/copied[^]*# $/, since);
            }
          } else {
            await dap.launch({ autoBoot: false, disk, diskSizeMiB: 1, stopOnEntry: i % 2 === 0 });
          }
          if (i % 3 === 0) {
            // disconnect only
            await dap.dc.disconnectRequest({});
          } else {
            const since = dap.mark();
            await dap.dc.terminateRequest({});
            await dap.waitFor('terminated', () => true, since);
            await dap.dc.disconnectRequest({});
          }
        } finally {
          await dap.close();
        }
        if (i === 0) {
          // The dd reached the image (the back-end's writes are on disk once the session ends).
          const head = readFileSync(disk).subarray(0, 8);
          assert.equal(head.toString('hex'), 'deadbeefdeadbeef');
          assert.ok(readFileSync(trace, 'utf8').split('\n').length > 1000, 'the trace was written');
          assert.ok(readFileSync(pcap).length >= 24, 'the pcap has its header');
          if (HAVE_PROC) {
            assert.deepEqual(ours(), [], 'no descriptor on the disk, pcap or trace after the first session');
            baseline = await settledFdCount(pid, Infinity);
          }
        }
      }

      // Sessions that end badly: the client drops the connection while the machine runs, and a
      // client that disconnects before configurationDone (the launch was waiting for it).
      for (let i = 0; i < 3; i++) {
        const dap = await Dap.server(adapter, port);
        await dap.launchBooted({ disk, diskSizeMiB: 1 });
        (dap.dc as unknown as { _socket: { destroy(): void } })._socket.destroy();
      }
      {
        const dap = await Dap.server(adapter, port);
        await dap.dc.initializeRequest();
        const launched = dap.dc.launchRequest({
          type: 'mic',
          request: 'launch',
          disk,
          diskSizeMiB: 1,
        } as never);
        const refused = assert.rejects(launched, /the session ended before the launch completed/);
        await dap.dc.disconnectRequest({});
        await refused;
        await dap.close();
      }

      // The server still serves: one more session works.
      const last = await Dap.server(adapter, port);
      await last.launch({ autoBoot: false });
      assert.ok((await last.threads()).some((t) => t.name === 'mic0 card OS'));
      await last.close();

      if (HAVE_PROC) {
        const n = await settledFdCount(pid, baseline + 2);
        assert.ok(n <= baseline + 2, `${n} descriptors open, ${baseline} after the first session`);
        assert.deepEqual(ours(), [], 'no descriptor on the disk image (or pcap, trace) is left');
      }
      assert.equal(proc.exitCode, null, 'the server is still up');
    } finally {
      await stopProcess(proc);
    }
  },
);

/** The fd count once closed sockets are gone: poll until ≤ `limit` (or 5 s passed). */
async function settledFdCount(pid: number, limit: number): Promise<number> {
  let n = openFiles(pid).length;
  for (let i = 0; i < 50 && n > limit; i++) {
    await sleep(100);
    n = openFiles(pid).length;
  }
  if (limit === Infinity) {
    // After the first session: let its socket close before counting.
    await sleep(100);
    n = openFiles(pid).length;
  }
  return n;
}

test('--server with a bad port exits 2 with one line', T, () => {
  const r = spawnSync(process.execPath, [adapter, '--server=http'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'mic debug adapter: --server=http is not a port number (0–65535)\n');
});
