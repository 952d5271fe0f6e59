// A console terminal per card of the current session: opened at launch (mic0's shown), fed by
// mic/console, told about mic/state. A console the person closed stays closed (its output is
// dropped) until its card comes online again or MIC: Open Card Console opens it; a new session
// reuses the terminals of an ended one.

import * as vscode from 'vscode';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { CardConsole } from './cardConsole.ts';

export class CardConsoles implements vscode.Disposable {
  private readonly consoles = new Map<string, CardConsole>();
  private readonly closedByUser = new Set<string>();
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly sessions: MicSessions,
    /** May keys typed in a console go to its session now (time travel's fork question)? */
    private readonly allows?: (s: MicSession) => boolean | Promise<boolean>,
  ) {
    this.disposables = [
      sessions.onDidStart((s) => this.openAll(s)),
      sessions.onDidConsole(({ s, card, data }) => {
        if (!this.closedByUser.has(key(s, card))) this.ensure(s, card).output(data);
      }),
      sessions.onDidReplayConsole(({ s, card, data }) => {
        if (!this.closedByUser.has(key(s, card))) this.ensure(s, card).replay(data);
      }),
      sessions.onDidChangeCardState(({ s, card, state }) => {
        const c = this.consoles.get(key(s, card));
        if (c) c.cardState(state);
        else if (state === 'online') {
          this.closedByUser.delete(key(s, card));
          const opened = this.ensure(s, card);
          opened.cardState(state);
          opened.terminal.show(true);
        }
      }),
      sessions.onDidEnd((s) => {
        for (const c of this.consoles.values()) if (c.sessionId === s.id) c.sessionEnded();
      }),
    ];
  }

  /** Reveal card `card`'s console of session `s` (creating it if the person closed it). */
  show(s: MicSession, card: number): void {
    this.closedByUser.delete(key(s, card));
    this.ensure(s, card).terminal.show(false);
  }

  private openAll(s: MicSession): void {
    // Create the others first so that mic0's console is the one the panel shows.
    for (let card = s.cards - 1; card >= 0; card--) this.ensure(s, card);
    this.ensure(s, 0).terminal.show(true);
  }

  private ensure(s: MicSession, card: number): CardConsole {
    const k = key(s, card);
    let c = this.consoles.get(k);
    if (c && !c.disposed) return c;
    // An ended session's console for the same card serves the new session.
    for (const [oldKey, old] of this.consoles) {
      const oldSession = this.sessions.all().find((x) => x.id === old.sessionId);
      if (old.card === card && !old.disposed && !oldSession) {
        this.consoles.delete(oldKey);
        old.rebind(s);
        this.consoles.set(k, old);
        return old;
      }
    }
    c = new CardConsole(s, card, (closed) => this.closedByPerson(closed), this.allows);
    this.consoles.set(k, c);
    return c;
  }

  private closedByPerson(c: CardConsole): void {
    for (const [k, v] of this.consoles) {
      if (v !== c) continue;
      this.consoles.delete(k);
      if (this.sessions.all().some((x) => x.id === c.sessionId)) this.closedByUser.add(k);
    }
    c.dispose();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const c of this.consoles.values()) {
      c.terminal.dispose();
      c.dispose();
    }
  }
}

const key = (s: MicSession, card: number) => `${s.id}/${card}`;
