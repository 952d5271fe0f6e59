// The 10 M-event workload the time-travel rows share (tt-*, who-last-wrote): on a booted runtime,
// `cat /proc/cpuinfo` and 64 KiB `dd` reads of the disk typed on mic0's console in turn until the
// machine has made `events` events — console and block traffic, as a session has both.

import type { DebugRuntime } from '../../src/debugAdapter/runtime.ts';

/** Boot mic0's shell, then type the workload; returns the seconds it took (boot excluded). */
export function runConsoleAndBlock(rt: DebugRuntime, events: number): number {
  const m = rt.machine;
  if (!m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle)) throw new Error('no shell');
  m.run();
  rt.running = true;
  const enc = new TextEncoder();
  const cat = enc.encode('cat /proc/cpuinfo\r');
  const t0 = performance.now();
  for (let i = 0; m.spine.seq < events; i++) {
    const line =
      i % 2 ? cat : enc.encode(`dd if=/dev/vda of=/dev/null bs=64K count=16 skip=${(i * 16) % 1008}\r`);
    m.consoleInput(0, line);
    m.run();
  }
  rt.running = false;
  return (performance.now() - t0) / 1000;
}
