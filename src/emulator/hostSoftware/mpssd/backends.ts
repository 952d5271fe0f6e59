// The back-ends mpssd runs for a card besides its console, built from the machine's
// configuration. One line per device kind.

import type { MachineConfig } from '../../machine.ts';
import type { VirtioBackend } from './backend.ts';
import type { Mpssd } from './mpssd.ts';

export function createBackends(m: Mpssd, cfg: MachineConfig): VirtioBackend[] {
  const out: VirtioBackend[] = [];
  void m;
  void cfg;
  return out;
}
