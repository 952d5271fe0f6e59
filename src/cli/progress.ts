// Boot progress on stderr, as it happens: reset, firmware ready, download, bootstrap kick,
// online — read off the event spine and the host kernel log, stamped with virtual time.

import type { Machine } from '../emulator/machine.ts';
import { R } from '../emulator/card/sboxRegisters.ts';

export class ProgressReporter {
  private lines: string[] = [];
  constructor(
    private readonly machine: Machine,
    private readonly err: NodeJS.WriteStream,
  ) {
    const say = (card: string, text: string) => {
      const t = (machine.sched.now / 1e9).toFixed(3).padStart(8);
      const line = `[${t}] ${card}: ${text}`;
      this.lines.push(line);
      this.flush();
    };
    machine.spine.observe((e) => {
      if (e.kind === 'state' && e.detail === 'hardware reset') say(e.space, 'reset (RGCR)');
      else if (e.kind === 'state') say(e.space, `state ${e.detail}`);
      else if (
        e.kind === 'mmio.write' &&
        e.initiator.endsWith('.cpu') &&
        e.address === R.SPAD(2) &&
        e.value & 1
      )
        say(e.space.replace('.bar4', ''), `firmware ready (SPAD2=0x${e.value.toString(16)})`);
      else if (e.kind === 'log' && e.detail.startsWith('download ')) say(e.space, e.detail);
      else if (
        e.kind === 'doorbell' &&
        e.detail === 'h2c 7' &&
        e.initiator.startsWith('host') &&
        this.kickPending(e.space)
      )
        say(e.space.replace('.bar4', ''), 'bootstrap kick (APICICR7 = 0x20e5)');
      else if (e.kind === 'protocol') say(e.space, `protocol error: ${e.detail}`);
    });
  }

  private kickPending(space: string): boolean {
    const idx = Number(space.replace(/^mic(\d+).*/, '$1'));
    return this.machine.cardOs[idx]?.bootstrap.state === 'ready';
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const nl = this.err.isTTY ? '\r\n' : '\n';
    this.err.write(this.lines.join(nl) + nl);
    this.lines = [];
  }
}
