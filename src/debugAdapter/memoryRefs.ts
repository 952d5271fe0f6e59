// Memory references as users and the memory view write them: `mic0.bar4+0x1cc90`,
// `mic0.gddr+0x4000000`, `host+0x10000000`, or a host-physical address `0x38000000000`. Each
// resolves to a target space and an offset inside it (docs/naming.md). Also accepted, as the
// same bytes: `mic0.bar0+OFF` (BAR0 is the host's window onto GDDR, with the same offsets) and
// the register window's old names `mic0.mmio+OFF` and `mic0.sbox+OFF`.

import type { Machine } from '../emulator/machine.ts';
import type { MemoryTarget as MachineTarget } from '../emulator/debugPort.ts';

/** A place the machine names (debugPort.ts), and the reference in canonical form (`mic0.bar4+0x1cc90`). */
export interface MemoryTarget extends MachineTarget {
  canonical: string;
}

const hex = (n: number) => '0x' + n.toString(16);

export function parseNumber(s: string): number | null {
  const t = s.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}

/** The canonical reference of a machine target: `host+0x…`, `micN.gddr+0x…`, `micN.bar4+0x…` (docs/naming.md). */
function named(t: MachineTarget | null): MemoryTarget | null {
  if (!t) return null;
  const where = t.region === 'host' ? 'host' : `mic${t.card}.${t.region === 'mmio' ? 'bar4' : 'gddr'}`;
  return { ...t, canonical: `${where}+${hex(t.address)}` };
}

/** Resolve a reference; `offset` (DAP readMemory's) is added. Null if it names nothing. */
export function resolveMemoryRef(m: Machine, ref: string, offset = 0): MemoryTarget | null {
  const r = ref.trim();
  const n = /^(?:(mic(\d+))\.(bar0|bar4|gddr|mmio|sbox)|(host))\s*(?:\+\s*(\S+))?$/i.exec(r);
  if (n) {
    const off = n[5] !== undefined ? parseNumber(n[5]) : 0;
    if (off === null) return null;
    const address = off + offset;
    if (!Number.isSafeInteger(address) || address < 0) return null;
    if (n[4]) return named(m.target('host', -1, address));
    const card = Number(n[2]);
    const kind = n[3].toLowerCase();
    if (kind === 'bar4' || kind === 'mmio' || kind === 'sbox') return named(m.target('mmio', card, address));
    return named(m.target('gddr', card, address));
  }
  const phys = parseNumber(r);
  if (phys === null || !Number.isSafeInteger(phys + offset) || phys + offset < 0) return null;
  return resolveHostPhysical(m, phys + offset);
}

/** A host-physical address: host RAM, or a card's BAR0/BAR4 where enumeration put them. */
export function resolveHostPhysical(m: Machine, a: number): MemoryTarget | null {
  return named(m.resolve(a));
}

/** Read bytes as a debugger looks: straight from storage, no events, no read side effects. */
export function peek(m: Machine, t: MemoryTarget, count: number): Uint8Array {
  return m.peek(t, count);
}
