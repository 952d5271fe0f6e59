// The back-ends mpssd runs for a card besides its console, built from the machine's
// configuration, in the order Gen-1 mpssd adds their devices after the console: net (init_mic),
// then block (the block thread, once it opened the image). One line per device kind.

import type { MachineConfig } from '../../machine.ts';
import type { VirtioBackend } from './backend.ts';
import type { Mpssd } from './mpssd.ts';
import { BlockBackend } from './blockBackend.ts';
import { NetBackend } from './netBackend.ts';

export function createBackends(m: Mpssd, cfg: MachineConfig): VirtioBackend[] {
  const out: VirtioBackend[] = [];
  out.push(new NetBackend(m.dev, cfg.pcap(m.dev.card.index), cfg.netDropEvery));
  const disk = cfg.disk(m.dev.card.index);
  if (disk) out.push(new BlockBackend(m.dev, disk));
  void m;
  void cfg;
  return out;
}
