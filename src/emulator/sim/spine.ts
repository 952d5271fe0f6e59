// The event spine: numbers every bus transaction, stamps it with the running task's initiator,
// frames and causal context, and shows it to observers. With no observer the cost is an
// increment and the causal bookkeeping (two stores): the record is filled only when watched.
//
// Plain accesses go through emit(); the kinds with fields of their own (doorbells, interrupts,
// DMA descriptors, virtqueue chains, states, milestones, protocol errors, text) have a method
// each, which fills those fields, so a consumer reads `e.db` or `e.queue` instead of words.

import {
  blankEvent,
  clearKindFields,
  type BusEvent,
  type EventKind,
  type Frame,
  type Side,
} from './busEvent.ts';
import { RequestTable } from './requests.ts';
import type { Scheduler } from './scheduler.ts';

export type Observer = (e: BusEvent) => void;

/** A §9 misuse the machine noticed. Recorded, never thrown: the rest of the machine runs on. */
export interface ProtocolError {
  seq: number;
  time: number;
  /** Row of the reference's §9 table, or 0 for rules outside it. */
  rule: number;
  /** Where: 'mic0', 'mic0.dma0', 'host' … */
  where: string;
  message: string;
}

/** What the machine's names say: `micN…` or `host.micN.…` belong to card N; `micN.dmaC` is channel C. */
interface NameInfo {
  card: number;
  channel: number;
}

const NO_NAME: NameInfo = { card: -1, channel: -1 };

/**
 * The card and DMA channel a space or initiator name belongs to. The machine names things
 * `micN.gddr`, `micN.dmaC`, `host.micN.console`; this is the one place that reads those names,
 * once per name (the answers are cached), when an event is filled in.
 */
export function nameInfo(name: string): NameInfo {
  const m = /^(?:host\.)?mic(\d{1,3})(?:$|[.: ])(?:dma(\d)$)?/.exec(name);
  if (!m) return NO_NAME;
  return { card: Number(m[1]), channel: m[2] !== undefined ? Number(m[2]) : -1 };
}

export class Spine {
  seq = 0;
  private observers: Observer[] = [];
  /** Observers of the rare kinds only (state, milestone, log, console, input, protocol). */
  private rare: Observer[] = [];
  private readonly ev: BusEvent = blankEvent();
  /** The per-kind fields of `ev` hold something: clear them before the next event. */
  private dirty = false;
  /** Set by an observer (a breakpoint, pause) to stop the run loop after the current step. */
  stopRequested: string | null = null;
  /** Stop after the step that makes event number stopAtSeq (time travel's seek), −1: none. */
  stopAtSeq = -1;
  /**
   * The places since the last event where a scheduler step ended or could have ended: step ends
   * (timers and wake-ups that access nothing count too) and accesses a step went on to inline
   * (scheduler.ts, resumeTask). With seq it says exactly where the machine is, whatever cut the
   * steps: an input that entered three places after an event enters three places after it when
   * replayed, though the replay's stop at that event ended a step the recording's run went on in.
   */
  quiet = 0;
  readonly protocolErrors: ProtocolError[] = [];
  /** Initiator used for events raised outside any task (hardware timers). */
  hardwareInitiator = 'hw';
  hardwareFrames: Frame | null = null;
  /** Virtio requests in flight, by queue position (ids for `req`). */
  readonly requests = new RequestTable();
  private readonly names = new Map<string, NameInfo>();
  /** The last space's answer: consecutive events mostly share one (initiators: see begin()). */
  private lastSpace = '';
  private lastSpaceInfo: NameInfo = NO_NAME;
  /** The current event's initiator, as begin() found it (for the emitters' channel). */
  private who: NameInfo = NO_NAME;

  constructor(readonly sched: Scheduler) {}

  get observed(): boolean {
    return this.observers.length > 0;
  }

  /**
   * The last event, as observers saw it (the spine's own record: copy it to keep it), or null
   * when nobody watched it.
   */
  last(): BusEvent | null {
    return this.ev.seq === this.seq && this.seq > 0 ? this.ev : null;
  }

  /** See every event. */
  observe(o: Observer): () => void {
    return add(this.observers, o);
  }

  /**
   * See only the rare kinds a front end follows all the time — state changes, boot milestones,
   * log lines, console text, inputs, protocol errors — at no cost to the bus traffic between
   * them: the machine a user runs stays the machine the benchmarks measure.
   */
  observeRare(o: Observer): () => void {
    return add(this.rare, o);
  }

  private info(name: string): NameInfo {
    let i = this.names.get(name);
    if (i === undefined) {
      i = nameInfo(name);
      if (this.names.size < 4096) this.names.set(name, i);
    }
    return i;
  }

  private spaceInfo(name: string): NameInfo {
    if (name === this.lastSpace) return this.lastSpaceInfo;
    const i = this.info(name);
    this.lastSpace = name;
    this.lastSpaceInfo = i;
    return i;
  }

  /**
   * Number an event and keep the causal context: all an event nobody watches costs. Each emitter
   * tests for observers first and calls this alone, a few stores, so the bare machine's path
   * stays small enough to inline into the bus accesses (begin() with its seven arguments is not).
   */
  private tick(): number {
    const seq = ++this.seq;
    this.quiet = 0;
    if (seq === this.stopAtSeq) this.requestStop('seek');
    const s = this.sched;
    s.cause = seq;
    s.boundary = false;
    return seq;
  }

  /**
   * Number the event and keep the causal context; return the record to fill and show, or null
   * when nobody watches. Every field an observer may read is written here or by the caller.
   */
  private begin(
    kind: EventKind,
    space: string,
    address: number,
    size: number,
    value: number,
    detail: string,
    rare = false,
  ): BusEvent | null {
    const s = this.sched;
    const cause = s.cause;
    const opens = s.boundary;
    const seq = this.tick();
    if (this.observers.length === 0 && (!rare || this.rare.length === 0)) return null;
    const e = this.ev;
    const t = s.current;
    e.seq = seq;
    e.time = s.now;
    e.initiator = t ? t.initiator : this.hardwareInitiator;
    e.frames = t ? t.frames : this.hardwareFrames;
    e.kind = kind;
    e.space = space;
    e.address = address;
    e.size = size;
    e.len = size;
    e.value = value >>> 0;
    e.detail = detail;
    e.cause = cause;
    e.req = s.req;
    e.opens = opens;
    // The initiator's card and channel: kept on its task (read once a task, not once an event).
    const who = t ? (t.names ??= this.info(t.initiator)) : this.info(this.hardwareInitiator);
    this.who = who;
    const card = this.spaceInfo(space).card;
    e.card = card >= 0 ? card : who.card;
    if (this.dirty) {
      clearKindFields(e);
      this.dirty = false;
    }
    return e;
  }

  private show(e: BusEvent, rare = false): void {
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) obs[i](e);
    if (rare) {
      const r = this.rare;
      for (let i = 0; i < r.length; i++) r[i](e);
    }
  }

  /** A plain access (memory, config) or an event whose words say all (a log line). */
  emit(kind: EventKind, space: string, address: number, size: number, value: number, detail = ''): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin(kind, space, address, size, value, detail);
    if (e === null) return this.seq;
    // An access by a DMA channel names its channel.
    const ch = this.who.channel;
    if (ch >= 0) {
      e.channel = ch;
      this.dirty = true;
    }
    this.show(e);
    return e.seq;
  }

  /** An MMIO access: `register` names the register at the address ('' none), `channel` its DMA channel. */
  mmio(
    kind: 'mmio.read' | 'mmio.write',
    space: string,
    address: number,
    size: number,
    value: number,
    register: string,
    channel: number,
  ): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin(kind, space, address, size, value, '');
    if (e === null) return this.seq;
    e.register = register;
    const ch = channel >= 0 ? channel : this.who.channel;
    e.channel = ch;
    this.dirty = true;
    this.show(e);
    return e.seq;
  }

  /** A doorbell rung: host→card N (APICICR/RDMASR) or card→host N (SDBIC), through `register`. */
  doorbell(space: string, address: number, dir: 'h2c' | 'c2h', db: number, register: string): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin('doorbell', space, address, 4, db, '');
    if (e === null) return this.seq;
    e.detail = `${dir} ${db}`;
    e.dir = dir;
    e.db = db;
    e.register = register;
    this.dirty = true;
    this.show(e);
    return e.seq;
  }

  /**
   * An interrupt delivered: an MSI-X message to the host (vector), or a card APIC interrupt
   * (its vector; `db` for a doorbell's, `channel` for a DMA completion's).
   */
  irq(
    space: string,
    address: number,
    value: number,
    side: Side,
    vector: number,
    db: number,
    channel: number,
    detail: string,
  ): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin('irq', space, address, 4, value, detail);
    if (e === null) return this.seq;
    e.side = side;
    e.vector = vector;
    e.db = db;
    e.channel = channel;
    this.dirty = true;
    this.show(e);
    return e.seq;
  }

  /** A DMA descriptor fetched by channel `channel` (type code in value; src/dst/len/data decoded). */
  dmaDesc(
    space: string,
    address: number,
    typeCode: number,
    typeName: string,
    channel: number,
    src: number,
    dst: number,
    len: number,
    data: number,
    detail: string,
  ): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin('dma.desc', space, address, 16, typeCode, detail);
    if (e === null) return this.seq;
    e.channel = channel;
    e.descType = typeName;
    e.src = src;
    e.dst = dst;
    e.len = len;
    e.data = data;
    this.dirty = true;
    this.show(e);
    return e.seq;
  }

  /**
   * A chain made available or used, seen by either side (`side`): `device` ('console'), `queue`
   * ('console.tx'), `head`, and `len`: the chain's bytes when made available or taken, the
   * length written back when used.
   */
  vring(
    kind: 'vring.avail' | 'vring.used',
    side: 'host' | 'card',
    space: string,
    address: number,
    device: string,
    queue: string,
    head: number,
    len: number,
    detail: string,
  ): number {
    if (this.observers.length === 0) return this.tick();
    const e = this.begin(kind, space, address, 2, head, detail);
    if (e === null) return this.seq;
    e.side = side;
    e.device = device;
    e.queue = queue;
    e.head = head;
    e.len = len;
    this.dirty = true;
    this.show(e);
    return e.seq;
  }

  /** A card's state changed (host driver state, 'hardware reset', 'crashed'). */
  state(space: string, address: number, size: number, value: number, state: string): number {
    const e = this.begin('state', space, address, size, value, state, true);
    if (e === null) return this.seq;
    e.state = state;
    this.dirty = true;
    this.show(e, true);
    return e.seq;
  }

  /**
   * A host-driver milestone of a boot ('reset', 'firmware ready', 'download', …), `text` its
   * words ('firmware ready (SPAD2=0x40001c1)') and `detail` whose it is.
   */
  milestone(space: string, milestone: string, value: number, text: string, detail: string): number {
    const e = this.begin('milestone', space, 0, 0, value, detail, true);
    if (e === null) return this.seq;
    e.milestone = milestone;
    e.text = text;
    this.dirty = true;
    this.show(e, true);
    return e.seq;
  }

  /** Text that crosses a boundary: console output or input (the words are the text). */
  text(
    kind: 'console' | 'input',
    space: string,
    address: number,
    size: number,
    value: number,
    text: string,
  ): number {
    const e = this.begin(kind, space, address, size, value, text, true);
    if (e === null) return this.seq;
    e.text = text;
    this.dirty = true;
    this.show(e, true);
    return e.seq;
  }

  /** A kernel log line at printk `level` (0 KERN_EMERG … 7); `detail` says whose. */
  log(space: string, address: number, size: number, level: number, text: string, detail: string): number {
    const e = this.begin('log', space, address, size, 0, detail, true);
    if (e === null) return this.seq;
    e.text = text;
    e.level = level;
    this.dirty = true;
    this.show(e, true);
    return e.seq;
  }

  /** Record a §9 misuse with a sentence a person understands, as an event and in the list. */
  protocolError(rule: number, where: string, message: string): void {
    const e = this.begin('protocol', where, 0, 0, rule, message, true);
    if (e !== null) {
      e.rule = rule;
      e.text = message;
      e.channel = this.info(where).channel;
      this.dirty = true;
      this.show(e, true);
    }
    this.protocolErrors.push({ seq: this.seq, time: this.sched.now, rule, where, message });
  }

  requestStop(reason: string): void {
    if (this.stopRequested === null) this.stopRequested = reason;
  }
}

function add(list: Observer[], o: Observer): () => void {
  list.push(o);
  return () => {
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
  };
}

/** FNV-1a over the fields of each event: two runs with the same input give the same hash. */
export class EventHasher {
  hash = 0x811c9dc5;
  count = 0;
  readonly observer: Observer = (e) => {
    let h = this.hash;
    const mix = (n: number) => {
      h ^= n & 0xff;
      h = Math.imul(h, 0x01000193);
      h ^= (n >>> 8) & 0xff;
      h = Math.imul(h, 0x01000193);
      h ^= (n >>> 16) & 0xff;
      h = Math.imul(h, 0x01000193);
      h ^= (n >>> 24) & 0xff;
      h = Math.imul(h, 0x01000193);
    };
    const str = (s: string) => {
      for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
      }
    };
    mix(e.seq);
    mix(e.time % 0x100000000);
    mix(Math.floor(e.time / 0x100000000));
    str(e.initiator);
    str(e.kind);
    str(e.space);
    mix(e.address % 0x100000000);
    mix(Math.floor(e.address / 0x100000000));
    mix(e.size);
    mix(e.value);
    str(e.detail);
    for (let f = e.frames; f; f = f.parent) str(f.fn);
    this.hash = h >>> 0;
    this.count++;
  };
}
