// The card kernel's page allocator over GDDR (first fit, deterministic). It hands out the
// card-side buffers: relocated used rings, virtio data buffers.

export class GddrAllocator {
  private free: { addr: number; size: number }[];
  constructor(base: number, size: number) {
    this.free = [{ addr: base, size }];
  }
  alloc(size: number, align = 4096): number {
    size = Math.ceil(size / 64) * 64;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      const a = Math.ceil(f.addr / align) * align;
      const pad = a - f.addr;
      if (f.size < pad + size) continue;
      const parts: { addr: number; size: number }[] = [];
      if (pad > 0) parts.push({ addr: f.addr, size: pad });
      if (f.size - pad - size > 0) parts.push({ addr: a + size, size: f.size - pad - size });
      this.free.splice(i, 1, ...parts);
      return a;
    }
    return -1;
  }
  release(addr: number, size: number): void {
    size = Math.ceil(size / 64) * 64;
    this.free.push({ addr, size });
    this.free.sort((a, b) => a.addr - b.addr);
    const m: { addr: number; size: number }[] = [];
    for (const f of this.free) {
      const last = m[m.length - 1];
      if (last && last.addr + last.size === f.addr) last.size += f.size;
      else m.push({ ...f });
    }
    this.free = m;
  }
}
