// Host kernel page allocator for the driver's DMA-able buffers (device page, ring blocks,
// DMA descriptor rings, bounce buffers). First fit over a free list: deterministic.

export class HostRamAllocator {
  private free: { addr: number; size: number }[];
  private used = new Map<number, number>();

  constructor(base: number, size: number) {
    this.free = [{ addr: base, size }];
  }

  /** Returns the host physical address, or −1 when out of memory (−ENOMEM). */
  alloc(size: number, align = 4096): number {
    size = Math.ceil(size / 4096) * 4096;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      const a = Math.ceil(f.addr / align) * align;
      const pad = a - f.addr;
      if (f.size < pad + size) continue;
      const rest = f.size - pad - size;
      const repl: { addr: number; size: number }[] = [];
      if (pad > 0) repl.push({ addr: f.addr, size: pad });
      if (rest > 0) repl.push({ addr: a + size, size: rest });
      this.free.splice(i, 1, ...repl);
      this.used.set(a, size);
      return a;
    }
    return -1;
  }

  release(addr: number): void {
    const size = this.used.get(addr);
    if (size === undefined) return;
    this.used.delete(addr);
    this.free.push({ addr, size });
    this.free.sort((x, y) => x.addr - y.addr);
    // merge neighbours
    const merged: { addr: number; size: number }[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.addr + last.size === f.addr) last.size += f.size;
      else merged.push({ ...f });
    }
    this.free = merged;
  }

  get bytesInUse(): number {
    let n = 0;
    for (const s of this.used.values()) n += s;
    return n;
  }
}
