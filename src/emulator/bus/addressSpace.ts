// Shared machinery of the two CPU-visible address spaces (host physical, card physical):
// decode an address to a target, perform the access, record one event.

import type { Spine } from '../sim/spine.ts';
import { uninitBytes } from './bytes.ts';
import type { SparseMemory } from './sparseMemory.ts';
import type { Io } from './io.ts';
import type { Side, X100Card } from '../card/x100Card.ts';
import { registerAt } from '../card/sboxRegisters.ts';

/** Where an address lands. Filled in place by decode() (no allocation per access). */
export class Target {
  kind: 'mem' | 'mmio' | 'none' = 'none';
  mem: SparseMemory | null = null;
  card: X100Card | null = null;
  /** Space name for events: 'host', 'mic0.gddr', 'mic0.bar4'. */
  space = '';
  /** Offset inside that space. */
  offset = 0;
}

export abstract class AddressSpace implements Io {
  protected readonly t = new Target();
  constructor(
    readonly name: string,
    protected readonly spine: Spine,
    /** Which side of the link MMIO accesses from this space come from. */
    protected readonly side: Side,
  ) {}

  /** Fill this.t for [addr, addr+len). */
  protected abstract decode(addr: number, len: number): Target;

  /** A human word for error messages: 'host physical', 'MIC'. */
  protected abstract readonly addressKind: string;

  private unmapped(addr: number, len: number, write: boolean): void {
    this.spine.protocolError(
      13,
      this.name,
      `${this.name}: ${write ? 'write to' : 'read of'} ${this.addressKind} address 0x${addr.toString(16)} (${len} bytes) that nothing decodes (master abort); ${write ? 'the write is dropped' : 'the read returns all-ones'}.`,
    );
  }

  /** An MMIO event, with the register at the address named (looked up only when watched). */
  private mmioEvent(
    kind: 'mmio.read' | 'mmio.write',
    space: string,
    offset: number,
    size: number,
    v: number,
  ): void {
    const r = this.spine.observed ? registerAt(offset & ~3) : undefined;
    this.spine.mmio(kind, space, offset, size, v, r ? r.name : '', r ? r.channel : -1);
  }

  private readN(addr: number, size: 1 | 2 | 4 | 8): number {
    const t = this.decode(addr, size);
    let v: number;
    if (t.kind === 'mem') {
      const m = t.mem!;
      v =
        size === 4
          ? m.read32(t.offset)
          : size === 1
            ? m.read8(t.offset)
            : size === 2
              ? m.read16(t.offset)
              : m.read64(t.offset);
      this.spine.emit('mem.read', t.space, t.offset, size, size === 8 ? v % 0x100000000 : v);
      return v;
    }
    if (t.kind === 'mmio') {
      if (size === 8) {
        const lo = t.card!.mmioRead(t.offset, this.side);
        this.mmioEvent('mmio.read', t.space, t.offset, 4, lo);
        const hi = t.card!.mmioRead(t.offset + 4, this.side);
        this.mmioEvent('mmio.read', t.space, t.offset + 4, 4, hi);
        return hi * 0x100000000 + lo;
      }
      v = t.card!.mmioRead(t.offset & ~3, this.side);
      const shift = (t.offset & 3) * 8;
      v = size === 4 ? v : (v >>> shift) & (size === 1 ? 0xff : 0xffff);
      this.mmioEvent('mmio.read', t.space, t.offset, size, v);
      return v;
    }
    this.unmapped(addr, size, false);
    return size === 8 ? 2 ** 53 - 1 : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  private writeN(addr: number, size: 1 | 2 | 4 | 8, v: number): number {
    const t = this.decode(addr, size);
    if (t.kind === 'mem') {
      const m = t.mem!;
      if (size === 4) m.write32(t.offset, v);
      else if (size === 1) m.write8(t.offset, v);
      else if (size === 2) m.write16(t.offset, v);
      else m.write64(t.offset, v);
      this.spine.emit('mem.write', t.space, t.offset, size, size === 8 ? v % 0x100000000 : v);
      return 0;
    }
    if (t.kind === 'mmio') {
      const card = t.card!;
      if (size === 8) {
        const lo = v % 0x100000000;
        const hi = Math.floor(v / 0x100000000);
        this.mmioEvent('mmio.write', t.space, t.offset, 4, lo);
        card.mmioWrite(t.offset, lo, this.side);
        this.mmioEvent('mmio.write', t.space, t.offset + 4, 4, hi);
        card.mmioWrite(t.offset + 4, hi, this.side);
        return 0;
      }
      // Registers are 32-bit; a narrower write merges into the dword (read-modify-write).
      let word = v >>> 0;
      if (size !== 4) {
        const shift = (t.offset & 3) * 8;
        const mask = (size === 1 ? 0xff : 0xffff) << shift;
        word = ((card.reg(t.offset & ~3) & ~mask) | ((v << shift) & mask)) >>> 0;
      }
      this.mmioEvent('mmio.write', t.space, t.offset, size, v);
      card.mmioWrite(t.offset & ~3, word, this.side);
      return 0;
    }
    this.unmapped(addr, size, true);
    return 0;
  }

  read8(addr: number): number {
    return this.readN(addr, 1);
  }
  read16(addr: number): number {
    return this.readN(addr, 2);
  }
  read32(addr: number): number {
    return this.readN(addr, 4);
  }
  read64(addr: number): number {
    return this.readN(addr, 8);
  }
  write8(addr: number, v: number): number {
    return this.writeN(addr, 1, v);
  }
  write16(addr: number, v: number): number {
    return this.writeN(addr, 2, v);
  }
  write32(addr: number, v: number): number {
    return this.writeN(addr, 4, v);
  }
  write64(addr: number, v: number): number {
    return this.writeN(addr, 8, v);
  }

  read(addr: number, len: number): Uint8Array {
    // Every path below writes every byte (memory, registers, or all-ones for a master abort).
    const out = uninitBytes(len);
    if (len === 0) return out;
    const t = this.decode(addr, len);
    if (t.kind === 'mem') {
      t.mem!.read(t.offset, out);
      this.spine.emit(
        'mem.read',
        t.space,
        t.offset,
        len,
        len >= 4 ? out[0] | (out[1] << 8) | (out[2] << 16) | (out[3] << 24) : out[0],
      );
      return out;
    }
    if (t.kind === 'mmio') {
      for (let i = 0; i < len; i += 4) {
        const w = this.readN(addr + i, 4);
        for (let b = 0; b < 4 && i + b < len; b++) out[i + b] = (w >>> (8 * b)) & 0xff;
      }
      return out;
    }
    this.unmapped(addr, len, false);
    return out.fill(0xff);
  }

  /**
   * read() into dst[dstOff…dstOff+len): the same bus transaction and the same event, without a
   * new array (the copy engine reads the bounce buffer straight into the back-end's iovec).
   * Returns len.
   */
  readInto(addr: number, dst: Uint8Array, dstOff: number, len: number): number {
    if (len === 0) return 0;
    const t = this.decode(addr, len);
    if (t.kind !== 'mem') {
      dst.set(this.read(addr, len), dstOff);
      return len;
    }
    t.mem!.read(t.offset, dst, dstOff, len);
    const o = dstOff;
    this.spine.emit(
      'mem.read',
      t.space,
      t.offset,
      len,
      len >= 4 ? dst[o] | (dst[o + 1] << 8) | (dst[o + 2] << 16) | (dst[o + 3] << 24) : dst[o],
    );
    return len;
  }

  /**
   * A bulk write whose bytes come from fill(dst, dstOff, srcOff, n) rather than from an array:
   * the same transaction and event as write(), with the source (a file) read straight into
   * memory. Returns 0.
   */
  writeFilled(
    addr: number,
    len: number,
    fill: (dst: Uint8Array, dstOff: number, srcOff: number, n: number) => void,
  ): number {
    if (len === 0) return 0;
    const t = this.decode(addr, len);
    if (t.kind !== 'mem') {
      const b = uninitBytes(len);
      fill(b, 0, 0, len);
      return this.write(addr, b);
    }
    const m = t.mem!;
    m.fillFrom(t.offset, len, fill);
    this.spine.emit('mem.write', t.space, t.offset, len, len >= 4 ? m.read32(t.offset) : m.read8(t.offset));
    return 0;
  }

  /**
   * A bulk read whose bytes go to drain(src, srcOff, dstOff, n) rather than into an array: the
   * same transaction and event as read(). Returns len.
   */
  readDrained(
    addr: number,
    len: number,
    drain: (src: Uint8Array, srcOff: number, dstOff: number, n: number) => void,
  ): number {
    if (len === 0) return 0;
    const t = this.decode(addr, len);
    if (t.kind !== 'mem') {
      drain(this.read(addr, len), 0, 0, len);
      return len;
    }
    const m = t.mem!;
    this.spine.emit('mem.read', t.space, t.offset, len, len >= 4 ? m.read32(t.offset) : m.read8(t.offset));
    m.drainTo(t.offset, len, drain);
    return len;
  }

  write(addr: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    const t = this.decode(addr, data.length);
    if (t.kind === 'mem') {
      t.mem!.write(t.offset, data);
      const v = data.length >= 4 ? data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24) : data[0];
      this.spine.emit('mem.write', t.space, t.offset, data.length, v);
      return 0;
    }
    if (t.kind === 'mmio') {
      for (let i = 0; i + 4 <= data.length; i += 4) {
        this.writeN(addr + i, 4, data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      }
      return 0;
    }
    this.unmapped(addr, data.length, true);
    return 0;
  }
}
