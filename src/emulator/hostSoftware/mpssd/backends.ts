// The back-ends mpssd runs for a card besides its console, built from the machine's
// configuration. One line per device kind.

import type { MachineConfig } from '../../machine.ts';
import type { VirtioBackend } from './backend.ts';
import type { Mpssd } from './mpssd.ts';
import { BlockBackend } from './blockBackend.ts';
import { NetBackend } from './netBackend.ts';

export function createBackends(m: Mpssd, cfg: MachineConfig): VirtioBackend[] {
  const out: VirtioBackend[] = [];
  const disk = cfg.disk(m.dev.card.index);
  if (disk) out.push(new BlockBackend(m.dev, disk));
  out.push(new NetBackend(m.dev, cfg.pcap(m.dev.card.index), cfg.netDropEvery));
  void m;
  void cfg;
  return out;
}
