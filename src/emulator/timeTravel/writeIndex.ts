// "Who last wrote this?" without replaying: an append-only index of every write event (mem.write,
// mmio.write, cfg.write — by the card OS, a back-end, a DMA channel, the host driver, the
// debugger), fed by the Timeline as it observes events (docs/time-travel.md, "Who last wrote
// this?"). A query touches only the pages of its range and answers newest first.
//
// Memory (target: ≤ 8 bytes per event over all events; writes are about a third of them):
// - a record is 16 bytes, struct of arrays in chunks of 64 Ki records (no doubling slack):
//   seq and virtual time as 16-bit offsets from their block's base (a block starts whenever
//   either would not fit, ~450 records a block on block and console traffic), the low 32 bits
//   of the address, the value, and one 32-bit word of small codes: (kind, space) id, initiator
//   id, size code (exact up to 223 bytes, powers of two up to 2^38) and address bits 32–39.
//   Anything that does not fit (a 48-bit host address, a 1000-byte write, a 257th space)
//   goes to a side table keyed by record;
// - the page map: per (kind, space), 4 KiB pages → a bucket, a backward-linked list of
//   32-slot chunks (previous chunk, a mask of the 128-byte lines its records touch, 30 record
//   indices) in one pool. A write touching one or two pages goes into their buckets; a bulk
//   write (a 64 KiB DMA copy) goes into the buckets of its one or two 1 MiB regions instead of
//   16 pages, and a write over more than two regions into one bucket for the whole space. A
//   query walks its pages' buckets, its regions' buckets and the space's bucket newest first,
//   skipping whole chunks whose line mask misses the range or that lie after `before`.

import type { BusEvent, EventKind } from '../sim/busEvent.ts';

/** One write as the index answers it (value: the first 4 bytes of a bulk write; time: virtual ns). */
export type IndexedWrite = Pick<
  BusEvent,
  'seq' | 'time' | 'initiator' | 'kind' | 'space' | 'address' | 'size' | 'value'
>;

/** The event kinds the index keeps. */
export const WRITE_KINDS: readonly EventKind[] = ['mem.write', 'mmio.write', 'cfg.write'];

const REC_SHIFT = 16;
const REC_CHUNK = 1 << REC_SHIFT;
const REC_MASK = REC_CHUNK - 1;

/** Bucket chunks: [previous chunk, line mask, 30 record indices]. */
const SLOTS = 32;
const ENTRIES = SLOTS - 2;
const POOL_SHIFT = 16;
const POOL_PAGE = 1 << POOL_SHIFT;
const POOL_MASK = POOL_PAGE - 1;

/** Unit sizes as constants (a `2 ** shift` of a variable is a pow() call on the hot path). */
const PAGE = 4096;
const REGION = 1024 * 1024;
/** 32 lines a bucket: 128 bytes of a page, 32 KiB of a region. */
const LINES = 32;

/** (kind, space) answers keyId keeps. */
const KEY_CACHE = 4;

const SIZE_EXACT = 0xe0;
const SIZE_RARE = 0xff;
const ID_RARE = 0xff;

/** A field that did not fit the record's codes. */
interface Rare {
  key?: number;
  initiator?: string;
  size?: number;
  address?: number;
  value?: number;
}

/** The buckets of one (kind, space). */
interface KeyBuckets {
  kind: EventKind;
  space: string;
  pages: Map<number, number>;
  regions: Map<number, number>;
  /** Writes over more than two regions (−1: none yet). */
  whole: number;
  /** The page the last one-page write went to and its bucket (−1: none). */
  lastPage: number;
  lastPageBucket: number;
}

export class WriteIndex {
  /** The newest write seq indexed: a replay feeds events again, these are not added twice. */
  head = 0;
  /** Records indexed. */
  count = 0;

  private seqOff: Uint16Array[] = [];
  private timeOff: Uint16Array[] = [];
  private addrLo: Uint32Array[] = [];
  private value: Uint32Array[] = [];
  private meta: Uint32Array[] = [];

  /** Blocks: first record, base seq, base time. */
  private blockStart = new Uint32Array(64);
  private blockSeq = new Float64Array(64);
  private blockTime = new Float64Array(64);
  private blocks = 0;
  private baseSeq = 0;
  private baseTime = 0;

  private pool: Int32Array[] = [];
  private chunks = 0;
  private freeChunks: number[] = [];
  /** Per bucket: its newest chunk (−1: empty) and how many entries that chunk holds. */
  private bucketHead = new Int32Array(256);
  private bucketFill = new Uint8Array(256);
  private buckets = 0;

  private readonly keys: KeyBuckets[] = [];
  private readonly keyIds = new Map<EventKind, Map<string, number>>();
  private readonly initiators: string[] = [];
  private readonly initiatorIds = new Map<string, number>();
  private readonly rare = new Map<number, Rare>();
  /** The last KEY_CACHE (kind, space) → key answers, round robin (writes alternate spaces). */
  private readonly cacheKind: (EventKind | '')[] = new Array<EventKind | ''>(KEY_CACHE).fill('');
  private readonly cacheSpace: string[] = new Array<string>(KEY_CACHE).fill('');
  private readonly cacheKey = new Int32Array(KEY_CACHE);
  private cacheNext = 0;
  private lastInit = '';
  private lastInitId = -1;

  /** Index a write event (the owner passes write kinds only; others are ignored). */
  add(e: BusEvent): void {
    const seq = e.seq;
    if (seq <= this.head) return;
    const kind = e.kind;
    if (kind !== 'mem.write' && kind !== 'mmio.write' && kind !== 'cfg.write') return;
    this.head = seq;
    const r = this.count;
    const c = r >>> REC_SHIFT;
    const i = r & REC_MASK;
    if (i === 0) this.growRecords(c);
    const time = e.time;
    const ds = seq - this.baseSeq;
    const dt = time - this.baseTime;
    if (this.blocks === 0 || ds > 0xffff || !(dt >= 0 && dt <= 0xffff && dt === Math.floor(dt))) {
      this.newBlock(r, seq, time);
      this.seqOff[c][i] = 0;
      this.timeOff[c][i] = 0;
    } else {
      this.seqOff[c][i] = ds;
      this.timeOff[c][i] = dt;
    }
    let rare: Rare | null = null;
    const key = this.keyId(kind, e.space);
    let keyCode = key;
    if (key >= ID_RARE) {
      keyCode = ID_RARE;
      (rare ??= {}).key = key;
    }
    let initCode = this.initiatorId(e.initiator);
    if (initCode >= ID_RARE) {
      (rare ??= {}).initiator = e.initiator;
      initCode = ID_RARE;
    }
    const size = e.size;
    let sizeCode: number;
    if (size < SIZE_EXACT) sizeCode = size;
    else {
      const log = Math.log2(size);
      if (Number.isInteger(log) && log >= 8 && log - 8 < SIZE_RARE - SIZE_EXACT)
        sizeCode = SIZE_EXACT + log - 8;
      else {
        sizeCode = SIZE_RARE;
        (rare ??= {}).size = size;
      }
    }
    const address = e.address;
    let hi = Math.floor(address / 0x100000000);
    if (hi > 0xff || hi < 0) {
      (rare ??= {}).address = address;
      hi = 0;
    }
    this.addrLo[c][i] = address >>> 0;
    const v = e.value;
    if (v !== v >>> 0) (rare ??= {}).value = v;
    this.value[c][i] = v >>> 0;
    this.meta[c][i] = (keyCode | (initCode << 8) | (sizeCode << 16) | (hi << 24)) >>> 0;
    if (rare) this.rare.set(r, rare);
    this.count = r + 1;
    this.file(this.keys[key], r, address, size);
  }

  private growRecords(c: number): void {
    if (this.seqOff[c]) return;
    this.seqOff[c] = new Uint16Array(REC_CHUNK);
    this.timeOff[c] = new Uint16Array(REC_CHUNK);
    this.addrLo[c] = new Uint32Array(REC_CHUNK);
    this.value[c] = new Uint32Array(REC_CHUNK);
    this.meta[c] = new Uint32Array(REC_CHUNK);
  }

  private newBlock(r: number, seq: number, time: number): void {
    const b = this.blocks;
    if (b === this.blockStart.length) {
      const n = b * 2;
      this.blockStart = grow(this.blockStart, new Uint32Array(n));
      this.blockSeq = grow(this.blockSeq, new Float64Array(n));
      this.blockTime = grow(this.blockTime, new Float64Array(n));
    }
    this.blockStart[b] = r;
    this.blockSeq[b] = seq;
    this.blockTime[b] = time;
    this.blocks = b + 1;
    this.baseSeq = seq;
    this.baseTime = time;
  }

  private keyId(kind: EventKind, space: string): number {
    const ck = this.cacheKind;
    const cs = this.cacheSpace;
    for (let j = 0; j < KEY_CACHE; j++) if (ck[j] === kind && cs[j] === space) return this.cacheKey[j];
    let byKind = this.keyIds.get(kind);
    if (!byKind) this.keyIds.set(kind, (byKind = new Map()));
    let id = byKind.get(space);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push({
        kind,
        space,
        pages: new Map(),
        regions: new Map(),
        whole: -1,
        lastPage: -1,
        lastPageBucket: -1,
      });
      byKind.set(space, id);
    }
    const j = this.cacheNext;
    ck[j] = kind;
    cs[j] = space;
    this.cacheKey[j] = id;
    this.cacheNext = (j + 1) % KEY_CACHE;
    return id;
  }

  private initiatorId(s: string): number {
    if (s === this.lastInit) return this.lastInitId;
    let id = this.initiatorIds.get(s);
    if (id === undefined) {
      id = this.initiators.length;
      this.initiators.push(s);
      this.initiatorIds.set(s, id);
    }
    this.lastInit = s;
    this.lastInitId = id;
    return id;
  }

  /** Put record r into the buckets its bytes [address, address + size) touch. */
  private file(k: KeyBuckets, r: number, address: number, size: number): void {
    const end = address + Math.max(size, 1);
    // Most writes fall in one page, and in the page their (kind, space)'s last one did (a ring,
    // a descriptor table, a buffer): that bucket is kept at hand, no Map lookup.
    const page = Math.floor(address / PAGE);
    if (end - page * PAGE <= PAGE) {
      if (page !== k.lastPage) {
        k.lastPageBucket = this.bucketOf(k.pages, page);
        k.lastPage = page;
      }
      this.push(k.lastPageBucket, r, lineMask(address, end, page, PAGE));
      return;
    }
    if (this.fileIn(k.pages, PAGE, r, address, end)) return;
    if (this.fileIn(k.regions, REGION, r, address, end)) return;
    if (k.whole < 0) k.whole = this.newBucket();
    this.push(k.whole, r, -1);
  }

  /** File record r in the one or two units of `level` it touches; false if it touches more. */
  private fileIn(level: Map<number, number>, unit: number, r: number, address: number, end: number): boolean {
    const u0 = Math.floor(address / unit);
    const u1 = Math.floor((end - 1) / unit);
    if (u1 - u0 > 1) return false;
    for (let u = u0; u <= u1; u++) this.push(this.bucketOf(level, u), r, lineMask(address, end, u, unit));
    return true;
  }

  /** Unit u's bucket in `level`, made empty the first time. */
  private bucketOf(level: Map<number, number>, u: number): number {
    let b = level.get(u);
    if (b === undefined) level.set(u, (b = this.newBucket()));
    return b;
  }

  /** A new, empty bucket's id. */
  private newBucket(): number {
    const b = this.buckets;
    if (b === this.bucketHead.length) {
      this.bucketHead = grow(this.bucketHead, new Int32Array(b * 2));
      this.bucketFill = grow(this.bucketFill, new Uint8Array(b * 2));
    }
    this.bucketHead[b] = -1;
    this.bucketFill[b] = 0;
    this.buckets = b + 1;
    return b;
  }

  private push(b: number, r: number, mask: number): void {
    let head = this.bucketHead[b];
    let fill = this.bucketFill[b];
    if (head < 0 || fill === ENTRIES) {
      const c = this.newChunk();
      const slot = c * SLOTS;
      const page = this.pool[slot >>> POOL_SHIFT];
      const at = slot & POOL_MASK;
      page[at] = head;
      page[at + 1] = 0;
      head = c;
      fill = 0;
      this.bucketHead[b] = c;
    }
    const slot = head * SLOTS;
    const page = this.pool[slot >>> POOL_SHIFT];
    const at = slot & POOL_MASK;
    page[at + 1] |= mask;
    page[at + 2 + fill] = r;
    this.bucketFill[b] = fill + 1;
  }

  private newChunk(): number {
    const f = this.freeChunks.pop();
    if (f !== undefined) return f;
    const c = this.chunks++;
    const p = (c * SLOTS) >>> POOL_SHIFT;
    if (!this.pool[p]) this.pool[p] = new Int32Array(POOL_PAGE);
    return c;
  }

  // ---- reading records ------------------------------------------------------------------

  private blockOf(r: number): number {
    let lo = 0;
    let hi = this.blocks - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blockStart[mid] <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private seqOf(r: number, b = this.blockOf(r)): number {
    return this.blockSeq[b] + this.seqOff[r >>> REC_SHIFT][r & REC_MASK];
  }

  private addressOf(r: number, meta: number): number {
    if (meta >>> 24 === 0 && this.rare.size > 0) {
      const x = this.rare.get(r);
      if (x?.address !== undefined) return x.address;
    }
    return (meta >>> 24) * 0x100000000 + this.addrLo[r >>> REC_SHIFT][r & REC_MASK];
  }

  private sizeOf(r: number, meta: number): number {
    const code = (meta >>> 16) & 0xff;
    if (code < SIZE_EXACT) return code;
    if (code < SIZE_RARE) return 2 ** (code - SIZE_EXACT + 8);
    return this.rare.get(r)!.size!;
  }

  /** Record r in full. */
  record(r: number): IndexedWrite {
    const c = r >>> REC_SHIFT;
    const i = r & REC_MASK;
    const b = this.blockOf(r);
    const meta = this.meta[c][i];
    const x = this.rare.get(r);
    const k = this.keys[(meta & 0xff) === ID_RARE ? x!.key! : meta & 0xff];
    return {
      seq: this.blockSeq[b] + this.seqOff[c][i],
      time: this.blockTime[b] + this.timeOff[c][i],
      initiator: ((meta >>> 8) & 0xff) === ID_RARE ? x!.initiator! : this.initiators[(meta >>> 8) & 0xff],
      kind: k.kind,
      space: k.space,
      address: this.addressOf(r, meta),
      size: this.sizeOf(r, meta),
      value: x?.value !== undefined ? x.value : this.value[c][i],
    };
  }

  /** The first record whose seq is ≥ seq (count if none). */
  recordAt(seq: number): number {
    if (this.blocks === 0 || seq <= this.blockSeq[0]) return 0;
    let lo = 0;
    let hi = this.blocks - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blockSeq[mid] < seq) lo = mid;
      else hi = mid - 1;
    }
    let a = this.blockStart[lo];
    let z = lo + 1 < this.blocks ? this.blockStart[lo + 1] : this.count;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (this.seqOf(mid, lo) < seq) a = mid + 1;
      else z = mid;
    }
    return a;
  }

  // ---- queries --------------------------------------------------------------------------

  /**
   * The writes to bytes [address, address + length) of `space` with seq < beforeSeq, newest
   * first, at most `limit`. Every kind of write to the space counts (memory, register, config).
   */
  writes(space: string, address: number, length: number, beforeSeq: number, limit: number): IndexedWrite[] {
    if (limit <= 0 || length <= 0) return [];
    const end = address + length;
    const rBefore = this.recordAt(beforeSeq);
    const found: number[] = [];
    for (const k of this.keys) {
      if (k.space !== space) continue;
      this.scanLevel(k.pages, PAGE, address, end, rBefore, limit, found);
      this.scanLevel(k.regions, REGION, address, end, rBefore, limit, found);
      if (k.whole >= 0) this.scan(k.whole, -1, address, end, rBefore, limit, found);
    }
    found.sort((a, b) => b - a);
    const out: IndexedWrite[] = [];
    for (let j = 0; j < found.length && out.length < limit; j++)
      if (j === 0 || found[j] !== found[j - 1]) out.push(this.record(found[j]));
    return out;
  }

  /** The buckets of one level (pages or regions) that the range touches. */
  private scanLevel(
    level: Map<number, number>,
    unit: number,
    address: number,
    end: number,
    rBefore: number,
    limit: number,
    found: number[],
  ): void {
    if (level.size === 0) return;
    const u0 = Math.floor(address / unit);
    const u1 = Math.floor((end - 1) / unit);
    if (u1 - u0 + 1 <= level.size) {
      for (let u = u0; u <= u1; u++) {
        const b = level.get(u);
        if (b !== undefined)
          this.scan(b, lineMask(address, end, u, unit), address, end, rBefore, limit, found);
      }
    } else {
      for (const [u, b] of level)
        if (u >= u0 && u <= u1)
          this.scan(b, lineMask(address, end, u, unit), address, end, rBefore, limit, found);
    }
  }

  /** Walk bucket b newest first: up to `limit` records before rBefore that overlap the range. */
  private scan(
    b: number,
    mask: number,
    address: number,
    end: number,
    rBefore: number,
    limit: number,
    found: number[],
  ): void {
    let c = this.bucketHead[b];
    let fill = this.bucketFill[b];
    let got = 0;
    while (c >= 0) {
      const slot = c * SLOTS;
      const page = this.pool[slot >>> POOL_SHIFT];
      const at = slot & POOL_MASK;
      if ((page[at + 1] & mask) !== 0 && page[at + 2] < rBefore) {
        for (let j = fill - 1; j >= 0; j--) {
          const r = page[at + 2 + j];
          if (r >= rBefore) continue;
          const meta = this.meta[r >>> REC_SHIFT][r & REC_MASK];
          const a = this.addressOf(r, meta);
          if (a < end && a + Math.max(this.sizeOf(r, meta), 1) > address) {
            found.push(r);
            if (++got >= limit) return;
          }
        }
      }
      c = page[at];
      fill = ENTRIES;
    }
  }

  // ---- time travel ----------------------------------------------------------------------

  /** A new timeline from moment `seq`: the writes after it are forgotten. */
  truncate(seq: number): void {
    if (seq >= this.head) return;
    const cut = this.recordAt(seq + 1);
    this.head = seq;
    if (cut >= this.count) return;
    for (let b = 0; b < this.buckets; b++) {
      let c = this.bucketHead[b];
      let fill = this.bucketFill[b];
      while (c >= 0) {
        const slot = c * SLOTS;
        const page = this.pool[slot >>> POOL_SHIFT];
        const at = slot & POOL_MASK;
        while (fill > 0 && page[at + 2 + fill - 1] >= cut) fill--;
        if (fill > 0) break;
        this.freeChunks.push(c);
        c = page[at];
        fill = ENTRIES;
      }
      this.bucketHead[b] = c;
      this.bucketFill[b] = c >= 0 ? fill : 0;
    }
    for (const r of [...this.rare.keys()]) if (r >= cut) this.rare.delete(r);
    while (this.blocks > 0 && this.blockStart[this.blocks - 1] >= cut) this.blocks--;
    this.count = cut;
    if (this.blocks > 0) {
      this.baseSeq = this.blockSeq[this.blocks - 1];
      this.baseTime = this.blockTime[this.blocks - 1];
    }
  }

  // ---- size -----------------------------------------------------------------------------

  /** Bytes the index holds: its typed arrays as allocated, and an estimate for its maps. */
  bytes(): number {
    let n = 0;
    for (const a of [this.seqOff, this.timeOff, this.addrLo, this.value, this.meta, this.pool])
      for (const x of a) n += x.byteLength;
    n += this.blockStart.byteLength + this.blockSeq.byteLength + this.blockTime.byteLength;
    n += this.bucketHead.byteLength + this.bucketFill.byteLength;
    let entries = 0;
    for (const k of this.keys) entries += k.pages.size + k.regions.size;
    // A Map entry of number → number is ~3 words in V8's ordered hash table (plus load slack).
    n += entries * 32 + this.rare.size * 80 + this.freeChunks.length * 8;
    return n;
  }
}

function grow<T extends Uint32Array | Int32Array | Uint8Array | Float64Array>(old: T, to: T): T {
  to.set(old as never);
  return to;
}

/** The lines (32 a unit) of unit u that bytes [address, end) touch, as a bit mask. */
function lineMask(address: number, end: number, u: number, unit: number): number {
  const line = unit / LINES;
  const base = u * unit;
  const lo = Math.max(address, base) - base;
  const hi = Math.min(end, base + unit) - 1 - base;
  if (hi < lo) return 0;
  const l0 = Math.floor(lo / line);
  const l1 = Math.floor(hi / line);
  const bits = l1 - l0 + 1;
  return bits >= 32 ? -1 : (((1 << bits) - 1) << l0) | 0;
}
