// How VOP moves virtio payload between card GDDR and the back-end's buffers (reference §6.2,
// "Gen-2 copy engine", which our Gen-1 model adopts per the architecture): host DMA channel 0
// through a 64 KiB bounce buffer per queue in host RAM, 64-byte aligned; card→user rounds the
// source down and the length up; user→card falls back to CPU copies through BAR0 when the
// destination is unaligned or the rounded length would overrun the descriptor.

import type { HostSpace } from '../../bus/hostSpace.ts';
import { call, type Routine } from '../../sim/scheduler.ts';
import type { HostDmaChannel } from './hostDmaChannel.ts';

export const VOP_BOUNCE_SIZE = 64 * 1024;
const ALIGN = 64;

export interface Bounce {
  host: number;
  mic: number;
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
  *cardToUser(bounce: Bounce, src: number, dst: Uint8Array, dstOff: number, len: number): Routine<number> {
    let done = 0;
    while (done < len) {
      const s = src + done;
      const lead = s % ALIGN;
      const chunk = Math.min(len - done, VOP_BOUNCE_SIZE - lead);
      const alignedSrc = s - lead;
      const alignedLen = Math.ceil((lead + chunk) / ALIGN) * ALIGN;
      // A failed DMA copy (DCHERR, time-out) leaves the channel unready; the same piece is then
      // copied by the CPU through BAR0, so no data is lost.
      const rc: number = this.dma.ready
        ? yield call(this.dma.memcpySync(alignedSrc, bounce.mic, alignedLen))
        : -1;
      if (rc === 0) {
        yield this.io.readInto(bounce.host + lead, dst, dstOff + done, chunk);
        this.stats.dmaBytes += chunk;
      } else {
        const bytes: Uint8Array = yield this.io.read(this.bar0() + s, chunk);
        dst.set(bytes, dstOff + done);
        this.stats.cpuBytes += chunk;
      }
      done += chunk;
    }
    return 0;
  }

  /** Copy src into GDDR at dst, where the descriptor has room bytes from dst on. */
  *userToCard(bounce: Bounce, src: Uint8Array, dst: number, room: number): Routine<number> {
    const len = src.length;
    const rounded = Math.ceil(len / ALIGN) * ALIGN;
    if (!this.dma.ready || dst % ALIGN !== 0 || rounded > room) {
      yield this.io.write(this.bar0() + dst, src);
      this.stats.cpuBytes += len;
      return 0;
    }
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, VOP_BOUNCE_SIZE);
      yield this.io.write(bounce.host, src.subarray(done, done + chunk));
      const rc: number = yield call(
        this.dma.memcpySync(bounce.mic, dst + done, Math.ceil(chunk / ALIGN) * ALIGN),
      );
      if (rc < 0) {
        // The DMA copy failed: finish the rest by CPU through BAR0.
        yield this.io.write(this.bar0() + dst + done, src.subarray(done));
        this.stats.cpuBytes += len - done;
        return 0;
      }
      this.stats.dmaBytes += chunk;
      done += chunk;
    }
    return 0;
  }
}
