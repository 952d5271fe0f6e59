// Which values changed since the last stop. The views mark those rows (views/changeDecorations.ts
// colours the label and adds a "●" badge; the tooltip gives the old value).
//
// Two snapshots of every row's value: at the latest stop and at the stop before it. While the
// machine is stopped, a row is marked when it differs from the stop before (so looking again,
// or opening another row, keeps the marks of this stop); while it runs, a row is marked as soon
// as it moves away from the latest stop. Before the first stop, the first look is the baseline.

import { walk, type NodeModel } from './nodeModel.ts';

/** What the machine is doing when the view looks: it has just stopped, it still is, or it runs. */
export type Moment = 'newStop' | 'stopped' | 'running';

export class ChangeMarks {
  private previousStop: Map<string, string> | null = null;
  private latestStop: Map<string, string> | null = null;

  /** Mark `roots` in place (sets or clears `changedFrom`); returns how many rows changed. */
  mark(roots: readonly NodeModel[], moment: Moment): number {
    if (moment === 'newStop' && this.latestStop) this.previousStop = this.latestStop;
    const baseline = moment === 'running' ? this.latestStop : this.previousStop;
    const now = new Map<string, string>();
    let changed = 0;
    for (const n of walk(roots)) {
      if (n.value === undefined) continue;
      now.set(n.id, n.value);
      const was = baseline?.get(n.id);
      if (was !== undefined && was !== n.value) {
        n.changedFrom = was;
        changed++;
      } else delete n.changedFrom;
    }
    if (moment === 'newStop' || this.latestStop === null) {
      // Rows this look did not include (a collapsed card's registers) keep their older values.
      if (this.latestStop) for (const [id, v] of this.latestStop) if (!now.has(id)) now.set(id, v);
      this.latestStop = now;
    } else if (moment === 'stopped') {
      // Rows seen for the first time at this stop (a row just opened) join its snapshot.
      for (const [id, v] of now) if (!this.latestStop.has(id)) this.latestStop.set(id, v);
    }
    return changed;
  }

  /** Forget both snapshots (a new session: nothing has "changed" yet). */
  reset(): void {
    this.previousStop = null;
    this.latestStop = null;
  }
}
