// readMemory / writeMemory on named spaces and host-physical addresses. Reads look at storage
// (no side effects); writes go through the bus like any host access, so writing a doorbell
// register from the memory view rings it, and the write is an event (initiator `debugger`).

import type { Machine } from '../emulator/machine.ts';
import { peek, resolveMemoryRef, type MemoryTarget } from './memoryRefs.ts';

export interface ReadResult {
  address: string;
  data: Uint8Array;
  unreadableBytes: number;
}

/**
 * The most one readMemory answers (README: "Memory"). A larger count gets these bytes and the
 * rest as `unreadableBytes`, so a client that asks for 2^31 bytes neither takes gigabytes nor
 * blocks the adapter; it asks again from where the answer ended.
 */
export const READ_MEMORY_CAP = 16 * 2 ** 20;

export function readMemory(m: Machine, ref: string, offset: number, count: number): ReadResult | string {
  const t = resolveMemoryRef(m, ref, offset);
  if (!t)
    return `'${ref}'${offset ? ` + ${offset}` : ''} is not a memory reference (use micN.bar4+OFF, micN.gddr+OFF, host+OFF or a host-physical address)`;
  const data = peek(m, t, Math.min(count, READ_MEMORY_CAP));
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
  return { target: t, written: m.debugWrite(t, data) };
}
