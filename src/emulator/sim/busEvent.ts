// The one record every bus transaction becomes (architecture: "every bus transaction is an event").

/** What kind of transaction. Observers index on this. */
export type EventKind =
  | 'mmio.read'
  | 'mmio.write'
  | 'mem.read'
  | 'mem.write'
  | 'cfg.read'
  | 'cfg.write'
  | 'doorbell'
  | 'irq'
  | 'dma.desc'
  | 'vring.avail'
  | 'vring.used'
  | 'state'
  | 'console'
  | 'input'
  | 'protocol'
  | 'log';

export const EVENT_KINDS: readonly EventKind[] = [
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
];

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
  /** 'host.driver' | 'host.console' | 'mic0.cpu' | 'mic0.dma0' | 'mic0.hw' … */
  initiator: string;
  kind: EventKind;
  /** Target space: 'host' | 'mic0.gddr' | 'mic0.mmio' | 'mic0.config' | … */
  space: string;
  /** 40-bit (or host 48-bit) addresses fit a JS number exactly. */
  address: number;
  size: number;
  /** ≤ 32 bits; wider quantities are split. */
  value: number;
  frames: Frame | null;
  /** Words for kinds that need them: doorbell names, protocol rule text, state names. */
  detail: string;
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

/** A record to refill event by event (one shape for all: every field set). */
export function blankEvent(): BusEvent {
  return {
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
  };
}

/** A copy that observers may keep (the spine reuses its record). */
export function cloneEvent(e: BusEvent): BusEvent {
  return { ...e };
}
