// A running hash of the event stream, cheap enough to keep on every event of a session: a replay
// that computes the same value at the same event number went the same way (the machine is
// deterministic; a difference means it is not, or the inputs or files differ).

import { EVENT_KINDS, type BusEvent } from '../sim/busEvent.ts';

const KIND_CODE: Readonly<Record<string, number>> = Object.fromEntries(EVENT_KINDS.map((k, i) => [k, i + 1]));

export class RunningHash {
  value = 0x811c9dc5;

  /** Mix one event in (its identity, time, place, value and causal links). */
  add(e: BusEvent): void {
    let h = this.value;
    h = Math.imul(h ^ e.seq, 0x01000193);
    h = Math.imul(h ^ (e.time % 0x1_0000_0000), 0x01000193);
    h = Math.imul(h ^ (e.address % 0x1_0000_0000), 0x01000193);
    h = Math.imul(h ^ e.value, 0x01000193);
    h = Math.imul(h ^ (e.size | (KIND_CODE[e.kind] << 24)), 0x01000193);
    h = Math.imul(h ^ e.cause, 0x01000193);
    h = Math.imul(h ^ e.req, 0x01000193);
    this.value = h >>> 0;
  }
}
