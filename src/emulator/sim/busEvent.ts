// The one record every bus transaction becomes (architecture: "every bus transaction is an event").
//
// An event is data. Besides what every event has (seq, time, initiator, kind, space, address,
// size, value, frames) it carries typed fields for what breakpoints, conditions, stop names,
// views and trace consumers ask of it: the card, the doorbell and its direction, the DMA channel
// and descriptor, the virtqueue and head, the interrupt vector, the state, the §9 rule, the
// register, the bytes moved — and two causal links: `cause`, the event that made this one happen,
// and `req`, the virtio request it belongs to. `detail` is words for people only: nothing reads
// it back (test/emulator/eventsAsData.test.ts fails if code in src/ parses it).

/** What kind of transaction. Observers index on this. */
export const EVENT_KINDS = [
  'mmio.read',
  'mmio.write',
  'mem.read',
  'mem.write',
  'cfg.read',
  'cfg.write',
  'doorbell',
  'irq',
  'dma.desc',
  'vring.avail',
  'vring.used',
  'state',
  'console',
  'input',
  'protocol',
  'log',
  'milestone',
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** printk levels of log events (include/linux/kern_levels.h). */
export const KERN_EMERG = 0;
export const KERN_INFO = 6;

/** Direction of a doorbell: host→card (APICICR/RDMASR) or card→host (SDBIC). */
export type Direction = '' | 'h2c' | 'c2h';
/** A side of the link: an interrupt's receiver (MSI-X to the host, the card's APIC), a virtqueue event's viewer. */
export type Side = '' | 'host' | 'card';

/**
 * A logical software frame, e.g. `virtio_console.put_chars`. Frames form an immutable linked
 * list, so an event shares its caller's chain instead of copying it.
 */
export interface Frame {
  readonly fn: string;
  readonly args: Readonly<Record<string, string | number>> | undefined;
  readonly parent: Frame | null;
}

export interface BusEvent {
  /** Monotonically increasing identity of the event. */
  seq: number;
  /** Virtual nanoseconds. */
  time: number;
  /** 'host.driver' | 'host.mic0.console' | 'mic0.cpu' | 'mic0.dma0' | 'mic0.hw' … */
  initiator: string;
  kind: EventKind;
  /** Target space: 'host' | 'mic0.gddr' | 'mic0.bar4' | 'mic0.config' | … */
  space: string;
  /** 40-bit (or host 48-bit) addresses fit a JS number exactly. */
  address: number;
  size: number;
  /** ≤ 32 bits; wider quantities are split. */
  value: number;
  frames: Frame | null;
  /** Words for people (stop reasons, hovers, the trace). Never parsed: the fields say it all. */
  detail: string;

  // ---- on every event ----
  /** The card the event belongs to (its space's, else its initiator's); −1: the host alone. */
  card: number;
  /**
   * The event that made this one happen (its seq), 0 if none is known: the previous event of the
   * same task (program order), or, for the first event after a wake-up, what woke it — the
   * doorbell write behind an interrupt, the interrupt behind a handler, the DHPR write behind a
   * DMA descriptor, the console input behind the shell's reading it.
   */
  cause: number;
  /** The virtio request the event belongs to (see sim/requests.ts), 0 for none. */
  req: number;
  /** Bytes the event moves: its size, a MEMCPY's length, 8 for STATUS, 4 for GENERAL, a used chain's len. */
  len: number;
  /**
   * The machine can stop just before this event: it is the first of an access (or of a
   * hardware action). The events of one access — a register write and the doorbell it rings —
   * come together; a stop, a step or a seek lands between accesses.
   */
  opens: boolean;

  // ---- per kind (−1 or '' where the kind has no such field) ----
  /** Doorbell number: doorbells, and the card interrupts doorbells raise. */
  db: number;
  /** Doorbell direction. */
  dir: Direction;
  /** DMA channel: descriptors, the channel's own accesses, its registers, its interrupts and errors. */
  channel: number;
  /** DMA descriptor type: 'nop' | 'memcpy' | 'status' | 'general' | 'keynoncecnt' | 'key' | 'reserved'. */
  descType: string;
  /** DMA descriptor source / destination (MIC addresses) and STATUS/GENERAL data (low 32 bits). */
  src: number;
  dst: number;
  data: number;
  /** Virtqueue events: device short name ('console'), queue ('console.tx'), chain head. */
  device: string;
  queue: string;
  head: number;
  /** Interrupts: the MSI-X vector to the host, or the card APIC vector. */
  vector: number;
  /** Interrupts: who receives it. Virtqueue events: whose view (the card's driver, the host's back-end). */
  side: Side;
  /** State events: the card's new state ('online', 'hardware reset', 'crashed' …). */
  state: string;
  /** Host driver milestones: 'reset', 'firmware ready', 'download', 'bootstrap kick', 'online', or a failure. */
  milestone: string;
  /** Protocol events: the §9 rule (0 outside the table). */
  rule: number;
  /** MMIO accesses: the register's name ('SDBIC0', 'DHPR3'), '' for none. */
  register: string;
  /** Console output, console input, log lines, protocol sentences: the text itself. */
  text: string;
  /** Log lines: the printk level (0 KERN_EMERG … 7 KERN_DEBUG). */
  level: number;
}

export function frameList(f: Frame | null): Frame[] {
  const out: Frame[] = [];
  for (let p = f; p; p = p.parent) out.push(p);
  return out;
}

/**
 * One frame as the trace, the stack view and every other text write it: `fn(k=0x10, name=text)`,
 * numbers in hex, arguments in their object's order; `fn` alone when it has none.
 */
export function frameText(f: Frame): string {
  const a = f.args;
  if (!a) return f.fn;
  let s = '';
  for (const k of Object.keys(a)) {
    const v = a[k];
    s += `${s ? ', ' : ''}${k}=${typeof v === 'number' ? '0x' + v.toString(16) : v}`;
  }
  return s ? `${f.fn}(${s})` : f.fn;
}

/** `a → b → c`, outermost first, the way the architecture writes call paths. */
export function framePath(f: Frame | null): string {
  return frameList(f)
    .reverse()
    .map((x) => x.fn)
    .join(' → ');
}

/**
 * The canonical copy of a name that events carry (spaces, initiators). A string built at run
 * time (`${name}.gddr`) is a fresh object; observers compare and look up these names on every
 * event, and V8 compares two internalized strings by identity, inline, where any other pair
 * takes a call into its string-equality builtin. Property keys are internalized: this returns
 * the key.
 */
export function intern(s: string): string {
  for (const k in { [s]: 0 }) return k;
  return s;
}

/** Reset the per-kind fields of e to "absent" (the base fields are always written). */
export function clearKindFields(e: BusEvent): void {
  e.db = -1;
  e.dir = '';
  e.channel = -1;
  e.descType = '';
  e.src = -1;
  e.dst = -1;
  e.data = -1;
  e.device = '';
  e.queue = '';
  e.head = -1;
  e.vector = -1;
  e.side = '';
  e.state = '';
  e.milestone = '';
  e.rule = -1;
  e.register = '';
  e.text = '';
  e.level = -1;
}

/** A record to refill event by event (one shape for all: every field set). */
export function blankEvent(): BusEvent {
  const e: BusEvent = {
    seq: 0,
    time: 0,
    initiator: '',
    kind: 'log',
    space: '',
    address: 0,
    size: 0,
    value: 0,
    frames: null,
    detail: '',
    card: -1,
    cause: 0,
    req: 0,
    len: 0,
    opens: false,
    db: -1,
    dir: '',
    channel: -1,
    descType: '',
    src: -1,
    dst: -1,
    data: -1,
    device: '',
    queue: '',
    head: -1,
    vector: -1,
    side: '',
    state: '',
    milestone: '',
    rule: -1,
    register: '',
    text: '',
    level: -1,
  };
  return e;
}

/** A copy that observers may keep (the spine reuses its record). */
export function cloneEvent(e: BusEvent): BusEvent {
  return { ...e };
}

/** Copy every field of src into dst (a record an observer keeps and refills). */
export function copyEventInto(dst: BusEvent, src: BusEvent): void {
  Object.assign(dst, src);
}
