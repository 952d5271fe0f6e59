// DAP's base protocol on a byte stream: `Content-Length: N\r\n\r\n` then N bytes of JSON. This
// reader replaces @vscode/debugadapter's, which copies the whole buffer for every chunk (a
// 32 MiB message took 4.9 s), treats any framing mistake as the end of the session, and goes
// deaf forever after a header it cannot read.
//
// Linear: chunks are kept in a list and joined once, when a message is complete; only the
// header (at most MAX_HEADER bytes) is ever looked at twice.
//
// Forgiving where it costs nothing: `content-length` in any case, any spaces around the colon,
// LF-only line ends, other header fields. Loud where something was lost: every skipped byte and
// every message that is not JSON is reported through `problem`, and the reader resynchronises on
// the next `Content-Length` header:
// - junk before a header is skipped (and reported);
// - a body that is not JSON and holds the start of another header (the length was larger than
//   the message, or the message was cut short) is split there: what comes before is the
//   message (or is reported), the reader restarts at that header;
// - a body read to its stated length that is not JSON gives back, from its second byte on, a
//   `Content-Length:` inside it or else a tail that may be the start of one (`…Cont`): a length
//   too large by a few bytes cuts the next header anywhere, and the message behind it was lost
//   (issue 12c: the DAP fuzzer's seed 22 case 7603);
// - a length larger than what follows, with nothing more coming: after STALL_MS without data,
//   a partial body that is complete JSON is taken as the message (and the wrong length reported).

export const MAX_HEADER = 8192;
/** A larger Content-Length is refused: the reader resynchronises on the next header. */
export const MAX_MESSAGE = 256 * 2 ** 20;
export const STALL_MS = 300;

export interface FrameSink {
  /** A body that parsed as JSON, and whether it was valid UTF-8. */
  message(msg: unknown, validUtf8: boolean): void;
  /** Something was skipped or could not be read: say so to the client. */
  problem(text: string): void;
}

const HEADER_START = /content-length[ \t]*:/i;
const HEADER_END = /\r?\n\r?\n/;
const HEADER_LINE = /^[ \t]*content-length[ \t]*:[ \t]*(\d+)[ \t]*$/i;
/** A whole header line inside a body: impossible in JSON, so the body ended before it. */
const HEADER_IN_BODY = /content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n/i;
/** Bytes kept while no header is in view: `Content-Length:` may be arriving. */
const KEEP_TAIL = 15;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length being read, or -1 while looking for a header. */
  private bodyLength = -1;
  private stallTimer: NodeJS.Timeout | null = null;
  /** Resynchronisation attempts inside the current body (bounded: a body is scanned once). */
  private scannedTo = 0;
  /** Bytes copied while joining chunks: tests check that reading is linear. */
  bytesCopied = 0;
  messages = 0;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  /** No more data: report a message left incomplete. */
  end(): void {
    this.clearStall();
    if (this.bodyLength >= 0 && this.buffered > 0 && !this.tryStalledBody())
      this.sink.problem(
        `the connection ended ${this.bodyLength - this.buffered} bytes short of a ${this.bodyLength}-byte message; it was dropped`,
      );
    this.chunks = [];
    this.buffered = 0;
  }

  dispose(): void {
    this.clearStall();
    this.chunks = [];
    this.buffered = 0;
  }

  private drain(): void {
    for (;;) {
      if (this.bodyLength < 0) {
        if (!this.readHeader()) return;
        continue;
      }
      if (this.buffered >= this.bodyLength) {
        this.clearStall();
        const body = this.take(this.bodyLength);
        this.bodyLength = -1;
        this.scannedTo = 0;
        this.deliver(body, true);
        continue;
      }
      // Incomplete: a header in the new bytes may show that the length was wrong.
      if (this.resyncInsideBody()) continue;
      this.armStall();
      return;
    }
  }

  /** Parse one header if a whole one is buffered. False: wait for more bytes. */
  private readHeader(): boolean {
    const head = this.peek(Math.min(this.buffered, MAX_HEADER)).toString('latin1');
    const start = head.search(HEADER_START);
    if (start < 0) {
      // No header in view: drop all but a tail that may be the first bytes of one.
      const drop = Math.max(0, this.buffered - KEEP_TAIL);
      if (drop > 0) {
        const junk = head.slice(0, drop);
        if (junk.trim() !== '') this.sink.problem(`skipped ${drop} bytes that are not a DAP header`);
        this.skip(drop);
      }
      return false;
    }
    if (start > 0) {
      // Whitespace between messages (a body's trailing newline) is not worth a word.
      if (head.slice(0, start).trim() !== '')
        this.sink.problem(`skipped ${start} bytes before a Content-Length header`);
      this.skip(start);
      return true;
    }
    const end = HEADER_END.exec(head);
    if (!end) {
      if (head.length >= MAX_HEADER) {
        this.sink.problem(`a header longer than ${MAX_HEADER} bytes was skipped`);
        this.skip(MAX_HEADER);
        return true;
      }
      return false;
    }
    let length = -1;
    for (const line of head.slice(0, end.index).split(/\r?\n/)) {
      const m = HEADER_LINE.exec(line);
      if (m) length = Number(m[1]);
    }
    this.skip(end.index + end[0].length);
    if (length < 0 || !Number.isSafeInteger(length)) {
      this.sink.problem('a header without a readable Content-Length was skipped');
      return true;
    }
    if (length === 0) {
      this.sink.problem('a message with Content-Length 0 was skipped');
      return true;
    }
    if (length > MAX_MESSAGE) {
      // Not read (it would be held in memory): the reader looks for the next header instead.
      this.sink.problem(
        `a Content-Length of ${length} bytes is over the ${MAX_MESSAGE / 2 ** 20} MiB limit; skipped up to the next header`,
      );
      return true;
    }
    this.bodyLength = length;
    this.scannedTo = 0;
    return true;
  }

  /**
   * While a body is incomplete, look (each byte once) for a header inside it. JSON cannot hold
   * `Content-Length: N` and a line end (not as tokens, and strings cannot hold a raw line end),
   * so such a header proves that this body ended before it: it was complete JSON with a length
   * that was too large (read it), or it was cut short (report it). Either way the reader
   * restarts at that header.
   */
  private resyncInsideBody(): boolean {
    const from = Math.max(0, this.scannedTo - 64);
    if (this.buffered - from < 16) return false;
    const text = this.peekRange(from, this.buffered).toString('latin1');
    this.scannedTo = this.buffered;
    const m = HEADER_IN_BODY.exec(text);
    if (!m) return false;
    const at = from + m.index;
    const before = this.take(at);
    this.bodyLength = -1;
    this.scannedTo = 0;
    this.clearStall();
    if (parses(before)) {
      this.sink.problem(
        `a message said a larger Content-Length than its ${at} bytes; read it, and the header after it`,
      );
      this.deliver(before, false);
    } else this.sink.problem(`a ${at}-byte message was cut short by the next header; it was skipped`);
    return true;
  }

  private armStall(): void {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.bodyLength >= 0 && this.buffered > 0 && this.tryStalledBody()) this.drain();
    }, STALL_MS);
    this.stallTimer.unref?.();
  }

  /** Nothing more came: a partial body that is complete JSON was the whole message. */
  private tryStalledBody(): boolean {
    const body = this.peekRange(0, this.buffered);
    if (!parses(body)) return false;
    this.sink.problem(
      `a message said Content-Length ${this.bodyLength} but only ${this.buffered} bytes came; read it as it is`,
    );
    this.bodyLength = -1;
    this.scannedTo = 0;
    this.deliver(this.take(this.buffered), false);
    return true;
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private deliver(body: Buffer, lengthOk: boolean): void {
    let text: string;
    let valid = true;
    try {
      text = utf8.decode(body);
    } catch {
      valid = false;
      text = body.toString('utf8');
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      this.sink.problem(
        `a ${body.length}-byte message is not JSON (${(e as Error).message.split('\n')[0]}); it was skipped`,
      );
      // Not JSON, read to its stated length: the length may have been wrong and the body may
      // have swallowed the start of the next message. Give back from the header inside it, or
      // else from a tail that may be the first bytes of one (`…Cont` + `ent-Length: N`): the
      // header is then read whole (or that tail is skipped as junk with what follows).
      if (lengthOk) {
        const at = headerStartInside(body);
        if (at > 0) {
          this.chunks.unshift(body.subarray(at));
          this.buffered += body.length - at;
        }
      }
      return;
    }
    this.messages++;
    this.sink.message(msg, valid);
  }

  // ---- the chunk list ------------------------------------------------------------------

  /** The first n buffered bytes, without consuming them (joins at most what it returns). */
  private peek(n: number): Buffer {
    return this.peekRange(0, n);
  }

  private peekRange(from: number, to: number): Buffer {
    let pos = 0;
    const parts: Buffer[] = [];
    for (const c of this.chunks) {
      const end = pos + c.length;
      if (end > from && pos < to)
        parts.push(c.subarray(Math.max(0, from - pos), Math.min(c.length, to - pos)));
      pos = end;
      if (pos >= to) break;
    }
    if (parts.length === 1) return parts[0];
    const out = Buffer.concat(parts);
    this.bytesCopied += out.length;
    return out;
  }

  /** Consume and return the first n bytes. */
  private take(n: number): Buffer {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0 && this.chunks.length) {
      const c = this.chunks[0];
      if (c.length <= n) {
        n -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }
}

const HEADER_PREFIX = 'content-length';

/**
 * Where the next message may start inside a body that was not JSON: a `Content-Length:` after
 * its first byte, else the first tail that a header could continue (a prefix of
 * `content-length`, or it followed by blanks); -1 if neither.
 */
export function headerStartInside(body: Buffer): number {
  const text = body.toString('latin1');
  const found = text.slice(1).search(HEADER_START);
  if (found >= 0) return found + 1;
  for (let at = Math.max(1, text.length - 64); at < text.length; at++) {
    const tail = text.slice(at).toLowerCase();
    if (
      HEADER_PREFIX.startsWith(tail) ||
      (tail.startsWith(HEADER_PREFIX) && /^[ \t]*$/.test(tail.slice(HEADER_PREFIX.length)))
    )
      return at;
  }
  return -1;
}

function parses(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
