// `hexdump -C` (util-linux's canonical format; Linux keeps its own in lib/hexdump.c): 16 bytes
// a line, the offset, hex in two groups of eight, the printable bytes between bars, `*` for a
// line that repeats the one before, and the final offset. One implementation for the card's
// shell (fed in pieces as a disk is read) and the Debug Console's `x` (one block of memory).

/** `hexdump -C` lines, fed in pieces: 16 bytes a line, `*` for repeated lines, final offset. */
export class HexdumpFormatter {
  private pending = new Uint8Array(0);
  private prev: Uint8Array | null = null;
  private squeezing = false;
  private out = '';
  constructor(private addr: number) {}

  private static hex8(n: number): string {
    return n.toString(16).padStart(8, '0');
  }

  private line(b: Uint8Array): string {
    let s = `${HexdumpFormatter.hex8(this.addr)}  `;
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      s += i < b.length ? `${b[i].toString(16).padStart(2, '0')} ` : '   ';
      if (i === 7) s += ' ';
      if (i < b.length) ascii += b[i] >= 0x20 && b[i] < 0x7f ? String.fromCharCode(b[i]) : '.';
    }
    return `${s} |${ascii}|\n`;
  }

  private emit(b: Uint8Array): void {
    const full = b.length === 16;
    if (full && this.prev && this.prev.every((v, i) => v === b[i])) {
      if (!this.squeezing) this.out += '*\n';
      this.squeezing = true;
    } else {
      this.squeezing = false;
      this.out += this.line(b);
    }
    this.prev = full ? b : null;
    this.addr += b.length;
  }

  push(bytes: Uint8Array): void {
    const all = new Uint8Array(this.pending.length + bytes.length);
    all.set(this.pending);
    all.set(bytes, this.pending.length);
    let i = 0;
    for (; i + 16 <= all.length; i += 16) this.emit(all.slice(i, i + 16));
    this.pending = all.slice(i);
  }

  /** Lines formatted so far (taken). */
  text(): string {
    const t = this.out;
    this.out = '';
    return t;
  }

  /** The last partial line and the final offset line. */
  finish(): string {
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = new Uint8Array(0);
    return `${this.text()}${HexdumpFormatter.hex8(this.addr)}\n`;
  }
}

/** `hexdump -C` of `data` whose first byte is at `base`, without a trailing newline. */
export function hexdump(base: number, data: Uint8Array): string {
  const f = new HexdumpFormatter(base);
  f.push(data);
  return f.finish().slice(0, -1);
}
