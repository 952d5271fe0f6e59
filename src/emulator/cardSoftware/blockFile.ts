// /dev/vda as a byte-addressed file, as Linux's block layer shows a block device without a page
// cache: byte positions map to sectors, a write that does not cover whole sectors is a
// read-modify-write, a write at or past the end of the device fails with ENOSPC after what fits
// was written. Used by the shell's dd and hexdump.

import { E } from '../errno.ts';
import { call, type Routine } from '../sim/scheduler.ts';
import { SECTOR_SIZE, type VirtioBlock } from './virtioBlock.ts';

const { ENOSPC, EROFS } = E;

/** Byte positions on a virtio_blk disk; unaligned writes are read-modify-write. */
export class BlockFile {
  constructor(readonly dev: VirtioBlock) {}

  get size(): number {
    return this.dev.sizeBytes;
  }

  /** Up to len bytes at pos (fewer at the end, none past it), or −errno. */
  *pread(pos: number, len: number): Routine<Uint8Array | number> {
    if (pos >= this.size || len <= 0) return new Uint8Array(0);
    const n = Math.min(len, this.size - pos);
    const first = Math.floor(pos / SECTOR_SIZE);
    const last = Math.ceil((pos + n) / SECTOR_SIZE);
    const got: Uint8Array | number = yield call(this.dev.read(first, last - first));
    if (typeof got === 'number') return got;
    const off = pos - first * SECTOR_SIZE;
    return got.subarray(off, off + n);
  }

  /** Write at pos what fits before the end; −ENOSPC at or past the end; or −errno. */
  *pwrite(pos: number, data: Uint8Array): Routine<number> {
    if (data.length === 0) return 0;
    if (pos >= this.size) return -ENOSPC;
    const n = Math.min(data.length, this.size - pos);
    const chunk = data.subarray(0, n);
    if (pos % SECTOR_SIZE === 0 && n % SECTOR_SIZE === 0) {
      const rc: number = yield call(this.dev.write(pos / SECTOR_SIZE, chunk));
      return rc < 0 ? rc : n;
    }
    if (this.dev.readOnly) return -EROFS;
    const first = Math.floor(pos / SECTOR_SIZE);
    const last = Math.ceil((pos + n) / SECTOR_SIZE);
    const old: Uint8Array | number = yield call(this.dev.read(first, last - first));
    if (typeof old === 'number') return old;
    const buf = new Uint8Array(old);
    buf.set(chunk, pos - first * SECTOR_SIZE);
    const rc: number = yield call(this.dev.write(first, buf));
    return rc < 0 ? rc : n;
  }
}
