// Typing in the past forks the timeline: before the first key the card console sends while the
// session is in the past and the recorded future is not trivial (model/timeTravel.ts forkQuestion:
// more than 1000 events or any recorded input), ask once (modal): Continue sends the key and
// the ones after it until the next stop; Cancel drops the key (and the ones typed meanwhile).

import * as vscode from 'vscode';
import type { MicSession } from '../debug/micSessions.ts';
import { forkQuestion, inPast } from '../model/timeTravel.ts';
import type { TimelineWatch } from './timelineWatch.ts';

export const FORK_CONTINUE = 'Continue';

export class ForkGuard implements vscode.Disposable {
  /** Sessions whose person said Continue since their last stop: the new timeline has begun. */
  private readonly agreed = new WeakSet<MicSession>();
  /** The question being asked (keys that come meanwhile wait for its answer). */
  private asking: Promise<boolean> | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly watch: TimelineWatch) {
    this.disposables = [watch.onDidChange((s) => this.agreed.delete(s))];
  }

  /**
   * May a new input go to `s` now? True at once when the last stop was at the end of the
   * recording (running on from there stays at the end; every seek ends with a stop).
   */
  allows(s: MicSession): boolean | Promise<boolean> {
    const known = this.watch.known(s);
    if (!known || !inPast(known) || this.agreed.has(s)) return true;
    this.asking ??= this.ask(s).finally(() => (this.asking = undefined));
    return this.asking;
  }

  private async ask(s: MicSession): Promise<boolean> {
    // Where is it now? Running on through the recorded future moves the moment.
    const now = (await this.watch.ask(s)) ?? this.watch.known(s);
    const question = now && forkQuestion(now);
    if (!question) return true;
    const answer = await vscode.window.showWarningMessage(
      question,
      {
        modal: true,
        detail: 'Typing in the card console is a new input: the machine goes another way from here.',
      },
      FORK_CONTINUE,
    );
    if (answer !== FORK_CONTINUE) return false;
    this.agreed.add(s);
    return true;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
