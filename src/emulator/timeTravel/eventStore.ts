// The session's events, compact, for the MIC Timeline (docs/timeline.md, "Timeline panel: data").
//
// Struct of arrays, 24 bytes an event: time (f64), lane (u16), name (u16: the short name, which
// also fixes the kind), cause (u32), req (u32) and one argument (u32: the value of a register or
// config access, the bytes of a memory access, descriptor or chain, the vector of an interrupt,
// the doorbell of a doorbell). The seq is the slot: a ring indexed by `seq & mask`, grown by
// doubling up to `cap` events. Past the cap, the oldest EVICT events at a time leave the ring and
// are kept as counts per lane (one coarse bucket per evicted block): a very long session stays
// countable at any zoom, the last `cap` events are kept in full.
//
// Fed by Timeline.observe with the events past its head only (a replay re-feeds seqs the store
// has: they are not doubled), truncated by Timeline's fork. Virtio requests are assembled beside
// (RequestTracker, without their event lists).

import { EVENT_KINDS, type BusEvent, type EventKind } from '../sim/busEvent.ts';
import { eventName, groupOf } from '../sim/trace/eventName.ts';
import { RequestTracker } from '../sim/requestTracker.ts';
import { BlockSummaries } from './blockSummary.ts';
import { RequestIndex } from './requestIndex.ts';

/** Default cap: 4 Mi events in full (≈ 96 MiB of columns). */
export const DEFAULT_CAP = 1 << 22;
const FIRST_CAPACITY = 1 << 16;

export type LaneKind = 'driver' | 'backend' | 'os' | 'dma' | 'irq' | 'state' | 'queue' | 'other';

export interface Lane {
  id: number;
  /** Stable key: the initiator (`host.driver`, `mic0.dma0`), `micN.hw`, `micN.state`, `micN.vq.<queue>`. */
  key: string;
  /** For people: `host.driver`, `mic0 doorbells & interrupts`, `mic0 state`, `mic0 block.requestq`. */
  name: string;
  /** `host` or `micN`. */
  group: string;
  kind: LaneKind;
  card: number;
}

/** Events that left the ring: how many per lane, between two times. */
export interface CoarseBlock {
  fromSeq: number;
  toSeq: number;
  t0: number;
  t1: number;
  /** Per lane id (lanes added later count 0). */
  counts: Uint32Array;
  masks: Uint32Array;
}

const KIND_INDEX = new Map<string, number>(EVENT_KINDS.map((k, i) => [k, i]));

function laneKind(initiator: string): LaneKind {
  if (initiator === 'host.driver') return 'driver';
  if (initiator.startsWith('host.')) return 'backend';
  if (/^mic\d+\.dma\d+$/.test(initiator)) return 'dma';
  if (/^mic\d+\.cpu$/.test(initiator)) return 'os';
  return 'other';
}

export class EventStore {
  /** First seq kept in full. */
  lo = 1;
  /** Last seq stored (0: none). */
  head = 0;
  readonly lanes: Lane[] = [];
  /** Short names by id; `nameKind[id]` is the kind's index in EVENT_KINDS. */
  readonly names: string[] = [];
  readonly nameKind: number[] = [];
  readonly coarse: CoarseBlock[] = [];
  readonly requests = new RequestTracker(false);

  time: Float64Array;
  lane: Uint16Array;
  name: Uint16Array;
  cause: Uint32Array;
  req: Uint32Array;
  arg: Uint32Array;
  private mask: number;

  // Indexes for the timeline's frames, built lazily by their readers (blockSummary.ts,
  // requestIndex.ts); a truncation cuts them.
  private blockSummaries: BlockSummaries | null = null;
  private requestIdx: RequestIndex | null = null;

  /** Per-block summaries of the events held in full. */
  get summaries(): BlockSummaries {
    return (this.blockSummaries ??= new BlockSummaries(this));
  }

  /** The requests by queue lane and avail time, brought up to date. */
  get requestIndex(): RequestIndex {
    this.requestIdx ??= new RequestIndex((r) => this.queueLane(r.card, r.queue).key);
    this.requestIdx.update(this.requests.all);
    return this.requestIdx;
  }

  private readonly laneByKey = new Map<string, number>();
  private readonly nameIds = new Map<string, number>();
  /** Per kind (and side): the name id by the field that decides the name. */
  private readonly nameCache: Map<string | number, number>[] = [];

  constructor(readonly cap: number = DEFAULT_CAP) {
    if (cap < FIRST_CAPACITY || (cap & (cap - 1)) !== 0)
      throw new RangeError(`event store cap ${cap}: a power of two ≥ ${FIRST_CAPACITY}`);
    const n = FIRST_CAPACITY;
    this.time = new Float64Array(n);
    this.lane = new Uint16Array(n);
    this.name = new Uint16Array(n);
    this.cause = new Uint32Array(n);
    this.req = new Uint32Array(n);
    this.arg = new Uint32Array(n);
    this.mask = n - 1;
    for (let i = 0; i < EVENT_KINDS.length * 2; i++) this.nameCache.push(new Map());
  }

  /** Events held in full. */
  get size(): number {
    return this.head >= this.lo ? this.head - this.lo + 1 : 0;
  }

  /** Bytes of the columns (allocated). */
  get bytes(): number {
    return (this.mask + 1) * 24;
  }

  /** Is event `seq` held in full? */
  has(seq: number): boolean {
    return seq >= this.lo && seq <= this.head;
  }

  /** Take the next event (seq = head + 1; anything else is ignored: a replay's seqs are had). */
  add(e: BusEvent): void {
    const seq = e.seq;
    if (seq <= this.head) return;
    if (this.head === 0) this.lo = seq;
    if (seq - this.lo > this.mask) this.room(seq);
    const i = seq & this.mask;
    this.time[i] = e.time;
    this.lane[i] = this.laneOf(e);
    this.name[i] = this.nameOf(e);
    this.cause[i] = e.cause;
    this.req[i] = e.req;
    this.arg[i] = argOf(e);
    this.head = seq;
    // Requests: only the events that move them (avail, used, descriptors).
    if (e.req !== 0) {
      const k = e.kind;
      if (k === 'vring.avail' || k === 'vring.used' || k === 'dma.desc') this.requests.observer(e);
    }
  }

  /** Room for `seq`: double the columns, or past the cap evict the oldest block. */
  private room(seq: number): void {
    const size = this.mask + 1;
    if (size < this.cap) {
      const n = size * 2;
      const m = n - 1;
      const grow = <T extends Float64Array | Uint16Array | Uint32Array>(a: T, b: T): T => {
        for (let s = this.lo; s <= this.head; s++) b[s & m] = a[s & this.mask];
        return b;
      };
      this.time = grow(this.time, new Float64Array(n));
      this.lane = grow(this.lane, new Uint16Array(n));
      this.name = grow(this.name, new Uint16Array(n));
      this.cause = grow(this.cause, new Uint32Array(n));
      this.req = grow(this.req, new Uint32Array(n));
      this.arg = grow(this.arg, new Uint32Array(n));
      this.mask = m;
      if (seq - this.lo > this.mask) this.room(seq);
      return;
    }
    const evict = size >>> 4;
    while (seq - this.lo > this.mask) this.evict(evict);
  }

  private evict(n: number): void {
    const to = Math.min(this.head, this.lo + n - 1);
    const counts = new Uint32Array(this.lanes.length);
    const masks = new Uint32Array(this.lanes.length);
    for (let s = this.lo; s <= to; s++) {
      const i = s & this.mask;
      counts[this.lane[i]]++;
      masks[this.lane[i]] |= 1 << this.nameKind[this.name[i]];
    }
    this.coarse.push({
      fromSeq: this.lo,
      toSeq: to,
      t0: this.time[this.lo & this.mask],
      t1: this.time[to & this.mask],
      counts,
      masks,
    });
    this.lo = to + 1;
  }

  /** A new timeline from moment `seq`: events after it go (coarse blocks starting after it too). */
  truncate(seq: number): void {
    if (seq >= this.head) return;
    this.blockSummaries?.truncate(seq);
    this.requestIdx = null;
    this.head = Math.max(seq, 0);
    if (this.head < this.lo) this.lo = this.head + 1;
    while (this.coarse.length && this.coarse[this.coarse.length - 1].fromSeq > seq) this.coarse.pop();
    const all = this.requests.all;
    for (let k = all.length - 1; k >= 0; k--) {
      const r = all[k];
      if (r.availSeq > seq) r.availSeq = r.availTime = 0;
      if (r.takenSeq > seq) r.takenSeq = 0;
      if (r.usedSeq > seq) r.usedSeq = r.usedTime = r.usedLen = 0;
      if (r.doneSeq > seq) r.doneSeq = r.doneTime = 0;
    }
    this.requests.dropEmpty();
  }

  // ---- reading ----

  timeOf(seq: number): number {
    return this.time[seq & this.mask];
  }
  laneOfSeq(seq: number): number {
    return this.lane[seq & this.mask];
  }
  nameOfSeq(seq: number): number {
    return this.name[seq & this.mask];
  }
  causeOf(seq: number): number {
    return this.cause[seq & this.mask];
  }
  reqOf(seq: number): number {
    return this.req[seq & this.mask];
  }
  argOfSeq(seq: number): number {
    return this.arg[seq & this.mask];
  }
  kindOf(seq: number): EventKind {
    return EVENT_KINDS[this.nameKind[this.name[seq & this.mask]]];
  }

  /** The first seq held in full whose time is ≥ ns (head + 1 if none). */
  seqAtTime(ns: number): number {
    let a = this.lo;
    let b = this.head + 1;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.time[m & this.mask] < ns) a = m + 1;
      else b = m;
    }
    return a;
  }

  // ---- writing: lanes and names ----

  // The last initiator's lane: consecutive events mostly share it (names are interned strings).
  private lastInit = '';
  private lastLane = 0;

  private laneOf(e: BusEvent): number {
    const init = e.initiator;
    if (e.kind === 'state' && e.card >= 0) return this.laneFor(`mic${e.card}.state`, 'state', e.card);
    if (init === this.lastInit) return this.lastLane;
    let id: number;
    if (init === 'hw' || init.endsWith('.hw')) id = this.laneFor(`mic${e.card}.hw`, 'irq', e.card);
    else id = this.laneByKey.get(init) ?? this.addLane(init, init, groupOf(init, e.card), laneKind(init));
    // The link's `hw` serves every card: its lane depends on the card, so it is not cached.
    if (init !== 'hw') {
      this.lastInit = init;
      this.lastLane = id;
    }
    return id;
  }

  private laneFor(key: string, kind: LaneKind, card: number): number {
    const id = this.laneByKey.get(key);
    if (id !== undefined) return id;
    const name = kind === 'irq' ? `mic${card} doorbells & interrupts` : `mic${card} state`;
    return this.addLane(key, name, `mic${card}`, kind);
  }

  /** The lane of virtqueue `queue` of card `card` (its requests' bars). */
  queueLane(card: number, queue: string): Lane {
    const key = `mic${card}.vq.${queue}`;
    const id = this.laneByKey.get(key) ?? this.addLane(key, `mic${card} ${queue}`, `mic${card}`, 'queue');
    return this.lanes[id];
  }

  private addLane(key: string, name: string, group: string, kind: LaneKind): number {
    const id = this.lanes.length;
    if (id > 0xffff) return 0;
    // The card a lane serves: its group's, a back-end's (`host.micN.block`), none for the driver.
    const m = /^(?:host\.)?mic(\d+)/.exec(kind === 'backend' ? key : group);
    const c = m ? Number(m[1]) : -1;
    this.lanes.push({ id, key, name, group, kind, card: c });
    this.laneByKey.set(key, id);
    return id;
  }

  laneId(key: string): number | undefined {
    return this.laneByKey.get(key);
  }

  private nameOf(e: BusEvent): number {
    const kind = e.kind;
    let key: string | number;
    let slot = 0;
    switch (kind) {
      case 'mmio.read':
      case 'mmio.write':
        key = e.register;
        break;
      case 'doorbell':
        key = e.register || e.db;
        if (e.dir === 'c2h') slot++;
        break;
      case 'irq':
        key = e.vector;
        if (e.side === 'card') slot++;
        break;
      case 'dma.desc':
        key = e.descType;
        break;
      case 'vring.avail':
      case 'vring.used':
        key = e.queue;
        if (e.side === 'card') slot++;
        break;
      case 'state':
        key = e.state;
        break;
      case 'milestone':
        key = e.milestone;
        break;
      case 'mem.read':
      case 'mem.write':
        key = e.space;
        break;
      default:
        key = '';
    }
    if (kind === this.lastKind && key === this.lastKey && slot === this.lastSlot) return this.lastName;
    const k = KIND_INDEX.get(kind) ?? 0;
    const cache = this.nameCache[k * 2 + slot];
    let hit = cache.get(key);
    if (hit === undefined) cache.set(key, (hit = this.newName(e, k)));
    this.lastKind = kind;
    this.lastKey = key;
    this.lastSlot = slot;
    this.lastName = hit;
    return hit;
  }

  private lastKind = '';
  private lastKey: string | number = '';
  private lastSlot = 0;
  private lastName = 0;

  private newName(e: BusEvent, k: number): number {
    const text = eventName(e);
    let id = this.nameIds.get(text);
    if (id === undefined) {
      id = this.names.length;
      if (id > 0xffff) id = 0;
      else {
        this.names.push(text);
        this.nameKind.push(k);
        this.nameIds.set(text, id);
      }
    }
    return id;
  }
}

/** The one argument kept: a register's value, bytes moved, the vector, the doorbell. */
function argOf(e: BusEvent): number {
  switch (e.kind) {
    case 'mmio.read':
    case 'mmio.write':
    case 'cfg.read':
    case 'cfg.write':
      return e.value >>> 0;
    case 'irq':
      return e.vector >= 0 ? e.vector : 0;
    case 'doorbell':
      return e.db >= 0 ? e.db : 0;
    default:
      return e.len >>> 0;
  }
}

/** What the argument column holds for events of `kind`. */
export function argName(kind: EventKind): string {
  switch (kind) {
    case 'mmio.read':
    case 'mmio.write':
    case 'cfg.read':
    case 'cfg.write':
      return 'value';
    case 'irq':
      return 'vector';
    case 'doorbell':
      return 'db';
    default:
      return 'len';
  }
}
