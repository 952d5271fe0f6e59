// The host driver of one host-owned X100 DMA channel (mic_x100_dma.c): a 131068-entry ring
// in host RAM behind the SMPT, the setup sequence of §7.3, MEMCPY submission with a STATUS
// fence, DHPR issue and a polled wait on DSTAT (the synchronous path VOP uses).

import type { HostSpace } from '../../bus/hostSpace.ts';
import { R } from '../../card/sboxRegisters.ts';
import { SMPT_PAGE, SMPT_WINDOW_BASE } from '../../card/smpt.ts';
import {
  MIC_DMA_DESC_RX_SIZE,
  MAX_XFER_HOST,
  encodeMemcpy,
  encodeStatus,
} from '../../card/dma/descriptors.ts';
import {
  call,
  enterFrame,
  frame,
  type Routine,
  type Scheduler,
  sleep,
  waitOn,
  WaitQueue,
} from '../../sim/scheduler.ts';
import type { HostKernel } from '../hostKernel.ts';
import { E } from '../../errno.ts';
import type { SmptAllocator } from './smptAllocator.ts';

const DCAR_MSIX_MASK = 1 << 25;
const DSTAT_BUSY = 1 << 29;
/** Synchronous waits give up after 5 s (§7.4). */
const DMA_TIMEOUT_NS = 5_000_000_000;

export class HostDmaChannel {
  ringHost = -1;
  ringMic = 0;
  statusHost = -1;
  statusMic = 0;
  head = 0;
  lastTail = 0;
  ready = false;
  cookie = 0;
  /**
   * One synchronous copy at a time (the driver's prep_lock + dma_sync_wait): back-ends of
   * different devices share the channel, and two interleaved submissions would write the same
   * ring slot and wait for a tail that has already moved past their fence.
   */
  private busy = false;
  private idle: WaitQueue | null = null;
  /** The descriptor being written into the ring (the bus copies it; one array per channel). */
  private readonly desc = new Uint8Array(16);
  /** BAR4 offsets of this channel's DHPR, DSTAT and DCHERR. */
  private readonly rDHPR: number;
  private readonly rDSTAT: number;
  private readonly rDCHERR: number;

  constructor(
    readonly ch: number,
    private readonly kernel: HostKernel,
    private readonly io: HostSpace,
    private readonly sched: Scheduler,
    private readonly bar4: () => number,
    private readonly smpt: SmptAllocator,
    private readonly cardName: string,
    private readonly syncSmpt: () => Routine = function* () {},
  ) {
    this.rDHPR = R.DHPR(ch);
    this.rDSTAT = R.DSTAT(ch);
    this.rDCHERR = R.DCHERR(ch);
  }

  private r(off: number): number {
    return this.bar4() + off;
  }

  /** Allocate and map the ring once; program the channel (setup sequence of §7.3). */
  *setup(): Routine<number> {
    return yield call(frame(this.sched, 'mic_dma_chan_setup', { ch: this.ch }, this.doSetup()));
  }

  private *doSetup(): Routine<number> {
    const ringBytes = MIC_DMA_DESC_RX_SIZE * 16;
    if (this.ringHost < 0) {
      this.ringHost = this.kernel.alloc.alloc(ringBytes, 4096);
      this.statusHost = this.kernel.alloc.alloc(4096, 4096);
      if (this.ringHost < 0 || this.statusHost < 0) return -E.ENOMEM;
      this.ringMic = this.smpt.map(this.ringHost, ringBytes);
      this.statusMic = this.smpt.map(this.statusHost, 64);
      if (this.ringMic === 0 || this.statusMic === 0) return -E.ENOMEM;
      yield call(this.syncSmpt());
    }
    const ch = this.ch;
    // 2. disable the channel and mask its interrupt
    const dcr: number = yield this.io.read32(this.r(R.DCR));
    yield this.io.write32(this.r(R.DCR), (dcr & ~(1 << (2 * ch + 1))) >>> 0);
    const dcar: number = yield this.io.read32(this.r(R.DCAR(ch)));
    yield this.io.write32(this.r(R.DCAR(ch)), (dcar | DCAR_MSIX_MASK) >>> 0);
    // 3. DCHERRMSK = 0
    yield this.io.write32(this.r(R.DCHERRMSK(ch)), 0);
    // 4. DRAR: system-memory flag, SMPT index, address bits 33:32, ring size in 20:4
    const smptIdx = Math.floor((this.ringMic - SMPT_WINDOW_BASE) / SMPT_PAGE) & 31;
    const inPage = (this.ringMic - SMPT_WINDOW_BASE) % SMPT_PAGE;
    const hi =
      ((1 << 26) | (smptIdx << 21) | (MIC_DMA_DESC_RX_SIZE << 4) | (Math.floor(inPage / 2 ** 32) & 3)) >>> 0;
    yield this.io.write32(this.r(R.DRAR_LO(ch)), inPage % 2 ** 32);
    yield this.io.write32(this.r(R.DRAR_HI(ch)), hi);
    // 5. head = last_tail = DTPR
    const dtpr: number = yield this.io.read32(this.r(R.DTPR(ch)));
    this.head = this.lastTail = dtpr & 0x1ffff;
    // 6. unmask and enable
    const dcar2: number = yield this.io.read32(this.r(R.DCAR(ch)));
    yield this.io.write32(this.r(R.DCAR(ch)), (dcar2 & ~DCAR_MSIX_MASK) >>> 0);
    const dcr2: number = yield this.io.read32(this.r(R.DCR));
    yield this.io.write32(this.r(R.DCR), (dcr2 | (1 << (2 * ch + 1))) >>> 0);
    // 7. −EBUSY if DCHERR ≠ 0 or DSTAT bit 29
    const err: number = yield this.io.read32(this.r(R.DCHERR(ch)));
    const dstat: number = yield this.io.read32(this.r(R.DSTAT(ch)));
    if (err !== 0 || dstat & DSTAT_BUSY) {
      const d: number = yield this.io.read32(this.r(R.DCR));
      yield this.io.write32(this.r(R.DCR), (d & ~(1 << (2 * ch + 1))) >>> 0);
      const m: number = yield this.io.read32(this.r(R.DCAR(ch)));
      yield this.io.write32(this.r(R.DCAR(ch)), (m | DCAR_MSIX_MASK) >>> 0);
      this.kernel.printk(
        `${this.cardName}: dma ch${ch}: DCHERR 0x${err.toString(16)} DSTAT 0x${dstat.toString(16)} at setup: -EBUSY`,
      );
      this.ready = false;
      return -E.EBUSY;
    }
    this.ready = true;
    return 0;
  }

  private free(): number {
    const n = MIC_DMA_DESC_RX_SIZE;
    return (this.lastTail - this.head - 1 + n) % n;
  }

  /**
   * Copy len bytes (all multiples of 64) between two MIC addresses and wait for completion.
   * Returns 0 or a negative errno. (The frame is pushed in place rather than with
   * `yield* frame(…)`: every step of a copy resumes through here, so one level less counts.)
   */
  *memcpySync(src: number, dst: number, len: number): Routine<number> {
    while (this.busy)
      yield waitOn((this.idle ??= new WaitQueue(this.sched, `${this.cardName} dma ch${this.ch}`, true)));
    this.busy = true;
    const t = this.sched.current!;
    const saved = enterFrame(t, 'mic_dma_memcpy_sync', { ch: this.ch, src, dst, len });
    try {
      if (!this.ready) return -E.ENODEV;
      const need = Math.ceil(len / MAX_XFER_HOST) + 3;
      if (this.free() < need) {
        yield call(this.reap());
        if (this.free() < need) {
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: Not enough desc space`);
          return -E.ENOMEM;
        }
      }
      for (let done = 0; done < len; done += MAX_XFER_HOST) {
        const n = Math.min(MAX_XFER_HOST, len - done);
        yield this.io.write(
          this.ringHost + this.head * 16,
          encodeMemcpy(src + done, dst + done, n, this.desc),
        );
        this.head = (this.head + 1) % MIC_DMA_DESC_RX_SIZE;
      }
      // Fence: a STATUS writing a cookie to the channel's scratch location, no interrupt; the
      // synchronous path polls DSTAT instead of taking the completion interrupt.
      this.cookie = (this.cookie + 1) >>> 0;
      yield this.io.write(
        this.ringHost + this.head * 16,
        encodeStatus(this.cookie, 0, this.statusMic, false, this.desc),
      );
      this.head = (this.head + 1) % MIC_DMA_DESC_RX_SIZE;
      const target = this.head;
      yield this.io.write32(this.bar4() + this.rDHPR, target);
      // Spin on DSTAT, first after the time the copy needs at about 4 GB/s.
      const deadline = this.sched.now + DMA_TIMEOUT_NS;
      yield sleep(100 + len / 4);
      for (;;) {
        const dstat: number = yield this.io.read32(this.bar4() + this.rDSTAT);
        const tail = dstat & 0x1ffff;
        if (tail === target) {
          this.lastTail = tail;
          return 0;
        }
        const err: number = yield this.io.read32(this.bar4() + this.rDCHERR);
        if (err !== 0) {
          this.lastTail = tail;
          this.ready = false;
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: DCHERR 0x${err.toString(16)}: copy failed`);
          return -E.EIO;
        }
        if (this.sched.now >= deadline) {
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: timeout after 5 s`);
          return -E.ETIMEDOUT;
        }
        yield sleep(500);
      }
    } finally {
      t.frames = saved;
      this.busy = false;
      this.idle?.signal();
    }
  }

  private *reap(): Routine {
    const dstat: number = yield this.io.read32(this.r(R.DSTAT(this.ch)));
    this.lastTail = dstat & 0x1ffff;
  }
}
