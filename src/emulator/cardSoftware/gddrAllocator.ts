// The card kernel's page allocator over GDDR (first fit, deterministic). It hands out the
// card-side buffers: relocated used rings, virtio data buffers. Every block request allocates
// and frees one buffer, so both ends edit the sorted free list in place.

interface Extent {
  addr: number;
  size: number;
}

export class GddrAllocator {
  /** Free extents, sorted by address, never adjacent (release merges them). */
  private free: Extent[];
  constructor(base: number, size: number) {
    this.free = [{ addr: base, size }];
  }
  alloc(size: number, align = 4096): number {
    size = Math.ceil(size / 64) * 64;
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      const f = free[i];
      const a = Math.ceil(f.addr / align) * align;
      const pad = a - f.addr;
      if (f.size < pad + size) continue;
      const rest = f.size - pad - size;
      if (pad > 0) {
        f.size = pad;
        if (rest > 0) free.splice(i + 1, 0, { addr: a + size, size: rest });
      } else if (rest > 0) {
        f.addr = a + size;
        f.size = rest;
      } else free.splice(i, 1);
      return a;
    }
    return -1;
  }
  release(addr: number, size: number): void {
    size = Math.ceil(size / 64) * 64;
    const free = this.free;
    // First extent above addr.
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid].addr < addr) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo > 0 ? free[lo - 1] : undefined;
    const next = lo < free.length ? free[lo] : undefined;
    const joinsPrev = prev !== undefined && prev.addr + prev.size === addr;
    const joinsNext = next !== undefined && addr + size === next.addr;
    if (joinsPrev && joinsNext) {
      prev.size += size + next.size;
      free.splice(lo, 1);
    } else if (joinsPrev) prev.size += size;
    else if (joinsNext) {
      next.addr = addr;
      next.size += size;
    } else free.splice(lo, 0, { addr, size });
  }
}
