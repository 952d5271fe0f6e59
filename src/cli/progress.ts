// Boot progress on stderr, as it happens: reset, firmware ready, download, bootstrap kick,
// online — the host driver's milestone events and the card state changes, stamped with virtual
// time. Read through the spine's rare-kind observer, so the bus runs unobserved in between.

import type { Machine } from '../emulator/machine.ts';
import type { BusEvent } from '../emulator/sim/busEvent.ts';

export class ProgressReporter {
  private lines: string[] = [];
  constructor(
    private readonly machine: Machine,
    private readonly err: NodeJS.WriteStream,
  ) {
    machine.spine.observeRare((e) => this.onEvent(e));
  }

  private onEvent(e: BusEvent): void {
    if (e.kind === 'milestone') {
      // 'online' is said by the state line that comes with it.
      if (e.milestone !== 'online') this.say(e.space, e.text);
    } else if (e.kind === 'state' && e.state !== 'hardware reset') this.say(e.space, `state ${e.state}`);
    else if (e.kind === 'protocol') this.say(e.space, `protocol error: ${e.text}`);
  }

  private say(who: string, text: string): void {
    const t = (this.machine.sched.now / 1e9).toFixed(3).padStart(8);
    this.lines.push(`[${t}] ${who}: ${text}`);
    this.flush();
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const nl = this.err.isTTY ? '\r\n' : '\n';
    this.err.write(this.lines.join(nl) + nl);
    this.lines = [];
  }
}
