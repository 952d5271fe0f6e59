// The fields of an event as conditions, the Debug Console and the Variables view name them: one
// table, each field read straight from the event's typed data (sim/busEvent.ts). Nothing here
// reads an event's words (`detail`): a field is data or it is absent.

import type { BusEvent } from '../../emulator/sim/busEvent.ts';
import type { Machine } from '../../emulator/machine.ts';
import { R } from '../../emulator/card/sboxRegisters.ts';

export type FieldValue = number | string;
export type Fields = Record<string, FieldValue>;

/** How to read one field from an event: its value, or null where this event has no such field. */
export interface FieldSpec {
  readonly name: string;
  /** Present on every event (true), or only on some kinds. */
  readonly base: boolean;
  readonly type: 'number' | 'string';
  /** For people: what it means (docs/breakpoints.md says the same). */
  readonly doc: string;
  readonly of: (e: BusEvent) => FieldValue | null;
}

const num = (v: number): number | null => (v < 0 ? null : v);
const str = (v: string): string | null => (v === '' ? null : v);

const field = (
  name: string,
  base: boolean,
  type: 'number' | 'string',
  doc: string,
  of: (e: BusEvent) => FieldValue | null,
): FieldSpec => ({ name, base, type, doc, of });

/** Every field, in the order the Variables view lists them. */
export const FIELDS: readonly FieldSpec[] = [
  field('kind', true, 'string', 'event kind: doorbell, dma.desc, vring.avail, mmio.write …', (e) => e.kind),
  field('space', true, 'string', 'target address space: host, mic0.gddr, mic0.bar4 …', (e) => e.space),
  field('address', true, 'number', 'address in the space', (e) => e.address),
  field('value', true, 'number', 'value (≤ 32 bits)', (e) => e.value),
  field('size', true, 'number', 'size of the access in bytes', (e) => e.size),
  field('len', true, 'number', 'bytes moved (a MEMCPY’s length, a used chain’s len)', (e) => e.len),
  field('initiator', true, 'string', 'who made it: host.driver, mic0.cpu, mic0.dma0 …', (e) => e.initiator),
  field('seq', true, 'number', 'sequence number', (e) => e.seq),
  field('time', true, 'number', 'virtual time in ns', (e) => e.time),
  field('card', true, 'number', 'card index, −1 for the host alone', (e) => e.card),
  field('cause', true, 'number', 'seq of the event that caused it (0: none)', (e) => e.cause),
  field('req', true, 'number', 'id of the virtio request it belongs to (0: none)', (e) => e.req),
  field('detail', true, 'string', 'the event in words', (e) => e.detail),
  field('db', false, 'number', 'doorbell number', (e) => num(e.db)),
  field('dir', false, 'string', 'doorbell direction: "h2c" or "c2h"', (e) => str(e.dir)),
  field('channel', false, 'number', 'DMA channel', (e) => num(e.channel)),
  field('type', false, 'string', 'DMA descriptor type: "memcpy", "status", "general", "nop" …', (e) =>
    str(e.descType),
  ),
  field('src', false, 'number', 'DMA source (MIC address)', (e) => num(e.src)),
  field('dst', false, 'number', 'DMA destination (MIC address)', (e) => num(e.dst)),
  field('data', false, 'number', 'STATUS / GENERAL data', (e) => num(e.data)),
  field('register', false, 'string', 'register name: "SDBIC0", "DHPR3" …', (e) => str(e.register)),
  field('device', false, 'string', 'virtio device: "console", "net", "block"', (e) => str(e.device)),
  field('queue', false, 'string', 'virtqueue: "console.tx", "block.requestq" …', (e) => str(e.queue)),
  field('head', false, 'number', 'chain head', (e) => num(e.head)),
  field('vector', false, 'number', 'interrupt vector', (e) => num(e.vector)),
  field('side', false, 'string', 'interrupt receiver, or virtqueue viewer: "host" or "card"', (e) =>
    str(e.side),
  ),
  field('state', false, 'string', 'card state', (e) => str(e.state)),
  field('milestone', false, 'string', 'host driver boot milestone', (e) => str(e.milestone)),
  field('rule', false, 'number', '§9 rule (0: outside the table)', (e) => num(e.rule)),
  field('text', false, 'string', 'console text, log line, protocol sentence, milestone words', (e) =>
    e.kind === 'console' ||
    e.kind === 'input' ||
    e.kind === 'log' ||
    e.kind === 'protocol' ||
    e.kind === 'milestone'
      ? e.text
      : null,
  ),
  field('level', false, 'number', 'printk level of a log line', (e) => num(e.level)),
];

export const FIELD_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.name, f]));

/** Every field name some event can have (conditions are checked against this when set). */
export const FIELD_NAMES: readonly string[] = [...FIELDS.map((f) => f.name), 'dcherr'];

/** The fields every event has. A condition naming only these needs no per-kind record. */
export const BASE_FIELD_NAMES: ReadonlySet<string> = new Set(FIELDS.filter((f) => f.base).map((f) => f.name));

/**
 * Numeric fields read from the event as they are, without building the record (null where the
 * event lacks the field): what a `FIELD op NUMBER` condition and the breakpoint index use.
 */
export const EVENT_NUMBERS: ReadonlyMap<string, (e: BusEvent) => number | null> = new Map(
  FIELDS.filter((f) => f.type === 'number').map((f) => [f.name, f.of as (e: BusEvent) => number | null]),
);

/**
 * The fields a condition may use for event `e`: every field the event has (see FIELDS), and for
 * a DMA error its channel's DCHERR as the machine holds it now. With `perKind` false, only the
 * fields every event has (BASE_FIELD_NAMES).
 */
export function eventFields(m: Machine | null, e: BusEvent, perKind = true): Fields {
  const f: Fields = {};
  for (const spec of FIELDS) {
    if (!perKind && !spec.base) continue;
    const v = spec.of(e);
    if (v !== null) f[spec.name] = v;
  }
  if (perKind && e.kind === 'protocol' && e.channel >= 0 && m && m.cards[e.card])
    f.dcherr = m.cards[e.card].reg(R.DCHERR(e.channel));
  return f;
}
