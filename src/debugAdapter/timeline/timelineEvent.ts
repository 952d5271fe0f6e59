// mic/timelineEvent: the hover card of one event of the MIC Timeline — its fields as the event
// store keeps them, words for people, and its causal chain: causes back to the root (or to
// where the store's memory ends), effects forward a few steps (docs/custom-requests.md).

import type { EventStore } from '../../emulator/timeTravel/eventStore.ts';
import { argName } from '../../emulator/timeTravel/eventStore.ts';
import { requestBar, type RequestBar } from './timelineData.ts';

/** Steps back along `cause` at most, and effects forward (breadth first) at most. */
const CAUSES_MAX = 64;
const EFFECTS_MAX = 16;
/** How far after an event its effects are looked for (effects follow their cause closely). */
const EFFECT_WINDOW = 4096;
const EFFECT_DEPTH = 3;

export interface ChainLink {
  seq: number;
  time: number;
  kind: string;
  name: string;
  lane: string;
  /** Its cause's seq (0: none). */
  cause: number;
}

export interface TimelineEvent {
  seq: number;
  time: number;
  kind: string;
  name: string;
  lane: string;
  initiator: string;
  group: string;
  card: number;
  cause: number;
  req: number;
  /** The one argument kept, named (value, len, vector, db). */
  [arg: string]: unknown;
  words: string;
  /** Causes, nearest first, back to the root (or the first one no longer held). */
  causes: ChainLink[];
  /** Effects, nearest first, a few steps forward. */
  effects: ChainLink[];
  request: RequestBar | null;
}

function link(store: EventStore, s: number): ChainLink {
  const n = store.nameOfSeq(s);
  return {
    seq: s,
    time: store.timeOf(s),
    kind: store.kindOf(s),
    name: store.names[n],
    lane: store.lanes[store.laneOfSeq(s)].key,
    cause: store.causeOf(s),
  };
}

export function timelineEvent(store: EventStore, seq: unknown): TimelineEvent | string {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq))
    return 'seq: the event number (mic/timelineData lists them)';
  if (!store.has(seq))
    return store.head === 0
      ? 'no events yet'
      : `event ${seq} is not held: the store keeps events ${store.lo} … ${store.head} in full`;
  const l = store.lanes[store.laneOfSeq(seq)];
  const base = link(store, seq);
  const kind = store.kindOf(seq);
  const arg = store.argOfSeq(seq);
  const causes: ChainLink[] = [];
  for (let c = base.cause; c !== 0 && causes.length < CAUSES_MAX && store.has(c); c = store.causeOf(c))
    causes.push(link(store, c));
  const effects: ChainLink[] = [];
  let frontier = [seq];
  for (let depth = 0; depth < EFFECT_DEPTH && frontier.length && effects.length < EFFECTS_MAX; depth++) {
    const next: number[] = [];
    const want = new Set(frontier);
    const end = Math.min(store.head, Math.max(...frontier) + EFFECT_WINDOW);
    for (let s = Math.min(...frontier) + 1; s <= end && effects.length < EFFECTS_MAX; s++)
      if (want.has(store.causeOf(s))) {
        effects.push(link(store, s));
        next.push(s);
      }
    frontier = next;
  }
  const req = store.reqOf(seq);
  const r = req ? store.requests.get(req) : undefined;
  const argText = kind.startsWith('mmio') || kind.startsWith('cfg') ? `0x${arg.toString(16)}` : String(arg);
  const words =
    `${base.name} by ${l.name} at ${base.time} ns (event ${seq})` +
    (arg || argName(kind) === 'value' ? `, ${argName(kind)} ${argText}` : '') +
    (req ? `, request ${req}${r ? ` on ${r.queue}` : ''}` : '') +
    (causes.length ? `; caused by ${causes[0].name} (event ${causes[0].seq}) on ${causes[0].lane}` : '');
  return {
    seq,
    time: base.time,
    kind,
    name: base.name,
    lane: l.key,
    initiator: l.kind === 'irq' ? 'hw' : l.kind === 'state' ? '' : l.key,
    group: l.group,
    card: l.card,
    cause: base.cause,
    req,
    [argName(kind)]: arg,
    words,
    causes,
    effects,
    request: r && r.availSeq ? requestBar(store, r) : null,
  };
}
