// What the VS Code side of time travel says and reads, as plain data (no vscode, tested with
// Node): the status bar's "event 1,234 of 56,789 · past", the Go to Event input (a number, -N,
// +N or a time), when typing in the past needs a question first (the fork of the timeline), and
// the rows of "Who last wrote this?" (mic/lastWrite).

// mic/timeline's answer: the adapter's own type (a type-only import: nothing of it is bundled).
import type { TimelinePosition } from '../../debugAdapter/runtime.ts';
export type { TimelinePosition } from '../../debugAdapter/runtime.ts';

export const TIME_TRAVEL = {
  timeline: 'mic/timeline',
  seek: 'mic/seek',
  lastWrite: 'mic/lastWrite',
} as const;

const num = (n: number) => n.toLocaleString('en-US');

/** The session is not at the end of its recorded timeline. */
export const inPast = (p: TimelinePosition): boolean => p.seq < p.head;

/** The status bar's words: `event 1,234 of 56,789`, and `· past` when not at the head. */
export function positionText(p: TimelinePosition): string {
  return `event ${num(p.seq)} of ${num(p.head)}${inPast(p) ? ' · past' : ''}`;
}

/** Virtual time for people: `1.500 ms`, `12.345 µs`, `800 ns`, `2.000000 s`. */
export function formatTime(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(6)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
  return `${ns} ns`;
}

export function positionTooltip(p: TimelinePosition): string {
  const lines = [
    `Time travel: the moment after event ${num(p.seq)} of ${num(p.head)} recorded, virtual time ${formatTime(p.time)}; ${num(p.inputs)} input${p.inputs === 1 ? '' : 's'} recorded.`,
  ];
  if (inPast(p))
    lines.push(
      `In the past: Continue replays the recorded future (${num(p.future.events)} events, ${num(p.future.inputs)} inputs); a new input (a keystroke, a write, a host command) starts a new timeline here and drops it.`,
    );
  lines.push('Click to go to another event (MIC: Go to Event…).');
  return lines.join('\n');
}

/** A mic/seek argument: `{seq}`, `{delta}` from here, or `{time}` (text with a unit, the adapter reads it). */
export type SeekArgs = { seq: number } | { delta: number } | { time: string };

const TIME = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/;

/**
 * The Go to Event input: `1234` (an event; `1,234` and `1_234` too), `-N` / `+N` (events from
 * here), a time with its unit (`1.5ms`, `200 us`, optionally after `time`). With the position
 * known, an event past either end is refused here, as you type. A string says what is wrong.
 */
export function parseGoto(input: string, p?: TimelinePosition): SeekArgs | string {
  const s = input.trim().replace(/^time\s+/i, '');
  if (s === '') return 'Type an event number (1234), -N or +N events from here, or a virtual time (1.5ms).';
  const t = TIME.exec(s);
  if (t) return { time: `${t[1]}${t[2]}` };
  const m = /^([+-]?)(\d[\d,_]*)$/.exec(s);
  if (!m)
    return `"${input.trim()}" is not an event or a time: type 1234, -N, +N, or a time with its unit (1.5ms, 200us, 2s, 800ns).`;
  const n = Number(m[2].replace(/[,_]/g, ''));
  if (!Number.isSafeInteger(n)) return `${m[2]} is too large for an event number.`;
  if (m[1]) {
    const delta = m[1] === '-' ? -n : n;
    if (p) {
      const to = p.seq + delta;
      if (to < 0) return `${delta} goes before the start: you are at event ${num(p.seq)}.`;
      if (to > p.head)
        return `+${n} goes past the end of the recording: event ${num(p.head)} is ${num(p.head - p.seq)} events ahead.`;
    }
    return { delta };
  }
  if (p && n > p.head)
    return `event ${num(n)} is not recorded yet: the timeline runs from 0 to ${num(p.head)}.`;
  return { seq: n };
}

/** The recorded future is "trivial" to drop: at most this many events and no recorded input. */
export const TRIVIAL_FUTURE_EVENTS = 1000;

/**
 * What to ask before a new input at `p` starts a new timeline; null when nothing worth asking
 * about would be dropped (at the head, or a future of ≤ 1000 events with no recorded input: what
 * the machine did by itself in a fraction of a millisecond, which it does again anyway).
 */
export function forkQuestion(p: TimelinePosition): string | null {
  const { events, inputs } = p.future;
  if (!inPast(p) || events <= 0) return null;
  if (events <= TRIVIAL_FUTURE_EVENTS && inputs === 0) return null;
  return `This starts a new timeline from event ${num(p.seq)} and drops the ${num(events)} events (${num(inputs)} input${inputs === 1 ? '' : 's'}) recorded after it.`;
}

/** One write mic/lastWrite lists (newest first). */
export interface LastWrite {
  seq: number;
  time: number;
  initiator: string;
  initiatorName?: string;
  kind: string;
  space: string;
  address: string | number;
  size: number;
  value: string | number;
  text: string;
}
export interface LastWriteResponse {
  target: string;
  length: number;
  writes: LastWrite[];
  truncated: boolean;
}

const hex = (v: string | number) => (typeof v === 'number' ? `0x${v.toString(16)}` : v);

/** QuickPick rows for the writes: `event 1,234` · time, initiator, value · the stop text. */
export function lastWriteRows(
  r: LastWriteResponse,
): { label: string; description: string; detail: string; seq: number }[] {
  return r.writes.map((w) => ({
    label: `event ${num(w.seq)}`,
    description: `${formatTime(w.time)} · ${w.initiatorName || w.initiator} · ${w.size > 0 ? `${w.size} B ` : ''}= ${hex(w.value)}`,
    detail: w.text || `${w.kind} ${w.space} ${hex(w.address)}`,
    seq: w.seq,
  }));
}

/** The QuickPick's title: what was asked and how much it found. */
export function lastWriteTitle(r: LastWriteResponse, name?: string): string {
  const what = name ? `${name} (${r.target})` : r.target;
  if (r.writes.length === 0) return `No write to ${what} before this moment`;
  const n = r.writes.length;
  return `Who last wrote ${what}, ${r.length} byte${r.length === 1 ? '' : 's'}: ${n}${r.truncated ? '+' : ''} write${n === 1 ? '' : 's'}, newest first`;
}
