// Host physical address space: host RAM from 0, then each card's BAR0 (aperture onto GDDR) and
// BAR4 (MMIO) wherever PCI enumeration placed them.

import type { Spine } from '../sim/spine.ts';
import type { SparseMemory } from '../mem/sparseMemory.ts';
import type { X100Card } from '../card/x100Card.ts';
import { AddressSpace, type Target } from './addressSpace.ts';
import { MMIO_SIZE } from '../card/sboxRegisters.ts';

/** Host RAM is absent from the 32-bit PCI hole, where BAR4s (and other MMIO) live. */
export const PCI_HOLE_START = 0xc000_0000;
export const PCI_HOLE_END = 0x1_0000_0000;

export function isHostRam(addr: number, len: number, ramSize: number): boolean {
  return addr >= 0 && addr + len <= ramSize && (addr + len <= PCI_HOLE_START || addr >= PCI_HOLE_END);
}

export class HostSpace extends AddressSpace {
  protected readonly addressKind = 'host physical';
  constructor(
    spine: Spine,
    readonly ram: SparseMemory,
    readonly cards: readonly X100Card[],
  ) {
    super('host', spine, 'host');
  }

  /** PCI configuration read of a card's function (type 0, as the root port forwards it). */
  cfgRead32(card: X100Card, off: number): number {
    const v = card.config.read32(off);
    this.spine.emit('cfg.read', `${card.name}.config`, off & 0xffc, 4, v);
    return v;
  }

  cfgWrite32(card: X100Card, off: number, v: number): number {
    this.spine.emit('cfg.write', `${card.name}.config`, off & 0xffc, 4, v);
    card.config.write32(off, v);
    return 0;
  }

  protected decode(addr: number, len: number): Target {
    const t = this.t;
    if (isHostRam(addr, len, this.ram.size)) {
      t.kind = 'mem';
      t.mem = this.ram;
      t.space = 'host';
      t.offset = addr;
      return t;
    }
    for (const c of this.cards) {
      if (!c.config.memoryEnabled) continue;
      const b0 = c.config.barAddress(0);
      if (b0 !== 0 && addr >= b0 && addr + len <= b0 + c.gddr.size) {
        t.kind = 'mem';
        t.mem = c.gddr;
        t.card = c;
        t.space = c.gddrSpace;
        t.offset = addr - b0;
        return t;
      }
      const b4 = c.config.barAddress(4);
      if (b4 !== 0 && addr >= b4 && addr + len <= b4 + MMIO_SIZE) {
        t.kind = 'mmio';
        t.card = c;
        t.space = c.mmioSpace;
        t.offset = addr - b4;
        return t;
      }
    }
    t.kind = 'none';
    return t;
  }
}
