// A running hash of the event stream, cheap enough to keep on every event of a session: a replay
// that computes the same value at the same event number went the same way (the machine is
// deterministic; a difference means it is not, or the inputs or files differ).

import { EVENT_KINDS, type BusEvent } from '../sim/busEvent.ts';

const KIND_CODE: Readonly<Record<string, number>> = Object.fromEntries(EVENT_KINDS.map((k, i) => [k, i + 1]));
/**
 * A log line's size is its text's length, and host log lines name host files ("virtio-block on
 * PATH"): left out, so a recording replays on images in another folder (recordingFile.ts).
 */
const LOG_CODE = KIND_CODE['log'];

export class RunningHash {
  value = 0x811c9dc5;

  /** Mix one event in (its identity, time, place, value and causal links). */
  add(e: BusEvent): void {
    let h = this.value;
    h = Math.imul(h ^ e.seq, 0x01000193);
    h = Math.imul(h ^ (e.time % 0x1_0000_0000), 0x01000193);
    h = Math.imul(h ^ (e.address % 0x1_0000_0000), 0x01000193);
    h = Math.imul(h ^ e.value, 0x01000193);
    const kind = KIND_CODE[e.kind];
    h = Math.imul(h ^ ((kind === LOG_CODE ? 0 : e.size) | (kind << 24)), 0x01000193);
    h = Math.imul(h ^ e.cause, 0x01000193);
    h = Math.imul(h ^ e.req, 0x01000193);
    this.value = h >>> 0;
  }
}
