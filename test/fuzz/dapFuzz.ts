// The DAP fuzzer: over a real `--server` connection to dist/debugAdapter.js, requests whose
// fields are replaced by hostile values, memory requests over many reference forms, and broken
// framing. In batches: every request must get exactly one response, no response may carry a JS
// stack or our install path, and the adapter must answer a `threads` probe after each batch
// (else: a hang) and still be running (else: a crash).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { leaksInternals, RawDap } from '../helpers/rawDap.ts';
import { Rng } from './rng.ts';

export interface DapFuzzStats {
  cases: number;
  clean: number;
  crashes: number;
  hangs: number;
  leaks: number;
  /** Cases answered after the batch's probe (still exactly once): counted clean. */
  late: number;
  failures: string[];
}

const HOSTILE: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  0.5,
  -0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  1e308,
  '',
  '0',
  '4',
  '-1',
  'mic0.bar4+0',
  '../../etc/passwd',
  '/dev/stdout',
  'x'.repeat(10_000),
  '\u0000',
  '\ud800',
  '__proto__',
  {},
  [],
  [null],
  { __proto__: { x: 1 } },
  { threadId: 'x' },
  [{ name: 5 }],
];
const REFS = [
  'mic0.bar0+0',
  'mic0.bar4+0x1cc90',
  'mic0.gddr+0x4000000',
  'host+0x1000',
  '0x1000',
  'mic0.mmio+4',
  'mic7.gddr+0',
  'mic0.bar4+0xffffffff',
  'host+-1',
  'mic0.gddr+0x1_0000',
  ' mic0.bar0 + 0x10 ',
  '',
  'garbage',
];
const TEMPLATES: [string, Record<string, unknown>][] = [
  ['threads', {}],
  ['stackTrace', { threadId: 1, startFrame: 0, levels: 5 }],
  ['scopes', { frameId: 1 }],
  ['variables', { variablesReference: 1, start: 0, count: 10 }],
  ['setVariable', { variablesReference: 1, name: 'SPAD0', value: '0x1' }],
  ['evaluate', { expression: 'SICR0', context: 'repl' }],
  ['evaluate', { expression: 'x mic0.bar4+0x1ab20 16', context: 'repl' }],
  ['readMemory', { memoryReference: 'mic0.bar4+0', offset: 0, count: 64 }],
  ['writeMemory', { memoryReference: 'mic0.gddr+0x100000', offset: 0, data: 'AAECAw==' }],
  ['setFunctionBreakpoints', { breakpoints: [{ name: 'doorbell' }] }],
  ['setExceptionBreakpoints', { filters: [] }],
  ['dataBreakpointInfo', { name: 'SPAD0', variablesReference: 1 }],
  ['setDataBreakpoints', { breakpoints: [] }],
  ['source', { sourceReference: 1 }],
  ['exceptionInfo', { threadId: 1 }],
  ['pause', { threadId: 1 }],
  ['continue', { threadId: 1 }],
  ['next', { threadId: 1 }],
  ['stepIn', { threadId: 1 }],
  ['stepOut', { threadId: 1 }],
  ['setBreakpoints', { source: { path: 'x' }, breakpoints: [{ line: 1 }] }],
  ['mic/cards', {}],
  ['mic/registers', { card: 0 }],
  ['mic/virtqueues', {}],
  ['mic/dma', { card: 0 }],
  ['mic/debugfs', { card: 0, file: 'dp' }],
  ['mic/consoleInput', { card: 0, text: 'echo hi\n' }],
  ['launch', { autoBoot: false }],
  ['attach', {}],
  ['goto', { threadId: 1, targetId: 1 }],
  ['nonsense', {}],
];
/** Broken framing the fuzzer sends (also replayed by test/debugAdapter/framingJunk.test.ts). */
export const JUNK = [
  'Content-Length: 5\r\n\r\nhello',
  'Content-Length: 4\r\n\r\nnull',
  'Content-Length: 2\r\n\r\n[]',
  'garbage before\r\n',
  'content-length:3\n\n{}}',
  'Content-Length: 40\r\n\r\n{"seq":1,"type":"req',
  'Content-Length: 99999999999\r\n\r\n',
  'Content-Length: \r\n\r\n',
];

function mutate(rng: Rng, base: Record<string, unknown>): unknown {
  const r = rng.int(10);
  if (r === 0) return rng.pick([undefined, null, 'str', 5, []]);
  const a: Record<string, unknown> = { ...base };
  const keys = Object.keys(a);
  const n = 1 + rng.int(2);
  for (let i = 0; i < n; i++) {
    if (keys.length && rng.chance(0.8)) {
      const k = rng.pick(keys);
      if (rng.chance(0.2)) delete a[k];
      else a[k] = rng.pick(HOSTILE);
    } else a[rng.pick(['threadId', 'count', 'offset', 'card', 'extra'])] = rng.pick(HOSTILE);
  }
  return a;
}

export async function runDapFuzz(o: {
  adapter: string;
  seed: number;
  cases: number;
  timeLimitMs: number;
  workdir: string;
  batch?: number;
}): Promise<DapFuzzStats> {
  const rng = new Rng(o.seed);
  const st: DapFuzzStats = { cases: 0, clean: 0, crashes: 0, hangs: 0, leaks: 0, late: 0, failures: [] };
  const proc = spawn(process.execPath, [o.adapter, '--server=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((res, rej) => {
    proc.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) res(Number(m[1]));
    });
    proc.once('exit', (c) => rej(new Error(`adapter exited (${c}): ${err}`)));
  });
  const open = async () => {
    const d = await RawDap.server(port);
    await d.launch({ disk: join(o.workdir, 'fuzz.img'), diskSizeMiB: 4, cardMemoryMiB: 1024 });
    return d;
  };
  let d = await open();
  const t0 = Date.now();
  const batch = o.batch ?? 40;
  try {
    while (st.cases < o.cases && Date.now() - t0 < o.timeLimitMs) {
      const sent: number[] = [];
      /** seq → what was sent (for the failure lines) */
      const what = new Map<number, string>();
      /** seq → what was sent just before it in this batch (framing junk included) */
      const before = new Map<number, string>();
      const sentLog: string[] = ['(start of batch)'];
      const last = () => sentLog.slice(-3).join(' | ');
      const n = Math.min(batch, o.cases - st.cases);
      for (let i = 0; i < n; i++) {
        const kind = rng.int(20);
        if (kind === 0) {
          const junk = rng.pick(JUNK);
          d.write(junk);
          sentLog.push(`junk ${JSON.stringify(junk)}`);
        } else if (kind < 5) {
          const write = rng.chance(0.3);
          const args: Record<string, unknown> = {
            memoryReference: rng.pick(REFS),
            offset: rng.pick([0, 1, 3, -4, 4096, 2 ** 40]),
          };
          if (write) args.data = rng.pick(['AAECAw==', '', '////', 'AA']);
          else args.count = rng.pick([0, 1, 4, 16, 4096, 65536, rng.chance(0.02) ? 2 ** 31 : 7]);
          const seq = d.send(write ? 'writeMemory' : 'readMemory', args);
          sent.push(seq);
          what.set(seq, `${write ? 'writeMemory' : 'readMemory'} ${JSON.stringify(args)}`);
          before.set(seq, last());
          sentLog.push(`seq ${seq} ${String(what.get(seq)).slice(0, 80)}`);
        } else {
          const [cmd, base] = rng.pick(TEMPLATES);
          const args = rng.chance(0.85) ? mutate(rng, base) : base;
          const seq = d.send(cmd, args);
          sent.push(seq);
          what.set(seq, `${cmd} ${String(JSON.stringify(args)).slice(0, 200)}`);
          before.set(seq, last());
          sentLog.push(`seq ${seq} ${String(what.get(seq)).slice(0, 80)}`);
        }
      }
      st.cases += n;
      const probe = d.send('threads');
      try {
        await d.response(probe, 20_000);
      } catch {
        if (!d.alive || proc.exitCode !== null) st.crashes++;
        else st.hangs++;
        st.failures.push(`batch ending at case ${st.cases} (seed ${o.seed}): no answer to the probe`);
        if (proc.exitCode !== null) break;
        await d.close();
        d = await open();
        continue;
      }
      let bad = 0;
      for (const seq of sent) {
        // DAP asks for one response per request, not for responses in order: one still missing
        // when the probe is answered (a request that waited, on a loaded machine) gets 20 s more.
        if (d.responses(seq).length === 0) {
          try {
            await d.response(seq, 20_000);
            st.late++;
          } catch {
            // none came: counted below
          }
        }
        const rs = d.responses(seq);
        if (rs.length !== 1) {
          bad++;
          st.failures.push(
            `case seq ${seq}: ${rs.length} responses to ${what.get(seq)}, sent after ${before.get(seq)}`,
          );
        } else if (!rs[0].success && leaksInternals(String(rs[0].message))) {
          bad++;
          st.leaks++;
          st.failures.push(`case seq ${seq} leaked: ${rs[0].message}`);
        }
      }
      st.clean += n - bad;
      if (d.events('terminated').length > 0 || d.messages.length > 50_000) {
        await d.close();
        d = await open();
      }
    }
  } finally {
    await d.close();
    if (proc.exitCode !== null) st.crashes++;
    proc.kill('SIGTERM');
  }
  return st;
}
