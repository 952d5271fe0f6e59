// `--trace FILE`: every event as one JSON line, frames outermost first.

import type { BusEvent } from './busEvent.ts';
import type { Observer } from './spine.ts';

export function eventToJson(e: BusEvent): string {
  const frames: string[] = [];
  for (let f = e.frames; f; f = f.parent) {
    const args = f.args
      ? Object.entries(f.args).map(([k, v]) => `${k}=${typeof v === 'number' ? '0x' + v.toString(16) : v}`)
      : [];
    frames.push(args.length ? `${f.fn}(${args.join(', ')})` : f.fn);
  }
  frames.reverse();
  return JSON.stringify({
    seq: e.seq,
    time: e.time,
    initiator: e.initiator,
    kind: e.kind,
    space: e.space,
    address: '0x' + e.address.toString(16),
    size: e.size,
    value: '0x' + (e.value >>> 0).toString(16),
    ...(e.detail ? { detail: e.detail } : {}),
    frames,
  });
}

/** An observer that hands each event's JSON line to `write` (which may buffer). */
export function traceRecorder(write: (line: string) => void): Observer {
  return (e) => write(eventToJson(e) + '\n');
}
