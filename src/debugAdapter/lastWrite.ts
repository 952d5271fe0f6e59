// "Who last wrote this?" (docs/time-travel.md): the writes to a place before the current moment,
// newest first, from the timeline's write index (emulator/timeTravel/writeIndex.ts) — no replay.
// Serves the custom request `mic/lastWrite` and the Debug Console's `lastwrite` and `history`.

import type { Machine } from '../emulator/machine.ts';
import { blankEvent, type BusEvent } from '../emulator/sim/busEvent.ts';
import { nameInfo } from '../emulator/sim/spine.ts';
import { registerAt } from '../emulator/card/sboxRegisters.ts';
import type { IndexedWrite } from '../emulator/timeTravel/writeIndex.ts';
import type { DebugRuntime } from './runtime.ts';
import { resolveMemoryRef, parseNumber } from './memoryRefs.ts';
import { findRegister } from './inspection/registerAccess.ts';
import { describeEvent, initiatorName } from './names.ts';
import { hex } from './inspection/format.ts';

export const LAST_WRITE_DEFAULT_LIMIT = 20;
export const LAST_WRITE_MAX_LIMIT = 1000;
/** PCI configuration space of a card: 4 KiB. */
const CONFIG_SIZE = 0x1000;

/** A place the index can answer for: an event space and a byte range in it. */
export interface WriteTarget {
  space: string;
  address: number;
  /** `mic0.gddr+0x1000`, `mic0.bar4+0x1cc90`, `host+0x…`, `mic0.config+0x10`. */
  canonical: string;
}

/** One write as `mic/lastWrite` answers it. */
export interface LastWriteEntry extends IndexedWrite {
  initiatorName: string;
  /** The stop-style sentence: `write 4 bytes at mic0.gddr+0x… by mic0 DMA channel 0 = 0x…`. */
  text: string;
}

export interface LastWriteBody {
  target: string;
  length: number;
  writes: LastWriteEntry[];
  /** More writes to the range lie before the oldest one listed. */
  truncated: boolean;
}

const WHAT =
  'micN.bar4+OFF, micN.gddr+OFF, micN.config+OFF, host+OFF, a host-physical address or a register name';

/**
 * Resolve what a person names: a memory reference, a host-physical address, `micN.config+OFF`,
 * or a register (`SDBIC0` on card `card`, `mic1.SPAD2`). Null when it names nothing.
 */
export function resolveWriteTarget(m: Machine, ref: string, card: number): WriteTarget | null {
  const r = ref.trim();
  const cfg = /^mic(\d+)\.config\s*(?:\+\s*(\S+))?$/i.exec(r);
  if (cfg) {
    const c = Number(cfg[1]);
    const off = cfg[2] !== undefined ? parseNumber(cfg[2]) : 0;
    if (c >= m.cards.length || off === null || off >= CONFIG_SIZE) return null;
    return { space: `mic${c}.config`, address: off, canonical: `mic${c}.config+${hex(off)}` };
  }
  const reg = findRegister(m, r, card);
  const t = resolveMemoryRef(m, reg && !reg.field ? reg.reg.memoryReference : r);
  return t ? { space: t.space, address: t.address, canonical: t.canonical } : null;
}

/** The sentence a stop on this write would show, with the value written. */
export function writeText(m: Machine, w: IndexedWrite): string {
  const e: BusEvent = { ...blankEvent(), ...w, len: w.size, card: nameInfo(w.space).card };
  if (w.kind === 'mmio.write') e.register = registerAt(w.address & ~3)?.name ?? '';
  const s = describeEvent(m, e);
  if (w.kind !== 'mem.write') return s;
  return w.size <= 4 ? `${s} = ${hex(w.value)}` : `${s}, first bytes ${hex(w.value)}`;
}

function entry(m: Machine, w: IndexedWrite): LastWriteEntry {
  return { ...w, initiatorName: initiatorName(w.initiator), text: writeText(m, w) };
}

/** The writes to `length` bytes at `t` before event `before` (exclusive), newest first. */
export function lastWrites(
  rt: DebugRuntime,
  t: WriteTarget,
  length: number,
  before: number,
  limit: number,
): LastWriteBody {
  const got = rt.timeline.writes.writes(t.space, t.address, length, before, limit + 1);
  return {
    target: t.canonical,
    length,
    writes: got.slice(0, limit).map((w) => entry(rt.machine, w)),
    truncated: got.length > limit,
  };
}

type Args = Record<string, unknown>;

/** `mic/lastWrite` {address, length?, limit?, before?}: the body, or an error in words. */
export function lastWriteRequest(rt: DebugRuntime, a: Args, card: number): LastWriteBody | string {
  if (typeof a.address !== 'string' || !a.address.trim()) return `give address: a memory reference (${WHAT})`;
  const t = resolveWriteTarget(rt.machine, a.address, card);
  if (!t) return `'${a.address}' is not an address: use ${WHAT}`;
  const length = a.length ?? 4;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= 0)
    return `length ${JSON.stringify(a.length)} is not a length in bytes (a whole number ≥ 1)`;
  const limit = a.limit ?? LAST_WRITE_DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > LAST_WRITE_MAX_LIMIT)
    return `limit ${JSON.stringify(a.limit)} is not a count of writes from 1 to ${LAST_WRITE_MAX_LIMIT}`;
  const p = rt.position();
  let before = p.seq + 1;
  if (a.before !== undefined && a.before !== null) {
    if (typeof a.before !== 'number' || !Number.isSafeInteger(a.before) || a.before < 0)
      return `before ${JSON.stringify(a.before)} is not an event number`;
    before = a.before;
  }
  return lastWrites(rt, t, length, before, limit);
}

/** `4,321` */
const grouped = (n: number) => n.toLocaleString('en-US');
/** Virtual time as the Debug Console shows it: `1.234567 ms`. */
const msText = (ns: number) => `${(ns / 1e6).toFixed(6)} ms`;

/**
 * The Debug Console's `lastwrite ADDR [LEN]` (the newest write) and `history ADDR [LEN]` (up to
 * 20): the text to show, or an error in words.
 */
export function lastWriteCommand(
  rt: DebugRuntime,
  word: 'lastwrite' | 'history',
  args: string[],
  card: number,
): { text: string } | string {
  const usage = `${word} ADDR [LEN]: ADDR is ${WHAT}; LEN in bytes (default 4)`;
  if (args.length === 0 || args.length > 2) return `${word} needs an address: ${usage}`;
  let length = 4;
  if (args[1] !== undefined) {
    const n = parseNumber(args[1]);
    if (n === null || n <= 0) return `'${args[1]}' is not a length in bytes (${usage})`;
    length = n;
  }
  const t = resolveWriteTarget(rt.machine, args[0], card);
  if (!t) return `'${args[0]}' is not an address: use ${WHAT}`;
  const p = rt.position();
  const limit = word === 'lastwrite' ? 1 : LAST_WRITE_DEFAULT_LIMIT;
  const r = lastWrites(rt, t, length, p.seq + 1, limit);
  const what = `${r.target} (${length} byte${length === 1 ? '' : 's'})`;
  const now = `event ${grouped(p.seq)}`;
  if (r.writes.length === 0) return { text: `${what}: no write before this moment (${now}) since power-on` };
  if (word === 'lastwrite') {
    const w = r.writes[0];
    const text = [
      `${what}: last written at event ${grouped(w.seq)} (${msText(w.time)}, before this moment, ${now}):`,
      `  ${w.text}`,
      `  goto ${w.seq} to go there; history ${args.join(' ')} lists more`,
    ].join('\n');
    return { text };
  }
  const head = `${what}: ${r.writes.length}${r.truncated ? ' newest' : ''} write${r.writes.length === 1 ? '' : 's'} before this moment (${now}), newest first:`;
  const lines = r.writes.map(
    (w) =>
      `  ${grouped(w.seq).padStart(11)}  ${msText(w.time).padStart(16)}  ${w.initiatorName}  ${valueText(w)}  (goto ${w.seq})`,
  );
  const tail = r.truncated
    ? [`  … older writes not shown (mic/lastWrite with a larger limit lists them)`]
    : [];
  return { text: [head, ...lines, ...tail].join('\n') };
}

/** `= 0x7` (a register or a small write), `4096 bytes from 0x…` (a bulk one). */
function valueText(w: IndexedWrite): string {
  const at = `${w.space}+${hex(w.address)}`;
  return w.size <= 4 ? `${at} = ${hex(w.value)}` : `${at}, ${w.size} bytes, first ${hex(w.value)}`;
}
