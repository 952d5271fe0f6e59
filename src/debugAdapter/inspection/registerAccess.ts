// Registers by name, as people write them in the Debug Console, watches and setVariable:
// `SICR0`, `mic1.SPAD14`, `DHPR3`, `mic0.SICR0.DBR` (a field). Writes are debugger bus
// transactions with the register's own semantics, so writing SDBIC0 = 0x80000000 rings the
// card→host doorbell and writing APICICR3 with bit 13 rings host→card doorbell 3.

import { REGISTER_BY_NAME, type SboxName } from '../../emulator/card/sboxRegisters.ts';
import type { Machine } from '../../emulator/machine.ts';
import type { DebugRuntime } from '../runtime.ts';
import { writeMemory } from '../memory.ts';
import { ACCESS_TEXT, registerByName, type FieldModel, type RegisterModel } from './model.ts';
import { hex, parseValue } from './format.ts';

export interface RegisterTarget {
  card: number;
  reg: RegisterModel;
  field?: FieldModel;
}

const NAME = /^(?:mic(\d+)\.)?([A-Za-z][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/;

/** Resolve `[micN.]REG[.FIELD]`; null when it names no register (or no such card/field). */
export function findRegister(m: Machine, text: string, defaultCard: number): RegisterTarget | null {
  const r = NAME.exec(text.trim());
  if (!r) return null;
  const card = r[1] !== undefined ? Number(r[1]) : defaultCard;
  if (card >= m.cards.length) return null;
  const inst = REGISTER_BY_NAME.get(r[2].toUpperCase());
  if (!inst) return null;
  const reg = registerByName(m, card, inst.name);
  if (!reg) return null;
  if (r[3] === undefined) return { card, reg };
  const field = reg.fields.find((f) => f.name.toLowerCase() === r[3].toLowerCase());
  return field ? { card, reg, field } : null;
}

/** Registers the card (not the host) writes: their side effects happen on a card-side write. */
const CARD_WRITTEN: ReadonlySet<SboxName> = new Set<SboxName>(['SDBIC']);

function fieldBits(f: FieldModel): { lo: number; width: number } {
  const [hi, lo = hi] = f.bits.split(':').map(Number);
  return { lo, width: hi - lo + 1 };
}

export interface RegisterWrite {
  /** the register (and field) as they read after the write */
  after: RegisterTarget;
  /** the dword written, and where (for the DAP `memory` event) */
  written: number;
  memory: { ref: string; offset: number; count: number };
}

/**
 * Write a register (or one field of it) as the debugger: parse `text` (hex, decimal, 0b…),
 * compose the dword (read-modify-write for a field of a plain register, only the field's bits
 * for write-1-to-clear), and perform a 32-bit bus write with the register's semantics.
 */
export function writeRegister(rt: DebugRuntime, t: RegisterTarget, text: string): RegisterWrite | string {
  const m = rt.machine;
  const { reg, field } = t;
  const label = field ? `${reg.name}.${field.name}` : reg.name;
  if (reg.access === 'ro')
    return `${reg.name} is read-only: the hardware owns it (${reg.doc}); writes are ignored, so the debugger does not write it.`;
  const v = parseValue(text);
  if (v === null) return `'${text.trim()}' is not a number for ${label} (write hex 0x…, decimal or 0b…)`;
  let word: number;
  if (field) {
    const { lo, width } = fieldBits(field);
    const max = 2 ** width - 1;
    if (v > max) return `${hex(v)} does not fit ${label} (bits ${field.bits}: at most ${hex(max)})`;
    const mask = (max * 2 ** lo) >>> 0;
    const bits = (v * 2 ** lo) >>> 0;
    word = reg.access === 'rw' ? ((reg.value & ~mask) | bits) >>> 0 : bits;
  } else {
    if (v > 0xffffffff) return `${hex(v)} does not fit ${label} (a 32-bit register)`;
    word = v >>> 0;
  }
  const ref = reg.memoryReference;
  const inst = REGISTER_BY_NAME.get(reg.name)!;
  if (CARD_WRITTEN.has(inst.family)) {
    // As the card's CPU writes it (through its own MMIO view), with the debugger as initiator.
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, word, true);
    m.debugWrite(m.target('mmio', t.card, reg.bar4)!, bytes, 'card');
  } else {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, word, true);
    const r = writeMemory(m, ref, 0, bytes);
    if (typeof r === 'string') return r;
  }
  // Effects posted to the scheduler (MSI-X, doorbell handlers) run when the machine runs; if it
  // is running now but idle, give it a turn.
  if (rt.running) rt.resume();
  const after = registerByName(m, t.card, reg.name)!;
  const afterField = field ? after.fields.find((f) => f.name === field.name) : undefined;
  return {
    after: { card: t.card, reg: after, ...(afterField ? { field: afterField } : {}) },
    written: word,
    memory: { ref, offset: 0, count: 4 },
  };
}

/** A line for the Debug Console after a write: what was written and what reads back. */
export function describeWrite(w: RegisterWrite): string {
  const { reg, field } = w.after;
  const now = field ? `${reg.name}.${field.name} = ${field.hex}` : `${reg.name} = ${reg.hex}`;
  return `wrote ${hex(w.written)} to mic${w.after.card}.${reg.name} (${w.memory.ref}, ${ACCESS_TEXT[reg.access]}); now ${now}`;
}
