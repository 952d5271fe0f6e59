// Byte-level pieces of trace lines (traceWriter.ts): strings pre-encoded as words to copy,
// decimal and hex digits written straight into a buffer, JSON string contents copied when they
// need no escaping. Everything writes at a position and returns the position after it; the
// caller has checked the room (pieces may write SLACK bytes past their end).

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * A string's UTF-8 bytes as little-endian 32-bit words after its byte length: [length, w0, …].
 * Copying 4 bytes a store through a DataView is about 3× faster than byte by byte, and faster
 * than TypedArray.set's call (about 16 ns) on pieces this short. The last word's spare bytes
 * land past the piece's end, where the next piece overwrites them.
 */
export type Piece = Int32Array;

export function piece(s: string): Piece {
  const bytes = utf8(s);
  const w = new Int32Array(1 + ((bytes.length + 3) >> 2));
  w[0] = bytes.length;
  for (let i = 0; i < bytes.length; i++) w[1 + (i >> 2)] |= bytes[i] << (8 * (i & 3));
  return w;
}

export function putPiece(dv: DataView, p: number, w: Piece): number {
  const n = w.length;
  for (let i = 1; i < n; i++) dv.setInt32(p + 4 * i - 4, w[i], true);
  return p + w[0];
}

/** encode(s) as a Piece, per string, with the last one at hand. */
export class Encodings {
  private readonly map = new Map<string, Piece>();
  private last = '';
  private lastBytes: Piece;

  constructor(private readonly encode: (s: string) => string) {
    this.lastBytes = piece(encode(''));
  }

  get(s: string): Piece {
    if (s === this.last) return this.lastBytes;
    let b = this.map.get(s);
    if (b === undefined) {
      b = piece(this.encode(s));
      // Names come from a fixed machine; the bound only guards odd callers.
      if (this.map.size < 4096) this.map.set(s, b);
    }
    this.last = s;
    this.lastBytes = b;
    return b;
  }
}

/** encode(a, b) as a Piece, per pair of strings, with the last one at hand. */
export class PairEncodings {
  private readonly map = new Map<string, Map<string, Piece>>();
  private lastA = '';
  private lastB = '';
  private lastBytes: Piece;

  constructor(private readonly encode: (a: string, b: string) => string) {
    this.lastBytes = piece(encode('', ''));
  }

  get(a: string, b: string): Piece {
    if (a === this.lastA && b === this.lastB) return this.lastBytes;
    let m = this.map.get(a);
    if (m === undefined) {
      m = new Map();
      if (this.map.size < 256) this.map.set(a, m);
    }
    let w = m.get(b);
    if (w === undefined) {
      w = piece(this.encode(a, b));
      if (m.size < 4096) m.set(b, w);
    }
    this.lastA = a;
    this.lastB = b;
    this.lastBytes = w;
    return w;
  }
}

/** A frame name's bytes, and those of the argument names its frames were seen with. */
export class FnBytes {
  /** The name with its opening quote. */
  readonly name: Piece;
  private readonly keys: string[] = [];
  /** `(k=0x` or `, k=0x` per argument position (`0x` only before a number). */
  private readonly numberArgs: Piece[] = [];
  private readonly textArgs: Piece[] = [];

  constructor(fn: string) {
    this.name = piece(JSON.stringify(fn).slice(0, -1));
  }

  /** `(k=` or `, k=` for argument `k` at position i, with `0x` if its value is a number. */
  arg(i: number, k: string, isNumber: boolean): Piece {
    if (this.keys[i] !== k) {
      // A frame of this name with other arguments: the pieces at i follow the latest frame.
      const name = (i === 0 ? '(' : ', ') + JSON.stringify(k).slice(1, -1) + '=';
      this.keys[i] = k;
      this.numberArgs[i] = piece(name + '0x');
      this.textArgs[i] = piece(name);
    }
    return isNumber ? this.numberArgs[i] : this.textArgs[i];
  }
}

/** Bytes a word copy may write past its piece's end. */
export const SLACK = 3;

/**
 * Copy b[from, end), which lies before p (a line already written), to b[p…]; returns the end.
 * Short runs go by words (copyWithin's call costs about as much as 48 bytes of them).
 */
export function copyBack(b: Buffer, dv: DataView, p: number, from: number, end: number): number {
  const n = end - from;
  if (n > 48) b.copyWithin(p, from, end);
  else for (let i = 0; i < n; i += 4) dv.setInt32(p + i, dv.getInt32(from + i, true), true);
  return p + n;
}

// Two digits a 16-bit store: DIGITS2[n] is n's two decimal digits (n < 100), HEX2[n] a byte's
// two hex digits, as little-endian pairs (the first digit at the lower address).
const DIGITS2 = new Uint16Array(100);
const HEX2 = new Uint16Array(256);
const HEX1 = utf8('0123456789abcdef');
for (let n = 0; n < 100; n++) DIGITS2[n] = (48 + ((n / 10) | 0)) | ((48 + (n % 10)) << 8);
for (let n = 0; n < 256; n++) HEX2[n] = HEX1[n >> 4] | (HEX1[n & 15] << 8);

/** Number of decimal digits of an integer 0 ≤ n < 1e9. */
function decLength(n: number): number {
  if (n < 1e4) return n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : 4;
  return n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : 9;
}

/** The last `len` decimal digits of an integer 0 ≤ n < 1e9 (with leading zeros), ending at `end`. */
function putDigits(dv: DataView, end: number, n: number, len: number): void {
  n |= 0; // an int32: the divisions below stay integer
  for (; len >= 2; len -= 2) {
    const q = (n / 100) | 0;
    dv.setUint16(end - 2, DIGITS2[n - q * 100], true);
    n = q;
    end -= 2;
  }
  if (len === 1) dv.setUint8(end - 1, 48 + (n % 10));
}

/** Decimal digits of an integer 0 ≤ n ≤ 2^53 (as String(n) writes them). */
export function putDec(dv: DataView, p: number, n: number): number {
  if (n < 1e9) {
    const len = decLength(n);
    putDigits(dv, p + len, n, len);
    return p + len;
  }
  // The high digits, then the low nine with their leading zeros.
  const hi = Math.floor(n / 1e9);
  const len = decLength(hi);
  putDigits(dv, p + len, hi, len);
  putDigits(dv, p + len + 9, n - hi * 1e9, 9);
  return p + len + 9;
}

/** The last `len` hex digits of a uint32 (with leading zeros), ending at `end`. */
function putNibbles(dv: DataView, end: number, n: number, len: number): void {
  for (; len >= 2; len -= 2) {
    dv.setUint16(end - 2, HEX2[n & 0xff], true);
    n >>>= 8;
    end -= 2;
  }
  if (len === 1) dv.setUint8(end - 1, HEX1[n & 15]);
}

/** Hex digits of a uint32 without leading zeros (as toString(16) writes them). */
export function putHex32(dv: DataView, p: number, n: number): number {
  n >>>= 0;
  const len = n === 0 ? 1 : (35 - Math.clz32(n)) >> 2;
  putNibbles(dv, p + len, n, len);
  return p + len;
}

/** Hex digits of an integer 0 ≤ n ≤ 2^53: 40- and 48-bit addresses go by 32-bit halves. */
export function putHex(dv: DataView, p: number, n: number): number {
  if (n <= 0xffff_ffff) return putHex32(dv, p, n);
  p = putHex32(dv, p, Math.floor(n / 0x1_0000_0000));
  putNibbles(dv, p + 8, n >>> 0, 8);
  return p + 8;
}

/** Numbers the byte path writes; others (negative, fractional, huge) go through eventToJson. */
export const plain = (n: number): boolean => n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n);

/**
 * The inside of s's JSON string literal (no quotes): copied when no char needs escaping, else
 * JSON.stringify's. The caller leaves 6 bytes of room per char (\u001f is the longest).
 */
export function putText(b: Buffer, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f)
      return p + b.write(JSON.stringify(s).slice(1, -1), p, 'utf8');
    b[p + i] = c;
  }
  return p + n;
}
