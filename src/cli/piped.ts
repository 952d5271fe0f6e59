// The runner with stdin from a pipe or file: once the machine is idle, each line is typed into
// the console (a line starting with `~` is a host command instead). At end of input every
// online card is shut down in order and the process exits 0 once they are offline.

import type { Runner } from './runner.ts';
import { runHostCommand } from './hostCommands.ts';

export function runPiped(r: Runner): void {
  const { machine } = r;
  const card = r.console;
  const lines: string[] = [];
  let ended = false;
  let partial = '';
  let phase: 'boot' | 'lines' | 'shutdown' = 'boot';
  let busy = false;
  const ctx = {
    machine,
    consoleCard: card,
    print: (line: string) => process.stderr.write(line + '\n'),
    quit: () => {
      lines.length = 0;
      ended = true;
    },
  };

  const step = () => {
    if (busy || phase === 'shutdown') return;
    busy = true;
    // Let the machine settle (boot, or the previous line's work) before typing more.
    const res = machine.run(200_000);
    busy = false;
    if (res === 'limit') return void setImmediate(step);
    if (phase === 'boot') {
      if (!machine.cardOs[card].shell) {
        process.stderr.write(
          `mic-emu: ${machine.mics[card].name} did not come up (state ${machine.state(card)})\n`,
        );
        return r.finish(1);
      }
      phase = 'lines';
    }
    if (lines.length > 0) {
      const line = lines.shift()!;
      if (line.startsWith('~')) runHostCommand(ctx, line.slice(1));
      else machine.consoleInput(card, new TextEncoder().encode(line + '\n'));
      return void setImmediate(step);
    }
    if (ended) shutdownAndExit();
  };

  const shutdownAndExit = () => {
    phase = 'shutdown';
    // Orderly: the host writes `shutdown`, the card powers off, mpssd resets it to offline.
    machine.mics.forEach((_, i) => {
      if (machine.state(i) === 'online') machine.hostCommand(i, 'shutdown');
    });
    const wait = () => {
      const res = machine.run(200_000);
      if (res === 'limit') return void setImmediate(wait);
      const stuck = machine.mics.filter((d) => !['offline', 'suspended', 'reset_failed'].includes(d.state));
      if (stuck.length > 0) {
        process.stderr.write(
          `mic-emu: ${stuck.map((d) => `${d.name} stuck in state ${d.state}`).join(', ')}\n`,
        );
        return r.finish(1);
      }
      r.finish(machine.mics.some((d) => d.state === 'reset_failed') ? 1 : 0);
    };
    wait();
  };

  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts.map((l) => l.replace(/\r$/, '')));
    step();
  });
  process.stdin.on('end', () => {
    if (partial) lines.push(partial);
    partial = '';
    ended = true;
    step();
  });
  step();
}
