// A trace line: one event as JSON, frames outermost first. `--trace FILE` writes these lines
// through TraceWriter (traceWriter.ts), which encodes the same text straight to bytes; this
// string form is for anyone who needs a single line, and for TraceWriter's rare odd events.
//
// The line is assembled by hand rather than with JSON.stringify of a fresh object: the strings
// that repeat (initiators, kinds, spaces) are escaped once, and a frame chain's JSON is made once
// per Frame object (chains are immutable and shared by every event their routine causes).
// The text is exactly what JSON.stringify gives for the same object.

import { frameText, type BusEvent, type Frame } from '../busEvent.ts';

/** JSON string literal of a frame without arguments (its text is its name), per name. */
const fnQuoted = new Map<string, string>();

function fnJson(fn: string): string {
  let r = fnQuoted.get(fn);
  if (r === undefined) {
    r = JSON.stringify(fn);
    if (fnQuoted.size < 4096) fnQuoted.set(fn, r);
  }
  return r;
}

/** One frame as the JSON string of a trace line's "frames" array. */
export function frameJson(f: Frame): string {
  return f.args ? JSON.stringify(frameText(f)) : fnJson(f.fn);
}

/** JSON array text of a chain, outermost first, per innermost Frame. */
const chainJson = new WeakMap<Frame, string>();
// Consecutive events mostly come from the same routine: the last chain is kept at hand.
let lastFrame: Frame | null = null;
let lastFrameJson = '[]';

function framesJson(f: Frame | null): string {
  if (f === lastFrame) return lastFrameJson;
  if (f === null) return '[]';
  let s = chainJson.get(f);
  if (s === undefined) {
    const outer = framesJson(f.parent);
    const me = frameJson(f);
    s = outer === '[]' ? `[${me}]` : `${outer.slice(0, -1)},${me}]`;
    chainJson.set(f, s);
  }
  lastFrame = f;
  lastFrameJson = s;
  return s;
}

/** JSON string literals of the strings that come back on every event. */
const quoted = new Map<string, string>();

function q(s: string): string {
  let r = quoted.get(s);
  if (r === undefined) {
    r = JSON.stringify(s);
    if (quoted.size < 4096) quoted.set(s, r);
  }
  return r;
}

// One-entry caches in front of q() for the three fields that repeat most.
let lastInitiator = '';
let lastInitiatorJson = '""';
let lastSpace = '';
let lastSpaceJson = '""';
let lastKind = '';
let lastKindJson = '""';

/**
 * A number as JSON writes it (non-finite numbers become null). Integers past 2^31 are not small
 * integers to V8 and format slowly; split in two decimal halves they format fast, to the same text.
 */
function num(n: number): string {
  if (n >= 0x8000_0000 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
    const hi = Math.floor(n / 1e9);
    const lo = n - hi * 1e9;
    return String(hi) + String(lo).padStart(9, '0');
  }
  return Number.isFinite(n) ? String(n) : 'null';
}

// Hex digits of every byte, without (HEX1) and with (HEX2) a leading zero.
const HEX1: string[] = [];
const HEX2: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX1.push(i.toString(16));
  HEX2.push(i.toString(16).padStart(2, '0'));
}

/** n.toString(16) for a 32-bit unsigned integer, from byte tables (toString(16) is slow). */
function hex32(n: number): string {
  if (n < 0x100) return HEX1[n];
  if (n < 0x1_0000) return HEX1[n >>> 8] + HEX2[n & 0xff];
  if (n < 0x100_0000) return HEX1[n >>> 16] + HEX2[(n >>> 8) & 0xff] + HEX2[n & 0xff];
  return HEX1[n >>> 24] + HEX2[(n >>> 16) & 0xff] + HEX2[(n >>> 8) & 0xff] + HEX2[n & 0xff];
}

/** n.toString(16) for a non-negative integer, by 32-bit halves when it is past 2^32. */
export function hex(n: number): string {
  if (n >>> 0 === n) return hex32(n);
  if (n < 0x8000_0000 || n > Number.MAX_SAFE_INTEGER || !Number.isInteger(n)) return n.toString(16);
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n - hi * 0x1_0000_0000;
  return hex(hi) + (hex(lo) as string).padStart(8, '0');
}

export function eventToJson(e: BusEvent): string {
  if (e.initiator !== lastInitiator) {
    lastInitiator = e.initiator;
    lastInitiatorJson = q(e.initiator);
  }
  if (e.space !== lastSpace) {
    lastSpace = e.space;
    lastSpaceJson = q(e.space);
  }
  if (e.kind !== lastKind) {
    lastKind = e.kind;
    lastKindJson = q(e.kind);
  }
  return (
    `{"seq":${num(e.seq)},"time":${num(e.time)},"initiator":${lastInitiatorJson},"kind":${lastKindJson},` +
    `"space":${lastSpaceJson},"address":"0x${hex(e.address)}","size":${num(e.size)},` +
    `"value":"0x${hex(e.value >>> 0)}"${e.detail ? `,"detail":${JSON.stringify(e.detail)}` : ''},` +
    `"frames":${framesJson(e.frames)}}`
  );
}
