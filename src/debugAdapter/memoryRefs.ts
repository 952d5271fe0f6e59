// Memory references as users and the memory view write them: `mic0.bar4+0x1cc90`,
// `mic0.gddr+0x4000000`, `host+0x10000000`, or a host-physical address `0x38000000000`. Each
// resolves to a target space and an offset inside it (docs/naming.md). Also accepted, as the
// same bytes: `mic0.bar0+OFF` (BAR0 is the host's window onto GDDR, with the same offsets) and
// the register window's old names `mic0.mmio+OFF` and `mic0.sbox+OFF`.

import type { Machine } from '../emulator/machine.ts';
import { MMIO_SIZE } from '../emulator/card/sboxRegisters.ts';
import { isHostRam } from '../emulator/bus/hostSpace.ts';

export interface MemoryTarget {
  /** Event-space name: 'host' | 'micN.gddr' | 'micN.bar4' */
  space: string;
  /** Offset in that space */
  address: number;
  /** Bytes addressable from `address` on */
  limit: number;
  card: number;
  /** The reference in canonical form (`mic0.bar4+0x1cc90`) */
  canonical: string;
}

const hex = (n: number) => '0x' + n.toString(16);

export function parseNumber(s: string): number | null {
  const t = s.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}

/** Resolve a reference; `offset` (DAP readMemory's) is added. Null if it names nothing. */
export function resolveMemoryRef(m: Machine, ref: string, offset = 0): MemoryTarget | null {
  const r = ref.trim();
  const named = /^(?:(mic(\d+))\.(bar0|bar4|gddr|mmio|sbox)|(host))\s*(?:\+\s*(\S+))?$/i.exec(r);
  if (named) {
    const off = named[5] !== undefined ? parseNumber(named[5]) : 0;
    if (off === null) return null;
    const address = off + offset;
    if (named[4]) {
      if (!isHostRam(address, 1, m.hostRam.size)) return null;
      return {
        space: 'host',
        address,
        limit: m.hostRam.size - address,
        card: -1,
        canonical: `host+${hex(address)}`,
      };
    }
    const card = Number(named[2]);
    if (card >= m.cards.length) return null;
    const kind = named[3].toLowerCase();
    if (kind === 'bar4' || kind === 'mmio' || kind === 'sbox') {
      if (address < 0 || address >= MMIO_SIZE) return null;
      return {
        space: `mic${card}.bar4`,
        address,
        limit: MMIO_SIZE - address,
        card,
        canonical: `mic${card}.bar4+${hex(address)}`,
      };
    }
    const size = m.cards[card].gddr.size;
    if (address < 0 || address >= size) return null;
    return {
      space: `mic${card}.gddr`,
      address,
      limit: size - address,
      card,
      canonical: `mic${card}.gddr+${hex(address)}`,
    };
  }
  const phys = parseNumber(r);
  if (phys === null) return null;
  return resolveHostPhysical(m, phys + offset);
}

/** A host-physical address: host RAM, or a card's BAR0/BAR4 where enumeration put them. */
export function resolveHostPhysical(m: Machine, a: number): MemoryTarget | null {
  if (isHostRam(a, 1, m.hostRam.size))
    return { space: 'host', address: a, limit: m.hostRam.size - a, card: -1, canonical: `host+${hex(a)}` };
  for (const c of m.cards) {
    const b0 = c.config.barAddress(0);
    if (b0 && a >= b0 && a < b0 + c.gddr.size)
      return {
        space: `${c.name}.gddr`,
        address: a - b0,
        limit: b0 + c.gddr.size - a,
        card: c.index,
        canonical: `${c.name}.gddr+${hex(a - b0)}`,
      };
    const b4 = c.config.barAddress(4);
    if (b4 && a >= b4 && a < b4 + MMIO_SIZE)
      return {
        space: `${c.name}.bar4`,
        address: a - b4,
        limit: b4 + MMIO_SIZE - a,
        card: c.index,
        canonical: `${c.name}.bar4+${hex(a - b4)}`,
      };
  }
  return null;
}

/** Read bytes as a debugger looks: straight from storage, no events, no read side effects. */
export function peek(m: Machine, t: MemoryTarget, count: number): Uint8Array {
  const n = Math.max(0, Math.min(count, t.limit));
  const out = new Uint8Array(n);
  if (t.space === 'host') m.hostRam.read(t.address, out);
  else if (t.space.endsWith('.gddr')) m.cards[t.card].gddr.read(t.address, out);
  else {
    const card = m.cards[t.card];
    for (let i = 0; i < n; i++) {
      const a = t.address + i;
      const w = card.mmioPeek(a & ~3);
      out[i] = (w >>> (8 * (a & 3))) & 0xff;
    }
  }
  return out;
}
