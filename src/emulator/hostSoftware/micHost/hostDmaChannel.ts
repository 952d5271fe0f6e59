// The host driver of one host-owned X100 DMA channel (drivers/dma/mic_x100_dma.c, the
// DMA-era Gen-1 of 3.17–3.19): the descriptor ring (131068 entries) and the 64-byte status
// destination are allocated and mapped through the SMPT when VOP's channel is requested at
// mic_start (alloc_chan_resources), programmed with the setup sequence of §7.3, and drained,
// disabled and unmapped again when mic_stop releases the channel (free_chan_resources).
// mic_sync_dma: MEMCPY descriptors and a DMA_PREP_FENCE STATUS writing 0 to the status
// destination, one DHPR write, then a polled wait for the tail (dma_sync_wait).
//
// One difference, on purpose (docs/faithfulness.md): while it waits the emulator also reads
// DCHERR and fails the copy with -EIO at once when the channel stopped on an error; the
// DMA-era driver never reads DCHERR and would spin until dma_sync_wait's 5 s time-out.

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
/** The descriptor ring: ALIGN(MIC_DMA_DESC_RX_SIZE × 16, 64) bytes (mic_dma_alloc_desc_ring). */
export const MIC_DMA_RING_BYTES = Math.ceil((MIC_DMA_DESC_RX_SIZE * 16) / 64) * 64;
/** The status destination: one L1 cache line, kzalloc'ed and mapped (mic_dma_alloc_status_dest). */
export const MIC_DMA_STATUS_BYTES = 64;

export class HostDmaChannel {
  ringHost = -1;
  ringMic = 0;
  statusHost = -1;
  statusMic = 0;
  head = 0;
  lastTail = 0;
  /** alloc_chan_resources succeeded and free_chan_resources has not run yet. */
  ready = false;
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

  /**
   * dma_request_channel → mic_dma_alloc_chan_resources: allocate and map the descriptor ring
   * and the status destination, then program the channel (mic_dma_chan_setup, §7.3). Returns 0
   * or −errno; on failure nothing stays allocated or mapped.
   */
  *setup(): Routine<number> {
    return yield call(frame(this.sched, 'mic_dma_alloc_chan_resources', { ch: this.ch }, this.doSetup()));
  }

  private *doSetup(): Routine<number> {
    const rc = this.allocRings();
    if (rc < 0) return rc;
    yield call(this.syncSmpt());
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
    // 7. −EBUSY if DCHERR ≠ 0 or DSTAT bit 29 (mic_dma_check_chan)
    const err: number = yield this.io.read32(this.r(R.DCHERR(ch)));
    const dstat: number = yield this.io.read32(this.r(R.DSTAT(ch)));
    if (err !== 0 || dstat & DSTAT_BUSY) {
      yield call(this.disableAndMask());
      this.kernel.printk(
        `${this.cardName}: dma ch${ch}: DCHERR 0x${err.toString(16)} DSTAT 0x${dstat.toString(16)}: error setting up mic dma chan ${ch}: -EBUSY`,
      );
      // mic_dma_chan_init's error path: free the status destination and the ring.
      this.freeRings();
      return -E.EBUSY;
    }
    this.ready = true;
    return 0;
  }

  /** kzalloc + dma_map_single of the ring and the status destination. Returns 0 or −ENOMEM. */
  private allocRings(): number {
    const alloc = this.kernel.alloc;
    const ring = alloc.alloc(MIC_DMA_RING_BYTES, 4096);
    const status = ring < 0 ? -1 : alloc.alloc(MIC_DMA_STATUS_BYTES, 4096);
    const ringMic = ring < 0 ? 0 : this.smpt.map(ring, MIC_DMA_RING_BYTES);
    const statusMic = status < 0 || ringMic === 0 ? 0 : this.smpt.map(status, MIC_DMA_STATUS_BYTES);
    if (statusMic === 0) {
      if (ringMic !== 0) this.smpt.unmap(ringMic, MIC_DMA_RING_BYTES);
      if (status >= 0) alloc.release(status);
      if (ring >= 0) alloc.release(ring);
      return -E.ENOMEM;
    }
    // kzalloc: the kernel clears its own memory (a CPU memset, not a bus transaction).
    this.io.ram.fill(ring, MIC_DMA_RING_BYTES, 0);
    this.io.ram.fill(status, MIC_DMA_STATUS_BYTES, 0);
    this.ringHost = ring;
    this.ringMic = ringMic;
    this.statusHost = status;
    this.statusMic = statusMic;
    return 0;
  }

  /** mic_dma_free_status_dest + mic_dma_free_desc_ring: dma_unmap_single, kfree. */
  private freeRings(): void {
    if (this.ringHost < 0) return;
    this.smpt.unmap(this.statusMic, MIC_DMA_STATUS_BYTES);
    this.kernel.alloc.release(this.statusHost);
    this.smpt.unmap(this.ringMic, MIC_DMA_RING_BYTES);
    this.kernel.alloc.release(this.ringHost);
    this.ringHost = this.statusHost = -1;
    this.ringMic = this.statusMic = 0;
  }

  /** mic_dma_chan_destroy: disable the channel in DCR, mask its interrupt in DCAR. */
  private *disableAndMask(): Routine {
    const ch = this.ch;
    const d: number = yield this.io.read32(this.r(R.DCR));
    yield this.io.write32(this.r(R.DCR), (d & ~(1 << (2 * ch + 1))) >>> 0);
    const m: number = yield this.io.read32(this.r(R.DCAR(ch)));
    yield this.io.write32(this.r(R.DCAR(ch)), (m | DCAR_MSIX_MASK) >>> 0);
  }

  /**
   * dma_release_channel → mic_dma_free_chan_resources (at mic_stop): drain the channel with a
   * fenced zero-length copy, disable it and mask its interrupt, reap, and unmap and free the
   * ring and the status destination. Does nothing when the channel was never set up.
   */
  *release(): Routine {
    if (!this.ready) return;
    yield call(frame(this.sched, 'mic_dma_free_chan_resources', { ch: this.ch }, this.doRelease()));
  }

  private *doRelease(): Routine {
    // mic_dma_drain_chan: prep_memcpy(len 0, DMA_PREP_FENCE) writes one MEMCPY of length 0 and
    // the fence STATUS, then dma_sync_wait.
    const rc: number = yield call(this.memcpySync(0, 0, 0));
    if (rc < 0)
      this.kernel.printk(`${this.cardName}: dma ch${this.ch}: mic_dma_drain_chan TO chan 0x${this.ch}`);
    this.ready = false;
    yield call(this.disableAndMask());
    yield call(this.reap());
    this.freeRings();
  }

  private free(): number {
    const n = MIC_DMA_DESC_RX_SIZE;
    return (this.lastTail - this.head - 1 + n) % n;
  }

  /**
   * mic_sync_dma: copy len bytes (all multiples of 64; 0 for the drain) between two MIC
   * addresses and wait for completion.
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
      // mic_sync_dma without a channel: -EBUSY.
      if (!this.ready) return -E.EBUSY;
      // mic_dma_prep_memcpy_lock with DMA_PREP_FENCE, tx_submit, dma_sync_wait: the MEMCPY
      // descriptors (at least one, even for len 0: mic_dma_prog_memcpy_desc loops do-while),
      // the fence STATUS, one DHPR write, and the wait for the hardware tail.
      const need = Math.floor(len / MAX_XFER_HOST) + 3 + (len % MAX_XFER_HOST ? 1 : 0);
      if (this.free() < need) {
        yield call(this.reap());
        if (this.free() < need) {
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: Not enough desc space`);
          return -E.ENOMEM;
        }
      }
      let done = 0;
      do {
        const n = Math.min(MAX_XFER_HOST, len - done);
        yield this.io.write(
          this.ringHost + this.head * 16,
          encodeMemcpy(src + done, dst + done, n, this.desc),
        );
        this.head = (this.head + 1) % MIC_DMA_DESC_RX_SIZE;
        done += n;
      } while (done < len);
      // The fence: a STATUS writing 0 to the channel's status destination, no interrupt
      // (mic_dma_do_dma with DMA_PREP_FENCE); the synchronous path polls instead.
      yield this.io.write(
        this.ringHost + this.head * 16,
        encodeStatus(0, 0, this.statusMic, false, this.desc),
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
        // Our addition (see the header): a channel stopped on an error fails the copy now.
        const err: number = yield this.io.read32(this.bar4() + this.rDCHERR);
        if (err !== 0) {
          this.lastTail = tail;
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: DCHERR 0x${err.toString(16)}: copy failed`);
          return -E.EIO;
        }
        if (this.sched.now >= deadline) {
          this.kernel.printk(`${this.cardName}: dma ch${this.ch}: dma_sync_wait: timeout!`);
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

  /** mic_dma_cleanup: read the hardware tail (DSTAT) and complete what it passed. */
  *reap(): Routine {
    const dstat: number = yield this.io.read32(this.r(R.DSTAT(this.ch)));
    this.lastTail = dstat & 0x1ffff;
  }
}
