// Small builders for machine states, as the style guide asks: bootedCard(), typeLine() …

import { Machine, type HostCommand, type MachineConfig } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';
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

// ---- lifecycle helpers: routines and host commands run to idle, state events ------------------

/** A machine powered on with its devices added and its cards' firmware ready, not booted. */
export function unbootedMachine(cfg: Partial<MachineConfig> = {}): TestMachine {
  const t = newMachine({ ...cfg, autoBoot: false });
  t.m.start();
  t.m.run();
  return t;
}

/** Run routine `r` as a task of `initiator` until the machine is idle; return what it returned. */
export function runRoutine<T>(m: Machine, initiator: string, r: Routine<T>): T {
  const box: { done: boolean; value?: T } = { done: false };
  m.sched.spawn(
    `test ${initiator}`,
    initiator,
    (function* (): Routine {
      box.value = yield* r;
      box.done = true;
    })(),
  );
  m.run();
  if (!box.done) throw new Error(`the ${initiator} routine did not finish`);
  return box.value as T;
}

/** Machine.hostCommand run until the machine is idle: the task's result (0 or −errno). */
export function hostCommandResult(m: Machine, card: number, cmd: HostCommand): unknown {
  const task = m.hostCommand(card, cmd);
  m.run();
  if (task.state !== 'done') throw new Error(`host command ${cmd} did not finish`);
  return task.result;
}

/** The details of the 'state' events of card N ('online', 'hardware reset', 'crashed' …). */
export function stateDetails(ev: BusEvent[], card = 0): string[] {
  return ev.filter((e) => e.kind === 'state' && e.space === `mic${card}`).map((e) => e.detail);
}
