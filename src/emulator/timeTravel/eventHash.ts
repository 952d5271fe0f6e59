// A running hash of the event stream, cheap enough to keep on every event of a session: a replay
// that computes the same value at the same event number went the same way (the machine is
// deterministic; a difference means it is not, or the inputs or files differ).

import { EVENT_KINDS, type BusEvent } from '../sim/busEvent.ts';

/** Kind → 1 + its place in EVENT_KINDS (a Map: a string-keyed record lookup cost more, measured). */
const KIND_CODE: ReadonlyMap<string, number> = new Map(EVENT_KINDS.map((k, i) => [k, i + 1]));
/**
 * A log line's size is its text's length, and host log lines name host files ("virtio-block on
 * PATH"): left out, so a recording replays on images in another folder (recordingFile.ts).
 */
const LOG_CODE = KIND_CODE.get('log')!;

export class RunningHash {
  value = 0x811c9dc5;

  /**
   * Mix one event in (its identity, time, place, value and causal links).
   *
   * Time and address mix in as their low 32 bits. `h ^ x` takes ToInt32(x): x's integer part
   * (toward zero) modulo 2^32, which is what the first form's `h ^ (x % 2^32)` gave for every
   * double — `%` keeps the sign and the fraction, both of which ToInt32 then reduces the same
   * way, and NaN and ±Infinity become 0 either way — so the `%` (a C fmod call on values past
   * 2^31, which virtual times are) is left out; test/emulator/eventHash.test.ts checks this
   * against the first form.
   */
  add(e: BusEvent): void {
    let h = this.value;
    h = Math.imul(h ^ e.seq, 0x01000193);
    h = Math.imul(h ^ e.time, 0x01000193);
    h = Math.imul(h ^ e.address, 0x01000193);
    h = Math.imul(h ^ e.value, 0x01000193);
    const kind = KIND_CODE.get(e.kind)!;
    h = Math.imul(h ^ ((kind === LOG_CODE ? 0 : e.size) | (kind << 24)), 0x01000193);
    h = Math.imul(h ^ e.cause, 0x01000193);
    h = Math.imul(h ^ e.req, 0x01000193);
    this.value = h >>> 0;
  }
}
