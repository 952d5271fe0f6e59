// Each card console's text over the whole recorded timeline, so that after any seek (back or
// forward) the console shows what it showed at that moment. A piece is the bytes of one write
// to the terminal, kept with the event number it was written at. The machine is deterministic:
// a machine that runs from power-on writes the same pieces in the same order, so the pieces of
// the current moment are the first `written` of the card's list — those the running machine has
// written so far. A replay writes pieces that are known already: they are counted, not added
// again. A new timeline (a fork) drops the pieces after the moment. Bounded: the newest `keep`
// characters per card; what fell off shows as "…".

/** Characters kept per card (at least; whole pieces go). */
export const CONSOLE_HISTORY_KEEP = 256 * 1024;

interface Piece {
  seq: number;
  /**
   * What was written: latin1 text, or the bytes as the terminal got them (decoded only when
   * shown: the console back-end never writes bytes again once handed out, consoleBackend.ts).
   * Either way one character a byte, so `.length` counts characters.
   */
  text: string | Uint8Array;
}

function latin1(t: string | Uint8Array): string {
  return typeof t === 'string' ? t : Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('latin1');
}

class CardText {
  /** The kept pieces; pieces[0] is piece number `first` of the timeline. */
  pieces: Piece[] = [];
  first = 0;
  /** Characters in `pieces`. */
  chars = 0;
  /** Pieces the running machine has written since power-on. */
  written = 0;

  get total(): number {
    return this.first + this.pieces.length;
  }
}

export class ConsoleHistory {
  private readonly cards = new Map<number, CardText>();

  constructor(private readonly keep = CONSOLE_HISTORY_KEEP) {}

  /** A fresh machine from power-on: it has written nothing yet. */
  powerOn(): void {
    for (const c of this.cards.values()) c.written = 0;
  }

  /**
   * Card `card` wrote `bytes` (latin1 text, or the bytes themselves) at event `seq`. False if the piece was known (a replay of it):
   * only pieces past the history's own head are added.
   */
  add(card: number, seq: number, bytes: string | Uint8Array): boolean {
    let c = this.cards.get(card);
    if (!c) this.cards.set(card, (c = new CardText()));
    const n = c.written++;
    // A replay writes what is known: counted, not kept again. New pieces are kept as they came
    // and decoded only when shown (decoding every chunk was ~5 % of the adapter's console
    // traffic, and most pieces are never shown: only a seek redraws the console).
    if (n < c.total) return false;
    const text = bytes;
    c.pieces.push({ seq, text });
    c.chars += text.length;
    // Drop the oldest pieces past the bound (in bulk, so pushing stays cheap).
    if (c.chars > this.keep) {
      let drop = 0;
      let chars = c.chars;
      while (drop < c.pieces.length - 1 && chars - c.pieces[drop].text.length >= this.keep)
        chars -= c.pieces[drop++].text.length;
      if (drop > 0) {
        c.pieces.splice(0, drop);
        c.first += drop;
        c.chars = chars;
      }
    }
    return true;
  }

  /** A new timeline from this moment: the pieces of the dropped future go. */
  fork(): void {
    for (const c of this.cards.values()) {
      const keep = Math.max(0, c.written - c.first);
      if (keep < c.pieces.length) {
        for (let i = keep; i < c.pieces.length; i++) c.chars -= c.pieces[i].text.length;
        c.pieces.length = keep;
      }
    }
  }

  /** The cards that ever wrote anything on this timeline. */
  cardNumbers(): number[] {
    return [...this.cards.keys()].sort((a, b) => a - b);
  }

  /**
   * Card `card`'s console as it is at the current moment: its last `max` characters, "…"
   * first where older text is not there (cut here, or fallen off the history's bound).
   */
  now(card: number, max: number): string {
    const c = this.cards.get(card);
    if (!c) return '';
    const end = Math.min(c.written, c.total) - c.first;
    if (end <= 0) return c.written > 0 ? '…' : '';
    const parts: string[] = [];
    let chars = 0;
    let i = end;
    while (i > 0 && chars < max) {
      const t = latin1(c.pieces[--i].text);
      parts.push(t);
      chars += t.length;
    }
    let text = parts.reverse().join('');
    const cut = chars > max || i > 0 || c.first > 0;
    if (chars > max) text = text.slice(chars - max);
    return cut ? `…${text}` : text;
  }

  /** The event number of the last piece card `card` wrote by now (tests, diagnostics); −1: none. */
  lastSeq(card: number): number {
    const c = this.cards.get(card);
    if (!c) return -1;
    const end = Math.min(c.written, c.total) - c.first;
    return end > 0 ? c.pieces[end - 1].seq : -1;
  }
}
