// The back-ends mpssd runs for a card besides its console, built from the machine's
// configuration, in the order Gen-1 mpssd adds their devices after the console: net (init_mic),
// then block (the block thread, once it opened the image). One line per device kind.

import type { VirtioBackend } from './backend.ts';
import type { Mpssd } from './mpssd.ts';
import { BlockBackend, type DiskConfig } from './blockBackend.ts';
import { NetBackend } from './netBackend.ts';
import type { PcapCapture } from '../pcap.ts';

/** What the back-ends need to know of the machine's configuration, per card. */
export interface BackendsConfig {
  /** Card N's disk image for virtio-block (null: no block device). */
  disk: (card: number) => DiskConfig | null;
  /** Write every frame crossing card N's virtio-net link to this pcap file (null: none). */
  pcap: (card: number) => string | PcapCapture | null;
  /** Network fault injection: drop every Nth frame (0 = never). */
  netDropEvery: number;
}

export function createBackends(m: Mpssd, cfg: BackendsConfig): VirtioBackend[] {
  const out: VirtioBackend[] = [];
  out.push(new NetBackend(m.dev, cfg.pcap(m.dev.card.index), cfg.netDropEvery));
  const disk = cfg.disk(m.dev.card.index);
  if (disk) out.push(new BlockBackend(m.dev, disk));
  return out;
}
