// When the MIC views look again: at once on every stop, on launch, when a card changes state or
// the session changes, and while the machine runs at `mic.views.refreshRate` per second.

import * as vscode from 'vscode';
import type { MicSessions } from '../debug/micSessions.ts';
import { refreshRate, SETTINGS } from '../settings.ts';
import type { MicTreeView, RefreshReason } from './micTreeView.ts';

export class ViewRefresher implements vscode.Disposable {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly sessions: MicSessions,
    private readonly views: readonly MicTreeView[],
  ) {
    this.disposables = [
      sessions.onDidStop(() => this.all('stop')),
      sessions.onDidLaunch(() => this.all('look')),
      sessions.onDidChangeCardState(() => this.all('look')),
      sessions.onDidChangeCurrent(() => {
        this.all('look');
        this.schedule();
      }),
      sessions.onDidEnd(() => this.schedule()),
      sessions.onDidChangeRunning(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTINGS.refreshRate)) {
          this.stopTimer();
          this.schedule();
        }
      }),
    ];
  }

  all(reason: RefreshReason): void {
    for (const v of this.views) void v.refresh(reason);
  }

  /** A timer while the current session runs and the rate is above 0; none otherwise. */
  private schedule(): void {
    const rate = refreshRate();
    const running = this.sessions.current()?.running === true;
    if (!running || rate <= 0) return this.stopTimer();
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.sessions.current()?.running) this.all('look');
      else this.stopTimer();
    }, 1000 / rate);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.stopTimer();
    for (const d of this.disposables) d.dispose();
  }
}
