// The debug adapter as a client feels it: dist/debugAdapter.js as a child process on stdio,
// driven with @vscode/debugadapter-testsupport's DebugClient (the same library the adapter's
// own protocol tests use). Times are from sending a request to receiving what answers it.

import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { LOG_BUF_PHYS } from '../../src/emulator/cardSoftware/cardOs.ts';
import { median, repeat } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { tmpDir } from '../lib/machine.ts';

export interface DapOptions {
  root: string;
  reps: number;
  warmup: number;
}

const PROMPT = '[root@mic0 ~]# ';
const CMD = 'cat /proc/cpuinfo\r';

function ms(t0: number): number {
  return performance.now() - t0;
}

async function variables(dc: DebugClient, ref: number): Promise<DebugProtocol.Variable[]> {
  const r = await dc.variablesRequest({ variablesReference: ref });
  return r.body.variables;
}

/** One adapter session for all three DAP metrics. */
export async function dapMetrics(o: DapOptions): Promise<MetricResult[]> {
  const adapter = path.join(o.root, 'dist', 'debugAdapter.js');
  const dc = new DebugClient(process.execPath, adapter, 'mic');
  dc.defaultTimeout = 20_000;
  let consoleText = '';
  dc.on('mic/console', (e: DebugProtocol.Event) => {
    consoleText += Buffer.from(e.body.data, 'base64').toString('utf8');
  });
  await dc.start();
  try {
    await Promise.all([
      dc.configurationSequence(),
      // A disk of its own in a temporary directory (the adapter's default is the user's cache).
      dc.launch({
        type: 'mic',
        request: 'launch',
        name: 'bench',
        consoleTerminal: true,
        disk: path.join(tmpDir('dap'), 'disk.img'),
        diskSizeMiB: 16,
      }),
    ]);
    // Wait until mic0's shell has printed its prompt (the machine is then idle, running).
    const t0 = performance.now();
    while (!consoleText.includes(PROMPT)) {
      if (ms(t0) > 20_000)
        throw new Error(`no shell prompt on mic0 after 20 s: ${JSON.stringify(consoleText.slice(-200))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const bootMs = ms(t0);

    // ---- dap-stop: a doorbell breakpoint, console traffic, continue → stopped --------------
    const bp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'doorbell' }] });
    if (!bp.body.breakpoints[0]?.verified)
      throw new Error(`doorbell breakpoint not verified: ${bp.body.breakpoints[0]?.message}`);
    // Enough commands queued that the traffic outlasts every sample.
    const first = dc.waitForEvent('stopped');
    await dc.customRequest('mic/consoleInput', { card: 0, text: CMD.repeat(40) });
    let stopped = (await first) as DebugProtocol.StoppedEvent;
    const reasons = new Set<string>();
    const stops = await repeat(o.reps * 4, o.warmup, async () => {
      const next = dc.waitForEvent('stopped');
      const t = performance.now();
      await dc.continueRequest({ threadId: stopped.body.threadId ?? 1 });
      stopped = (await next) as DebugProtocol.StoppedEvent;
      const dt = ms(t);
      reasons.add(stopped.body.reason);
      return dt;
    });

    // ---- dap-readMemory: 64 KiB of BAR0 (the kernel log buffer, which holds text) ----------
    let got = 0;
    const reads = await repeat(o.reps * 2, o.warmup, async () => {
      const t = performance.now();
      const r = await dc.customRequest('readMemory', {
        memoryReference: 'mic0.bar0',
        offset: LOG_BUF_PHYS,
        count: 65536,
      });
      const dt = ms(t);
      got = Buffer.from((r.body as { data: string }).data, 'base64').length;
      return dt;
    });
    if (got !== 65536) throw new Error(`readMemory returned ${got} bytes, not 65536`);

    // ---- dap-virtqueue: expand Virtqueues → virtio-console → the queue with 128 chains ------
    const threads = (await dc.threadsRequest()).body.threads;
    const cpu = threads.find((t) => /mic0/.test(t.name) && /card|cpu/i.test(t.name)) ?? threads[0];
    const st = await dc.stackTraceRequest({ threadId: stopped.body.threadId ?? cpu.id });
    const scopes = (await dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes;
    const vqScope = scopes.find((s) => s.name.startsWith('Virtqueues'));
    if (!vqScope) throw new Error(`no Virtqueues scope: ${scopes.map((s) => s.name).join(', ')}`);
    let chains = 0;
    let queueName = '';
    const expand = await repeat(o.reps * 2, o.warmup, async () => {
      const t = performance.now();
      const devices = await variables(dc, vqScope.variablesReference);
      let found: DebugProtocol.Variable | undefined;
      for (const d of devices) {
        if (!d.variablesReference) continue;
        const qs = await variables(dc, d.variablesReference);
        found = qs.find((q) => /\b128 in flight/.test(q.value));
        if (found) break;
      }
      if (!found) throw new Error('no virtqueue with 128 chains in flight');
      const fields = await variables(dc, found.variablesReference);
      const inFlight = fields.find((f) => f.name === 'in flight');
      if (!inFlight) throw new Error(`queue ${found.name} has no 'in flight' list`);
      const list = await variables(dc, inFlight.variablesReference);
      const dt = ms(t);
      chains = list.length;
      queueName = found.name;
      return dt;
    });
    if (chains !== 128) throw new Error(`${queueName}: ${chains} chains listed, not 128`);

    const stopMs = median(stops);
    const readMs = median(reads);
    const vqMs = median(expand);
    return [
      {
        metric: 'dap-stop',
        what: 'continue → stopped at the next doorbell breakpoint during console traffic (stdio)',
        value: stopMs,
        unit: 'ms',
        baseline: null,
        ratio: null,
        target: 'median ≤ 15 ms',
        pass: stopMs <= 15,
        notes: {
          samples: stops.length,
          'p90 ms': +p90(stops).toFixed(2),
          'stop reasons': [...reasons].join(','),
          'adapter boot to prompt ms': Math.round(bootMs),
        },
        samples: { value: stops },
      },
      {
        metric: 'dap-readMemory',
        what: 'readMemory of 64 KiB of mic0 BAR0 (stdio, base64)',
        value: readMs,
        unit: 'ms',
        baseline: null,
        ratio: null,
        target: 'median ≤ 10 ms',
        pass: readMs <= 10,
        notes: { samples: reads.length, 'p90 ms': +p90(reads).toFixed(2) },
        samples: { value: reads },
      },
      {
        metric: 'dap-virtqueue',
        what: `variables: Virtqueues scope → device → ${queueName} → its 128 in-flight chains`,
        value: vqMs,
        unit: 'ms',
        baseline: null,
        ratio: null,
        target: 'median ≤ 30 ms',
        pass: vqMs <= 30,
        notes: { samples: expand.length, 'p90 ms': +p90(expand).toFixed(2), chains },
        samples: { value: expand },
      },
    ];
  } finally {
    await dc.stop();
  }
}

function p90(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))];
}
