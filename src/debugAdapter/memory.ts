// readMemory / writeMemory on named spaces and host-physical addresses. Reads look at storage
// (no side effects); writes go through the bus like any host access, so writing a doorbell
// register from the memory view rings it, and the write is an event (initiator `debugger`).

import type { Machine } from '../emulator/machine.ts';
import { MIC_MMIO_CARD_BASE } from '../emulator/card/sboxRegisters.ts';
import { peek, resolveMemoryRef, type MemoryTarget } from './memoryRefs.ts';

export interface ReadResult {
  address: string;
  data: Uint8Array;
  unreadableBytes: number;
}

export function readMemory(m: Machine, ref: string, offset: number, count: number): ReadResult | string {
  const t = resolveMemoryRef(m, ref, offset);
  if (!t)
    return `'${ref}'${offset ? ` + ${offset}` : ''} is not a memory reference (use micN.bar4+OFF, micN.gddr+OFF, host+OFF or a host-physical address)`;
  const data = peek(m, t, count);
  return { address: t.canonical, data, unreadableBytes: count - data.length };
}

/** Perform a debugger write as a bus transaction. Returns bytes written or an error text. */
export function writeMemory(
  m: Machine,
  ref: string,
  offset: number,
  data: Uint8Array,
): { target: MemoryTarget; written: number } | string {
  const t = resolveMemoryRef(m, ref, offset);
  if (!t) return `'${ref}' is not a memory reference`;
  const n = Math.min(data.length, t.limit);
  const spine = m.spine;
  const saved = spine.hardwareInitiator;
  spine.hardwareInitiator = 'debugger';
  try {
    if (t.space === 'host') m.hostIo.write(t.address, data.subarray(0, n));
    else if (t.space.endsWith('.gddr')) {
      const card = m.cards[t.card];
      const b0 = card.config.barAddress(0);
      if (b0 && card.config.memoryEnabled) m.hostIo.write(b0 + t.address, data.subarray(0, n));
      else m.cardOs[t.card].io.write(t.address, data.subarray(0, n));
    } else {
      // MMIO: dword-wise through BAR4 (or the card's own view before enumeration), so each
      // register write has its normal semantics.
      const card = m.cards[t.card];
      const b4 = card.config.barAddress(4);
      for (let i = 0; i < n;) {
        const a = t.address + i;
        if ((a & 3) === 0 && i + 4 <= n) {
          const v = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0;
          if (b4 && card.config.memoryEnabled) m.hostIo.write32(b4 + a, v);
          else m.cardOs[t.card].io.write32(MIC_MMIO_CARD_BASE + a, v);
          i += 4;
        } else {
          if (b4 && card.config.memoryEnabled) m.hostIo.write8(b4 + a, data[i]);
          else m.cardOs[t.card].io.write8(MIC_MMIO_CARD_BASE + a, data[i]);
          i += 1;
        }
      }
    }
  } finally {
    spine.hardwareInitiator = saved;
  }
  return { target: t, written: n };
}
