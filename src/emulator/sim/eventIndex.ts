// An index of matchers over bus events (architecture: "breakpoint matching is indexed, by address
// page and by event kind, so that a thousand armed breakpoints cost about the same as one").
//
// Two kinds of entries:
// * kind entries — registered under an event kind, optionally narrowed to one card and/or one
//   event value (a doorbell number, a descriptor type). An event looks up at most four buckets:
//   (any card, any value), (any card, its value), (its card, any value), (its card, its value).
// * range entries — registered under (event kind, space, 4 KiB page) for every page the range
//   covers. An access looks up only the pages it touches (or, for a bulk access larger than the
//   armed pages of its space, only the armed pages), and the index checks the exact overlap.
//
// `candidates(e)` never walks all entries. `examined` counts the entries it looked at, so tests
// can assert on work done rather than on time. Nothing here knows about DAP.

import type { BusEvent, EventKind } from './busEvent.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Ranges wider than this many pages go to a per-space list checked on every access there. */
const MAX_PAGES_PER_RANGE = 4096;

/** Card index an event belongs to: from its space (`mic0.mmio`), initiator or detail (`mic0 console.tx`). */
export function eventCard(e: BusEvent): number {
  let n = micPrefix(e.space, 0);
  if (n >= 0) return n;
  n = micPrefix(e.initiator, 0);
  if (n >= 0) return n;
  if (e.initiator.startsWith('host.')) {
    n = micPrefix(e.initiator, 5);
    if (n >= 0) return n;
  }
  return micPrefix(e.detail, 0);
}

/** `micN` at position `at` of s, followed by the end, '.', ' ' or ':' → N; otherwise −1. */
export function micPrefix(s: string, at: number): number {
  if (s.charCodeAt(at) !== 0x6d || s.charCodeAt(at + 1) !== 0x69 || s.charCodeAt(at + 2) !== 0x63) return -1;
  let i = at + 3;
  let n = 0;
  let digits = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    digits++;
  }
  if (digits === 0 || digits > 3) return -1;
  if (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x2e && c !== 0x20 && c !== 0x3a) return -1;
  }
  return n;
}

export interface KindKey {
  kind: EventKind;
  /** Only events of this card (see eventCard); omitted or −1: any card. */
  card?: number;
  /** Only events with this value (doorbell number, descriptor type …); omitted or −1: any. */
  value?: number;
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
  byCard: boolean;
  byValue: boolean;
}

/** Everything armed for one event kind: one map lookup per event finds both. */
interface KindEntry<T> {
  bucket: KindBucket<T> | null;
  spaces: Map<string, SpaceRanges<T>> | null;
  /** The last space looked up under this kind, and what it found (events come in runs). */
  lastSpace: string | null;
  lastRanges: SpaceRanges<T> | undefined;
}

const ANY = -1;
/** What candidates() returns when nothing can match (never written to). */
const NONE: readonly never[] = Object.freeze([]);
const TWO32 = 0x1_0000_0000;

const SMALL_VALUE = 1 << 20;

function bucketKey(card: number, value: number): number {
  // card ∈ [−1, 999], value ∈ [−1, 2³²). Small values (every value a key names in practice)
  // give a small-integer key below 2³⁰, which a Map hashes fast; the rest a negative double,
  // exact, that cannot meet a small key.
  if (value + 1 < SMALL_VALUE) return (card + 1) * SMALL_VALUE + (value + 1);
  return -((card + 1) * 2 * TWO32 + (value + 1));
}

export class EventIndex<T> {
  private readonly byKind = new Map<EventKind, KindEntry<T>>();
  // The last two kinds looked up (events come in runs of one kind, or of a read and a write,
  // on one space; each kind entry keeps its last space).
  private lastKind: string | null = null;
  private lastEntry: KindEntry<T> | undefined = undefined;
  private prevKind: string | null = null;
  private prevEntry: KindEntry<T> | undefined = undefined;
  private readonly scratch: T[] = [];
  private stamp = 0;
  private busy = false;
  private count = 0;
  /** Entries looked at by candidates(), summed over all calls (for tests and statistics). */
  examined = 0;

  constructor(private readonly cardOf: (e: BusEvent) => number = eventCard) {}

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
    this.count = 0;
    this.forget();
  }

  /** Drop the last-lookup cache (after any change to the entries). */
  private forget(): void {
    this.lastKind = null;
    this.lastEntry = undefined;
    this.prevKind = null;
    this.prevEntry = undefined;
    for (const k of this.byKind.values()) {
      k.lastSpace = null;
      k.lastRanges = undefined;
    }
  }

  private entry(kind: EventKind): KindEntry<T> {
    this.forget();
    let k = this.byKind.get(kind);
    if (!k)
      this.byKind.set(kind, (k = { bucket: null, spaces: null, lastSpace: null, lastRanges: undefined }));
    return k;
  }

  addKind(key: KindKey, item: T): void {
    const card = key.card ?? ANY;
    const value = key.value ?? ANY;
    const k = this.entry(key.kind);
    const b = (k.bucket ??= { buckets: new Map(), byCard: false, byValue: false });
    if (card !== ANY) b.byCard = true;
    if (value !== ANY) b.byValue = true;
    const bk = bucketKey(card, value >>> 0 === value ? value : ANY);
    let list = b.buckets.get(bk);
    if (!list) b.buckets.set(bk, (list = []));
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
    let k: KindEntry<T> | undefined;
    const kind = e.kind;
    if (kind === this.lastKind) k = this.lastEntry;
    else {
      if (kind === this.prevKind) k = this.prevEntry;
      else k = this.byKind.get(kind);
      this.prevKind = this.lastKind;
      this.prevEntry = this.lastEntry;
      this.lastKind = kind;
      this.lastEntry = k;
    }
    if (k === undefined) return NONE;
    // The ranges of its space that the access may touch (none: undefined).
    let sr: SpaceRanges<T> | undefined;
    let end = 0;
    if (k.spaces !== null) {
      const space = e.space;
      if (space === k.lastSpace) sr = k.lastRanges;
      else {
        sr = k.spaces.get(space);
        k.lastSpace = space;
        k.lastRanges = sr;
      }
      if (sr !== undefined) {
        end = e.address + Math.max(1, e.size);
        if (!(e.address < sr.hi && sr.lo < end)) sr = undefined;
      }
    }
    const b = k.bucket;
    if (b === null && sr === undefined) return NONE;
    const out = this.busy ? [] : this.scratch;
    if (out.length !== 0) out.length = 0;
    this.busy = true;
    if (b !== null) {
      const card = b.byCard ? this.cardOf(e) : ANY;
      const value = b.byValue ? e.value : ANY;
      const buckets = b.buckets;
      const l0 = buckets.get(bucketKey(ANY, ANY));
      const l1 = b.byValue ? buckets.get(bucketKey(ANY, value)) : undefined;
      const l2 = card !== ANY ? buckets.get(bucketKey(card, ANY)) : undefined;
      const l3 = card !== ANY && b.byValue ? buckets.get(bucketKey(card, value)) : undefined;
      if (sr === undefined) {
        // Only kind entries: when one bucket holds them all, hand out that list itself (read-only
        // to the caller, like the scratch array) instead of copying it.
        const n = (l0 ? 1 : 0) + (l1 ? 1 : 0) + (l2 ? 1 : 0) + (l3 ? 1 : 0);
        if (n === 1) {
          const only = (l0 ?? l1 ?? l2 ?? l3)!;
          this.examined += only.length;
          this.busy = false;
          return only;
        }
      }
      this.take(l0, out);
      this.take(l1, out);
      this.take(l2, out);
      this.take(l3, out);
    }
    if (sr !== undefined) this.rangeCandidates(sr, e.address, end, out);
    this.busy = false;
    return out;
  }

  private take(list: T[] | undefined, out: T[]): void {
    if (!list) return;
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
