// The virtio requests of the event store by queue lane and time, so that a timeline frame finds
// the requests overlapping its window without reading every request of the session
// (docs/timeline.md, "Level of detail").
//
// The tracker's list is in the order requests were born, which is the order the card made them
// available (a request is born with its card-side vring.avail), so per lane the avail times are
// sorted: the window's own requests are one range found by binary search. Those made available
// before the window and still going at its start are found block by block: a block of REQ_BLOCK
// requests whose requests are all done knows its latest end and is skipped when that is before
// the window. Built incrementally as requests arrive; dropped by a truncation (requests change).
// If the order does not hold (it always should), `ok` is false and readers scan the list.

import type { VirtioRequest } from '../sim/requestTracker.ts';

const REQ_BLOCK = 64;

/** Where a request ends on the timeline: the card took it back, else used, else open. */
export function requestEnd(r: VirtioRequest): number {
  return r.doneSeq ? r.doneTime : r.usedSeq ? r.usedTime : Infinity;
}

export interface LaneRequests {
  /** Positions in the tracker's list, avail time ascending. */
  pos: number[];
  avail: number[];
  /** Per block: the latest end when every request of it is done (final), else NaN. */
  sealedEnd: number[];
}

export class RequestIndex {
  /** Requests of the tracker's list indexed so far. */
  private n = 0;
  ok = true;
  readonly lanes = new Map<string, LaneRequests>();

  constructor(private readonly laneKey: (r: VirtioRequest) => string) {}

  /** Take the requests added to `all` since the last call. */
  update(all: readonly VirtioRequest[]): void {
    if (all.length < this.n) this.ok = false;
    for (; this.ok && this.n < all.length; this.n++) {
      const r = all[this.n];
      if (!r.availSeq) {
        this.ok = false;
        break;
      }
      const key = this.laneKey(r);
      let l = this.lanes.get(key);
      if (!l) this.lanes.set(key, (l = { pos: [], avail: [], sealedEnd: [] }));
      if (l.avail.length && r.availTime < l.avail[l.avail.length - 1]) {
        this.ok = false;
        break;
      }
      if (l.pos.length % REQ_BLOCK === 0) l.sealedEnd.push(NaN);
      l.pos.push(this.n);
      l.avail.push(r.availTime);
    }
  }

  /**
   * Lane `l`'s requests made available before `to` and not ended before `from`: the positions of
   * those made available before `from` (few: in flight at `from`), and the range [j, k) of those
   * made available inside the window.
   */
  window(
    all: readonly VirtioRequest[],
    l: LaneRequests,
    from: number,
    to: number,
  ): { before: number[]; j: number; k: number } {
    const j = lowerBound(l.avail, from);
    const k = lowerBound(l.avail, to);
    const before: number[] = [];
    for (let b = 0; b * REQ_BLOCK < j; b++) {
      if (l.sealedEnd[b] < from) continue;
      const e = Math.min(j, (b + 1) * REQ_BLOCK);
      let latest = -Infinity;
      for (let x = b * REQ_BLOCK; x < e; x++) {
        const end = requestEnd(all[l.pos[x]]);
        if (end >= from) before.push(l.pos[x]);
        if (latest < end) latest = end;
      }
      // A whole block, every request done: its latest end is final.
      if (e === (b + 1) * REQ_BLOCK && latest < Infinity && allDone(all, l, b)) l.sealedEnd[b] = latest;
    }
    return { before, j, k };
  }
}

function allDone(all: readonly VirtioRequest[], l: LaneRequests, b: number): boolean {
  for (let x = b * REQ_BLOCK; x < (b + 1) * REQ_BLOCK; x++) if (!all[l.pos[x]].doneSeq) return false;
  return true;
}

/** First index with a[i] ≥ v. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m] < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}
