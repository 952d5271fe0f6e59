// Where the MIC stop document names an event that time travel can go to: the stop's own `seq`
// and its `cause` (the event that made it happen). Pure (no vscode): stopLinks.ts makes them
// links that run MIC: Go to Event with the number.

export interface EventMention {
  /** Line (0-based), and the number's column range on it. */
  line: number;
  start: number;
  end: number;
  seq: number;
  /** What the link says on hover. */
  tooltip: string;
}

const FIELD = /^(seq|cause)(\s+)(\d+)/;

export function eventMentions(text: string): EventMention[] {
  const out: EventMention[] = [];
  text.split('\n').forEach((l, line) => {
    const m = FIELD.exec(l);
    if (!m) return;
    const start = m[1].length + m[2].length;
    const seq = Number(m[3]);
    if (!Number.isSafeInteger(seq)) return;
    out.push({
      line,
      start,
      end: start + m[3].length,
      seq,
      tooltip:
        m[1] === 'seq'
          ? `Go to event ${seq} (this stop's moment)`
          : `Go to event ${seq}, the event that caused this one (time travel)`,
    });
  });
  return out;
}
