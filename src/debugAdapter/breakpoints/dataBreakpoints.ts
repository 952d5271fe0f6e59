// Data breakpoints: which bytes of which space, encoded as a dataId that outlives a machine
// (`mic0.bar4+0x1cc90/4`), and the words a stop uses ("SDBIC0 (mic0.bar4+0x1cc90) written with
// 0x80000000 by mic0 card OS").

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { BusEvent, EventKind } from '../../emulator/sim/busEvent.ts';
import type { Machine } from '../../emulator/machine.ts';
import { MMIO_SIZE, REGISTER_BY_NAME, registerAt } from '../../emulator/card/sboxRegisters.ts';
import { initiatorName } from '../names.ts';
import { count } from '../../emulator/lib/numbers.ts';
import { peek, resolveMemoryRef, type MemoryTarget } from '../memoryRefs.ts';

export type AccessType = DebugProtocol.DataBreakpointAccessType;

export interface WatchedRange {
  /** Event space: 'host' | 'micN.gddr' | 'micN.bar4'. */
  space: string;
  address: number;
  length: number;
}

/** Event kinds that read or write bytes of a space. A descriptor fetch reads the ring. */
export const READ_KINDS: readonly EventKind[] = ['mem.read', 'mmio.read', 'dma.desc'];
export const WRITE_KINDS: readonly EventKind[] = ['mem.write', 'mmio.write'];

export function kindsFor(access: AccessType): EventKind[] {
  if (access === 'read') return [...READ_KINDS];
  if (access === 'write') return [...WRITE_KINDS];
  return [...READ_KINDS, ...WRITE_KINDS];
}

const hex = (n: number) => '0x' + n.toString(16);

export function encodeDataId(r: WatchedRange): string {
  return `${r.space}+${hex(r.address)}/${r.length}`;
}

export function decodeDataId(id: string): WatchedRange | null {
  // `micN.mmio` is the register window's old name: breakpoints saved with it keep working.
  const m = /^(host|mic\d+\.(?:gddr|bar4|mmio))\+0x([0-9a-f]+)\/(\d+)$/.exec(id);
  if (!m) return null;
  const length = Number(m[3]);
  if (length < 1) return null;
  return { space: spaceName(m[1]), address: parseInt(m[2], 16), length };
}

/** The register window's old names (`mic0.mmio`, `mic0.sbox`) → `mic0.bar4`; others unchanged. */
export function spaceName(space: string): string {
  return space.replace(/^(mic\d+)\.(?:mmio|sbox)$/, '$1.bar4');
}

/**
 * A condition or reference written with the register window's old names (`space == "mic0.mmio"`,
 * `endsWith(space, ".sbox")`): the same text with `bar4`, so saved breakpoints keep matching.
 */
export function withCurrentSpaceNames(text: string): string {
  return text.replace(/(\bmic\d+)?\.(?:mmio|sbox)\b/g, '$1.bar4');
}

/** `SDBIC0 (mic0.bar4+0x1cc90)` for a register, `mic0.gddr+0x1000 (64 bytes)` for memory. */
export function watchedName(r: WatchedRange): string {
  const at = `${spaceName(r.space)}+${hex(r.address)}`;
  if (r.space.endsWith('.bar4')) {
    const reg = registerAt(r.address & ~3);
    if (reg && r.length <= 4) return `${reg.name} (${at})`;
  }
  return `${at} (${r.length} byte${r.length === 1 ? '' : 's'})`;
}

/** A reference the memory view uses, or a register name (`SDBIC0`, `mic1.SICR0`). */
export function resolveWatchTarget(m: Machine, ref: string): MemoryTarget | null {
  const t = resolveMemoryRef(m, ref);
  if (t) return t;
  const r = /^(?:(mic\d+)\.)?([A-Za-z][\w]*)$/.exec(ref.trim());
  if (!r) return null;
  const reg = REGISTER_BY_NAME.get(r[2].toUpperCase());
  if (!reg) return null;
  return resolveMemoryRef(m, `${r[1] ?? 'mic0'}.bar4+${hex(reg.bar4)}`);
}

/** Words for an access that hit range r. */
export function describeAccess(m: Machine | null, e: BusEvent, r: WatchedRange): string {
  const what = watchedName(r);
  const who = initiatorName(e.initiator);
  const write = e.kind === 'mem.write' || e.kind === 'mmio.write';
  if (e.kind === 'dma.desc') return `${what} read by ${who} (descriptor fetch: ${e.detail})`;
  const exact = e.address === r.address && e.size <= 8;
  if (exact) return `${what} ${write ? 'written with' : 'read as'} ${hex(e.value)} by ${who}`;
  const access = `${spaceName(e.space)}+${hex(e.address)} (${count(e.size, 'byte')})`;
  let now = '';
  if (write && m && !e.space.endsWith('.bar4')) {
    const target = resolveMemoryRef(m, `${spaceName(e.space)}+${hex(r.address)}`);
    if (target) {
      const b = peek(m, target, Math.min(r.length, 4));
      let v = 0;
      for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
      now = `; it now holds ${hex(v)}`;
    }
  }
  return `${what} ${write ? 'written' : 'read'} by ${who}: the access ${access} overlaps it${now}`;
}

// ---- data breakpoints written as function breakpoints ---------------------------------------
//
// `write ADDRESS [LEN]`, `read ADDRESS [LEN]`, `access ADDRESS [LEN]`: the same watch on bytes
// as a DAP data breakpoint, in a form any client can set as a function breakpoint. VS Code's
// extension API cannot create data breakpoints (vscode.debug.addBreakpoints takes source and
// function breakpoints only), so the MIC views and "MIC: Add Data Breakpoint…" set these: they
// are listed, disabled and removed in the Breakpoints view like any other.

export const WATCH_WORDS: Readonly<Record<string, AccessType>> = {
  write: 'write',
  read: 'read',
  access: 'readWrite',
};

export const WATCH_USAGE =
  'write|read|access ADDRESS [LEN], ADDRESS as micN.bar4+0x…, micN.gddr+0x…, host+0x… or a register (SDBIC0, mic1.SPAD14)';

export class WatchSyntaxError extends Error {}

/**
 * Where `target` is, without a machine: a named memory reference or a register name. `card`
 * (from a `micN:` prefix) picks the card of a bare register name. Throws WatchSyntaxError.
 */
export function parseWatchTarget(target: string, lenText: string | undefined, card = 0): WatchedRange {
  const t = target.trim();
  const named = /^(?:mic(\d+)\.(bar0|bar4|gddr|mmio|sbox)|(host))\+(\S+)$/i.exec(t);
  let range: WatchedRange;
  if (named) {
    const off = parseOffset(named[4]);
    if (off === null) throw new WatchSyntaxError(`'${named[4]}' is not an offset (write 0x… or a number)`);
    const kind = named[2]?.toLowerCase();
    const space = named[3]
      ? 'host'
      : `mic${named[1]}.${kind === 'bar0' || kind === 'gddr' ? 'gddr' : 'bar4'}`;
    if (space.endsWith('.bar4') && off >= MMIO_SIZE)
      throw new WatchSyntaxError(`BAR4 is ${hex(MMIO_SIZE)} bytes: offset ${hex(off)} is past its end`);
    range = { space, address: off, length: 4 };
  } else {
    const r = /^(?:mic(\d+)\.)?([A-Za-z]\w*)$/.exec(t);
    const reg = r ? REGISTER_BY_NAME.get(r[2].toUpperCase()) : undefined;
    if (!reg) {
      if (/^(0x[0-9a-f_]+|\d+)$/i.test(t))
        throw new WatchSyntaxError(
          `'${t}' is a bare address: write micN.bar4+0x…, micN.gddr+0x… or host+0x… (VS Code's "Add Data Breakpoint at Address" takes host-physical addresses)`,
        );
      throw new WatchSyntaxError(`'${t}' is not an address or a register name: write ${WATCH_USAGE}`);
    }
    range = { space: `mic${r![1] ?? card}.bar4`, address: reg.bar4, length: 4 };
  }
  if (lenText !== undefined) {
    const n = parseOffset(lenText);
    if (n === null || n < 1) throw new WatchSyntaxError(`'${lenText}' is not a length in bytes`);
    range.length = n;
  }
  return range;
}

/** A `write|read|access ADDRESS [LEN]` breakpoint (after an optional `micN:`), or null if it is another form. */
export function parseWatchBreakpoint(
  text: string,
): { range: WatchedRange; access: AccessType; text: string } | null {
  const m = /^(?:mic(\d+)\s*:\s*)?(write|read|access)\b\s*(.*)$/i.exec(text.trim());
  if (!m) return null;
  const access = WATCH_WORDS[m[2].toLowerCase()];
  const args = m[3].split(/\s+/).filter(Boolean);
  if (args.length === 0 || args.length > 2) throw new WatchSyntaxError(`write ${WATCH_USAGE}`);
  const range = parseWatchTarget(args[0], args[1], m[1] !== undefined ? Number(m[1]) : 0);
  return {
    range,
    access,
    text: `${m[1] !== undefined ? `mic${m[1]}: ` : ''}${m[2].toLowerCase()} ${args.join(' ')}`,
  };
}

function parseOffset(s: string): number | null {
  const t = s.replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}
