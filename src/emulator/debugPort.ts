// The debugger's port into the machine: where an address lands, what the bytes there are
// (looked at without side effects), and writes made "as the debugger" with the register
// semantics a real access has. The front ends (adapter, CLI) use these through Machine and never
// reach into the machine's parts.
//
// One difference from the bus, on purpose: a debugger's host-physical address names a card's
// BAR0/BAR4 wherever enumeration put them, even while the host has memory decode off in the
// card's command register (the bus would master-abort). What the bytes are does not depend on
// whether the host may reach them right now; a write does, and so it goes through the bus when
// decode is on and through the card's own view of its memory otherwise.

import type { X100Card } from './card/x100Card.ts';
import { MIC_MMIO_CARD_BASE, MMIO_SIZE } from './card/sboxRegisters.ts';
import { isHostRam, type HostSpace } from './bus/hostSpace.ts';
import type { CardSpace } from './bus/cardSpace.ts';
import type { SparseMemory } from './bus/sparseMemory.ts';
import type { Spine } from './sim/spine.ts';

/** A place in the machine a debugger can look at. */
export interface MemoryTarget {
  /** Which storage: host RAM, a card's GDDR (BAR0), a card's register block (BAR4). */
  region: 'host' | 'gddr' | 'mmio';
  /** The event space of that storage: 'host', 'mic0.gddr', 'mic0.bar4'. */
  space: string;
  /** −1 for host RAM. */
  card: number;
  /** Offset inside the region. */
  address: number;
  /** Bytes addressable from `address` on. */
  limit: number;
}

/** What the port needs of the machine. */
export interface DebugPortParts {
  readonly spine: Spine;
  readonly hostRam: SparseMemory;
  readonly hostIo: HostSpace;
  readonly cards: readonly X100Card[];
  /** Each card's own view of its memory (its CPU's address space). */
  cardIo(card: number): CardSpace;
}

/** Host RAM at `address`, or null where there is none (beyond RAM, the PCI hole). */
export function hostTarget(p: DebugPortParts, address: number): MemoryTarget | null {
  if (!isHostRam(address, 1, p.hostRam.size)) return null;
  return { region: 'host', space: 'host', card: -1, address, limit: p.hostRam.size - address };
}

/** Card `card`'s GDDR at `address`, or null beyond it. */
export function gddrTarget(p: DebugPortParts, card: number, address: number): MemoryTarget | null {
  const c = p.cards[card];
  if (!c || address < 0 || address >= c.gddr.size) return null;
  return { region: 'gddr', space: c.gddrSpace, card, address, limit: c.gddr.size - address };
}

/** Card `card`'s register block (BAR4 offsets) at `address`, or null beyond it. */
export function mmioTarget(p: DebugPortParts, card: number, address: number): MemoryTarget | null {
  const c = p.cards[card];
  if (!c || address < 0 || address >= MMIO_SIZE) return null;
  return { region: 'mmio', space: c.mmioSpace, card, address, limit: MMIO_SIZE - address };
}

/** A host-physical address: host RAM, or a card's BAR0/BAR4 where enumeration put them. */
export function resolveHostPhysical(p: DebugPortParts, a: number): MemoryTarget | null {
  const ram = hostTarget(p, a);
  if (ram) return ram;
  for (const c of p.cards) {
    const b0 = c.config.barAddress(0);
    if (b0 && a >= b0 && a < b0 + c.gddr.size) return gddrTarget(p, c.index, a - b0);
    const b4 = c.config.barAddress(4);
    if (b4 && a >= b4 && a < b4 + MMIO_SIZE) return mmioTarget(p, c.index, a - b4);
  }
  return null;
}

/** Read bytes as a debugger looks: straight from storage, no events, no read side effects. */
export function peek(p: DebugPortParts, t: MemoryTarget, count: number): Uint8Array {
  const n = Math.max(0, Math.min(count, t.limit));
  const out = new Uint8Array(n);
  if (t.region === 'host') p.hostRam.read(t.address, out);
  else if (t.region === 'gddr') p.cards[t.card].gddr.read(t.address, out);
  else {
    const card = p.cards[t.card];
    for (let i = 0; i < n; i++) {
      const a = t.address + i;
      out[i] = (card.mmioPeek(a & ~3) >>> (8 * (a & 3))) & 0xff;
    }
  }
  return out;
}

/**
 * Write as the debugger: a bus transaction stamped `debugger`, with the semantics a real access
 * has (writing a doorbell register rings it). Host RAM and BAR0 go through the host's bus (or the
 * card's own view while the host has memory decode off); registers dword by dword through BAR4,
 * or, for the registers only the card's CPU writes (`side` 'card'), through the card's view.
 * Returns the bytes written.
 */
export function debugWrite(
  p: DebugPortParts,
  t: MemoryTarget,
  data: Uint8Array,
  side: 'host' | 'card' = 'host',
): number {
  const n = Math.min(data.length, t.limit);
  const spine = p.spine;
  const saved = spine.hardwareInitiator;
  const sched = spine.sched;
  // A debugger write starts a causal chain of its own.
  const cause = sched.cause;
  const req = sched.req;
  sched.cause = 0;
  sched.req = 0;
  spine.hardwareInitiator = 'debugger';
  try {
    if (t.region === 'host') p.hostIo.write(t.address, data.subarray(0, n));
    else if (t.region === 'gddr') {
      const card = p.cards[t.card];
      const b0 = card.config.barAddress(0);
      if (b0 && card.config.memoryEnabled && side === 'host')
        p.hostIo.write(b0 + t.address, data.subarray(0, n));
      else p.cardIo(t.card).write(t.address, data.subarray(0, n));
    } else {
      const card = p.cards[t.card];
      const b4 = card.config.barAddress(4);
      const viaHost = side === 'host' && b4 !== 0 && card.config.memoryEnabled;
      const io = viaHost ? p.hostIo : p.cardIo(t.card);
      const base = viaHost ? b4 : MIC_MMIO_CARD_BASE;
      for (let i = 0; i < n;) {
        const a = t.address + i;
        if ((a & 3) === 0 && i + 4 <= n) {
          io.write32(
            base + a,
            (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0,
          );
          i += 4;
        } else {
          io.write8(base + a, data[i]);
          i += 1;
        }
      }
    }
  } finally {
    spine.hardwareInitiator = saved;
    sched.cause = cause;
    sched.req = req;
  }
  return n;
}
