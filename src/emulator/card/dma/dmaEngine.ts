// The X100 DMA engine (reference §7): 8 channels, each a ring of 16-byte descriptors that
// software hands over by writing DHPR. One scheduler task per busy channel fetches a
// descriptor, performs it, takes its time (50 ns + 8 GB/s) and advances DSTAT, so a copy can
// be stopped and watched between any two bus accesses. Misuse (§9 #13, #16–18) sets DCHERR,
// stops the channel and is reported as a protocol error; nothing is ever thrown.
//
// Choices where the reference is unsure (§10):
// * DTPR tracks the hardware tail at run time (it always equals DSTAT[16:0]); the driver only
//   reads it at setup, where either reading gives the same value.
// * DSTAT[31:28] stays 0, so the setup check for bit 29 passes; `channelView().busy` shows
//   whether the engine is working instead.
// * DCHERR bit meanings are the emulator's (SBOX.DCHERR.fields). A DCHERRMSK bit set to 1
//   keeps that error from raising SICR0 bit 30; DCHERR still records it and the channel stops.
//   The driver writes 0, which reports every error.
// * MEMCPY flag bits (twb, intr, c, co, ecy) do nothing; only STATUS bit 59 interrupts, which is
//   all upstream uses.
// * A masked completion interrupt is dropped, not latched; DCAR bit 26 is set either way and
//   stays set until software writes DCAR.

import type { SparseMemory } from '../../bus/sparseMemory.ts';
import { sleep, type Routine, type Task } from '../../sim/scheduler.ts';
import { R, SBOX, SICR0_DMA, SICR0_ERR, type RegisterInstance } from '../sboxRegisters.ts';
import { SMPT_PAGE, SMPT_WINDOW_BASE, smptBase, smptSlot } from '../smpt.ts';
import type { Side } from '../x100Card.ts';
import {
  MAX_XFER_CARD,
  MAX_XFER_HOST,
  MIC_DMA_ALIGN,
  MIC_DMA_DESC_SIZE,
  copyDescriptor,
  decodeWordsInto,
  describeDescriptor,
  emptyDescriptor,
  hexAddr,
  type DmaDescriptor,
} from './descriptors.ts';
import type { DmaPorts } from './dmaPorts.ts';
import { intern } from '../../sim/busEvent.ts';

export const DMA_CHANNELS = 8;
/** How many executed descriptors each channel remembers for the debugger. */
export const DMA_RECENT = 16;

/** DCR: bit 2n = owner (1 host, 0 card), bit 2n+1 = enable (§7.1, as the driver code has it). */
export const DCR_OWNER = (n: number) => 1 << (2 * n);
export const DCR_ENABLE = (n: number) => 1 << (2 * n + 1);
/** Firmware hands channels 0–3 to the host, as the MPSS card driver's 0x55 does. */
export const DCR_RESET = 0x55;

export const DCAR_APIC_MASK = 1 << 24;
export const DCAR_MSIX_MASK = 1 << 25;
export const DCAR_IRQ_STATUS = 1 << 26;

export const DRAR_HI_SYSMEM = 1 << 26;
export const DSTAT_COMPLETIONS = 0x1ffff;

/** Per-descriptor cost: a fixed 50 ns plus the bytes moved at 8 GB/s (1 byte per 1/8 ns). */
export const DMA_DESC_NS = 50;
export const DMA_BYTES_PER_NS = 8;

// DCHERR bits, read from the register table so the table stays the one place they are named.
const errBit = (name: string): number => {
  const f = SBOX.DCHERR.fields?.find((x) => x.name === name);
  if (!f) throw new Error(`SBOX.DCHERR has no field ${name}`);
  return 1 << f.lo;
};
export const DCHERR_ALIGN = errBit('align');
export const DCHERR_SIZE = errBit('size');
export const DCHERR_SMPT = errBit('smpt');
export const DCHERR_RANGE = errBit('range');
export const DCHERR_DHPR = errBit('dhpr');
export const DCHERR_DESC = errBit('desc');

export interface DmaRecent {
  /** Ring index the descriptor was fetched from. */
  index: number;
  desc: DmaDescriptor;
  text: string;
}

/** A channel as the debugger shows it: plain data, read without side effects. */
export interface DmaChannelView {
  channel: number;
  owner: 'host' | 'card';
  enabled: boolean;
  DCAR: number;
  DHPR: number;
  DTPR: number;
  DRAR_LO: number;
  DRAR_HI: number;
  /** MIC address of descriptor 0. */
  ringAddress: number;
  ringSize: number;
  ringInHostMemory: boolean;
  DSTAT: number;
  DCHERR: number;
  DCHERRMSK: number;
  /** Index software handed over last (the last accepted DHPR write). */
  head: number;
  /** Next descriptor the engine fetches (= DSTAT[16:0]). */
  tail: number;
  busy: boolean;
  /** Last executed descriptors, oldest first (the failing one included). */
  recent: DmaRecent[];
}

interface RecentSlot {
  index: number;
  desc: DmaDescriptor;
}

class Channel {
  head = 0;
  tail = 0;
  /** Value of the previous DHPR write since reset, −1 if none (§9 #18). */
  lastDhpr = -1;
  task: Task | null = null;
  /** Task name and initiator, 'mic0.dma0' (made at the first kick). */
  who: string | null = null;
  /** Bumped on reset so a stale task ends at its next step. */
  epoch = 0;
  readonly recent: RecentSlot[] = Array.from({ length: DMA_RECENT }, () => ({
    index: -1,
    desc: emptyDescriptor(),
  }));
  recentNext = 0;
  recentCount = 0;
  /**
   * Who handed over the descriptors not yet fetched: per accepted DHPR write, how many it
   * handed over and the causal context of the write (its event, its virtio request), oldest
   * first. A descriptor's fetch follows from the write that handed it over, however long the
   * channel was busy before.
   */
  readonly tagCount: number[] = [];
  readonly tagCause: number[] = [];
  readonly tagReq: number[] = [];
  /** The descriptor being fetched is the first of its DHPR write's batch. */
  firstOfBatch = true;
  /** seq of the channel's last event: a read of DSTAT that sees its progress follows from it. */
  lastSeq = 0;
  // dword indices into regs
  readonly wDCAR: number;
  readonly wDHPR: number;
  readonly wDTPR: number;
  readonly wDRAR_LO: number;
  readonly wDRAR_HI: number;
  readonly wDSTAT: number;
  readonly wDCHERR: number;
  readonly wDCHERRMSK: number;
  constructor(readonly n: number) {
    this.wDCAR = R.DCAR(n) >>> 2;
    this.wDHPR = R.DHPR(n) >>> 2;
    this.wDTPR = R.DTPR(n) >>> 2;
    this.wDRAR_LO = R.DRAR_LO(n) >>> 2;
    this.wDRAR_HI = R.DRAR_HI(n) >>> 2;
    this.wDSTAT = R.DSTAT(n) >>> 2;
    this.wDCHERR = R.DCHERR(n) >>> 2;
    this.wDCHERRMSK = R.DCHERRMSK(n) >>> 2;
  }
}

const wDCR = R.DCR >>> 2;

export class DmaEngine {
  readonly channelCount = DMA_CHANNELS;
  private readonly ch: Channel[] = Array.from({ length: DMA_CHANNELS }, (_, n) => new Channel(n));
  // Result of locate(): where a MIC address range lives (no allocation per access).
  private locMem: SparseMemory;
  private locAddr = 0;
  private locSpace = '';
  private locWhy = '';

  constructor(readonly ports: DmaPorts) {
    this.locMem = ports.gddr;
  }

  // ---- reset and register writes ----------------------------------------------------------

  reset(): void {
    const regs = this.ports.regs;
    for (const c of this.ch) {
      c.epoch++;
      if (c.task) this.ports.sched.kill(c.task);
      c.task = null;
      c.head = 0;
      c.tail = 0;
      c.lastDhpr = -1;
      c.recentNext = 0;
      c.recentCount = 0;
      c.tagCount.length = c.tagCause.length = c.tagReq.length = 0;
      c.firstOfBatch = true;
      // DCAR … DCHERRMSK and the unused DAUX/DITR/DSTATWB words of the 0x40-byte block.
      regs.fill(0, c.wDCAR, c.wDCAR + 0x40 / 4);
    }
    regs[wDCR] = DCR_RESET;
  }

  /** Called by the card after it stored `value` (w1c already applied for DCHERR). */
  onRegisterWrite(r: RegisterInstance, value: number, _old: number, _side: Side): void {
    switch (r.family) {
      case 'DHPR':
        this.onDhpr(r.index, value >>> 0);
        return;
      case 'DCR':
        // Enabling a channel with pending descriptors starts it; a disabled channel's task
        // notices after its current descriptor and stops.
        for (let n = 0; n < DMA_CHANNELS; n++) if (value & DCR_ENABLE(n)) this.kick(n);
        return;
      case 'DCHERR':
        // Clearing the error does not restart the channel by itself: the next DHPR write does.
        return;
      default:
        // DCAR (masks are read when an interrupt is due) and DRAR (read at every fetch).
        return;
    }
  }

  private onDhpr(n: number, value: number): void {
    const c = this.ch[n];
    const regs = this.ports.regs;
    if (value === c.lastDhpr) {
      this.fail(
        n,
        -1,
        DCHERR_DHPR,
        18,
        `DHPR written with ${value} again, the same value as the previous write. The hardware reads a repeated head as a full-ring wrap and errors, so the driver never writes the same value twice (§7.3).`,
      );
      return;
    }
    c.lastDhpr = value;
    const size = this.ringSize(n);
    if (size === 0) {
      this.fail(
        n,
        -1,
        DCHERR_DHPR,
        0,
        `DHPR written with ${value}, but the ring size in DRAR_HI bits 20:4 is 0 (DRAR_HI=0x${regs[c.wDRAR_HI].toString(16)}): program DRAR_LO/HI before issuing (§7.3 setup step 4).`,
      );
      return;
    }
    if (value >= size) {
      this.fail(
        n,
        -1,
        DCHERR_DHPR,
        0,
        `DHPR written with ${value}, beyond the ring of ${size} descriptors (DRAR_HI bits 20:4); head indices run modulo the ring size (§7.3).`,
      );
      return;
    }
    const handed = (value - c.head + size) % size;
    if (handed > 0) {
      const sched = this.ports.sched;
      c.tagCount.push(handed);
      c.tagCause.push(sched.cause);
      c.tagReq.push(sched.req);
    }
    c.head = value;
    this.kick(n);
  }

  /**
   * The descriptor about to be fetched belongs to the request of the DHPR write that handed it
   * over; the first of that write's batch follows from the write itself, the rest from the
   * descriptor before them (the engine works through a batch in order).
   */
  private takeTag(c: Channel): void {
    if (c.tagCount.length === 0) return;
    const sched = this.ports.sched;
    if (c.firstOfBatch) sched.cause = c.tagCause[0];
    sched.req = c.tagReq[0];
    c.firstOfBatch = --c.tagCount[0] === 0;
    if (c.firstOfBatch) {
      c.tagCount.shift();
      c.tagCause.shift();
      c.tagReq.shift();
    }
  }

  /**
   * Someone reads channel n's DSTAT: if the channel did anything since the reader's last event,
   * the value read is that progress, so the read follows from the channel's last event (the
   * host's polling copy continues because the DMA finished, not because it looked again).
   */
  onStatusRead(n: number): void {
    const c = this.ch[n];
    const sched = this.ports.sched;
    if (c.lastSeq > sched.cause) sched.cause = c.lastSeq;
  }

  /** The dma.desc event of a fetched descriptor, its decoded fields as typed data. */
  private descEvent(n: number, space: string, address: number, d: DmaDescriptor): void {
    const spine = this.ports.spine;
    const code = d.raw[3] >>> 28;
    const len = d.type === 'memcpy' ? (d.len ?? 0) : d.type === 'status' ? 8 : d.type === 'general' ? 4 : 0;
    const data =
      d.dataLo === undefined
        ? -1
        : (d.dataHi ?? 0) < 2 ** 21
          ? (d.dataHi ?? 0) * 2 ** 32 + d.dataLo
          : d.dataLo;
    spine.dmaDesc(
      space,
      address,
      code,
      d.type,
      n,
      d.src ?? -1,
      d.dst ?? -1,
      len,
      data,
      spine.observed ? describeDescriptor(d) : '',
    );
  }

  /** Start the channel's task if it has work, is enabled, has no error and is not running. */
  private kick(n: number): void {
    const c = this.ch[n];
    if (c.task !== null || c.tail === c.head || !this.runnable(c)) return;
    const who = (c.who ??= intern(`${this.ports.name}.dma${n}`));
    c.task = this.ports.sched.spawn(who, who, this.run(c, c.epoch));
  }

  private runnable(c: Channel): boolean {
    const regs = this.ports.regs;
    return (regs[wDCR] & DCR_ENABLE(c.n)) !== 0 && regs[c.wDCHERR] === 0;
  }

  private hostOwned(n: number): boolean {
    return (this.ports.regs[wDCR] & DCR_OWNER(n)) !== 0;
  }

  // ---- the ring -------------------------------------------------------------------------

  private ringSize(n: number): number {
    return (this.ports.regs[this.ch[n].wDRAR_HI] >>> 4) & 0x1ffff;
  }

  private ringInHost(n: number): boolean {
    return (this.ports.regs[this.ch[n].wDRAR_HI] & DRAR_HI_SYSMEM) !== 0;
  }

  /** MIC address of descriptor 0, decoded from DRAR_LO/HI (§7.2). */
  private ringAddress(n: number): number {
    const regs = this.ports.regs;
    const c = this.ch[n];
    const lo = regs[c.wDRAR_LO];
    const hi = regs[c.wDRAR_HI];
    if (hi & DRAR_HI_SYSMEM)
      return SMPT_WINDOW_BASE + ((hi >>> 21) & 31) * SMPT_PAGE + (hi & 3) * 2 ** 32 + lo;
    return (hi & 0xf) * 2 ** 32 + lo;
  }

  // ---- address decoding -----------------------------------------------------------------

  /**
   * Where [mic, mic+len) lives: sets locMem/locAddr/locSpace and returns 0, or returns the
   * DCHERR bit and explains in locWhy. SMPT ranges must not run past their 16 GiB slot (the
   * engine's longest access, 1 MiB − 64, crosses one only when software places it so; those
   * are split by copy()).
   */
  private locate(mic: number, len: number, what: string): number {
    const p = this.ports;
    if (mic >= SMPT_WINDOW_BASE) {
      // Check every slot the range touches.
      let a = mic;
      const end = mic + len;
      do {
        const slotEnd = SMPT_WINDOW_BASE + (smptSlot(a) + 1) * SMPT_PAGE;
        const last = Math.min(end, slotEnd) - 1;
        if (p.smptToHost(a) < 0 || p.smptToHost(Math.max(a, last)) < 0) {
          const slot = smptSlot(a);
          const base = slot < 32 ? smptBase(p.regs[R.SMPT(slot) >>> 2]) : -1;
          this.locWhy =
            base < 0
              ? `${what} ${hexAddr(mic)}+${len} runs past the end of the SMPT window (§1.4).`
              : `${what} ${hexAddr(mic)}+${len} goes through SMPT slot ${slot}, which maps host ${hexAddr(base)}, beyond the host's ${p.hostRam.size / 2 ** 30} GiB of RAM: the window reaches no host memory (§3, §9 #17).`;
          return DCHERR_SMPT;
        }
        a = slotEnd;
      } while (a < end);
      this.locMem = p.hostRam;
      this.locAddr = p.smptToHost(mic);
      this.locSpace = 'host';
      return 0;
    }
    if (mic + len > p.gddr.size) {
      this.locWhy = `${what} ${hexAddr(mic)}+${len} lies beyond the card's ${p.gddr.size / 2 ** 20} MiB of GDDR; real hardware does not check this and would fault, the emulator traps (§9 #13).`;
      return DCHERR_RANGE;
    }
    this.locMem = p.gddr;
    this.locAddr = mic;
    this.locSpace = this.ports.gddrSpace;
    return 0;
  }

  /** Host address behind a MIC address, or the GDDR address itself. Only after locate() said yes. */
  private phys(mic: number): number {
    return mic >= SMPT_WINDOW_BASE ? this.ports.smptToHost(mic) : mic;
  }

  private memOf(mic: number): SparseMemory {
    return mic >= SMPT_WINDOW_BASE ? this.ports.hostRam : this.ports.gddr;
  }

  /** Bulk copy, split only where an SMPT slot ends (the next slot may map elsewhere). */
  private copy(src: number, dst: number, len: number): void {
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      let n = len - done;
      if (s >= SMPT_WINDOW_BASE) n = Math.min(n, SMPT_PAGE - ((s - SMPT_WINDOW_BASE) % SMPT_PAGE));
      if (d >= SMPT_WINDOW_BASE) n = Math.min(n, SMPT_PAGE - ((d - SMPT_WINDOW_BASE) % SMPT_PAGE));
      this.memOf(s).copyTo(this.memOf(d), this.phys(d), this.phys(s), n);
      done += n;
    }
  }

  /** Locate descriptor `index` of channel n (no side effects). Returns 0 or a DCHERR bit. */
  private locateDescriptor(n: number, index: number): number {
    const size = this.ringSize(n);
    if (index >= size) {
      this.locWhy = `the ring holds ${size} descriptors (DRAR_HI bits 20:4), so there is no descriptor ${index} to fetch (§7.3).`;
      return DCHERR_DHPR;
    }
    const ring = this.ringAddress(n);
    if (ring % MIC_DMA_ALIGN !== 0) {
      this.locWhy = `the ring at ${hexAddr(ring)} is not 64-byte aligned (§7.3).`;
      return DCHERR_ALIGN;
    }
    // A ring flagged as system memory decodes into the SMPT window, a GDDR ring below it, so
    // the address alone picks the memory.
    return this.locate(ring + index * MIC_DMA_DESC_SIZE, MIC_DMA_DESC_SIZE, 'descriptor fetch from');
  }

  // ---- the channel task -----------------------------------------------------------------

  private *run(c: Channel, epoch: number): Routine<void> {
    const p = this.ports;
    const regs = p.regs;
    const n = c.n;
    try {
      while (c.epoch === epoch && c.tail !== c.head && this.runnable(c)) {
        const index = c.tail;

        // 1. Fetch the descriptor (one 16-byte read of the ring).
        const ferr = this.locateDescriptor(n, index);
        if (ferr !== 0) {
          this.fail(
            n,
            index,
            ferr,
            ferr === DCHERR_SMPT ? 17 : ferr === DCHERR_RANGE ? 13 : ferr === DCHERR_ALIGN ? 16 : 0,
            this.locWhy,
          );
          return;
        }
        const m = this.locMem;
        const a = this.locAddr;
        const slot = c.recent[c.recentNext];
        c.recentNext = (c.recentNext + 1) % DMA_RECENT;
        if (c.recentCount < DMA_RECENT) c.recentCount++;
        slot.index = index;
        const d = decodeWordsInto(m.read32(a), m.read32(a + 4), m.read32(a + 8), m.read32(a + 12), slot.desc);
        this.takeTag(c);
        this.descEvent(n, this.locSpace, a, d);
        c.lastSeq = p.spine.seq;
        yield;
        if (c.epoch !== epoch) return;

        // 2. Perform it.
        let cost = DMA_DESC_NS;
        let intr = false;
        switch (d.type) {
          case 'nop':
            break;
          case 'memcpy': {
            const src = d.src!;
            const dst = d.dst!;
            const len = d.len!;
            if (!this.checkMemcpy(n, index, src, dst, len)) return;
            if (len > 0) {
              let err = this.locate(src, len, 'MEMCPY source');
              if (err === 0) {
                const sSpace = this.locSpace;
                const sAddr = this.locAddr;
                const first = this.locMem.read32(sAddr);
                err = this.locate(dst, len, 'MEMCPY destination');
                if (err === 0) {
                  const dSpace = this.locSpace;
                  const dAddr = this.locAddr;
                  c.lastSeq = p.spine.emit('mem.read', sSpace, sAddr, len, first);
                  yield;
                  this.copy(src, dst, len);
                  c.lastSeq = p.spine.emit('mem.write', dSpace, dAddr, len, first);
                  yield;
                }
              }
              if (err !== 0) {
                this.fail(n, index, err, err === DCHERR_SMPT ? 17 : 13, this.locWhy);
                return;
              }
            }
            cost += len / DMA_BYTES_PER_NS;
            break;
          }
          case 'status': {
            const err = this.locate(d.dst!, 8, 'STATUS destination');
            if (err !== 0) {
              this.fail(n, index, err, err === DCHERR_SMPT ? 17 : 13, this.locWhy);
              return;
            }
            this.locMem.write32(this.locAddr, d.dataLo!);
            this.locMem.write32(this.locAddr + 4, d.dataHi!);
            c.lastSeq = p.spine.emit('mem.write', this.locSpace, this.locAddr, 8, d.dataLo!);
            yield;
            intr = d.intr === true;
            break;
          }
          case 'general': {
            const err = this.locate(d.dst!, 4, 'GENERAL destination');
            if (err !== 0) {
              this.fail(n, index, err, err === DCHERR_SMPT ? 17 : 13, this.locWhy);
              return;
            }
            this.locMem.write32(this.locAddr, d.dataLo!);
            c.lastSeq = p.spine.emit('mem.write', this.locSpace, this.locAddr, 4, d.dataLo!);
            yield;
            break;
          }
          default: {
            const what =
              d.type === 'reserved'
                ? `descriptor type ${d.raw[3] >>> 28} is reserved`
                : `${d.type.toUpperCase()} (AES key handling) is not modelled: its format comes from out-of-tree MPSS headers and its semantics are unsure`;
            this.fail(
              n,
              index,
              DCHERR_DESC,
              0,
              `${what} (§7.4). The upstream driver uses only MEMCPY and STATUS.`,
            );
            return;
          }
        }
        if (c.epoch !== epoch) return;
        yield sleep(cost);
        if (c.epoch !== epoch) return;

        // 3. Complete: advance the hardware tail, then interrupt (the handler reads DSTAT).
        const size = this.ringSize(n);
        c.tail = size > 0 ? (index + 1) % size : 0;
        regs[c.wDSTAT] = ((regs[c.wDSTAT] & ~DSTAT_COMPLETIONS) | c.tail) >>> 0;
        regs[c.wDTPR] = c.tail;
        if (intr) this.completionInterrupt(n);
      }
    } finally {
      if (c.epoch === epoch) c.task = null;
    }
  }

  /** §7.4 limits. Returns false after reporting the first rule broken. */
  private checkMemcpy(n: number, index: number, src: number, dst: number, len: number): boolean {
    // The usual case first, without building the list of complaints.
    if (
      src % MIC_DMA_ALIGN === 0 &&
      dst % MIC_DMA_ALIGN === 0 &&
      len % MIC_DMA_ALIGN === 0 &&
      len <= (this.hostOwned(n) ? MAX_XFER_HOST : MAX_XFER_CARD) &&
      !(src >= SMPT_WINDOW_BASE && dst >= SMPT_WINDOW_BASE)
    )
      return true;
    const bad: string[] = [];
    if (src % MIC_DMA_ALIGN !== 0) bad.push(`source ${hexAddr(src)}`);
    if (dst % MIC_DMA_ALIGN !== 0) bad.push(`destination ${hexAddr(dst)}`);
    if (len % MIC_DMA_ALIGN !== 0) bad.push(`length ${len}`);
    if (bad.length > 0) {
      this.fail(
        n,
        index,
        DCHERR_ALIGN,
        16,
        `MEMCPY ${bad.join(' and ')} ${bad.length === 1 ? 'is not a multiple' : 'are not multiples'} of 64; the X100 engine moves only 64-byte aligned data (§7.4).`,
      );
      return false;
    }
    const host = this.hostOwned(n);
    const max = host ? MAX_XFER_HOST : MAX_XFER_CARD;
    if (len > max) {
      this.fail(
        n,
        index,
        DCHERR_SIZE,
        0,
        `MEMCPY of ${len} bytes is longer than the ${max} bytes a ${host ? 'host' : 'card'}-owned channel takes per descriptor (512 KiB host, 1 MiB − 64 card; §7.4).`,
      );
      return false;
    }
    if (src >= SMPT_WINDOW_BASE && dst >= SMPT_WINDOW_BASE) {
      this.fail(
        n,
        index,
        DCHERR_DESC,
        0,
        `MEMCPY from host memory ${hexAddr(src)} to host memory ${hexAddr(dst)}: the engine cannot copy host to host, one side must be GDDR (§7.4).`,
      );
      return false;
    }
    return true;
  }

  /** STATUS with bit 59: SICR0 bit 8+n for a host-owned channel, a card APIC interrupt otherwise. */
  private completionInterrupt(n: number): void {
    const p = this.ports;
    const c = this.ch[n];
    const dcar = p.regs[c.wDCAR];
    p.regs[c.wDCAR] = (dcar | DCAR_IRQ_STATUS) >>> 0;
    if (this.hostOwned(n)) {
      if ((dcar & DCAR_MSIX_MASK) === 0) p.raiseHostCause(SICR0_DMA(n));
    } else if ((dcar & DCAR_APIC_MASK) === 0) {
      p.spine.irq(`${p.name}.apic`, n, 0, 'card', 0, -1, n, `DMA channel ${n} completion (card APIC)`);
      p.raiseCardInterrupt(n);
    }
  }

  /** Set DCHERR, report the rule, raise the SBOX error for a host-owned channel. The channel stops. */
  private fail(n: number, index: number, bit: number, rule: number, what: string): void {
    const p = this.ports;
    const c = this.ch[n];
    const err = (p.regs[c.wDCHERR] | bit) >>> 0;
    p.regs[c.wDCHERR] = err;
    const at = index >= 0 ? ` descriptor ${index}` : '';
    const stops = index >= 0 ? 'the channel stops' : `the channel stops at descriptor ${c.tail}`;
    p.spine.protocolError(
      rule,
      `${p.name}.dma${n}`,
      `${p.name} DMA channel ${n}${at}: ${what} DCHERR=0x${err.toString(16)}, ${stops}.`,
    );
    if (this.hostOwned(n) && (p.regs[c.wDCHERRMSK] & bit) === 0) p.raiseHostCause(SICR0_ERR);
  }

  // ---- inspection (no side effects) -----------------------------------------------------

  /** Last executed descriptors of channel n, oldest first, as copies. */
  recentDescriptors(n: number): DmaRecent[] {
    const c = this.ch[n];
    const out: DmaRecent[] = [];
    for (let i = 0; i < c.recentCount; i++) {
      const s = c.recent[(c.recentNext - c.recentCount + i + DMA_RECENT) % DMA_RECENT];
      const desc = copyDescriptor(s.desc);
      out.push({ index: s.index, desc, text: describeDescriptor(desc) });
    }
    return out;
  }

  /** Decode ring slot `index` of channel n as it is in memory now, or null if unreachable. */
  readDescriptor(n: number, index: number): DmaDescriptor | null {
    if (this.locateDescriptor(n, index) !== 0) return null;
    const m = this.locMem;
    const a = this.locAddr;
    return decodeWordsInto(
      m.read32(a),
      m.read32(a + 4),
      m.read32(a + 8),
      m.read32(a + 12),
      emptyDescriptor(),
    );
  }

  /** Initiator names of the channels that have run since power-on ('mic0.dma0' …). */
  usedChannels(): string[] {
    const out: string[] = [];
    for (const c of this.ch) if (c.who !== null) out.push(c.who);
    return out;
  }

  channelView(n: number): DmaChannelView {
    const regs = this.ports.regs;
    const c = this.ch[n];
    return {
      channel: n,
      owner: this.hostOwned(n) ? 'host' : 'card',
      enabled: (regs[wDCR] & DCR_ENABLE(n)) !== 0,
      DCAR: regs[c.wDCAR],
      DHPR: regs[c.wDHPR],
      DTPR: regs[c.wDTPR],
      DRAR_LO: regs[c.wDRAR_LO],
      DRAR_HI: regs[c.wDRAR_HI],
      ringAddress: this.ringAddress(n),
      ringSize: this.ringSize(n),
      ringInHostMemory: this.ringInHost(n),
      DSTAT: regs[c.wDSTAT],
      DCHERR: regs[c.wDCHERR],
      DCHERRMSK: regs[c.wDCHERRMSK],
      head: c.head,
      tail: c.tail,
      busy: c.task !== null,
      recent: this.recentDescriptors(n),
    };
  }
}
