// The event spine's raw rate on console traffic, and boot time.

import { Machine } from '../../src/emulator/machine.ts';
import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { LAUNCH_DEFAULTS } from '../../src/debugAdapter/launchConfig.ts';
import { median } from '../lib/stats.ts';
import type { MetricResult } from '../lib/result.ts';
import { bootToShell } from '../lib/machine.ts';

export interface RateOptions {
  reps: number;
  warmup: number;
}

const CMD = 'cat /proc/cpuinfo';
/**
 * Commands a repetition: 40 take ~15 ms (57,000 events). Four, as before, took ~1.4 ms, and one
 * scavenge landing in a repetition could halve its rate: single repetitions ran from 1 to 6 M/s.
 */
const PER_REP = 40;
/**
 * Untimed commands first (as JIT_WARMUP_REQUESTS for the block metrics): measured, a fresh
 * process types its first commands at 0.3–0.7 M/s and reaches a steady ~4.8 M/s only after
 * about 300, while TurboFan compiles the console path. The timed repetitions start after that.
 */
const JIT_WARMUP_COMMANDS = 400;

/** events/s: `cat /proc/cpuinfo` typed on mic0's console, seq delta over wall time. */
export function eventsPerSecond(o: RateOptions): MetricResult {
  let printed = 0;
  const m = new Machine({ terminal: () => ({ write: (b) => (printed += b.length) }) });
  bootToShell(m);
  return rate(o, m, () => printed, {
    metric: 'events/s',
    what: `event-spine rate on console traffic (${CMD}, no observer: the CLI's configuration)`,
    target: '≥ 2 M/s',
    min: 2,
  });
}

/**
 * events/s (adapter): the same traffic on the machine the debug adapter runs — its DebugRuntime
 * with the observers it keeps on (the last event, steps, pause, trace and breakpoint hooks, the
 * rare-kind observer for boot progress and output), nothing armed.
 */
export function eventsPerSecondAdapter(o: RateOptions): MetricResult {
  let printed = 0;
  const rt = new DebugRuntime({ ...LAUNCH_DEFAULTS, disk: null });
  rt.on('console', (_card, b) => (printed += b.length));
  rt.start();
  const m = rt.machine;
  if (!m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle)) throw new Error('no shell');
  m.run();
  rt.running = true;
  try {
    return rate(o, m, () => printed, {
      metric: 'events/s (adapter)',
      what: `event-spine rate on console traffic (${CMD}) under the debug adapter's runtime and its observers`,
      target: '≥ 4 M/s',
      min: 4,
    });
  } finally {
    rt.dispose();
  }
}

function rate(
  o: RateOptions,
  m: Machine,
  printedBytes: () => number,
  about: { metric: string; what: string; target: string; min: number },
): MetricResult {
  const line = new TextEncoder().encode(CMD + '\r');
  const type = (commands: number) => {
    for (let k = 0; k < commands; k++) {
      m.consoleInput(0, line);
      m.run();
    }
  };
  type(JIT_WARMUP_COMMANDS);
  const printed0 = printedBytes();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  const perCmd: number[] = [];
  for (let i = 0; i < o.warmup + o.reps; i++) {
    const s0 = m.spine.seq;
    const p0 = printedBytes();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    type(PER_REP);
    const dt = (performance.now() - t0) / 1e3;
    const cpu = process.cpuUsage(c0);
    const ev = m.spine.seq - s0;
    if (printedBytes() - p0 < PER_REP * 1000) throw new Error('cat /proc/cpuinfo printed almost nothing');
    if (i >= o.warmup) {
      rates.push(ev / dt / 1e6);
      cpuRates.push(ev / ((cpu.user + cpu.system) / 1e6) / 1e6);
      perCmd.push(ev / PER_REP);
    }
  }
  m.dispose();
  const v = median(rates);
  return {
    metric: about.metric,
    what: about.what,
    value: v,
    unit: 'M/s',
    baseline: null,
    ratio: null,
    target: about.target,
    pass: v >= about.min,
    notes: {
      'events per command': Math.round(median(perCmd)),
      'bytes printed per command': Math.round((printedBytes() - printed0) / ((o.warmup + o.reps) * PER_REP)),
      // Wall time counts the time other processes hold the CPU; process CPU time does not.
      'M/s per CPU second (median)': +median(cpuRates).toFixed(2),
      'best repetition M/s': +Math.max(...rates).toFixed(2),
    },
    samples: { value: rates },
  };
}

/** boot: new Machine + power on, until mic0 is online (and, noted, until its shell is up). */
export function boot(o: RateOptions): MetricResult {
  const online: number[] = [];
  const shell: number[] = [];
  const evOnline: number[] = [];
  const evShell: number[] = [];
  for (let i = 0; i < o.warmup + o.reps; i++) {
    const t0 = performance.now();
    const m = new Machine({});
    m.start();
    if (!m.runUntil(() => m.state(0) === 'online')) throw new Error('mic0 never came online');
    const t1 = performance.now();
    const e1 = m.spine.seq;
    if (!m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle)) throw new Error('no shell');
    const t2 = performance.now();
    if (i >= o.warmup) {
      online.push(t1 - t0);
      shell.push(t2 - t0);
      evOnline.push(e1);
      evShell.push(m.spine.seq);
    }
    m.dispose();
  }
  const v = median(online);
  return {
    metric: 'boot',
    what: 'launch (new Machine, power on) to mic0 online',
    value: v,
    unit: 'ms',
    baseline: null,
    ratio: null,
    target: '≤ 300 ms',
    pass: v <= 300,
    notes: {
      'events to online': median(evOnline),
      'ms to shell prompt': +median(shell).toFixed(2),
      'events to shell prompt': median(evShell),
    },
    samples: { value: online },
  };
}
