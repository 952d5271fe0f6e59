// Boot progress as the Debug view shows it ("Booting mic0 … firmware ready … online"), read off
// the host driver's milestone events: one progress per card that starts with a boot and always
// ends — online, failed, or cancelled when the session restarts or ends.

import type { BusEvent } from '../emulator/sim/busEvent.ts';

export type ProgressPhase = 'start' | 'update' | 'end';
export type ProgressSink = (card: number, phase: ProgressPhase, message: string) => void;

export class BootProgress {
  private readonly booting = new Set<number>();

  constructor(private readonly say: ProgressSink) {}

  /** A boot was asked for (autoBoot, the boot or resume command): show it from now on. */
  begin(card: number): void {
    if (this.booting.has(card)) return;
    this.booting.add(card);
    this.say(card, 'start', `Booting mic${card}`);
  }

  /** The card is booting now. */
  has(card: number): boolean {
    return this.booting.has(card);
  }

  private end(card: number, message: string): void {
    if (!this.booting.delete(card)) return;
    this.say(card, 'end', message);
  }

  /** A milestone event (kind 'milestone') of the host driver. */
  onMilestone(e: BusEvent): void {
    const card = e.card;
    if (card < 0) return;
    switch (e.milestone) {
      case 'download':
        // mpssd boots a card again on its own (after `reboot`): a download is a boot.
        this.begin(card);
        this.say(card, 'update', 'download');
        return;
      case 'reset':
      case 'firmware ready':
      case 'bootstrap kick':
        if (this.booting.has(card)) this.say(card, 'update', e.milestone);
        return;
      case 'online':
        this.end(card, `mic${card} online`);
        return;
      default:
        // '… failed': the boot is over.
        this.end(card, `mic${card} ${e.milestone}`);
    }
  }

  /** End every progress (restart, terminate): none is left spinning. */
  cancelAll(why: string): void {
    for (const card of [...this.booting]) this.end(card, `mic${card}: ${why}`);
  }
}
