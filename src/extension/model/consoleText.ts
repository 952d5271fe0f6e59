// Bytes from a card's virtio console (mic/console events, base64) → text for a VS Code terminal.
// The stream is UTF-8 that may split a character across events, and the terminal needs CR LF:
// the card shell already sends CR LF (its tty's ONLCR), so only a bare LF becomes CR LF — also
// when the CR came at the end of the previous event.

export class ConsoleText {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });
  private lastWasCR = false;

  /** Text for the terminal from one chunk of console bytes. */
  decode(bytes: Uint8Array): string {
    const s = this.utf8.decode(bytes, { stream: true });
    if (s === '') return '';
    let out = '';
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) !== 10) continue;
      const prevCR = i > 0 ? s.charCodeAt(i - 1) === 13 : this.lastWasCR;
      if (!prevCR) {
        out += s.slice(from, i) + '\r\n';
        from = i + 1;
      }
    }
    out += s.slice(from);
    this.lastWasCR = s.charCodeAt(s.length - 1) === 13;
    return out;
  }

  /** Text for the terminal from a mic/console event's base64 `data`. */
  decodeBase64(data: string): string {
    return this.decode(new Uint8Array(Buffer.from(data, 'base64')));
  }
}

/** The terminal's name for a card's console: `mic0 console`. */
export const consoleName = (card: number): string => `mic${card} console`;

/** What the terminal says when the card's state changes; null: say nothing. */
export function stateLine(card: number, state: string): { text: string; closes: boolean } | null {
  const name = `mic${card}`;
  switch (state) {
    case 'offline':
      return {
        text: `${name} is offline: its console is closed. Boot the card (MIC: Boot Card) to open it again.`,
        closes: true,
      };
    case 'reset_failed':
      return { text: `${name} reset failed: its console is closed.`, closes: true };
    case 'shutting_down':
      return { text: `${name} is shutting down…`, closes: false };
    case 'suspending':
      return { text: `${name} is suspending…`, closes: false };
    case 'suspended':
      return { text: `${name} is suspended: keys wait until it resumes (MIC: Resume Card).`, closes: false };
    case 'online':
      return { text: `${name} is online: console open.`, closes: false };
    default:
      return null;
  }
}
