// Where each MIC session is on its timeline: mic/timeline asked at launch and at every stop (every
// seek, step back and reverse continue ends with a stop), as the views refresh. The status bar and
// the card consoles' fork question read it.

import * as vscode from 'vscode';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { TIME_TRAVEL, type TimelinePosition } from '../model/timeTravel.ts';

export class TimelineWatch implements vscode.Disposable {
  private readonly positions = new WeakMap<MicSession, TimelinePosition>();
  private readonly changed = new vscode.EventEmitter<MicSession>();
  /** A session's position is known anew. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(sessions: MicSessions) {
    this.disposables = [
      this.changed,
      sessions.onDidLaunch((s) => void this.ask(s)),
      sessions.onDidStop((s) => void this.ask(s)),
    ];
  }

  /** The position at the last stop (undefined: not asked yet, or the adapter has no timeline). */
  known(s: MicSession): TimelinePosition | undefined {
    return this.positions.get(s);
  }

  /** Ask the adapter now; undefined when it cannot say (before launch, after the end). */
  async ask(s: MicSession): Promise<TimelinePosition | undefined> {
    try {
      const p = await s.request<TimelinePosition>(TIME_TRAVEL.timeline);
      if (typeof p?.seq !== 'number' || typeof p.head !== 'number') return undefined;
      this.positions.set(s, p);
      this.changed.fire(s);
      return p;
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
