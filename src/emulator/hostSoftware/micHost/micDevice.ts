// The host driver for one card (drivers/misc/mic/host, Gen-1): probe, the sysfs state machine
// (offline, online, shutting_down, reset_failed, suspending, suspended), reset with the SPAD2
// handshake, download and bootstrap kick, the device page and its bootparam, doorbells and
// interrupts. Long-lived state lives here, in plain fields; operations are routines.

import type { HostSpace } from '../../bus/hostSpace.ts';
import type { X100Card } from '../../card/x100Card.ts';
import { R } from '../../card/sboxRegisters.ts';
import { CFG, CMD_BUS_MASTER, CMD_MEMORY, steppingName } from '../../card/pciConfig.ts';
import { SMPT_SLOTS, smptEntry } from '../../card/smpt.ts';
import { call, frame, nothing, type Routine, type Scheduler, sleep, WaitQueue } from '../../sim/scheduler.ts';
import type { Spine } from '../../sim/spine.ts';
import { BOOTPARAM, MIC_DP_SIZE, MIC_MAGIC, SHUTDOWN_STATUS, s8 } from '../../virtio/devicePage.ts';
import type { HostKernel } from '../hostKernel.ts';
import { E, errName } from '../../errno.ts';
import { CopyEngine } from './copyEngine.ts';
import { HostDmaChannel } from './hostDmaChannel.ts';
import { MIC_INTR_DMA_START, MicInterrupts } from './micInterrupts.ts';
import { SmptAllocator } from './smptAllocator.ts';
import { Vop } from './vop.ts';

export const MIC_STATES = [
  'offline',
  'online',
  'shutting_down',
  'reset_failed',
  'suspending',
  'suspended',
] as const;
export type MicState = (typeof MIC_STATES)[number];

/** SPAD2 (DOWNLOAD_INFO) fields. */
export const SPAD2_READY = 1;
export const spad2ApicId = (v: number) => (v >>> 1) & 0x1ff;
export const spad2BootAddr = (v: number) => (v & 0xfffff000) >>> 0;
export const MIC_RESET_POLL_NS = 1_000_000_000;
export const MIC_RESET_POLLS = 45;
/** Bootstrap kick: vector 229 with the send bit (§2.1). */
export const MIC_BSP_KICK = 229 | (1 << 13);

/** Files the host can "load as firmware" (lib/firmware): name → bytes. */
export type FirmwareStore = Map<string, Uint8Array>;

export interface Sysfs {
  cmdline: string;
  firmware: string;
  ramdisk: string;
  bootmode: 'linux' | 'elf';
  log_buf_addr: number;
  log_buf_len: number;
}

export class MicDevice {
  state: MicState = 'offline';
  shutdownStatus = 0;
  readonly sysfs: Sysfs = {
    cmdline: '',
    firmware: 'mic/uos.img',
    ramdisk: '',
    bootmode: 'linux',
    log_buf_addr: 0,
    log_buf_len: 0,
  };
  /** Pollers of sysfs `state` (mpssd). */
  readonly stateChanged: WaitQueue;
  readonly smpt = new SmptAllocator();
  readonly intr: MicInterrupts;
  readonly dma: HostDmaChannel;
  readonly copy: CopyEngine;
  readonly vop: Vop;
  private readonly smptDirty = new Set<number>();
  dpHost = -1;
  dpMic = 0;
  private dbCounter = 0;
  c2hShutdownDb = -1;
  /** The stepping from the PCI revision ID. */
  readonly stepping: string;
  /** Set while a reset routine runs, so a second reset request is queued work, not parallel. */
  resetting = false;
  /** Count of completed resets (PM suspend waits for one). */
  resetsDone = 0;

  constructor(
    readonly card: X100Card,
    readonly kernel: HostKernel,
    readonly firmware: FirmwareStore,
  ) {
    this.stateChanged = new WaitQueue(kernel.sched, `${card.name} state`);
    this.stepping = steppingName(card.config.revision);
    this.intr = new MicInterrupts(this.io, () => this.bar4, this.stepping);
    // mic_map reprograms an entry in the middle of an allocation; the register write is a bus
    // access, so it is queued here and performed by syncSmpt() in the routine that mapped.
    this.smpt.program = (slot) => this.smptDirty.add(slot);
    this.dma = new HostDmaChannel(
      0,
      kernel,
      this.io,
      this.sched,
      () => this.bar4,
      this.smpt,
      card.name,
      () => this.syncSmpt(),
    );
    this.copy = new CopyEngine(this.io, this.dma, () => this.bar0);
    this.vop = new Vop({
      cardName: card.name,
      cardIndex: card.index,
      sched: this.sched,
      spine: this.spine,
      io: this.io,
      dpHost: () => this.dpHost,
      bar0: () => this.bar0,
      gddrSize: () => this.card.gddr.size,
      allocRing: (bytes) => this.allocMapped(bytes),
      freeRing: (host, mic, bytes) => {
        this.smpt.unmap(mic, bytes);
        this.kernel.alloc.release(host);
      },
      nextC2hDb: () => this.nextDb(),
      requestDbIrq: (name, db, handler) => this.intr.request(name, db, handler),
      freeDbIrq: (name) => this.intr.free(name),
      ringCard: (db) => this.ringCard(db),
      syncSmpt: () => this.syncSmpt(),
      printk: (t) => this.kernel.printk(t),
      copy: this.copy,
    });
  }

  get name(): string {
    return this.card.name;
  }
  get sched(): Scheduler {
    return this.kernel.sched;
  }
  get spine(): Spine {
    return this.kernel.spine;
  }
  get io(): HostSpace {
    return this.kernel.io;
  }
  get bar0(): number {
    return this.card.config.barAddress(0);
  }
  get bar4(): number {
    return this.card.config.barAddress(4);
  }
  get bar0Size(): number {
    return this.card.config.bar0Size;
  }

  private allocMapped(bytes: number): { host: number; mic: number } | null {
    // VOP takes rings and bounce buffers from __get_free_pages(get_order(bytes)): a buddy block,
    // aligned to its own power-of-two size (a 64 KiB bounce buffer on a 64 KiB boundary).
    let align = 4096;
    while (align < bytes) align *= 2;
    const host = this.kernel.alloc.alloc(bytes, align);
    if (host < 0) return null;
    const mic = this.smpt.map(host, bytes);
    if (mic === 0) {
      this.kernel.alloc.release(host);
      return null;
    }
    return { host, mic };
  }

  /** Host-side doorbells are handed out round robin (§2.4). */
  private nextDb(): number {
    return this.dbCounter++ % 4;
  }

  /** A boot milestone as the host driver sees it (the front ends' progress comes from these). */
  private milestone(name: string, value: number, words: string): void {
    this.spine.milestone(this.name, name, value, words, `${this.name}: ${words}`);
  }

  setState(s: MicState): void {
    if (this.state === s) return;
    this.state = s;
    this.spine.state(this.name, 0, 0, MIC_STATES.indexOf(s), s);
    this.kernel.printk(`${this.name}: state ${s}`);
    this.stateChanged.signal();
  }

  // ---- probe --------------------------------------------------------------------------

  *probe(): Routine<number> {
    return yield call(frame(this.sched, 'mic_probe', { card: this.name }, this.doProbe()));
  }

  private *doProbe(): Routine<number> {
    const k = this.kernel;
    k.printk(
      `${this.name}: Intel MIC X100 (device 0x${this.card.config.deviceId.toString(16)}) stepping ${this.stepping}`,
    );
    // pci_enable_device + bus mastering; MSI-X with MIC_MIN_MSIX vectors.
    const cmd: number = yield this.cfgRead(CFG.COMMAND);
    yield this.cfgWrite(CFG.COMMAND, cmd | CMD_MEMORY | CMD_BUS_MASTER);
    const msix: number = yield this.cfgRead(CFG.CAP_MSIX);
    yield this.cfgWrite(CFG.CAP_MSIX, (msix | 0x8000_0000) >>> 0);
    this.card.flushMsix();
    // The device page: one zeroed 4 KiB page, mapped through the SMPT.
    const dp = this.allocMapped(MIC_DP_SIZE);
    if (!dp) return -E.ENOMEM;
    this.dpHost = dp.host;
    this.dpMic = dp.mic;
    yield this.io.write(this.dpHost, new Uint8Array(MIC_DP_SIZE));
    // mic_dp_init publishes the page in DPLO/DPHI (SPAD14/15) at probe; mic_start writes them
    // again before every boot (a card reset clears the scratchpads).
    yield call(this.writeDpSpads());
    this.c2hShutdownDb = this.nextDb();
    yield call(this.initBootparam());
    const rc: number = yield call(
      this.intr.request('mic_shutdown_db', this.c2hShutdownDb, () => this.shutdownDbHandler()),
    );
    if (rc < 0) return rc;
    yield call(this.programSmpt());
    yield call(this.intr.enable());
    k.printk(
      `${this.name}: device page at host 0x${this.dpHost.toString(16)}, MIC 0x${this.dpMic.toString(16)}; BAR0 0x${this.bar0.toString(16)} (${this.bar0Size / 2 ** 20} MiB), BAR4 0x${this.bar4.toString(16)}`,
    );
    return 0;
  }

  /** DPLO/DPHI: the device page's MIC address in SPAD14 (low) and SPAD15 (high). */
  private *writeDpSpads(): Routine {
    yield this.io.write32(this.bar4 + R.SPAD(14), this.dpMic % 2 ** 32);
    yield this.io.write32(this.bar4 + R.SPAD(15), Math.floor(this.dpMic / 2 ** 32));
  }

  private cfgRead(off: number): number {
    return this.kernel.io.cfgRead32(this.card, off);
  }
  private cfgWrite(off: number, v: number): number {
    return this.kernel.io.cfgWrite32(this.card, off, v);
  }

  /** Bootparam as the host writes it at probe, before each start and after each stop. */
  *initBootparam(): Routine {
    const bp = new Uint8Array(BOOTPARAM.SIZE);
    const dv = new DataView(bp.buffer);
    dv.setUint32(BOOTPARAM.magic, MIC_MAGIC, true);
    dv.setInt8(BOOTPARAM.c2h_shutdown_db, this.c2hShutdownDb);
    dv.setInt8(BOOTPARAM.h2c_shutdown_db, -1);
    dv.setInt8(BOOTPARAM.h2c_config_db, -1);
    dv.setUint8(BOOTPARAM.shutdown_status, 0);
    dv.setUint8(BOOTPARAM.shutdown_card, 0);
    yield this.io.write(this.dpHost, bp);
  }

  /** Write the SMPT entries mic_map changed since the last sync. */
  *syncSmpt(): Routine {
    for (const i of [...this.smptDirty].sort((a, b) => a - b)) {
      this.smptDirty.delete(i);
      yield this.io.write32(this.bar4 + R.SMPT(i), smptEntry(this.smpt.entries[i].base));
    }
  }

  /** Rewrite all 32 SMPT registers from the software copy. */
  *programSmpt(): Routine {
    this.smptDirty.clear();
    for (let i = 0; i < SMPT_SLOTS; i++)
      yield this.io.write32(this.bar4 + R.SMPT(i), smptEntry(this.smpt.entries[i].base));
  }

  // ---- doorbells ------------------------------------------------------------------------

  /**
   * Ring host→card doorbell db: APICICR read/set bit 13/write for 0–7, RDMASR write for 8–15.
   * Kernel era: RDMASR index db − 8 as later kernels have it; the DMA-era driver writes
   * RDMASR db − 8 + 17 (and its card listens there), a deliberate difference explained in
   * docs/faithfulness.md. No Gen-1 configuration uses doorbells 8–15.
   */
  // ringCard and isr run on every virtio request: they return the framed routine itself rather
  // than being one more generator around it.
  ringCard(db: number): Routine {
    if (db < 0) return nothing(); // −1: the card is not listening (§2.4)
    return frame(this.sched, 'mic_send_intr', { db }, this.doRing(db));
  }
  private *doRing(db: number): Routine {
    if (db < 8) {
      const a = this.bar4 + R.APICICR(db);
      const v: number = yield this.io.read32(a);
      yield this.io.write32(a, (v | (1 << 13)) >>> 0);
    } else {
      yield this.io.write32(this.bar4 + R.RDMASR(db - 8), 0);
    }
  }

  // ---- interrupts -----------------------------------------------------------------------

  private isrNames: string[] = [];
  /** The name of the task that handles MSI-X vector v (made once per vector). */
  isrTaskName(vector: number): string {
    return (this.isrNames[vector] ??= `host irq ${this.name} v${vector}`);
  }

  /** MSI-X vector v fired: run the handlers bound to it (threaded, as the kernel does). */
  isr(vector: number): Routine {
    return frame(this.sched, 'mic_interrupt', { vector }, this.doIsr(vector));
  }
  private *doIsr(vector: number): Routine {
    yield call(this.intr.ack());
    for (const r of this.intr.handlersFor(vector))
      yield call(frame(this.sched, r.name, undefined, r.handler()));
  }

  /** c2h_shutdown_db: the card reports a shutdown or a crash in shutdown_status (§4.5). */
  private *shutdownDbHandler(): Routine {
    const st: number = yield this.io.read8(this.dpHost + BOOTPARAM.shutdown_status);
    if (st >= 1 && st <= 4) {
      this.shutdownStatus = st;
      this.kernel.printk(`${this.name}: card reports shutdown_status ${SHUTDOWN_STATUS[st]}`);
      yield this.io.write8(this.dpHost + BOOTPARAM.shutdown_status, 0);
      if (st === 1) this.spine.state(this.name, 0, 0, 1, 'crashed');
      if (this.state !== 'shutting_down' && this.state !== 'suspended') this.setState('shutting_down');
    }
  }

  // ---- sysfs state commands --------------------------------------------------------------

  /** `echo CMD > /sys/class/mic/micN/state`. Returns 0 or −errno, like the write(2). */
  *writeState(cmd: string): Routine<number> {
    return yield call(frame(this.sched, 'mic_sysfs_state_store', { cmd }, this.doWriteState(cmd.trim())));
  }

  private *doWriteState(cmd: string): Routine<number> {
    switch (cmd) {
      case 'boot':
        if (this.state !== 'offline') {
          const failed = this.state === 'reset_failed';
          this.spine.protocolError(
            failed ? 21 : 23,
            this.name,
            failed
              ? `${this.name}: boot written while the card is in reset_failed; the host refuses it (-EINVAL) until a reset succeeds.`
              : `${this.name}: boot written while the card is ${this.state}, not offline; the host refuses it (-EINVAL).`,
          );
          return -E.EINVAL;
        }
        return yield call(this.boot());
      case 'reset':
        // Gen-1 mic_sysfs.c: no state check; schedule_work(reset_trigger_work) and return. The
        // work runs mic_stop(force = false), which does nothing on an offline card.
        this.scheduleResetWork();
        return 0;
      case 'shutdown':
        yield call(this.shutdown('shutting_down'));
        return 0;
      case 'suspend':
        if (this.state === 'suspending') yield call(this.shutdown('suspended'));
        return 0;
      default:
        return -E.EINVAL;
    }
  }

  /** The reset_trigger_work item: queued once (schedule_work on a pending work is a no-op). */
  private resetWorkPending = false;
  private scheduleResetWork(): void {
    if (this.resetWorkPending) return;
    this.resetWorkPending = true;
    this.sched.spawn(
      `${this.name} reset_trigger_work`,
      'host.driver',
      frame(this.sched, 'mic_reset_trigger_work', { card: this.name }, this.resetWork()),
    );
  }
  private *resetWork(): Routine {
    this.resetWorkPending = false;
    yield call(this.stop(false));
  }

  /** Request an orderly shutdown through h2c_shutdown_db; ignored if the card can't hear it. */
  private *shutdown(next: MicState): Routine {
    if (next === 'shutting_down' && this.state !== 'online') return;
    const db = s8(yield this.io.read8(this.dpHost + BOOTPARAM.h2c_shutdown_db));
    if (db === -1) return;
    yield this.io.write8(this.dpHost + BOOTPARAM.shutdown_card, 1);
    yield call(this.ringCard(db));
    this.setState(next);
  }

  /**
   * mic_stop (§4.2): unless the card is offline (or `force`): reset the virtio devices, release
   * the DMA channel and unregister the DMA device, re-initialise the bootparam, reset the card;
   * after a successful reset shutdown_status goes back to nop and the card becomes offline
   * (suspended stays suspended). Returns 0 or −ETIMEDOUT (reset_failed).
   */
  *stop(force: boolean): Routine<number> {
    return yield call(
      frame(this.sched, 'mic_stop', { card: this.name, force: force ? 1 : 0 }, this.doStop(force)),
    );
  }

  private *doStop(force: boolean): Routine<number> {
    // mic_mutex: a reset already running (e.g. mpssd's, while PM suspend forces one) finishes
    // first; this one runs after it instead of writing RGCR in the middle of it.
    while (this.resetting) yield sleep(MIC_RESET_POLL_NS / 10);
    if (this.state === 'offline' && !force) return 0;
    this.resetting = true;
    try {
      yield call(this.vop.resetAll());
      yield call(this.dma.release());
      yield call(this.dmaDeviceUnregister());
      yield call(this.initBootparam());
      const rc: number = yield call(this.hwReset());
      if (rc < 0) return rc;
      this.resetsDone++;
      this.shutdownStatus = 0;
      if (this.state !== 'suspended') this.setState('offline');
      return 0;
    } finally {
      this.resetting = false;
    }
  }

  /**
   * mic_reset: SPAD2 = 0, RGCR |= 1, sleep 1 s, then up to 45 one-second polls of SPAD2 bit 0;
   * without it the state becomes reset_failed. Returns 0 or −ETIMEDOUT.
   */
  private *hwReset(): Routine<number> {
    return yield call(frame(this.sched, 'mic_reset', { card: this.name }, this.doHwReset()));
  }

  private *doHwReset(): Routine<number> {
    yield this.io.write32(this.bar4 + R.SPAD(2), 0);
    const rgcr: number = yield this.io.read32(this.bar4 + R.RGCR);
    yield this.io.write32(this.bar4 + R.RGCR, (rgcr | 1) >>> 0);
    this.milestone('reset', 1, 'reset (RGCR)');
    yield sleep(MIC_RESET_POLL_NS);
    for (let i = 0; i < MIC_RESET_POLLS; i++) {
      const spad2: number = yield this.io.read32(this.bar4 + R.SPAD(2));
      if (spad2 & SPAD2_READY) {
        this.milestone('firmware ready', spad2, `firmware ready (SPAD2=0x${spad2.toString(16)})`);
        return 0;
      }
      yield sleep(MIC_RESET_POLL_NS);
    }
    this.kernel.printk(`${this.name}: reset failed: SPAD2 bit 0 not set after ${MIC_RESET_POLLS} s`);
    this.spine.protocolError(
      21,
      this.name,
      `${this.name}: reset never completed: SPAD2 bit 0 still clear after ${MIC_RESET_POLLS} one-second polls; the state becomes reset_failed and boot is refused until a reset succeeds.`,
    );
    this.setState('reset_failed');
    this.milestone(
      'reset failed',
      E.ETIMEDOUT,
      `reset failed: SPAD2 bit 0 not set after ${MIC_RESET_POLLS} s`,
    );
    return -E.ETIMEDOUT;
  }

  // ---- the host DMA device (mbus MBUS_DEV_DMA_HOST, drivers/dma/mic_x100_dma.c) ---------------

  /** Channels of the host's DMA device: 0–3, each with its own MSI-X vector (source 8 + n). */
  static readonly HOST_DMA_CHANNELS = 4;
  private dmaDeviceUp = false;

  private dmaIrqName(ch: number): string {
    return `mic dma_channel ${ch}`;
  }

  /**
   * mbus_register_device at mic_start: the mic_x100_dma driver probes and requests one
   * interrupt per host channel (mic_dma_setup_irq, MIC_INTR_DMA source ch). Returns 0 or −errno.
   */
  private *dmaDeviceRegister(): Routine<number> {
    for (let ch = 0; ch < MicDevice.HOST_DMA_CHANNELS; ch++) {
      const v: number = yield call(
        this.intr.request(this.dmaIrqName(ch), MIC_INTR_DMA_START + ch, () => this.dmaIrqHandler(ch)),
      );
      if (v < 0) {
        for (let k = ch - 1; k >= 0; k--) yield call(this.intr.free(this.dmaIrqName(k)));
        return v;
      }
    }
    this.dmaDeviceUp = true;
    return 0;
  }

  /** mbus_unregister_device: the DMA driver's remove frees the four channel interrupts. */
  private *dmaDeviceUnregister(): Routine {
    if (!this.dmaDeviceUp) return;
    this.dmaDeviceUp = false;
    for (let ch = 0; ch < MicDevice.HOST_DMA_CHANNELS; ch++) yield call(this.intr.free(this.dmaIrqName(ch)));
  }

  /** mic_dma_intr_handler + mic_dma_thread_fn: ack (the interrupt workaround), then clean up. */
  private *dmaIrqHandler(ch: number): Routine {
    if (ch === this.dma.ch && this.dma.ready) yield call(this.dma.reap());
  }

  // ---- host power management (§4.5: host PM suspend / resume) ------------------------------

  /** The host is going to sleep: shut the card down through mpssd, wait for the reset. Returns 0. */
  *pmSuspend(): Routine<number> {
    yield call(frame(this.sched, 'mic_suspend', { card: this.name }, this.doPmSuspend()));
    return 0;
  }

  private *doPmSuspend(): Routine {
    const st = this.state;
    if (st === 'offline') {
      this.setState('suspended');
      return;
    }
    if (st === 'suspended' || st === 'reset_failed') return;
    const before = this.resetsDone;
    this.setState(st === 'online' ? 'suspending' : 'suspended');
    // Wait up to 60 s for mpssd to finish the shutdown and reset; else force both.
    for (let i = 0; i < 600; i++) {
      if (this.resetsDone > before && this.state === 'suspended') return;
      yield sleep(100_000_000);
    }
    this.kernel.printk(`${this.name}: suspend: no completed reset within 60 s, forcing one`);
    this.setState('suspended');
    yield call(this.stop(true));
  }

  /** The host woke up: a suspended card becomes offline (reset first if firmware isn't ready). Returns 0. */
  *pmResume(): Routine<number> {
    yield call(frame(this.sched, 'mic_resume', { card: this.name }, this.doPmResume()));
    return 0;
  }

  private *doPmResume(): Routine {
    if (this.state !== 'suspended') return;
    const spad2: number = yield this.io.read32(this.bar4 + R.SPAD(2));
    // mic_complete_resume: the reset runs while the card is still suspended, so mpssd (which
    // boots on offline) sees offline only once the firmware is ready.
    if (!(spad2 & SPAD2_READY)) yield call(this.stop(true));
    this.setState('offline');
  }

  /** Download the card OS and kick the bootstrap (§4.3). */
  private *boot(): Routine<number> {
    return yield call(frame(this.sched, 'mic_start', { card: this.name }, this.doBoot()));
  }

  /**
   * mic_start of the DMA-era Gen-1 driver: the host DMA device and VOP's channel come first,
   * then the download (load_mic_fw); SMPT and MXAR restore, interrupt enable, DPLO/DPHI, the
   * bootstrap kick, online. A failed step undoes the DMA set-up and returns its errno.
   */
  private *doBoot(): Routine<number> {
    const k = this.kernel;
    for (;;) {
      // retry: the implicit reset leaves the card offline, or reset_failed (then -EINVAL).
      if (this.state !== 'offline') return -E.EINVAL;
      const spad2: number = yield this.io.read32(this.bar4 + R.SPAD(2));
      if (spad2 & SPAD2_READY) break;
      yield call(this.hwReset());
    }
    const drc: number = yield call(this.dmaDeviceRegister());
    if (drc < 0) return drc;
    // mic_request_dma_chan: dma_request_channel on the host DMA device (channel 0).
    const crc: number = yield call(this.dma.setup());
    if (crc < 0) {
      k.printk(`${this.name}: no DMA channel for VOP (${errName(crc)}): mic_start fails with -ENXIO`);
      this.milestone('boot failed', E.ENXIO, `boot failed: no DMA channel (${errName(crc)}), -ENXIO`);
      yield call(this.dmaDeviceUnregister());
      return -E.ENXIO;
    }
    const rc: number = yield call(this.loadFirmware());
    if (rc < 0) {
      yield call(this.dma.release());
      yield call(this.dmaDeviceUnregister());
      return rc;
    }
    yield call(this.programSmpt());
    yield call(this.intr.restoreMxar());
    yield call(this.intr.enable());
    yield call(this.writeDpSpads());
    // Bootstrap kick: BSP APIC ID into APICICR7 high, then vector 229 | send.
    const spad2: number = yield this.io.read32(this.bar4 + R.SPAD(2));
    yield this.io.write32(this.bar4 + R.APICICR_HI(7), spad2ApicId(spad2));
    yield this.io.write32(this.bar4 + R.APICICR(7), MIC_BSP_KICK);
    this.milestone(
      'bootstrap kick',
      MIC_BSP_KICK,
      `bootstrap kick (APICICR7 = 0x${MIC_BSP_KICK.toString(16)})`,
    );
    this.setState('online');
    this.milestone('online', 0, 'online');
    return 0;
  }

  /**
   * mic_x100_load_firmware: the download address from SPAD2, the image, SPAD5; in bootmode
   * "linux" also the command line and the ramdisk ("elf" stops after the image). 0 or −errno.
   */
  private *loadFirmware(): Routine<number> {
    const k = this.kernel;
    const spad2: number = yield this.io.read32(this.bar4 + R.SPAD(2));
    const bootaddr = spad2BootAddr(spad2);
    if (bootaddr > 2 ** 31) {
      k.printk(`${this.name}: download address 0x${bootaddr.toString(16)} above 2 GiB: -EINVAL`);
      this.milestone('download failed', E.EINVAL, 'download failed: address above 2 GiB (-EINVAL)');
      this.spine.protocolError(
        22,
        this.name,
        `${this.name}: SPAD2 download address 0x${bootaddr.toString(16)} is above 2 GiB; the host refuses to boot (-EINVAL).`,
      );
      return -E.EINVAL;
    }
    const image = this.firmware.get(this.sysfs.firmware);
    if (!image) {
      k.printk(`${this.name}: firmware ${this.sysfs.firmware} not found: -ENOENT`);
      this.milestone(
        'download failed',
        E.ENOENT,
        `download failed: firmware ${this.sysfs.firmware} not found (-ENOENT)`,
      );
      return -E.ENOENT;
    }
    if (bootaddr + image.length > this.bar0Size) {
      this.spine.protocolError(
        22,
        this.name,
        `${this.name}: image of ${image.length} bytes at 0x${bootaddr.toString(16)} does not fit in BAR0 (${this.bar0Size} bytes); boot fails with -EINVAL.`,
      );
      this.milestone(
        'download failed',
        E.EINVAL,
        'download failed: the image does not fit in BAR0 (-EINVAL)',
      );
      return -E.EINVAL;
    }
    this.milestone(
      'download',
      image.length,
      `download ${this.sysfs.firmware} (${image.length} bytes) to 0x${bootaddr.toString(16)}`,
    );
    k.printk(
      `${this.name}: downloading ${this.sysfs.firmware} (${image.length} bytes) to 0x${bootaddr.toString(16)}`,
    );
    for (let off = 0; off < image.length; off += 64 * 1024) {
      yield this.io.write(
        this.bar0 + bootaddr + off,
        image.subarray(off, Math.min(image.length, off + 64 * 1024)),
      );
    }
    yield this.io.write32(this.bar4 + R.SPAD(5), image.length);
    if (this.sysfs.bootmode === 'elf') return 0;
    // Command line right after the image: " mem=<MiB>M" and the sysfs cmdline.
    let cmdline = ` mem=${Math.floor(this.bar0Size / 2 ** 20)}M`;
    if (this.sysfs.cmdline) cmdline += ` ${this.sysfs.cmdline}`;
    const cl = new TextEncoder().encode(cmdline.slice(0, 2047) + '\0');
    yield this.io.write(this.bar0 + bootaddr + image.length, cl);
    const ramdisk = this.sysfs.ramdisk ? this.firmware.get(this.sysfs.ramdisk) : undefined;
    if (ramdisk) {
      const rdAddr = 2 * bootaddr;
      yield this.io.write(this.bar0 + rdAddr, ramdisk);
      yield this.io.write32(this.bar0 + bootaddr + 0x218, rdAddr);
      yield this.io.write32(this.bar0 + bootaddr + 0x21c, ramdisk.length);
    }
    return 0;
  }
}
