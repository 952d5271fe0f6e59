// What main.ts hands the console front ends (interactive.ts, piped.ts): the machine, the options
// and how to end the run. Its own file so that the front ends depend on it, not on main.ts.

import type { Machine } from '../emulator/machine.ts';
import type { CliOptions } from './options.ts';

export interface Runner {
  machine: Machine;
  opts: CliOptions;
  /** Which card's console this terminal shows (switchable on a terminal). */
  console: number;
  finish(code: number): void;
}
