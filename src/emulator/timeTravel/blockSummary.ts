// Per-block summaries of the event store, for the MIC Timeline's zoomed-out frames
// (docs/timeline.md, "Level of detail").
//
// Block b holds seqs [b·BLOCK, (b+1)·BLOCK). Its summary, per lane with events in it: how many,
// the kind mask, the first seq. Built lazily, the first time a frame asks for the block, and only
// for a block held in full (every seq between the store's lo and head). Kept in a ring of
// cap / BLOCK slots, tagged with the block's number: a block the store evicted (its seqs fall
// below lo) is simply no longer asked for, and a truncation (a fork of the timeline) clears the
// tags of the blocks past the cut. Events of a held block never change otherwise.

import type { EventStore } from './eventStore.ts';

export const BLOCK = 256;
/** Lanes a block summary holds at most; a block with more is read event by event. */
const MAX_LANES = 16;

export class BlockSummaries {
  /** Slots (a power of two): the store's cap / BLOCK. */
  private readonly slots: number;
  /** Block number + 1 per slot, 0: empty. */
  private readonly tag: Float64Array;
  /** Lanes in the block; MAX_LANES + 1: too many, not summarised. */
  private readonly nLanes: Uint8Array;
  // Per slot, MAX_LANES entries: lane id, events, kind mask, first seq − block start.
  private readonly lane: Uint16Array;
  private readonly count: Uint16Array;
  private readonly mask: Uint32Array;
  private readonly first: Uint8Array;
  private scratch = new Int16Array(0);

  /** Blocks built (for the bench and tests). */
  built = 0;

  constructor(private readonly store: EventStore) {
    this.slots = Math.max(1, store.cap / BLOCK);
    this.tag = new Float64Array(this.slots);
    this.nLanes = new Uint8Array(this.slots);
    const n = this.slots * MAX_LANES;
    this.lane = new Uint16Array(n);
    this.count = new Uint16Array(n);
    this.mask = new Uint32Array(n);
    this.first = new Uint8Array(n);
  }

  /**
   * Block b's summary: its slot (entries at slot·MAX_LANES … + lanesIn(slot)), or −1 when it has
   * none (not held in full, or too many lanes).
   */
  slot(b: number): number {
    const st = this.store;
    const s0 = b * BLOCK;
    if (s0 < st.lo || s0 + BLOCK - 1 > st.head) return -1;
    const slot = b & (this.slots - 1);
    if (this.tag[slot] !== b + 1) this.build(b, slot);
    return this.nLanes[slot] > MAX_LANES ? -1 : slot;
  }

  lanesIn(slot: number): number {
    return this.nLanes[slot];
  }
  laneAt(slot: number, k: number): number {
    return this.lane[slot * MAX_LANES + k];
  }
  countAt(slot: number, k: number): number {
    return this.count[slot * MAX_LANES + k];
  }
  maskAt(slot: number, k: number): number {
    return this.mask[slot * MAX_LANES + k];
  }
  /** The first seq of the k-th lane in block b (in slot). */
  firstAt(b: number, slot: number, k: number): number {
    return b * BLOCK + this.first[slot * MAX_LANES + k];
  }

  private build(b: number, slot: number): void {
    const st = this.store;
    const nl = st.lanes.length;
    if (this.scratch.length < nl) this.scratch = new Int16Array(Math.max(nl, 2 * this.scratch.length)).fill(-1);
    const at = this.scratch;
    const base = slot * MAX_LANES;
    const lane = st.lane;
    const name = st.name;
    const nameKind = st.nameKind;
    const m = lane.length - 1;
    const s0 = b * BLOCK;
    let n = 0;
    for (let o = 0; o < BLOCK; o++) {
      const i = (s0 + o) & m;
      const l = lane[i];
      let k = at[l];
      if (k < 0) {
        if (n === MAX_LANES) {
          n++;
          break;
        }
        k = at[l] = n++;
        this.lane[base + k] = l;
        this.count[base + k] = 0;
        this.mask[base + k] = 0;
        this.first[base + k] = o;
      }
      this.count[base + k]++;
      this.mask[base + k] |= 1 << nameKind[name[i]];
    }
    for (let k = 0; k < Math.min(n, MAX_LANES); k++) at[this.lane[base + k]] = -1;
    this.nLanes[slot] = n;
    this.tag[slot] = b + 1;
    this.built++;
  }

  /** The store was cut after `seq`: blocks that reach past it are stale. */
  truncate(seq: number): void {
    const firstStale = Math.floor((seq + 1) / BLOCK);
    for (let i = 0; i < this.slots; i++) if (this.tag[i] - 1 >= firstStale) this.tag[i] = 0;
  }
}
