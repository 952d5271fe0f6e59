// Memory that costs nothing until written, so an 8 GiB card (or a 16 GiB host) starts empty.
// Storage comes in 64 KiB chunks, allocated on the first write into them; a chunk records which
// of its 4 KiB pages were written, and those are the pages the memory "holds" (snapshots, the
// memory view, the sparse-memory statistics). Reads of anything unwritten return zeros.
//
// Why chunks of 16 pages rather than single pages: the data path moves 64 KiB at a time
// (virtio buffers, DMA bounce buffers), and a copy within a chunk is one memcpy instead of
// sixteen, with one lookup instead of sixteen.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;
const CHUNK_SHIFT = 16;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;
const PAGES_PER_CHUNK = CHUNK_SIZE / PAGE_SIZE;
/** Copies up to this many bytes go byte by byte (descriptors, ring entries, headers). */
const SMALL = 64;

/** What an unwritten chunk holds, for drainTo. */
let ZEROS: Uint8Array | undefined;

class Chunk {
  readonly bytes = new Uint8Array(CHUNK_SIZE);
  /** Bit i: page i of the chunk was written. Bytes of the other pages are still zero. */
  mask = 0;
}

/** Bits of the pages that [o, o+len) covers inside a chunk (len ≥ 1). */
function pageBits(o: number, len: number): number {
  const first = o >>> PAGE_SHIFT;
  const last = (o + len - 1) >>> PAGE_SHIFT;
  return ((1 << (last + 1)) - 1) & ~((1 << first) - 1);
}

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

export class SparseMemory {
  private chunks = new Map<number, Chunk>();
  private pageCount = 0;
  // The chunk looked up last: accesses come in runs (a ring, a descriptor, a buffer).
  private lastNo = -1;
  private lastChunk: Chunk | undefined = undefined;

  constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  get pagesAllocated(): number {
    return this.pageCount;
  }

  contains(addr: number, len = 1): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  /** Page numbers that hold data, ascending (for snapshots and the memory view). */
  allocatedPages(): number[] {
    const out: number[] = [];
    for (const [n, c] of this.chunks) {
      for (let i = 0; i < PAGES_PER_CHUNK; i++) if (c.mask & (1 << i)) out.push(n * PAGES_PER_CHUNK + i);
    }
    return out.sort((a, b) => a - b);
  }

  /** The bytes of page pageNo (a view: writes to it are writes to the memory), if it holds data. */
  pageData(pageNo: number): Uint8Array | undefined {
    const c = this.chunks.get(Math.floor(pageNo / PAGES_PER_CHUNK));
    const i = pageNo % PAGES_PER_CHUNK;
    if (!c || !(c.mask & (1 << i))) return undefined;
    return c.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  }

  /** Chunk n if anything was written into it (chunks are only ever added, until clear()). */
  private lookup(n: number): Chunk | undefined {
    if (n === this.lastNo) return this.lastChunk;
    const c = this.chunks.get(n);
    if (c !== undefined) {
      this.lastNo = n;
      this.lastChunk = c;
    }
    return c;
  }

  /** The chunk holding addr, made if need be, with the pages of [addr, addr+len) marked written. */
  private chunkFor(addr: number, len: number): Chunk {
    const n = Math.floor(addr / CHUNK_SIZE);
    let c = this.lookup(n);
    if (!c) {
      c = new Chunk();
      this.chunks.set(n, c);
      this.lastNo = n;
      this.lastChunk = c;
    }
    const bits = pageBits(addr & CHUNK_MASK, len);
    if ((c.mask & bits) !== bits) {
      this.pageCount += popcount(bits & ~c.mask);
      c.mask |= bits;
    }
    return c;
  }

  read8(addr: number): number {
    const c = this.lookup(Math.floor(addr / CHUNK_SIZE));
    return c ? c.bytes[addr & CHUNK_MASK] : 0;
  }

  write8(addr: number, v: number): void {
    this.chunkFor(addr, 1).bytes[addr & CHUNK_MASK] = v;
  }

  read16(addr: number): number {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 2) {
      const c = this.lookup(Math.floor(addr / CHUNK_SIZE));
      if (!c) return 0;
      const p = c.bytes;
      const o = addr & CHUNK_MASK;
      return p[o] | (p[o + 1] << 8);
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  write16(addr: number, v: number): void {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 2) {
      const p = this.chunkFor(addr, 2).bytes;
      const o = addr & CHUNK_MASK;
      p[o] = v;
      p[o + 1] = v >>> 8;
      return;
    }
    this.write8(addr, v);
    this.write8(addr + 1, v >>> 8);
  }

  read32(addr: number): number {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 4) {
      const c = this.lookup(Math.floor(addr / CHUNK_SIZE));
      if (!c) return 0;
      const p = c.bytes;
      const o = addr & CHUNK_MASK;
      return (p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24)) >>> 0;
    }
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) >>> 0;
  }

  write32(addr: number, v: number): void {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 4) {
      const p = this.chunkFor(addr, 4).bytes;
      const o = addr & CHUNK_MASK;
      p[o] = v;
      p[o + 1] = v >>> 8;
      p[o + 2] = v >>> 16;
      p[o + 3] = v >>> 24;
      return;
    }
    this.write16(addr, v);
    this.write16(addr + 2, v >>> 16);
  }

  /** 64-bit value as a JS number; exact up to 2^53, which covers every 40/48-bit address. */
  read64(addr: number): number {
    return this.read32(addr) + this.read32(addr + 4) * 0x100000000;
  }

  write64(addr: number, v: number): void {
    this.write32(addr, v % 0x100000000);
    this.write32(addr + 4, Math.floor(v / 0x100000000));
  }

  read(addr: number, dst: Uint8Array, dstOff = 0, len = dst.length - dstOff): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const o = a & CHUNK_MASK;
      const n = Math.min(CHUNK_SIZE - o, len - done);
      const c = this.lookup(Math.floor(a / CHUNK_SIZE));
      const d = dstOff + done;
      if (!c) dst.fill(0, d, d + n);
      else if (n <= SMALL) {
        const p = c.bytes;
        for (let i = 0; i < n; i++) dst[d + i] = p[o + i];
      } else dst.set(c.bytes.subarray(o, o + n), d);
      done += n;
    }
  }

  write(addr: number, src: Uint8Array, srcOff = 0, len = src.length - srcOff): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const o = a & CHUNK_MASK;
      const n = Math.min(CHUNK_SIZE - o, len - done);
      const p = this.chunkFor(a, n).bytes;
      const s = srcOff + done;
      // Small pieces byte by byte, a whole array as it is: subarray() makes a view object (and
      // moves a small array off the V8 heap), which costs more than the copy.
      // (Never src.buffer: asking a small array for its ArrayBuffer moves it off the V8 heap.)
      if (src === p)
        p.copyWithin(o, s, s + n); // a copy inside one chunk (copyTo within this memory): memmove
      else if (n <= SMALL) for (let i = 0; i < n; i++) p[o + i] = src[s + i];
      else if (s === 0 && n === src.length) p.set(src, o);
      else p.set(src.subarray(s, s + n), o);
      done += n;
    }
  }

  fill(addr: number, len: number, byte: number): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const o = a & PAGE_MASK;
      const n = Math.min(PAGE_SIZE - o, len - done);
      if (byte !== 0) this.chunkFor(a, n).bytes.fill(byte, a & CHUNK_MASK, (a & CHUNK_MASK) + n);
      else {
        // Zero-filling an unwritten page changes nothing: keep it unwritten.
        const c = this.lookup(Math.floor(a / CHUNK_SIZE));
        if (c && c.mask & (1 << ((a & CHUNK_MASK) >>> PAGE_SHIFT)))
          c.bytes.fill(0, a & CHUNK_MASK, (a & CHUNK_MASK) + n);
      }
      done += n;
    }
  }

  /**
   * Let fill(dst, dstOff, srcOff, n) put bytes srcOff… of [addr, addr+len) straight into this
   * memory's storage, a piece per chunk (a file read lands here without a buffer in between).
   */
  fillFrom(
    addr: number,
    len: number,
    fill: (dst: Uint8Array, dstOff: number, srcOff: number, n: number) => void,
  ): void {
    this.pieces(addr, len, true, fill);
  }

  /** Hand [addr, addr+len) to drain(src, srcOff, dstOff, n) piece by piece, zeros where unwritten. */
  drainTo(
    addr: number,
    len: number,
    drain: (src: Uint8Array, srcOff: number, dstOff: number, n: number) => void,
  ): void {
    this.pieces(addr, len, false, drain);
  }

  /** [addr, addr+len) as (chunk bytes, offset in them, offset in the range, length) pieces. */
  private pieces(
    addr: number,
    len: number,
    write: boolean,
    f: (b: Uint8Array, o: number, at: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const o = a & CHUNK_MASK;
      const n = Math.min(CHUNK_SIZE - o, len - done);
      const c = write ? this.chunkFor(a, n) : this.lookup(Math.floor(a / CHUNK_SIZE));
      if (c) f(c.bytes, o, done, n);
      else f((ZEROS ??= new Uint8Array(CHUNK_SIZE)), 0, done, n);
      done += n;
    }
  }

  /**
   * Copy inside this memory or into another one (DMA, BAR0 copies). Written source pages are
   * copied in runs; unwritten ones zero the destination without making it hold data.
   */
  copyTo(dst: SparseMemory, dstAddr: number, srcAddr: number, len: number): void {
    let done = 0;
    while (done < len) {
      const s = srcAddr + done;
      const o = s & CHUNK_MASK;
      const c = this.lookup(Math.floor(s / CHUNK_SIZE));
      // The run of pages, inside this chunk, that are all written or all unwritten.
      const written = c !== undefined && (c.mask & (1 << (o >>> PAGE_SHIFT))) !== 0;
      let end = Math.min(CHUNK_SIZE, o + (len - done));
      if (c !== undefined) {
        for (let pg = (o >>> PAGE_SHIFT) + 1; pg * PAGE_SIZE < end; pg++) {
          if (((c.mask & (1 << pg)) !== 0) !== written) {
            end = pg * PAGE_SIZE;
            break;
          }
        }
      }
      const n = end - o;
      if (written) dst.write(dstAddr + done, c!.bytes, o, n);
      else dst.fill(dstAddr + done, n, 0);
      done += n;
    }
  }

  clear(): void {
    this.chunks.clear();
    this.pageCount = 0;
    this.lastNo = -1;
    this.lastChunk = undefined;
  }
}
