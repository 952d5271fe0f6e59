// One card's virtio console (hvc0, where the card shell runs) as a Pseudoterminal in the
// integrated terminal panel: mic/console bytes are written to it, keys typed in it go to the
// card with mic/consoleInput. When the card goes offline it says so and stops taking keys; when
// the card is online again it takes keys again. Text that arrives before VS Code opened the
// terminal is kept and written on open.

import * as vscode from 'vscode';
import { ConsoleText, consoleName, stateLine } from '../model/consoleText.ts';
import { ACT } from '../model/requests.ts';
import { errorText, type MicSession } from '../debug/micSessions.ts';

const DIM = '\x1b[2m';
const PLAIN = '\x1b[0m';

export class CardConsole implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  private readonly closedE = new vscode.EventEmitter<void>();
  readonly onDidWrite = this.written.event;
  readonly onDidClose = this.closedE.event;
  readonly terminal: vscode.Terminal;
  private opened = false;
  private pending: string[] = [];
  private text = new ConsoleText();
  /** The card is offline (or its session ended): keys have nowhere to go. */
  private closed = false;
  private toldClosed = false;
  /** Set when the person closed the terminal. */
  disposed = false;
  /** Columns × rows of the terminal, as VS Code last told (the card's tty has no size request yet). */
  dimensions: vscode.TerminalDimensions | undefined;

  /** Keys wait here, in order, while `allows` decides (the fork question of time travel). */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private session: MicSession,
    readonly card: number,
    private readonly onClosedByUser: (c: CardConsole) => void,
    /** May keys go to the session now (false: they are dropped)? */
    private readonly allows: (s: MicSession) => boolean | Promise<boolean> = () => true,
  ) {
    this.terminal = vscode.window.createTerminal({
      name: consoleName(card),
      pty: this,
      iconPath: new vscode.ThemeIcon('circuit-board'),
      isTransient: true,
    });
    this.note(
      `${consoleName(card)}: the virtio console (hvc0) of mic${card}. Keys you type here go to the card shell.`,
    );
  }

  get sessionId(): string {
    return this.session.id;
  }

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    this.dimensions = dimensions;
    this.opened = true;
    for (const t of this.pending) this.written.fire(t);
    this.pending = [];
  }

  close(): void {
    this.disposed = true;
    this.onClosedByUser(this);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    // Kept for when the adapter can tell the card's tty its size (no mic/ request for it yet);
    // VS Code's terminal reflows what is already written by itself.
    this.dimensions = dimensions;
  }

  handleInput(keys: string): void {
    if (this.closed || this.session.ended) {
      if (!this.toldClosed) this.note(`mic${this.card} is not online: keys are not sent.`);
      this.toldClosed = true;
      return;
    }
    const session = this.session;
    const send = () =>
      void session
        .request(ACT.consoleInput, { card: this.card, text: keys })
        .then(undefined, (e: unknown) => {
          this.note(`keys not delivered: ${errorText(e)}`);
        });
    const ok = this.allows(session);
    if (ok === true) {
      // Not in the past (or agreed): at once, unless earlier keys still wait for the answer.
      this.sending = this.sending.then(send);
      return;
    }
    this.sending = this.sending.then(async () => {
      if (await ok) send();
      else if (this.refusal !== ok) {
        this.refusal = ok;
        this.note('keys not sent: the session stays on its recorded timeline (you chose Cancel)');
      }
    });
  }

  /** The answer last said no to (the keys typed while its question was open go with it, said once). */
  private refusal: boolean | Promise<boolean> | undefined;

  /**
   * After a seek: the console as it was at that moment (a mic/consoleReplay event's base64 data,
   * its last 64 KiB). The terminal is cleared (scrollback too) and shows that text.
   */
  replay(base64: string): void {
    this.text = new ConsoleText();
    const now = this.text.decodeBase64(base64);
    this.write(
      `\x1b[H\x1b[2J\x1b[3J${DIM}[time travel: the console as it was at this moment]${PLAIN}\r\n${now}`,
    );
  }

  /** Bytes from the card (a mic/console event's base64 data). */
  output(base64: string): void {
    this.write(this.text.decodeBase64(base64));
  }

  /** The card changed state (a mic/state event). */
  cardState(state: string): void {
    const line = stateLine(this.card, state);
    if (!line) return;
    if (line.closes) {
      this.closed = true;
      this.toldClosed = false;
      this.note(line.text);
    } else if (state === 'online') {
      if (this.closed) this.note(line.text);
      this.closed = false;
    } else this.note(line.text);
  }

  /** The session ended: say so; keep the text for reading. */
  sessionEnded(): void {
    this.closed = true;
    this.note(`debug session "${this.session.session.name}" ended: mic${this.card} is gone.`);
  }

  /** A new session boots this card: the same terminal serves it. */
  rebind(session: MicSession): void {
    this.session = session;
    this.text = new ConsoleText();
    this.closed = false;
    this.toldClosed = false;
    this.note(`new debug session "${session.session.name}"`);
  }

  /** A line of the extension's own words (dim), on a line of its own. */
  note(text: string): void {
    this.write(`\r\n${DIM}[${text}]${PLAIN}\r\n`);
  }

  private write(text: string): void {
    if (!text) return;
    if (this.opened) this.written.fire(text);
    else this.pending.push(text);
  }

  dispose(): void {
    this.written.dispose();
    this.closedE.dispose();
  }
}
