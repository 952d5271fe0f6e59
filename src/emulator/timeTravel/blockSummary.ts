// Per-block summaries of the event store, for the MIC Timeline's zoomed-out frames
// (docs/timeline.md, "Level of detail").
//
// Two levels: small blocks of 64 events and large blocks of 1024 (16 small ones). Block b of a
// level holds seqs [b·size, (b+1)·size). Its summary, per lane with events in it: how many, the
// kind mask, the first seq. Built lazily, the first time a frame asks for the block (a large one
// from its small ones), and only for a block held in full (every seq between the store's lo and
// head). Kept in a ring of cap / size slots per level, tagged with the block's number: a block
// the store evicted (its seqs fall below lo) is no longer asked for, and a truncation (a fork of
// the timeline) clears the tags of the blocks past the cut. A held block's events never change
// otherwise.

/** What the summaries read of the event store (eventStore.ts; not imported: it owns them). */
export interface SummarySource {
  readonly lo: number;
  readonly head: number;
  readonly cap: number;
  readonly lanes: readonly unknown[];
  readonly lane: Uint16Array;
  readonly name: Uint16Array;
  readonly nameKind: readonly number[];
}

export class SummaryLevel {
  readonly size: number;
  readonly slots: number;
  /** Block number + 1 per slot, 0: empty. */
  readonly tag: Float64Array;
  /** Lanes in the block; maxLanes + 1: too many, not summarised. */
  readonly nLanes: Uint8Array;
  // Per slot, maxLanes entries: lane id, events, kind mask, first seq − block start.
  readonly lane: Uint16Array;
  readonly count: Uint16Array;
  readonly mask: Uint32Array;
  readonly first: Uint16Array;

  constructor(
    readonly shift: number,
    readonly maxLanes: number,
    cap: number,
  ) {
    this.size = 1 << shift;
    this.slots = Math.max(1, cap >>> shift);
    this.tag = new Float64Array(this.slots);
    this.nLanes = new Uint8Array(this.slots);
    const n = this.slots * maxLanes;
    this.lane = new Uint16Array(n);
    this.count = new Uint16Array(n);
    this.mask = new Uint32Array(n);
    this.first = new Uint16Array(n);
  }

  /** The store was cut after `seq`: blocks that reach past it are stale. */
  truncate(seq: number): void {
    const firstStale = Math.floor((seq + 1) / this.size);
    for (let i = 0; i < this.slots; i++) if (this.tag[i] - 1 >= firstStale) this.tag[i] = 0;
  }
}

const SMALL_SHIFT = 6;
const LARGE_SHIFT = 10;
/** Events in a small block. */
export const SMALL = 1 << SMALL_SHIFT;

export class BlockSummaries {
  readonly small: SummaryLevel;
  readonly large: SummaryLevel;
  private scratch = new Int16Array(0);
  /** Blocks built (for the bench and tests). */
  built = 0;

  constructor(private readonly store: SummarySource) {
    this.small = new SummaryLevel(SMALL_SHIFT, 8, store.cap);
    this.large = new SummaryLevel(LARGE_SHIFT, 16, store.cap);
  }

  /**
   * Block b's summary in level `lv` (small or large): its slot (entries at slot·maxLanes …
   * + nLanes[slot]), or −1 when it has none (not held in full, or too many lanes).
   */
  slot(lv: SummaryLevel, b: number): number {
    const st = this.store;
    const s0 = b * lv.size;
    if (s0 < st.lo || s0 + lv.size - 1 > st.head) return -1;
    const slot = b & (lv.slots - 1);
    if (lv.tag[slot] !== b + 1) {
      if (lv === this.large) this.buildLarge(b, slot);
      else this.buildSmall(b, slot);
    }
    return lv.nLanes[slot] > lv.maxLanes ? -1 : slot;
  }

  private lanesScratch(): Int16Array {
    const nl = this.store.lanes.length;
    if (this.scratch.length < nl)
      this.scratch = new Int16Array(Math.max(nl, 2 * this.scratch.length)).fill(-1);
    return this.scratch;
  }

  private buildSmall(b: number, slot: number): void {
    const lv = this.small;
    const st = this.store;
    const at = this.lanesScratch();
    const { lane: eLane, name, nameKind } = st;
    const { lane: oLane, count, mask, first, maxLanes } = lv;
    const base = slot * maxLanes;
    const m = eLane.length - 1;
    const s0 = b * lv.size;
    let n = 0;
    for (let o = 0; o < lv.size; o++) {
      const i = (s0 + o) & m;
      const l = eLane[i];
      let k = at[l];
      if (k < 0) {
        if (n === maxLanes) {
          n++;
          break;
        }
        k = at[l] = n++;
        oLane[base + k] = l;
        count[base + k] = 0;
        mask[base + k] = 0;
        first[base + k] = o;
      }
      count[base + k]++;
      mask[base + k] |= 1 << nameKind[name[i]];
    }
    for (let k = 0; k < Math.min(n, maxLanes); k++) at[oLane[base + k]] = -1;
    lv.nLanes[slot] = n;
    lv.tag[slot] = b + 1;
    this.built++;
  }

  /** A large block from its small ones (too many lanes in any of them: not summarised). */
  private buildLarge(b: number, slot: number): void {
    const lv = this.large;
    const sm = this.small;
    const base = slot * lv.maxLanes;
    const per = lv.size / sm.size;
    // Every small block first (building one uses the scratch), then their sum.
    const subs: number[] = [];
    for (let c = 0; c < per; c++) subs.push(this.slot(sm, b * per + c));
    let n = subs.includes(-1) ? lv.maxLanes + 1 : 0;
    const at = this.lanesScratch();
    for (let c = 0; c < per && n <= lv.maxLanes; c++) {
      const ss = subs[c];
      const sbase = ss * sm.maxLanes;
      for (let e = 0; e < sm.nLanes[ss]; e++) {
        const l = sm.lane[sbase + e];
        let k = at[l];
        if (k < 0) {
          if (n === lv.maxLanes) {
            n++;
            break;
          }
          k = at[l] = n++;
          lv.lane[base + k] = l;
          lv.count[base + k] = 0;
          lv.mask[base + k] = 0;
          lv.first[base + k] = c * sm.size + sm.first[sbase + e];
        }
        lv.count[base + k] += sm.count[sbase + e];
        lv.mask[base + k] |= sm.mask[sbase + e];
      }
    }
    for (let k = 0; k < Math.min(n, lv.maxLanes); k++) at[lv.lane[base + k]] = -1;
    lv.nLanes[slot] = n;
    lv.tag[slot] = b + 1;
    this.built++;
  }

  /** The store was cut after `seq`. */
  truncate(seq: number): void {
    this.small.truncate(seq);
    this.large.truncate(seq);
  }
}
