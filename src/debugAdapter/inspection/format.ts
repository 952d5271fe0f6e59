// Small words shared by the scopes, the Debug Console and the custom requests: hex numbers,
// memory references for the addresses the emulator's views hold, and which card a thread is on.

import { nameInfo } from '../../emulator/sim/spine.ts';
import type { Machine } from '../../emulator/machine.ts';
import { MIC_MMIO_CARD_BASE, MMIO_SIZE } from '../../emulator/card/sboxRegisters.ts';
import { isSmptAddress } from '../../emulator/card/smpt.ts';
import { resolveMemoryRef } from '../memoryRefs.ts';
import { addr } from '../../emulator/lib/numbers.ts';

/** An address, offset or plain hex number: `0x1f` (docs/naming.md; src/emulator/lib/numbers.ts). */
export const hex = addr;
export { count as countText, fieldValue, regValue, size } from '../../emulator/lib/numbers.ts';

/** A signed doorbell field: `0x3`, or `-1 (none)` for "not assigned". */
export const dbText = (n: number): string => (n < 0 ? `${n} (none)` : hex(n));

/** Validate a reference against the machine; undefined if it names no memory. */
export function memRef(m: Machine, ref: string): string | undefined {
  return resolveMemoryRef(m, ref)?.canonical;
}

export function hostRef(m: Machine, hostAddr: number): string | undefined {
  return hostAddr >= 0 ? memRef(m, `host+${hex(hostAddr)}`) : undefined;
}

export function gddrRef(m: Machine, card: number, addr: number): string | undefined {
  return memRef(m, `mic${card}.gddr+${hex(addr)}`);
}

export function bar4Ref(card: number, bar4: number): string {
  return `mic${card}.bar4+${hex(bar4)}`;
}

/**
 * Where a MIC (card physical) address lives, as a memory reference: GDDR below the memory size,
 * the MMIO block, or host RAM through the card's SMPT window.
 */
export function micAddressRef(m: Machine, card: number, micAddr: number): string | undefined {
  const c = m.cards[card];
  if (!c) return undefined;
  if (micAddr >= 0 && micAddr < c.gddr.size) return gddrRef(m, card, micAddr);
  if (micAddr >= MIC_MMIO_CARD_BASE && micAddr < MIC_MMIO_CARD_BASE + MMIO_SIZE)
    return bar4Ref(card, micAddr - MIC_MMIO_CARD_BASE);
  if (isSmptAddress(micAddr)) return hostRef(m, c.smptToHost(micAddr));
  return undefined;
}

/** The memory reference of an event's target (`host`, `micN.gddr`, `micN.bar4`). */
export function eventAddressRef(m: Machine, space: string, address: number): string | undefined {
  if (space === 'host') return hostRef(m, address);
  const r = /^mic(\d+)\.(gddr|bar4)$/.exec(space);
  if (!r) return undefined;
  return r[2] === 'gddr' ? gddrRef(m, Number(r[1]), address) : memRef(m, bar4Ref(Number(r[1]), address));
}

/**
 * The card a thread belongs to: `micN.cpu`, `micN.dmaC`, `host.micN.*` → N; anything else (the
 * host driver, mpssd, the debugger) → the card of the stopped event's space, else 0.
 */
export function cardOfInitiator(m: Machine, initiator: string | null, eventSpace?: string | null): number {
  const n = m.cards.length;
  const own = initiator ? nameInfo(initiator).card : -1;
  if (own >= 0 && own < n) return own;
  const sp = eventSpace ? nameInfo(eventSpace).card : -1;
  if (sp >= 0 && sp < n) return sp;
  return 0;
}

/** `mic1` / `1` → 1; null when it names no card of this machine. */
export function parseCard(m: Machine, v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^(?:mic)?\d+$/i.test(v.trim()))
    n = Number(v.trim().replace(/^mic/i, ''));
  else return null;
  return Number.isInteger(n) && n >= 0 && n < m.cards.length ? n : null;
}

/** Parse a value a person types: `0x1f`, `31`, `0b11111`, with `_` separators. */
export function parseValue(s: string): number | null {
  const t = s.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^0b[01]+$/i.test(t)) return parseInt(t.slice(2), 2);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}
