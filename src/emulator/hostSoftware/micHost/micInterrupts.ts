// Host side of the card's interrupts (mic_intr.c): MSI-X with exactly MIC_MIN_MSIX vectors,
// each request takes the first vector no source is mapped to and sets its source bit in MXAR[v];
// the enable sequence sets SICE0 (and SIAC0 for auto-clear). On B0 and later steppings the
// enable sequence is re-run after every interrupt; on A0 MSIXPBACR is written instead.
//
// Kernel era: MIC_MIN_MSIX is 8 in the DMA-era Gen-1 driver we model (3.17–3.19,
// host/mic_intr.h: "3 for virtio network, console and block devices, 1 for card shutdown
// notifications, 4 for host owned DMA channels"). 3.13–3.16, without DMA copies, had 4; 4.2+
// (SCIF) has 9.

import type { HostSpace } from '../../bus/hostSpace.ts';
import { R } from '../../card/sboxRegisters.ts';
import { call, type Routine } from '../../sim/scheduler.ts';
import { E } from '../../errno.ts';

export const MIC_MIN_MSIX = 8;
/** SICE0 bits the driver enables: doorbells 0–3 and DMA channels 0–7. */
export const MIC_X100_SICE0_BITS = 0x0000ff0f;
/** intr_start_idx of mic_x100_intr_init: SICR0 offset of doorbell 0 and of DMA channel 0. */
export const MIC_INTR_DB_START = 0;
export const MIC_INTR_DMA_START = 8;

export type IrqHandler = () => Routine;

export interface IrqRequest {
  name: string;
  sourceBit: number;
  vector: number;
  handler: IrqHandler;
}

export class MicInterrupts {
  readonly requests: IrqRequest[] = [];
  constructor(
    private readonly io: HostSpace,
    private readonly bar4: () => number,
    readonly stepping: string,
  ) {}

  /** Vectors in use: a vector is free when no request holds it. */
  private freeVector(): number {
    for (let v = 0; v < MIC_MIN_MSIX; v++) if (!this.requests.some((r) => r.vector === v)) return v;
    return -1;
  }

  /** mic_request_threaded_irq for an SICR0 source bit. Returns the vector or −ENOSPC. */
  *request(name: string, sourceBit: number, handler: IrqHandler): Routine<number> {
    const v = this.freeVector();
    if (v < 0) return -E.ENOSPC;
    this.requests.push({ name, sourceBit, vector: v, handler });
    const a = this.bar4() + R.MXAR(v);
    const old: number = yield this.io.read32(a);
    yield this.io.write32(a, (old | (1 << sourceBit)) >>> 0);
    return v;
  }

  *free(name: string): Routine {
    const i = this.requests.findIndex((r) => r.name === name);
    if (i < 0) return;
    const [r] = this.requests.splice(i, 1);
    const a = this.bar4() + R.MXAR(r.vector);
    const old: number = yield this.io.read32(a);
    yield this.io.write32(a, (old & ~(1 << r.sourceBit)) >>> 0);
  }

  /** Rewrite every MXAR from the software copy (before each boot: some steppings lose them). */
  *restoreMxar(): Routine {
    for (let v = 0; v < MIC_MIN_MSIX; v++) {
      let bits = 0;
      for (const r of this.requests) if (r.vector === v) bits |= 1 << r.sourceBit;
      yield this.io.write32(this.bar4() + R.MXAR(v), bits >>> 0);
    }
  }

  /** The enable sequence: SICE0 |= bits, SIAC0 |= bits (read, OR, write). */
  *enable(): Routine {
    const b4 = this.bar4();
    const sice: number = yield this.io.read32(b4 + R.SICE0);
    yield this.io.write32(b4 + R.SICE0, (sice | MIC_X100_SICE0_BITS) >>> 0);
    const siac: number = yield this.io.read32(b4 + R.SIAC0);
    yield this.io.write32(b4 + R.SIAC0, (siac | MIC_X100_SICE0_BITS) >>> 0);
  }

  /** The disable sequence: read SICE0, write it to SICC0, clear the bits in SIAC0. */
  *disable(): Routine {
    const b4 = this.bar4();
    const sice: number = yield this.io.read32(b4 + R.SICE0);
    yield this.io.write32(b4 + R.SICC0, sice);
    const siac: number = yield this.io.read32(b4 + R.SIAC0);
    yield this.io.write32(b4 + R.SIAC0, (siac & ~MIC_X100_SICE0_BITS) >>> 0);
  }

  /** The per-interrupt stepping workaround. */
  *ack(): Routine {
    if (this.stepping === 'A0') yield this.io.write32(this.bar4() + R.MSIXPBACR, 1);
    else yield call(this.enable());
  }

  handlersFor(vector: number): IrqRequest[] {
    return this.requests.filter((r) => r.vector === vector);
  }
}
