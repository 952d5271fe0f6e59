// Card firmware after reset (the bootstrap): POST codes while it initialises, then SPAD2 =
// ready | BSP APIC ID | download address (§4.1), then wait for the host's kick on APICICR7
// (vector 229) and jump into the downloaded image.

import type { CardSpace } from '../bus/cardSpace.ts';
import { MIC_MMIO_CARD_BASE, R } from '../card/sboxRegisters.ts';
import type { X100Card } from '../card/x100Card.ts';
import { call, frame, type Routine, sleep } from '../sim/scheduler.ts';

/** Download address the firmware offers: 64 MiB, as on real cards. */
export const MIC_DOWNLOAD_ADDR = 0x0400_0000;
/**
 * BSP APIC ID reported in SPAD2 bits 9:1. (unsure: real cards report the bootstrap core's
 * APIC ID; we choose the first thread of the last core of a 57-core part, 4·56 = 224.)
 */
export const MIC_BSP_APIC_ID = 224;
export const MIC_KICK_VECTOR = 229;

/** POST codes the firmware shows while it runs (two ASCII characters in BAR4+0x242C). */
export const POST_SEQUENCE = ['01', '09', '12', '3C', '6A', 'FF'];

export type FirmwareState = 'off' | 'post' | 'ready' | 'booted';

export class Bootstrap {
  state: FirmwareState = 'off';
  constructor(
    readonly card: X100Card,
    readonly io: CardSpace,
    readonly readyDelayNs: () => number,
  ) {}

  *run(): Routine {
    yield call(frame(this.card.sched, 'bootstrap', { card: this.card.name }, this.post()));
  }

  private *post(): Routine {
    this.state = 'post';
    const step = this.readyDelayNs() / POST_SEQUENCE.length;
    for (const code of POST_SEQUENCE) {
      yield this.io.write32(MIC_MMIO_CARD_BASE + R.POST_CODE, code.charCodeAt(0) | (code.charCodeAt(1) << 8));
      yield sleep(step);
    }
    const spad2 = (MIC_DOWNLOAD_ADDR | (MIC_BSP_APIC_ID << 1) | 1) >>> 0;
    yield this.io.write32(MIC_MMIO_CARD_BASE + R.SPAD(2), spad2);
    this.state = 'ready';
  }

  /** A doorbell while waiting for the kick: is it the kick? */
  isKick(db: number, vector: number): boolean {
    return this.state === 'ready' && db === 7 && vector === MIC_KICK_VECTOR;
  }
}
