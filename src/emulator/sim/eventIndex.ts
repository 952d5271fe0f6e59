// An index of matchers over bus events (architecture: "breakpoint matching is indexed, by address
// page and by event kind, so that a thousand armed breakpoints cost about the same as one").
//
// Two kinds of entries:
// * kind entries — registered under an event kind, optionally narrowed to one card and/or one
//   event value (a doorbell number, a descriptor type). An event looks up at most four buckets:
//   (any card, any value), (any card, its value), (its card, any value), (its card, its value).
//   An entry can be refined further by a key the registrant computes from the event (the queue
//   of a virtqueue event, the channel of a DMA descriptor): the event's key is computed once and
//   only the entries filed under it are looked at, so forty breakpoints on other queues cost one
//   map lookup rather than forty tests.
// * range entries — registered under (event kind, space, 4 KiB page) for every page the range
//   covers. An access looks up only the pages it touches (or, for a bulk access larger than the
//   armed pages of its space, only the armed pages), and the index checks the exact overlap.
//
// `candidates(e)` never walks all entries. `examined` counts the entries it looked at, so tests
// can assert on work done rather than on time. Nothing here knows about DAP.

import { EVENT_KINDS, type BusEvent, type EventKind } from './busEvent.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Ranges wider than this many pages go to a per-space list checked on every access there. */
const MAX_PAGES_PER_RANGE = 4096;

export type RefineKey = string | number;

/** A narrowing beyond kind, card and value. */
export interface Refine {
  /**
   * The event's key, or null for none. Entries that share this function share one lookup per
   * event, so pass the same function (not a fresh closure) for every entry it refines.
   */
  of: (e: BusEvent) => RefineKey | null;
  /** The entry is a candidate only for events whose key equals this. */
  key: RefineKey;
}

export interface KindKey {
  kind: EventKind;
  /** Only events of this card (BusEvent.card); omitted or −1: any card. */
  card?: number;
  /** Only events with this value (doorbell number, descriptor type …); omitted or −1: any. */
  value?: number;
  refine?: Refine;
}

interface RangeEntry<T> {
  item: T;
  start: number;
  end: number;
  /** Generation of the last candidates() call that returned it (dedupe across pages). */
  stamp: number;
}

interface SpaceRanges<T> {
  pages: Map<number, RangeEntry<T>[]>;
  wide: RangeEntry<T>[];
  /** Lowest start and highest end of every entry: an access outside them finds nothing. */
  lo: number;
  hi: number;
}

interface KindBucket<T> {
  buckets: Map<number, T[]>;
  /** The (any card, any value) list, looked up by every event of the kind: kept at hand. */
  any: T[] | null;
  byCard: boolean;
  byValue: boolean;
  /** Entries refined by a key, per refining function (usually none or one; not nested). */
  refined: Refinement<T>[];
}

interface Refinement<T> {
  of: (e: BusEvent) => RefineKey | null;
  byKey: Map<RefineKey, KindBucket<T>>;
  /** The last key looked up and what it found. */
  lastKey: RefineKey | null | undefined;
  lastSub: KindBucket<T> | undefined;
}

/** Everything armed for one event kind: one lookup per event finds both. */
interface KindEntry<T> {
  bucket: KindBucket<T> | null;
  spaces: Map<string, SpaceRanges<T>> | null;
  /**
   * The last two spaces looked up under this kind, and what they found (events come in runs on
   * one space, or alternate between two: a DMA copy reads one and writes the other).
   */
  lastSpace: string;
  lastRanges: SpaceRanges<T> | undefined;
  prevSpace: string;
  prevRanges: SpaceRanges<T> | undefined;
}

const ANY = -1;
/**
 * "No space looked up yet": a string no event carries, never null, so that `space ===
 * k.lastSpace` only ever compares two (internalized) strings, which V8 does by identity, inline.
 * A null seen once makes it a call into the generic equality builtin for good.
 */
const NO_SPACE = '\u0000';
/** What candidates() returns when nothing can match (never written to). */
const NONE: readonly never[] = Object.freeze([]);
const TWO32 = 0x1_0000_0000;

const SMALL_VALUE = 1 << 20;

const newBucket = <T>(): KindBucket<T> => ({
  buckets: new Map(),
  any: null,
  byCard: false,
  byValue: false,
  refined: [],
});

// Event kinds are a closed set of literal strings: a hash of their length and first and last
// characters tells all sixteen apart, so finding a kind's entry is an array read and one
// identity check instead of a Map lookup on every event. A kind that shares a slot with another
// (none today) still finds its entry in the map.
const KIND_SLOTS = 32;
const kindSlot = (k: string) =>
  (k.length + k.charCodeAt(0) * 4 + k.charCodeAt(k.length - 1) * 6) & (KIND_SLOTS - 1);
const SLOT_KIND: readonly (string | null)[] = (() => {
  const t = new Array<string | null>(KIND_SLOTS).fill(null);
  for (const k of EVENT_KINDS) t[kindSlot(k)] ??= k;
  return t;
})();

function bucketKey(card: number, value: number): number {
  // card ∈ [−1, 999], value ∈ [−1, 2³²). Small values (every value a key names in practice)
  // give a small-integer key below 2³⁰, which a Map hashes fast; the rest a negative double,
  // exact, that cannot meet a small key.
  if (value + 1 < SMALL_VALUE) return (card + 1) * SMALL_VALUE + (value + 1);
  return -((card + 1) * 2 * TWO32 + (value + 1));
}

export class EventIndex<T> {
  private readonly byKind = new Map<EventKind, KindEntry<T>>();
  /** byKind by kindSlot (SLOT_KIND says which kind each slot holds). */
  private readonly slotEntry: (KindEntry<T> | undefined)[] = new Array<KindEntry<T> | undefined>(
    KIND_SLOTS,
  ).fill(undefined);
  private readonly scratch: T[] = [];
  /** The lists a kind lookup found (reused; at most a few). */
  private readonly lists: T[][] = [];
  private stamp = 0;
  private busy = false;
  private count = 0;
  /** Entries looked at by candidates(), summed over all calls (for tests and statistics). */
  examined = 0;

  constructor(private readonly cardOf: (e: BusEvent) => number = (e) => e.card) {}

  /** Number of registrations (a range counts once per kind it was registered for). */
  get size(): number {
    return this.count;
  }

  /** Event kinds with at least one entry. */
  get armedKinds(): EventKind[] {
    return [...this.byKind.keys()];
  }

  clear(): void {
    this.byKind.clear();
    this.slotEntry.fill(undefined);
    this.count = 0;
  }

  private entry(kind: EventKind): KindEntry<T> {
    let k = this.byKind.get(kind);
    if (!k) {
      this.byKind.set(
        kind,
        (k = {
          bucket: null,
          spaces: null,
          lastSpace: NO_SPACE,
          lastRanges: undefined,
          prevSpace: NO_SPACE,
          prevRanges: undefined,
        }),
      );
      const slot = kindSlot(kind);
      if (SLOT_KIND[slot] === kind) this.slotEntry[slot] = k;
    }
    // The entries change: forget the spaces looked up.
    k.lastSpace = k.prevSpace = NO_SPACE;
    k.lastRanges = k.prevRanges = undefined;
    return k;
  }

  addKind(key: KindKey, item: T): void {
    const card = key.card ?? ANY;
    const value = key.value ?? ANY;
    const k = this.entry(key.kind);
    let b = (k.bucket ??= newBucket());
    if (key.refine) {
      const { of, key: rk } = key.refine;
      let r = b.refined.find((x) => x.of === of);
      if (!r) b.refined.push((r = { of, byKey: new Map(), lastKey: undefined, lastSub: undefined }));
      let sub = r.byKey.get(rk);
      if (!sub) r.byKey.set(rk, (sub = newBucket()));
      r.lastKey = undefined;
      b = sub;
    }
    if (card !== ANY) b.byCard = true;
    if (value !== ANY) b.byValue = true;
    const bk = bucketKey(card, value >>> 0 === value ? value : ANY);
    let list = b.buckets.get(bk);
    if (!list) b.buckets.set(bk, (list = []));
    if (bk === bucketKey(ANY, ANY)) b.any = list;
    list.push(item);
    this.count++;
  }

  /** Register [start, start+length) of `space` for each of `kinds`. */
  addRange(kinds: readonly EventKind[], space: string, start: number, length: number, item: T): void {
    const len = Math.max(1, length);
    for (const kind of kinds) {
      const k = this.entry(kind);
      const bySpace = (k.spaces ??= new Map());
      let sr = bySpace.get(space);
      if (!sr) bySpace.set(space, (sr = { pages: new Map(), wide: [], lo: Infinity, hi: -Infinity }));
      const entry: RangeEntry<T> = { item, start, end: start + len, stamp: 0 };
      sr.lo = Math.min(sr.lo, entry.start);
      sr.hi = Math.max(sr.hi, entry.end);
      const first = Math.floor(start / PAGE_SIZE);
      const last = Math.floor((start + len - 1) / PAGE_SIZE);
      if (last - first + 1 > MAX_PAGES_PER_RANGE) sr.wide.push(entry);
      else {
        for (let p = first; p <= last; p++) {
          let list = sr.pages.get(p);
          if (!list) sr.pages.set(p, (list = []));
          list.push(entry);
        }
      }
      this.count++;
    }
  }

  /**
   * The entries that may match `e`: kind entries for its kind (and card, value), range entries
   * that overlap the bytes it touches. The array is reused by the next call: consume it first.
   */
  candidates(e: BusEvent): readonly T[] {
    const kind = e.kind;
    const slot = kindSlot(kind);
    const k = SLOT_KIND[slot] === kind ? this.slotEntry[slot] : this.byKind.get(kind);
    if (k === undefined) return NONE;
    // The ranges of its space that the access may touch (none: undefined).
    let sr: SpaceRanges<T> | undefined;
    let end = 0;
    if (k.spaces !== null) {
      const space = e.space;
      if (space === k.lastSpace) sr = k.lastRanges;
      else {
        sr = space === k.prevSpace ? k.prevRanges : k.spaces.get(space);
        k.prevSpace = k.lastSpace;
        k.prevRanges = k.lastRanges;
        k.lastSpace = space;
        k.lastRanges = sr;
      }
      if (sr !== undefined) {
        end = e.address + (e.size > 0 ? e.size : 1);
        if (!(e.address < sr.hi && sr.lo < end)) sr = undefined;
      }
    }
    if (k.bucket === null && sr === undefined) return NONE;
    return this.collect(e, k.bucket, sr, end);
  }

  /**
   * The rest of candidates(), for an event that some entry may match (kept apart, so that the
   * common answer, none, stays a few lines long).
   */
  private collect(
    e: BusEvent,
    b: KindBucket<T> | null,
    sr: SpaceRanges<T> | undefined,
    end: number,
  ): readonly T[] {
    const busy = this.busy;
    const out = busy ? [] : this.scratch;
    if (out.length !== 0) out.length = 0;
    this.busy = true;
    if (b !== null) {
      const lists = busy ? [] : this.lists;
      let n = this.gather(b, e, lists, 0);
      for (let i = 0; i < b.refined.length; i++) {
        const r = b.refined[i];
        const key = r.of(e);
        // Events come in runs with one key (one queue): keep the last one's bucket.
        let sub: KindBucket<T> | undefined;
        if (key === r.lastKey) sub = r.lastSub;
        else {
          sub = key === null ? undefined : r.byKey.get(key);
          r.lastKey = key;
          r.lastSub = sub;
        }
        if (sub !== undefined) n = this.gather(sub, e, lists, n);
      }
      // Only kind entries in one list: hand out that list itself (read-only to the caller, like
      // the scratch array) instead of copying it.
      if (sr === undefined && n <= 1) {
        this.busy = busy;
        if (n === 0) return NONE;
        this.examined += lists[0].length;
        return lists[0];
      }
      for (let i = 0; i < n; i++) this.take(lists[i], out);
    }
    if (sr !== undefined) this.rangeCandidates(sr, e.address, end, out);
    this.busy = busy;
    return out;
  }

  /**
   * Put the non-empty lists of bucket b that hold entries for e's card and value at lists[n…];
   * the new count. (A count, not push: lists is reused and never truncated.)
   */
  private gather(b: KindBucket<T>, e: BusEvent, lists: T[][], n: number): number {
    if (b.any !== null) lists[n++] = b.any;
    if (!b.byCard && !b.byValue) return n;
    const buckets = b.buckets;
    const value = e.value;
    if (b.byValue) {
      const l = buckets.get(bucketKey(ANY, value));
      if (l !== undefined) lists[n++] = l;
    }
    if (!b.byCard) return n;
    const card = this.cardOf(e);
    if (card === ANY) return n;
    const l = buckets.get(bucketKey(card, ANY));
    if (l !== undefined) lists[n++] = l;
    if (b.byValue) {
      const lv = buckets.get(bucketKey(card, value));
      if (lv !== undefined) lists[n++] = lv;
    }
    return n;
  }

  private take(list: T[], out: T[]): void {
    this.examined += list.length;
    for (let i = 0; i < list.length; i++) out.push(list[i]);
  }

  private rangeCandidates(sr: SpaceRanges<T>, start: number, end: number, out: T[]): void {
    const stamp = ++this.stamp;
    const first = Math.floor(start / PAGE_SIZE);
    const last = Math.floor((end - 1) / PAGE_SIZE);
    if (last - first + 1 <= sr.pages.size) {
      for (let p = first; p <= last; p++) {
        const list = sr.pages.get(p);
        if (list) this.check(list, stamp, start, end, out);
      }
    } else {
      // A bulk access wider than the armed pages of this space: visit the armed pages instead.
      for (const [p, list] of sr.pages) if (p >= first && p <= last) this.check(list, stamp, start, end, out);
    }
    if (sr.wide.length) this.check(sr.wide, stamp, start, end, out);
  }

  /** Entries of `list` overlapping [start, end), each once per candidates() call. */
  private check(list: RangeEntry<T>[], stamp: number, start: number, end: number, out: T[]): void {
    this.examined += list.length;
    for (let i = 0; i < list.length; i++) {
      const en = list[i];
      if (en.stamp === stamp) continue;
      en.stamp = stamp;
      if (en.start < end && start < en.end) out.push(en.item);
    }
  }
}
