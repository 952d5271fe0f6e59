// The MIC memory view's pure parts, shared by the extension host (memoryPanel.ts) and the
// webview script (webview/main.ts, bundled for the browser): address parsing, paging, rows of
// hex + ASCII, the register overlay, change marks and the bytes an edit writes. No DOM, no
// vscode, no Node: numbers and arrays only.
//
// Addresses are written as docs/naming.md says: `SPACE+0xOFFSET`, lower-case hex, no leading
// zeros, no grouping (`mic0.bar4+0x1cc90`); a bare `0x…` is a host-physical address.

/** Bytes one page of the view shows and one readMemory asks for. */
export const PAGE_BYTES = 4096;
/** Bytes a row shows. */
export const ROW_BYTES = 16;

/** A place in memory: a named space and an offset, or (space null) a host-physical address. */
export interface Address {
  space: string | null;
  offset: number;
}

const ALIASES: [RegExp, string][] = [
  [/^(mic\d+)\.(bar4|mmio|sbox)$/, '$1.bar4'],
  [/^(mic\d+)\.(gddr|bar0)$/, '$1.gddr'],
  [/^(mic\d+)\.config$/, '$1.config'],
  [/^host$/, 'host'],
];

/** `mic0.mmio` → `mic0.bar4`, `mic0.bar0` → `mic0.gddr`; undefined for a name that is no space. */
export function canonicalSpace(name: string): string | undefined {
  const n = name.trim().toLowerCase();
  for (const [re, to] of ALIASES) if (re.test(n)) return n.replace(re, to);
  return undefined;
}

/** `0x1cc90`, `0x80_0000_0000`, `4096`, `4_096`; NaN for anything else. */
export function parseNumber(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]+(_[0-9a-f]+)*$/.test(t)) return parseInt(t.slice(2).replace(/_/g, ''), 16);
  if (/^[0-9]+(_[0-9]+)*$/.test(t)) return parseInt(t.replace(/_/g, ''), 10);
  return NaN;
}

/**
 * What a person types into "Go to": `mic0.bar4+0x9004`, `mic0.gddr + 4096`, `host+0x1000`, a bare
 * `0xde019004` (host-physical), or an offset alone (`+0x40`, `0x40` with a current space in
 * the same space: "+" makes it relative to `base`). Answers the address or what was wrong.
 */
export function parseAddress(text: string, current?: Address): Address | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'type an address: mic0.bar4+0x9004, mic0.gddr+0x1000, host+0x0 or 0x…' };
  const rel = /^([+-])\s*(.+)$/.exec(t);
  if (rel) {
    if (!current) return { error: 'a relative address needs a page to start from' };
    const n = parseNumber(rel[2]);
    if (Number.isNaN(n)) return { error: `'${rel[2]}' is not a number (0x… hex or decimal)` };
    const offset = current.offset + (rel[1] === '+' ? n : -n);
    if (offset < 0) return { error: 'that is before the start of the space' };
    return { space: current.space, offset };
  }
  const m = /^([a-z][a-z0-9_.]*)\s*(?:\+\s*(.+))?$/i.exec(t);
  if (m && !/^0x/i.test(t)) {
    const space = canonicalSpace(m[1]);
    if (!space)
      return { error: `'${m[1]}' is not an address space (host, micN.gddr, micN.bar4, micN.config)` };
    const n = m[2] === undefined ? 0 : parseNumber(m[2]);
    if (Number.isNaN(n)) return { error: `'${m[2]}' is not an offset (0x… hex or decimal)` };
    return { space, offset: n };
  }
  const n = parseNumber(t);
  if (Number.isNaN(n)) return { error: `'${t}' is not an address: use SPACE+0xOFFSET or a number` };
  return { space: null, offset: n };
}

/** `0x1cc90` (docs/naming.md: no leading zeros, no grouping). */
export const hexOffset = (n: number): string => `0x${n.toString(16)}`;

/** The memory reference readMemory takes: `mic0.bar4+0x19000`, or `0xde019000`. */
export function formatAddress(a: Address): string {
  return a.space === null ? hexOffset(a.offset) : `${a.space}+${hexOffset(a.offset)}`;
}

/** The memory reference a DAP answer names (`mic0.bar4+0x19000`) as an address. */
export function addressOf(reference: string): Address | undefined {
  const r = parseAddress(reference);
  return 'error' in r ? undefined : r;
}

/** The start of the page that holds `offset`. */
export const pageStart = (offset: number, page = PAGE_BYTES): number => Math.floor(offset / page) * page;

/** The page `delta` pages away from the one at `start`, never below 0. */
export const pageStep = (start: number, delta: number, page = PAGE_BYTES): number =>
  Math.max(0, pageStart(start, page) + delta * page);

/** One row of the page: its offset, the reference it starts at, byte values (−1 = unreadable). */
export interface Row {
  offset: number;
  address: string;
  bytes: number[];
  ascii: string;
}

/** Printable ASCII as itself, everything else as a dot. */
export const asciiOf = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

/** The hex of one byte cell: `5a`, or `??` when unreadable. */
export const byteText = (b: number): string => (b < 0 ? '??' : b.toString(16).padStart(2, '0'));

/** Rows of `data` read at `start` (plus `unreadable` bytes that could not be read). */
export function rowsOf(space: string | null, start: number, data: ArrayLike<number>, unreadable = 0): Row[] {
  const total = data.length + unreadable;
  const rows: Row[] = [];
  for (let off = 0; off < total; off += ROW_BYTES) {
    const bytes: number[] = [];
    for (let i = 0; i < ROW_BYTES && off + i < total; i++)
      bytes.push(off + i < data.length ? data[off + i] : -1);
    rows.push({
      offset: start + off,
      address: formatAddress({ space, offset: start + off }),
      bytes,
      ascii: bytes.map((b) => (b < 0 ? ' ' : asciiOf(b))).join(''),
    });
  }
  return rows;
}

/** A register of a register file, as the view needs it (from mic/registers). */
export interface RegisterSpan {
  name: string;
  /** offset in the space (BAR4 offset) */
  offset: number;
  size: number;
  /** rw, ro, w1c, wo */
  access: string;
  writable: boolean;
  /** one line for the hover */
  doc?: string;
}

/** The registers that overlap [start, start+length), sorted by offset. */
export function registersIn(regs: readonly RegisterSpan[], start: number, length: number): RegisterSpan[] {
  return regs
    .filter((r) => r.offset < start + length && r.offset + r.size > start)
    .sort((a, b) => a.offset - b.offset);
}

/** The register that holds the byte at `offset`, if any. */
export function registerAt(regs: readonly RegisterSpan[], offset: number): RegisterSpan | undefined {
  return regs.find((r) => offset >= r.offset && offset < r.offset + r.size);
}

/** How a page was read: at a new stop, again while stopped, or live while running. */
export type ReadKind = 'newStop' | 'look' | 'running';

/**
 * Which bytes changed, as the MIC trees mark values (model/changeMarks.ts): at a stop, the bytes
 * that differ from the stop before; looking again while stopped keeps those marks (and adds the
 * bytes written since); while running (live refresh), the bytes that differ from the last stop.
 * A new page (or address space) starts without marks.
 */
export class ByteChangeMarks {
  private key = '';
  private beforeStop: number[] | undefined;
  private lastStop: number[] | undefined;

  /** The page's bytes, read as `kind` says; answers a changed flag per byte. */
  update(key: string, bytes: ArrayLike<number>, kind: ReadKind): boolean[] {
    const now = Array.from(bytes);
    if (key !== this.key) {
      this.key = key;
      this.beforeStop = undefined;
      this.lastStop = now;
    } else if (kind === 'newStop') {
      this.beforeStop = this.lastStop;
      this.lastStop = now;
    }
    const ref = kind === 'running' ? this.lastStop : this.beforeStop;
    return now.map((b, i) => ref !== undefined && i < ref.length && ref[i] >= 0 && b >= 0 && ref[i] !== b);
  }
}

/** Bytes a person typed but has not written yet: offset in the space → new value. */
export type Edits = ReadonlyMap<number, number>;

/** One writeMemory the edits turn into. */
export interface Write {
  offset: number;
  data: number[];
  /** the register written whole, if any */
  register?: string;
}

/**
 * The writes that carry `edits` out, with register semantics where a byte lies in a register:
 * the register is written whole in one aligned access (as a driver writes it, so a doorbell rings
 * once and a 32-bit register sees one 32-bit write), its other bytes being
 * - `rw`: their current value (`current(offset)`, the bytes on screen);
 * - `w1c`, `wo`: zero — for w1c, writing back the current value would clear every set bit, so
 *   only the bits typed as 1 clear; a write-only register reads 0 anyway.
 * A read-only register refuses (the answer names it). Bytes outside registers go as runs of
 * adjacent bytes.
 */
export function writesFor(
  edits: Edits,
  regs: readonly RegisterSpan[],
  current: (offset: number) => number,
): Write[] | { error: string } {
  const offsets = [...edits.keys()].sort((a, b) => a - b);
  const out: Write[] = [];
  const done = new Set<string>();
  let run: Write | undefined;
  for (const off of offsets) {
    const r = registerAt(regs, off);
    if (r) {
      run = undefined;
      if (done.has(r.name)) continue;
      done.add(r.name);
      if (!r.writable || r.access === 'ro')
        return { error: `${r.name} is read-only (${r.access}): not written` };
      const data: number[] = [];
      for (let i = 0; i < r.size; i++) {
        const o = r.offset + i;
        const typed = edits.get(o);
        data.push(typed ?? (r.access === 'rw' ? Math.max(0, current(o)) : 0));
      }
      out.push({ offset: r.offset, data, register: r.name });
      continue;
    }
    const v = edits.get(off) ?? 0;
    if (run && run.offset + run.data.length === off) run.data.push(v);
    else {
      run = { offset: off, data: [v] };
      out.push(run);
    }
  }
  return out;
}

/**
 * The target's length for a variable: the bytes its fixed-width hex value spells
 * (`0x00000057` → 4, docs/naming.md), else 1.
 */
export function variableBytes(value: string | undefined): number {
  const m = /^0x([0-9a-f_]+)$/i.exec(value?.trim() ?? '');
  if (!m) return 1;
  const digits = m[1].replace(/_/g, '').length;
  return digits >= 2 && digits % 2 === 0 && digits <= 16 ? digits / 2 : 1;
}

/** Cursor moves of the grid: the new index in a page of `length` bytes, clamped. */
export function moveCursor(index: number, key: string, length: number): number {
  const row = ROW_BYTES;
  let i = index;
  switch (key) {
    case 'ArrowLeft':
      i -= 1;
      break;
    case 'ArrowRight':
      i += 1;
      break;
    case 'ArrowUp':
      i -= row;
      break;
    case 'ArrowDown':
      i += row;
      break;
    case 'Home':
      i -= i % row;
      break;
    case 'End':
      i += row - 1 - (i % row);
      break;
    default:
      return index;
  }
  return Math.max(0, Math.min(length - 1, i));
}

/** Messages between the extension host and the webview (both directions). */
export interface PageMessage {
  type: 'page';
  space: string | null;
  start: number;
  /** base64 of the bytes read */
  data: string;
  unreadable: number;
  /** the bytes "Show in Memory" was asked for (the target), as offsets in `space` */
  target?: { offset: number; length: number };
  /** the register file's registers on this page (micN.bar4), else empty */
  registers: RegisterSpan[];
  /** read at a stop (change marks move on) or while running (live) */
  atStop: boolean;
  running: boolean;
  /** a line for the status bar of the view */
  status?: string;
  error?: string;
  /** the Hex Editor extension is installed: the view offers it */
  hexEditor: boolean;
  /** where the cursor should go (an offset in `space`) */
  cursor?: number;
}
export type ToView = PageMessage | { type: 'status'; text: string; error?: boolean } | { type: 'focusGoto' };
export type FromView =
  | { type: 'ready' }
  | { type: 'goto'; space: string | null; offset: number }
  | { type: 'write'; space: string | null; writes: Write[] }
  | { type: 'hexEditor' };
