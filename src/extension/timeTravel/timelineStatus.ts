// The status bar item of time travel: "event 1,234 of 56,789" (and "· past" when the session is
// not at the end of its recording), as of the last stop; "running" while the machine runs.
// Hidden when there is no MIC session. Clicking it runs MIC: Go to Event….

import * as vscode from 'vscode';
import type { MicSessions } from '../debug/micSessions.ts';
import { positionText, positionTooltip } from '../model/timeTravel.ts';
import type { TimelineWatch } from './timelineWatch.ts';

export const GOTO_EVENT = 'mic.gotoEvent';

export function registerTimelineStatus(sessions: MicSessions, watch: TimelineWatch): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('mic.timeline', vscode.StatusBarAlignment.Left, 9);
  item.name = 'MIC time travel';
  item.command = GOTO_EVENT;
  const update = () => {
    const s = sessions.current();
    const p = s && watch.known(s);
    if (!s || !p) return item.hide();
    if (s.running) {
      item.text = '$(history) running';
      item.tooltip = `Time travel: the machine runs (it was at ${positionText(p)}). Click to go to an event (MIC: Go to Event…).`;
    } else {
      item.text = `$(history) ${positionText(p)}`;
      item.tooltip = positionTooltip(p);
    }
    item.show();
  };
  return vscode.Disposable.from(
    item,
    watch.onDidChange(update),
    sessions.onDidChangeCurrent(update),
    sessions.onDidChangeRunning(update),
    sessions.onDidEnd(update),
  );
}
