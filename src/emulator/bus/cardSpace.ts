// A card's physical address space as its CPU sees it: GDDR from 0, the MMIO block at
// 0x08_007C_0000, and host memory through the SMPT window at 0x80_0000_0000 (reference §1.4).

import type { Spine } from '../sim/spine.ts';
import type { X100Card } from '../card/x100Card.ts';
import { AddressSpace, type Target } from './addressSpace.ts';
import { MIC_MMIO_CARD_BASE, MMIO_SIZE } from '../card/sboxRegisters.ts';
import { isSmptAddress } from '../card/smpt.ts';
import { isHostRam } from './hostSpace.ts';
import { intern } from '../sim/busEvent.ts';

export class CardSpace extends AddressSpace {
  protected readonly addressKind = 'MIC';
  constructor(
    spine: Spine,
    readonly card: X100Card,
  ) {
    super(intern(`${card.name}.cpu`), spine, 'card');
  }

  protected decode(addr: number, len: number): Target {
    const t = this.t;
    const c = this.card;
    if (addr >= 0 && addr + len <= c.gddr.size) {
      t.kind = 'mem';
      t.mem = c.gddr;
      t.space = c.gddrSpace;
      t.offset = addr;
      return t;
    }
    if (addr >= MIC_MMIO_CARD_BASE && addr + len <= MIC_MMIO_CARD_BASE + MMIO_SIZE) {
      t.kind = 'mmio';
      t.card = c;
      t.space = c.mmioSpace;
      t.offset = addr - MIC_MMIO_CARD_BASE;
      return t;
    }
    if (isSmptAddress(addr)) {
      const host = c.smptToHost(addr);
      // The whole access must be host RAM: one that starts below the PCI hole may not run into it.
      if (host >= 0 && isHostRam(host, len, c.hostRam.size)) {
        t.kind = 'mem';
        t.mem = c.hostRam;
        t.space = 'host';
        t.offset = host;
        return t;
      }
    }
    t.kind = 'none';
    return t;
  }
}
