// The buffer the Perfetto export (perfetto.ts) encodes its lines into, as bytes: repeated
// strings as pre-encoded pieces, numbers and hex digits straight into the buffer (traceBytes.ts),
// so an event costs no string. The bytes are those of the text the template strings would give
// (String(n) for numbers, JSON.stringify for strings, UTF-8).
//
// The buffer is handed to the sink in chunks of whole lines (emit(), called between lines only)
// and then reused: the sink must take the bytes during the call (write them, copy them).

import { plain, putDec, putHex, putPiece, putText, SLACK, type Piece } from './traceBytes.ts';
import { hex } from './traceRecorder.ts';

/**
 * Room kept after every piece and text for the digits that follow (numbers and hex digits do
 * not check): at least what one line's numbers take.
 */
export const LINE_FIXED = 512;

export class ByteOut {
  buf: Buffer;
  dv: DataView;
  /** Where the next byte goes. */
  p = 0;

  constructor(
    private readonly chunk: number,
    private readonly out: (bytes: Uint8Array) => void,
  ) {
    this.buf = Buffer.allocUnsafeSlow(chunk + (64 << 10));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Before a line (an event's lines): hand over a full chunk. */
  lineStart(): void {
    if (this.p >= this.chunk) this.emit();
  }

  /** Hand over what is gathered (whole lines). */
  emit(): void {
    const n = this.p;
    if (n === 0) return;
    this.p = 0;
    this.out(this.buf.subarray(0, n));
  }

  /** Room for n more bytes and LINE_FIXED after them (a line longer than the buffer grows it). */
  ensure(n: number): void {
    if (this.p + n + LINE_FIXED + SLACK > this.buf.length) this.grow(n + LINE_FIXED);
  }

  private grow(n: number): void {
    const b = Buffer.allocUnsafeSlow(2 * (this.p + n + SLACK));
    this.buf.copy(b, 0, 0, this.p);
    this.buf = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.length);
  }

  piece(w: Piece): void {
    this.ensure(w[0]);
    this.p = putPiece(this.dv, this.p, w);
  }

  /** A number as String(n) writes it. */
  num(n: number): void {
    if (plain(n)) this.p = putDec(this.dv, this.p, n);
    else this.str(String(n));
  }

  /** Text as it is (UTF-8). */
  str(s: string): void {
    this.ensure(3 * s.length);
    this.p += this.buf.write(s, this.p, 'utf8');
  }

  /** `"0x…"` for n ≥ 0, else `null`. */
  hexq(n: number): void {
    if (n < 0) return this.str('null');
    const dv = this.dv;
    dv.setUint16(this.p, 0x3022, true); // `"0`
    dv.setUint8(this.p + 2, 0x78); // `x`
    if (plain(n)) this.p = putHex(dv, this.p + 3, n);
    else {
      this.p += 3;
      this.str(hex(n));
    }
    this.buf[this.p++] = 0x22;
  }

  /** One byte. */
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.p++] = c;
  }

  /** Hex digits of an integer 0 ≤ n ≤ 2^53 (n.toString(16)). */
  hex(n: number): void {
    this.p = putHex(this.dv, this.p, n);
  }

  /** The inside of s's JSON string literal (no quotes). */
  inside(s: string): void {
    this.ensure(6 * s.length);
    this.p = putText(this.buf, this.p, s);
  }

  /** s as a JSON string literal (what JSON.stringify gives). */
  json(s: string): void {
    this.ensure(6 * s.length + 2);
    const b = this.buf;
    b[this.p] = 0x22;
    this.p = putText(b, this.p + 1, s);
    b[this.p++] = 0x22;
  }
}
