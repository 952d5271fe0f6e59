// Memory that costs nothing until written: 4 KiB pages allocated on first write, so an 8 GiB
// card (or a 16 GiB host) starts empty. Reads of untouched pages return zeros.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;
/** Copies up to this many bytes go byte by byte (descriptors, ring entries, headers). */
const SMALL = 64;

export class SparseMemory {
  private pages = new Map<number, Uint8Array>();
  // The page looked up last: accesses come in runs on one page (a ring, a descriptor, a buffer).
  private lastNo = -1;
  private lastPage: Uint8Array | undefined = undefined;

  constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  get pagesAllocated(): number {
    return this.pages.size;
  }

  contains(addr: number, len = 1): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  /** Page numbers that hold data, ascending (for snapshots and the memory view). */
  allocatedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  pageData(pageNo: number): Uint8Array | undefined {
    return this.pages.get(pageNo);
  }

  /** Page n if it holds data (pages are only ever added, until clear()). */
  private lookup(n: number): Uint8Array | undefined {
    if (n === this.lastNo) return this.lastPage;
    const p = this.pages.get(n);
    if (p !== undefined) {
      this.lastNo = n;
      this.lastPage = p;
    }
    return p;
  }

  private page(addr: number): Uint8Array {
    const n = Math.floor(addr / PAGE_SIZE);
    let p = this.lookup(n);
    if (!p) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(n, p);
      this.lastNo = n;
      this.lastPage = p;
    }
    return p;
  }

  read8(addr: number): number {
    const p = this.lookup(Math.floor(addr / PAGE_SIZE));
    return p ? p[addr & PAGE_MASK] : 0;
  }

  write8(addr: number, v: number): void {
    this.page(addr)[addr & PAGE_MASK] = v;
  }

  read16(addr: number): number {
    const o = addr & PAGE_MASK;
    if (o <= PAGE_SIZE - 2) {
      const p = this.lookup(Math.floor(addr / PAGE_SIZE));
      return p ? p[o] | (p[o + 1] << 8) : 0;
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  write16(addr: number, v: number): void {
    const o = addr & PAGE_MASK;
    if (o <= PAGE_SIZE - 2) {
      const p = this.page(addr);
      p[o] = v;
      p[o + 1] = v >>> 8;
      return;
    }
    this.write8(addr, v);
    this.write8(addr + 1, v >>> 8);
  }

  read32(addr: number): number {
    const o = addr & PAGE_MASK;
    if (o <= PAGE_SIZE - 4) {
      const p = this.lookup(Math.floor(addr / PAGE_SIZE));
      return p ? (p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24)) >>> 0 : 0;
    }
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) >>> 0;
  }

  write32(addr: number, v: number): void {
    const o = addr & PAGE_MASK;
    if (o <= PAGE_SIZE - 4) {
      const p = this.page(addr);
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
      const o = a & PAGE_MASK;
      const n = Math.min(PAGE_SIZE - o, len - done);
      const p = this.lookup(Math.floor(a / PAGE_SIZE));
      const d = dstOff + done;
      if (!p) dst.fill(0, d, d + n);
      else if (n <= SMALL) for (let i = 0; i < n; i++) dst[d + i] = p[o + i];
      else dst.set(p.subarray(o, o + n), d);
      done += n;
    }
  }

  write(addr: number, src: Uint8Array, srcOff = 0, len = src.length - srcOff): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const o = a & PAGE_MASK;
      const n = Math.min(PAGE_SIZE - o, len - done);
      const p = this.page(a);
      const s = srcOff + done;
      // Small pieces byte by byte, a whole array as it is: subarray() makes a view object (and
      // moves a small array off the V8 heap), which costs more than the copy.
      if (src === p)
        p.copyWithin(o, s, s + n); // a copy inside one page: memmove
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
      const pn = Math.floor(a / PAGE_SIZE);
      // Zero-filling an untouched page changes nothing: keep it unallocated.
      if (byte !== 0 || this.pages.has(pn)) this.page(a).fill(byte, o, o + n);
      done += n;
    }
  }

  /** Copy inside this memory or into another one, page-wise (DMA, BAR0 copies). */
  copyTo(dst: SparseMemory, dstAddr: number, srcAddr: number, len: number): void {
    let done = 0;
    while (done < len) {
      const s = srcAddr + done;
      const o = s & PAGE_MASK;
      const n = Math.min(PAGE_SIZE - o, len - done);
      const p = this.lookup(Math.floor(s / PAGE_SIZE));
      if (p) dst.write(dstAddr + done, p, o, n);
      else dst.fill(dstAddr + done, n, 0);
      done += n;
    }
  }

  clear(): void {
    this.pages.clear();
    this.lastNo = -1;
    this.lastPage = undefined;
  }
}
