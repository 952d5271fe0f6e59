// The status bar item: each card of the current session with its state (`mic0 online`);
// clicking it reveals the Cards view. Hidden while there is no MIC session. The states come from
// mic/state events, and from mic/cards at launch and at every stop (a small read-only request).

import * as vscode from 'vscode';
import { READ, type CardsResponse } from './model/requests.ts';
import type { MicSession, MicSessions } from './debug/micSessions.ts';
import { CARDS_VIEW } from './views/cardsView.ts';

const STATE_ICON: Readonly<Record<string, string>> = {
  online: '$(pass-filled)',
  offline: '$(circle-slash)',
  shutting_down: '$(loading~spin)',
  suspending: '$(loading~spin)',
  suspended: '$(debug-pause)',
  reset_failed: '$(error)',
  starting: '$(loading~spin)',
};

export function registerStatusBar(sessions: MicSessions): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('mic.cards', vscode.StatusBarAlignment.Left, 10);
  item.name = 'MIC cards';
  item.command = `${CARDS_VIEW}.focus`;
  const update = () => {
    const s = sessions.current();
    if (!s) return item.hide();
    const cards = s.cardStates.map(
      (state, i) => `${STATE_ICON[state] ?? '$(circuit-board)'} mic${i} ${state}`,
    );
    item.text = cards.join('  ');
    item.tooltip = `MIC cards of "${s.session.name}"${s.running ? ' (running)' : ' (stopped)'}: ${s.cardStates
      .map((state, i) => `mic${i} ${state}`)
      .join(', ')}. Click to show the Cards view.`;
    item.show();
  };
  const look = (s: MicSession) =>
    s.request<CardsResponse>(READ.cards).then(
      ({ cards }) =>
        sessions.setCardStates(
          s,
          cards.map((c) => c.state),
        ),
      () => undefined, // before launch or after the end: the events say enough
    );
  return vscode.Disposable.from(
    item,
    sessions.onDidLaunch(look),
    sessions.onDidStop(look),
    sessions.onDidStart(update),
    sessions.onDidChangeCards(update),
    sessions.onDidChangeCurrent(update),
    sessions.onDidChangeRunning(update),
    sessions.onDidEnd(update),
  );
}
