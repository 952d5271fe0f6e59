// Small builders for machine states, as the style guide asks: bootedCard(), typeLine() …

import { Machine, type MachineConfig } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { cloneEvent } from '../../src/emulator/sim/busEvent.ts';

export interface TestMachine {
  m: Machine;
  /** Console output per card, decoded, with CRLF kept. */
  out: string[];
  /** Everything the console printed since the last call. */
  take(card?: number): string;
}

export function newMachine(cfg: Partial<MachineConfig> = {}): TestMachine {
  const out: string[] = [];
  const taken: number[] = [];
  const dec = new TextDecoder();
  const m = new Machine({
    ...cfg,
    terminal: (i) => ({
      write: (b) => {
        out[i] = (out[i] ?? '') + dec.decode(b);
      },
    }),
  });
  return {
    m,
    out,
    take(card = 0) {
      const s = (out[card] ?? '').slice(taken[card] ?? 0);
      taken[card] = (out[card] ?? '').length;
      return s;
    },
  };
}

/** A machine whose cards are booted and whose console shells are up (idle, prompt printed). */
export function bootedMachine(cfg: Partial<MachineConfig> = {}): TestMachine {
  const t = newMachine(cfg);
  t.m.start();
  const ok = t.m.runUntil(() => t.m.cardOs.every((os) => os.shell !== null) && t.m.sched.idle);
  if (!ok) throw new Error(`machine did not boot: states ${t.m.mics.map((d) => d.state).join(',')}`);
  t.m.run();
  return t;
}

/** Type a line on card N's console, run until idle, and return what the console printed. */
export function typeLine(t: TestMachine, line: string, card = 0): string {
  t.take(card);
  t.m.consoleInput(card, new TextEncoder().encode(line + '\r'));
  t.m.run();
  return t.take(card);
}

/** Collect copies of the events that match while `fn` runs. */
export function recordEvents(m: Machine, pred: (e: BusEvent) => boolean, fn: () => void): BusEvent[] {
  const got: BusEvent[] = [];
  const off = m.spine.observe((e) => {
    if (pred(e)) got.push(cloneEvent(e));
  });
  try {
    fn();
  } finally {
    off();
  }
  return got;
}

/** Read the device page of card N as bytes (no bus events: a debugger's look). */
export function devicePageBytes(m: Machine, card = 0): Uint8Array {
  const dev = m.mics[card];
  const b = new Uint8Array(4096);
  m.hostRam.read(dev.dpHost, b);
  return b;
}
