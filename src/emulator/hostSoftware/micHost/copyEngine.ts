// How VOP moves virtio payload between card GDDR and the back-end's buffers, as the DMA-era
// Gen-1 host driver does it (host/mic_virtio.c of 3.17–3.19: mic_virtio_copy_to_user /
// _from_user over mic_sync_dma; 3.13–3.16 copied with the CPU through BAR0 only): host DMA
// channel 0 through a 64 KiB bounce buffer per vring in host RAM, 64-byte aligned. card→user
// always uses DMA, rounding the source down and the length up; user→card copies with the CPU
// through BAR0 when the destination is unaligned or the rounded length would overrun the
// descriptor, else by DMA. A failed DMA copy fails the copy (−errno): there is no CPU fallback.

import type { HostSpace } from '../../bus/hostSpace.ts';
import { call, type Routine } from '../../sim/scheduler.ts';
import type { HostDmaChannel } from './hostDmaChannel.ts';

/**
 * Where a back-end's iovec points: its own bytes, or (block back-end) a range of a mapped file,
 * which copy_from_user / copy_to_user read or write in place. Only length, subarray and the
 * fill/drain callbacks are used.
 */
export interface MappedBytes {
  readonly length: number;
  subarray(begin: number, end: number): MappedBytes;
  readonly fill: (dst: Uint8Array, dstOff: number, srcOff: number, n: number) => void;
  readonly drain: (src: Uint8Array, srcOff: number, dstOff: number, n: number) => void;
}
export type UserBytes = Uint8Array | MappedBytes;

export const VOP_BOUNCE_SIZE = 64 * 1024;
const ALIGN = 64;

export interface Bounce {
  host: number;
  mic: number;
}

/**
 * mic_vdev's in_bytes / out_bytes, counted the way the DMA-era driver counts them: in_bytes
 * per DMA piece card→user including the alignment lead the source was rounded down by (the
 * kernel adds partlen, which starts at the rounded-down address); out_bytes per piece
 * user→card.
 */
export interface VdevByteCounters {
  inBytes: number;
  outBytes: number;
}

export interface CopyStats {
  dmaBytes: number;
  cpuBytes: number;
}

export class CopyEngine {
  readonly stats: CopyStats = { dmaBytes: 0, cpuBytes: 0 };
  constructor(
    private readonly io: HostSpace,
    private readonly dma: HostDmaChannel,
    private readonly bar0: () => number,
  ) {}

  /** Copy len bytes at GDDR address src into dst[dstOff…]. Returns 0 or −errno. */
  *cardToUser(
    bounce: Bounce,
    src: number,
    dst: UserBytes,
    dstOff: number,
    len: number,
    count: VdevByteCounters,
  ): Routine<number> {
    let done = 0;
    while (done < len) {
      const s = src + done;
      const lead = s % ALIGN;
      const chunk = Math.min(len - done, VOP_BOUNCE_SIZE - lead);
      const alignedSrc = s - lead;
      const alignedLen = Math.ceil((lead + chunk) / ALIGN) * ALIGN;
      const rc: number = yield call(this.dma.memcpySync(alignedSrc, bounce.mic, alignedLen));
      if (rc < 0) return rc;
      const at = dstOff + done;
      if (dst instanceof Uint8Array) yield this.io.readInto(bounce.host + lead, dst, at, chunk);
      else yield this.io.readDrained(bounce.host + lead, chunk, dst.subarray(at, at + chunk).drain);
      this.stats.dmaBytes += chunk;
      count.inBytes += lead + chunk;
      done += chunk;
    }
    return 0;
  }

  /** Copy src into GDDR at dst, where the descriptor has room bytes from dst on. 0 or −errno. */
  *userToCard(
    bounce: Bounce,
    src: UserBytes,
    dst: number,
    room: number,
    count: VdevByteCounters,
  ): Routine<number> {
    const len = src.length;
    const rounded = Math.ceil(len / ALIGN) * ALIGN;
    if (dst % ALIGN !== 0 || rounded > room) {
      yield this.put(this.bar0() + dst, src);
      this.stats.cpuBytes += len;
      count.outBytes += len;
      return 0;
    }
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, VOP_BOUNCE_SIZE);
      yield this.put(bounce.host, chunk === len ? src : src.subarray(done, done + chunk));
      const rc: number = yield call(
        this.dma.memcpySync(bounce.mic, dst + done, Math.ceil(chunk / ALIGN) * ALIGN),
      );
      if (rc < 0) return rc;
      this.stats.dmaBytes += chunk;
      count.outBytes += chunk;
      done += chunk;
    }
    return 0;
  }

  /** One bulk write of user bytes at a host address (copy_from_user into the target). */
  private put(addr: number, src: UserBytes): number {
    return src instanceof Uint8Array
      ? this.io.write(addr, src)
      : this.io.writeFilled(addr, src.length, src.fill);
  }
}
