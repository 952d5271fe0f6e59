// `npm run fuzz -- [--seed N] [--cases N] [--chaos N] [--minutes M]`: the DAP fuzzer and the
// guest-chaos fuzzer, seeded and bounded; prints cases / clean / crashes / hangs / lost writes
// and exits 1 if any of the last four is not 0.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdapter, removeAdapterCopy } from '../helpers/dap.ts';
import { runDapFuzz } from './dapFuzz.ts';
import { HANG_EVENTS, runGuestChaos } from './guestChaos.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const seed = arg('seed', 1);
  const cases = arg('cases', 20_000);
  const chaos = arg('chaos', 20_000);
  const ms = arg('minutes', 10) * 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'mic-fuzz-'));
  try {
    const t0 = Date.now();
    const dap = await runDapFuzz({ adapter: buildAdapter(), seed, cases, timeLimitMs: ms / 2, workdir: dir });
    const t1 = Date.now();
    const g = runGuestChaos({ seed, events: chaos, timeLimitMs: ms / 2, disk: join(dir, 'chaos.img') });
    const t2 = Date.now();
    console.log(`seed ${seed}`);
    console.log(
      `DAP: ${dap.cases} cases, ${dap.clean} clean, ${dap.crashes} crashes, ${dap.hangs} hangs, ${dap.leaks} leaks, ${dap.late} answered after the probe (${((t1 - t0) / 1000).toFixed(1)} s)`,
    );
    console.log(
      `guest chaos: ${g.events} events in ${g.rounds} rounds, ${g.ddCompleted} dd completed, ${g.protocolStops} protocol stops continued, ${g.recoveries} recoveries, ${g.crashes} crashes, ${g.hangs} hangs (over ${HANG_EVENTS} bus events in a round; most in one: ${g.maxRoundEvents}), ${g.lostWrites} lost writes, ${g.slowRounds} rounds over 30 s of wall time (${((t2 - t1) / 1000).toFixed(1)} s)`,
    );
    for (const f of [...dap.failures, ...g.failures].slice(0, 20)) console.log(`  ${f}`);
    const bad =
      dap.crashes + dap.hangs + dap.leaks + g.crashes + g.hangs + g.lostWrites + (dap.cases - dap.clean);
    process.exitCode = bad === 0 ? 0 : 1;
  } finally {
    removeAdapterCopy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
