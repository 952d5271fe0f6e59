// The event spine: numbers every bus transaction, stamps it with the running task's initiator
// and frames, and shows it to observers. With no observer the cost is one increment.

import { blankEvent, type BusEvent, type EventKind, type Frame } from './busEvent.ts';
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

export class Spine {
  seq = 0;
  private observers: Observer[] = [];
  private readonly ev: BusEvent = blankEvent();
  /** Set by an observer (a breakpoint, pause) to stop the run loop after the current step. */
  stopRequested: string | null = null;
  readonly protocolErrors: ProtocolError[] = [];
  /** Initiator used for events raised outside any task (hardware timers). */
  hardwareInitiator = 'hw';
  hardwareFrames: Frame | null = null;

  constructor(private readonly sched: Scheduler) {}

  get observed(): boolean {
    return this.observers.length > 0;
  }

  observe(o: Observer): () => void {
    this.observers.push(o);
    return () => {
      const i = this.observers.indexOf(o);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  emit(kind: EventKind, space: string, address: number, size: number, value: number, detail = ''): number {
    const seq = ++this.seq;
    const obs = this.observers;
    if (obs.length === 0) return seq;
    const e = this.ev;
    const t = this.sched.current;
    e.seq = seq;
    e.time = this.sched.now;
    e.initiator = t ? t.initiator : this.hardwareInitiator;
    e.frames = t ? t.frames : this.hardwareFrames;
    e.kind = kind;
    e.space = space;
    e.address = address;
    e.size = size;
    e.value = value >>> 0;
    e.detail = detail;
    for (let i = 0; i < obs.length; i++) obs[i](e);
    return seq;
  }

  /** Record a §9 misuse with a sentence a person understands, as an event and in the list. */
  protocolError(rule: number, where: string, message: string): void {
    const seq = this.emit('protocol', where, 0, 0, rule, message);
    this.protocolErrors.push({ seq, time: this.sched.now, rule, where, message });
  }

  requestStop(reason: string): void {
    if (this.stopRequested === null) this.stopRequested = reason;
  }
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
