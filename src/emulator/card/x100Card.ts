// One X100 card's hardware: GDDR, the MMIO block (DBOX + SBOX) with its side effects,
// PCI config, SMPT, doorbells both ways, host interrupt cause/enable/MSI-X routing, reset and
// the DMA engine. What the card *runs* lives in cardSoftware/; it hooks in through CardCpu.

import { SparseMemory } from '../bus/sparseMemory.ts';
import type { Scheduler } from '../sim/scheduler.ts';
import type { Spine } from '../sim/spine.ts';
import { PciConfig } from './pciConfig.ts';
import {
  MMIO_SIZE,
  R,
  REGISTERS,
  SDBIC_PHANTOM_FIRST,
  SDBIC_PHANTOM_LAST,
  SICR0_ERR,
  registerAt,
  type RegisterInstance,
} from './sboxRegisters.ts';
import { SMPT_PAGE, SMPT_SLOTS, SMPT_WINDOW_BASE, smptBase, smptEntry, isSmptAddress } from './smpt.ts';
import { DmaEngine } from './dma/dmaEngine.ts';
import { intern } from '../sim/busEvent.ts';

/** Who is on the other end of an MMIO access: the host through BAR4, or the card itself. */
export type Side = 'host' | 'card';

/** What runs on the card (bootstrap firmware, then the card OS), as the hardware sees it. */
export interface CardCpu {
  /** A host→card doorbell (0–15) reached the card's APIC with this vector. */
  onDoorbell(db: number, vector: number): void;
  /** A card-owned DMA channel completed with its interrupt requested. */
  onDmaInterrupt(channel: number): void;
  /** RGCR reset: everything running on the card stops now. */
  onReset(): void;
  /** Reset finished in hardware: firmware starts (it sets SPAD2 when ready). */
  onPowerGood(): void;
}

/** The host platform side of the link: MSI-X messages land here. */
export interface HostInterruptSink {
  msix(card: X100Card, vector: number): void;
}

export interface X100Options {
  index: number;
  memoryBytes: number;
  deviceId?: number;
  /** PCI revision ID: 0x20 = C0 (default), 0x10 B0, 0x11 B1, 0x00 A0. */
  revision?: number;
}

export const MSIX_VECTORS = 16;

export class X100Card {
  readonly name: string;
  /** Event space names, built once (no string per access). */
  readonly gddrSpace: string;
  readonly mmioSpace: string;
  private readonly msixSpace: string;
  private readonly apicSpace: string;
  readonly gddr: SparseMemory;
  /** BAR4 storage, one entry per dword. Register semantics live in mmioRead/mmioWrite. */
  readonly regs = new Uint32Array(MMIO_SIZE / 4);
  readonly config: PciConfig;
  readonly dma: DmaEngine;
  cpu: CardCpu | null = null;
  /** Registers whose value a person last saw (for "changed" highlighting): not hardware. */
  inReset = false;
  /** Pending MSI-X vectors while MSI-X is masked or not yet enabled. */
  private msixPending = 0;

  constructor(
    readonly opts: X100Options,
    readonly sched: Scheduler,
    readonly spine: Spine,
    readonly hostRam: SparseMemory,
    readonly hostIrq: HostInterruptSink,
  ) {
    this.name = `mic${opts.index}`;
    this.gddrSpace = intern(`${this.name}.gddr`);
    // BAR4 (DBOX + SBOX registers): one space name, `micN.bar4`, for every access and doorbell.
    this.mmioSpace = intern(`${this.name}.bar4`);
    this.msixSpace = intern(`${this.name}.msix`);
    this.apicSpace = intern(`${this.name}.apic`);
    this.gddr = new SparseMemory(`${this.name}.gddr`, opts.memoryBytes);
    this.config = new PciConfig(
      opts.deviceId ?? 0x2250,
      opts.revision ?? 0x20,
      pow2AtLeast(opts.memoryBytes),
      MMIO_SIZE,
    );
    this.dma = new DmaEngine({
      name: this.name,
      gddrSpace: this.gddrSpace,
      sched,
      spine,
      regs: this.regs,
      gddr: this.gddr,
      hostRam,
      smptToHost: (a) => this.smptToHost(a),
      raiseHostCause: (bit) => this.raiseHostCause(bit),
      raiseCardInterrupt: (ch) => this.cpu?.onDmaInterrupt(ch),
    });
    this.resetRegisters();
  }

  get index(): number {
    return this.opts.index;
  }

  // ---- registers -------------------------------------------------------------------------

  reg(bar4: number): number {
    return this.regs[bar4 >>> 2];
  }

  /** Hardware-internal update (no side effects, no event): status bits, counters. */
  setReg(bar4: number, v: number): void {
    this.regs[bar4 >>> 2] = v >>> 0;
  }

  private resetRegisters(): void {
    this.regs.fill(0);
    for (const r of REGISTERS) if (r.spec.reset !== undefined) this.regs[r.bar4 >>> 2] = r.spec.reset;
    // SMPT comes out of reset as identity for the first 512 GiB (reference §3).
    for (let i = 0; i < SMPT_SLOTS; i++) this.regs[R.SMPT(i) >>> 2] = smptEntry(i * 2 ** 34);
    this.dma.reset();
  }

  /** What a debugger sees at a BAR4 offset: the stored value (write-only registers read 0). */
  mmioPeek(bar4: number): number {
    const a = bar4 & ~3;
    const r = registerAt(a);
    return r && r.spec.access === 'wo' ? 0 : this.regs[(a & (MMIO_SIZE - 1)) >>> 2];
  }

  /** MMIO read with the register's semantics; the bus has already recorded the event. */
  mmioRead(bar4: number, _side: Side): number {
    const r = registerAt(bar4);
    if (r && r.spec.access === 'wo') return 0;
    if (r && r.family === 'DSTAT') this.dma.onStatusRead(r.index);
    return this.regs[(bar4 & (MMIO_SIZE - 1)) >>> 2];
  }

  mmioWrite(bar4: number, value: number, side: Side): void {
    value >>>= 0;
    const r = registerAt(bar4);
    if (!r) {
      if (side === 'card' && bar4 >= SDBIC_PHANTOM_FIRST && bar4 <= SDBIC_PHANTOM_LAST) {
        const idx = 4 + ((bar4 - SDBIC_PHANTOM_FIRST) >>> 2);
        this.spine.protocolError(
          3,
          this.name,
          `${this.name}: card wrote SDBIC${idx} (BAR4+0x${bar4.toString(16)}), but the X100 has only card→host doorbells 0–3. The card driver accepts db ≤ 8; the hardware has no such register, so the write is dropped and no host interrupt is raised.`,
        );
        return;
      }
      // Registers outside the model keep what is written (plain storage), like scratch space.
      this.regs[(bar4 & (MMIO_SIZE - 1)) >>> 2] = value;
      return;
    }
    const i = bar4 >>> 2;
    const old = this.regs[i];
    switch (r.spec.access) {
      case 'ro':
        return;
      case 'w1c':
        this.regs[i] = (old & ~value) >>> 0;
        break;
      case 'wo':
        break;
      default:
        this.regs[i] = value;
    }
    if (r.spec.effect) this.effect(r, value, old, side);
  }

  private effect(r: RegisterInstance, value: number, old: number, side: Side): void {
    switch (r.spec.effect) {
      case 'rgcr':
        if (value & 1) this.startReset();
        return;
      case 'sice':
        this.deliverPending();
        return;
      case 'sicc':
        this.regs[R.SICE0 >>> 2] = (this.regs[R.SICE0 >>> 2] & ~value) >>> 0;
        return;
      case 'siac':
        return;
      case 'msixpbacr':
        return;
      case 'apicicr':
        if (side === 'host' && value & (1 << 13)) {
          // The send bit self-clears once the interrupt is on its way (our choice; the drivers
          // always read-modify-write, so either behaviour works with them).
          this.regs[r.bar4 >>> 2] = (value & ~(1 << 13)) >>> 0;
          this.ringCard(r.index, value & 0xff);
        }
        return;
      case 'rdmasr':
        if (side === 'host') this.ringCard(8 + r.index, 0);
        return;
      case 'sdbic':
        // The card driver rings these, but the register does not know who wrote DBREQ: a host
        // (or debugger) write through BAR4 rings the doorbell too (our choice; unsure on silicon).
        if (value & 0x8000_0000) {
          this.regs[r.bar4 >>> 2] = 0; // DBREQ self-clears
          this.spine.doorbell(this.mmioSpace, r.bar4, 'c2h', r.index, r.name);
          this.raiseHostCause(r.index);
        }
        return;
      case 'dma.dcar':
      case 'dma.dhpr':
      case 'dma.drar':
      case 'dma.dcherr':
      case 'dcr':
        this.dma.onRegisterWrite(r, value, old, side);
        return;
    }
  }

  // ---- host→card doorbells ----------------------------------------------------------------

  private ringCard(db: number, vector: number): void {
    const at = db < 8 ? R.APICICR(db) : R.RDMASR(db - 8);
    this.spine.doorbell(
      this.mmioSpace,
      at,
      'h2c',
      db,
      this.spine.observed ? (registerAt(at)?.name ?? '') : '',
    );
    if (this.inReset) return;
    const cpu = this.cpu;
    // Delivery to the card's APIC is posted: the handler runs as its own step.
    this.sched.at(0, () => {
      this.spine.irq(
        this.apicSpace,
        db,
        vector,
        'card',
        vector,
        db,
        -1,
        this.spine.observed ? `card irq ${db < 8 ? 26 + db : 17 + db - 8} (doorbell ${db})` : '',
      );
      cpu?.onDoorbell(db, vector);
    });
  }

  // ---- host interrupts: SICR0 → SICE0 → MXAR → MSI-X ------------------------------------

  raiseHostCause(bit: number): void {
    this.regs[R.SICR0 >>> 2] = (this.regs[R.SICR0 >>> 2] | (1 << bit)) >>> 0;
    this.deliverPending();
  }

  /** Raise every MSI-X vector whose MXAR selects an enabled, pending cause bit. */
  private deliverPending(): void {
    const cause = this.regs[R.SICR0 >>> 2];
    const enabled = cause & this.regs[R.SICE0 >>> 2];
    if (enabled === 0) return;
    let vectors = 0;
    for (let v = 0; v < MSIX_VECTORS; v++) if (this.regs[MXAR_WORD[v]] & enabled) vectors |= 1 << v;
    if (vectors === 0) return;
    const autoClear = enabled & this.regs[R.SIAC0 >>> 2];
    if (autoClear) this.regs[R.SICR0 >>> 2] = (cause & ~autoClear) >>> 0;
    if (!this.config.msixEnabled) {
      this.msixPending |= vectors;
      return;
    }
    for (let v = 0; v < MSIX_VECTORS; v++) if (vectors & (1 << v)) this.sendMsix(v);
  }

  /** The MSI-X message is a posted write: it lands as its own step, recorded as an 'irq'. */
  private sendMsix(v: number): void {
    this.sched.at(0, () => {
      this.spine.irq(
        this.msixSpace,
        v,
        this.regs[MXAR_WORD[v]],
        'host',
        v,
        -1,
        -1,
        this.spine.observed ? `MSI-X vector ${v}` : '',
      );
      this.hostIrq.msix(this, v);
    });
  }

  /** The host enabled MSI-X in config space: deliver what was held back. */
  flushMsix(): void {
    const p = this.msixPending;
    this.msixPending = 0;
    for (let v = 0; v < MSIX_VECTORS; v++) if (p & (1 << v)) this.sendMsix(v);
  }

  /** Raise the SBOX error interrupt (SICR0 bit 30). */
  raiseError(): void {
    this.raiseHostCause(SICR0_ERR);
  }

  // ---- SMPT ----------------------------------------------------------------------------

  /** Host physical address behind a MIC address in the SMPT window, or −1 if no host RAM there. */
  smptToHost(micAddr: number): number {
    if (!isSmptAddress(micAddr)) return -1;
    // smptTranslate() with the slot's register read in place (no closure per translation).
    const off = micAddr - SMPT_WINDOW_BASE;
    const host = smptBase(this.regs[SMPT_WORD[Math.floor(off / SMPT_PAGE)]]) + (off % SMPT_PAGE);
    // No host RAM in the 32-bit PCI hole (see bus/hostSpace.ts).
    return host < this.hostRam.size && (host < 0xc000_0000 || host >= 0x1_0000_0000) ? host : -1;
  }

  get smptWindowBase(): number {
    return SMPT_WINDOW_BASE;
  }

  // ---- reset ---------------------------------------------------------------------------

  /** Options a test or a user can turn: firmware ready delay, a reset that never completes. */
  firmwareReadyDelayNs = 1_500_000_000;
  resetNeverCompletes = false;

  private startReset(): void {
    this.spine.state(this.name, R.RGCR, 4, 1, 'hardware reset');
    this.spine.requests.forgetCard(this.index);
    this.inReset = true;
    this.cpu?.onReset();
    // Keep SPAD2 as the host left it (it zeroes it before RGCR); everything else returns to
    // its reset value. GDDR keeps its contents, as DRAM does across a warm reset.
    const spad = Array.from({ length: 16 }, (_, i) => this.regs[R.SPAD(i) >>> 2]);
    this.resetRegisters();
    for (let i = 0; i < 16; i++) this.regs[R.SPAD(i) >>> 2] = i === 2 ? spad[2] : 0;
    this.msixPending = 0;
    this.sched.at(1_000_000, () => {
      this.inReset = false;
      if (this.resetNeverCompletes) return;
      this.cpu?.onPowerGood();
    });
  }
}

/** Dword indices of MXAR0–15 and SMPT0–31 in `regs`. */
const MXAR_WORD = Int32Array.from({ length: MSIX_VECTORS }, (_, v) => R.MXAR(v) >>> 2);
const SMPT_WORD = Int32Array.from({ length: SMPT_SLOTS }, (_, i) => R.SMPT(i) >>> 2);

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
