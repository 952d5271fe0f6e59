// The console's line discipline: what Linux's n_tty does for a terminal in canonical mode with
// echo (ICANON | ECHO | ECHOE | ONLCR), plus the history and arrow keys a shell's line editor
// adds. Raw key bytes in; echo and editing out through TtyReader.out; a finished line, Ctrl-C and
// Ctrl-D go to the reader (the shell, shell.ts). Pure logic, deterministic.

/** Longest line, as n_tty's N_TTY_BUF_SIZE - 1; further characters are dropped. */
const MAX_LINE = 4095;
const MAX_HISTORY = 100;
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';

type EscState = 'none' | 'esc' | 'csi' | 'ss3';

/** Who reads the lines: the shell. */
export interface TtyReader {
  /** Echo and line editing, before ONLCR (the reader batches and writes it). */
  out(text: string): void;
  /** Enter: one complete line, already echoed with its newline. */
  line(text: string): void;
  /** Ctrl-C: the line was dropped. */
  interrupt(): void;
  /** Ctrl-D on an empty line (end of input). */
  eof(): void;
  /** The prompt, to redraw the line after Ctrl-L. */
  prompt(): string;
}

/** '\n' (not already preceded by '\r') becomes '\r\n', as the tty's ONLCR would do. */
function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/**
 * toCrlf of the parts' concatenation (the shell's output between two flushes). The same parts
 * as last time (the same long file printed again) give the same string object back without
 * making the concatenation at all: a string built by `+=` and compared with the last one is
 * flattened first — a copy of the whole text (123 KB for `cat /proc/cpuinfo`) each time. The
 * same object back also lets the tty's encoder know it (cardOs.ts, encodeText).
 */
export function toCrlfParts(parts: readonly string[]): string {
  let same = parts.length === partsIn.length;
  for (let i = 0; same && i < parts.length; i++) same = parts[i] === partsIn[i];
  if (same) return partsOut;
  const text = parts.length === 1 ? parts[0] : parts.join('');
  const out = toCrlf(text);
  // Long output only: short lines differ every time and cost little to convert.
  if (text.length >= 4096) {
    partsIn = parts.slice();
    partsOut = out;
  }
  return out;
}
let partsIn: readonly string[] = [];
let partsOut = '';

export class LineDiscipline {
  private buffer = '';
  private escState: EscState = 'none';
  private escParams = '';
  private lastWasCr = false;
  private decoder = new TextDecoder('utf-8');
  private decoderPending = false;
  private history: string[] = [];
  private historyIndex = 0;
  private historyDraft = '';

  constructor(private readonly reader: TtyReader) {}

  private out(text: string): void {
    this.reader.out(text);
  }

  /** Drop the line being typed (and any half-typed escape or UTF-8 sequence). */
  reset(): void {
    this.buffer = '';
    this.escState = 'none';
    this.escParams = '';
    this.lastWasCr = false;
    this.decoder = new TextDecoder('utf-8');
    this.decoderPending = false;
    this.historyIndex = this.history.length;
    this.historyDraft = '';
  }

  /** An ASCII byte ends any unfinished UTF-8 sequence: what is left becomes U+FFFD. */
  private flushDecoder(): void {
    if (!this.decoderPending) return;
    this.decoderPending = false;
    const rest = this.decoder.decode();
    if (rest) this.insertText(rest);
  }

  /** One byte typed on the console. */
  feed(b: number): void {
    const afterCr = this.lastWasCr;
    this.lastWasCr = false;

    if (b >= 0x80) {
      if (this.escState !== 'none') this.escState = 'none';
      this.decoderPending = true;
      const text = this.decoder.decode(Uint8Array.of(b), { stream: true });
      if (text) this.insertText(text);
      return;
    }
    this.flushDecoder();

    if (this.escState !== 'none') {
      if (this.feedEscape(b)) return;
    }

    switch (b) {
      case 0x0d: // CR
        this.enter();
        this.lastWasCr = true;
        return;
      case 0x0a: // LF (ignored right after a CR: CRLF is one Enter)
        if (!afterCr) this.enter();
        return;
      case 0x7f:
      case 0x08:
        this.backspace();
        return;
      case 0x03: // Ctrl-C: the line is dropped (ISIG's SIGINT to the shell)
        this.out('^C\n');
        this.reset();
        this.reader.interrupt();
        return;
      case 0x04: // Ctrl-D: EOF on an empty line
        if (this.buffer === '') {
          this.reset();
          this.reader.eof();
        }
        return;
      case 0x0c: // Ctrl-L
        this.out(CLEAR_SCREEN + this.reader.prompt() + this.buffer);
        return;
      case 0x15: // Ctrl-U
        this.eraseDisplayed(this.buffer);
        this.buffer = '';
        return;
      case 0x17: {
        // Ctrl-W: erase the previous word (trailing blanks, then non-blanks)
        const m = /\s*\S*$/.exec(this.buffer);
        const word = m ? m[0] : '';
        this.eraseDisplayed(word);
        this.buffer = this.buffer.slice(0, this.buffer.length - word.length);
        return;
      }
      case 0x1b:
        this.escState = 'esc';
        this.escParams = '';
        return;
      default:
        if (b >= 0x20) this.insertText(String.fromCharCode(b));
      // Other control characters (Tab, NUL, ...) are ignored.
    }
  }

  /** Consume one byte of an escape sequence. Returns false if the byte aborts it (process normally). */
  private feedEscape(b: number): boolean {
    switch (this.escState) {
      case 'esc':
        if (b === 0x5b) this.escState = 'csi';
        else if (b === 0x4f) this.escState = 'ss3';
        else if (b === 0x1b) this.escState = 'esc';
        else if (b < 0x20) {
          this.escState = 'none';
          return false;
        } else this.escState = 'none'; // Alt-<key>: swallowed
        return true;
      case 'ss3':
        this.escState = 'none';
        if (b < 0x20) return false;
        this.arrow(b, '');
        return true;
      case 'csi':
        if (b >= 0x20 && b <= 0x3f) {
          if (this.escParams.length < 32) this.escParams += String.fromCharCode(b);
          return true;
        }
        this.escState = 'none';
        if (b >= 0x40 && b <= 0x7e) {
          this.arrow(b, this.escParams);
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  /** Up/down arrows walk the history; everything else (left/right, F-keys, ...) is swallowed. */
  private arrow(final: number, params: string): void {
    if (params !== '' && params !== '1') return;
    if (final === 0x41) {
      if (this.historyIndex <= 0) return;
      if (this.historyIndex === this.history.length) this.historyDraft = this.buffer;
      this.historyIndex--;
      this.replaceBuffer(this.history[this.historyIndex]);
    } else if (final === 0x42) {
      if (this.historyIndex >= this.history.length) return;
      this.historyIndex++;
      this.replaceBuffer(
        this.historyIndex === this.history.length ? this.historyDraft : this.history[this.historyIndex],
      );
    }
  }

  private replaceBuffer(text: string): void {
    this.eraseDisplayed(this.buffer);
    this.buffer = text;
    this.out(text);
  }

  private eraseDisplayed(text: string): void {
    const chars = Array.from(text).length;
    if (chars > 0) this.out('\b \b'.repeat(chars));
  }

  private insertText(text: string): void {
    for (const ch of text) {
      if (this.buffer.length + ch.length > MAX_LINE) return; // line full: drop, like n_tty
      this.buffer += ch;
      this.out(ch);
    }
  }

  private backspace(): void {
    if (this.buffer === '') return;
    const chars = Array.from(this.buffer);
    chars.pop();
    this.buffer = chars.join('');
    this.out('\b \b');
  }

  private enter(): void {
    const line = this.buffer;
    this.out('\n');
    this.reset();
    if (line.trim() !== '' && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > MAX_HISTORY) this.history.shift();
    }
    this.historyIndex = this.history.length;
    this.reader.line(line);
  }
}
