// Words for things, as a person reads them in stop reasons, threads and frames.

import type { Machine } from '../emulator/machine.ts';
import { decodeDevicePage } from '../emulator/virtio/devicePage.ts';
import { deviceName } from '../emulator/virtio/virtioIds.ts';
import type { BusEvent } from '../emulator/sim/busEvent.ts';
import { nameInfo } from '../emulator/sim/spine.ts';
import { addr, count } from '../emulator/lib/numbers.ts';

/** 'host.driver' → 'host driver', 'mic0.dma3' → 'mic0 DMA channel 3' … */
export function initiatorName(id: string): string {
  if (id === 'host.driver') return 'host driver';
  if (id === 'host.mpssd') return 'mpssd';
  if (id === 'hw') return 'hardware';
  if (id === 'debugger') return 'debugger';
  let m = /^host\.(mic\d+)\.(\w+)$/.exec(id);
  if (m) return `${m[1]} ${m[2]} back-end`;
  m = /^(mic\d+)\.cpu$/.exec(id);
  if (m) return `${m[1]} card OS`;
  m = /^(mic\d+)\.dma(\d)$/.exec(id);
  if (m) return `${m[1]} DMA channel ${m[2]}`;
  return id;
}

export function cardIndexOf(space: string): number {
  return nameInfo(space).card;
}

/** Which field of the device page uses a doorbell: 'h2c_vdev_db of virtio-console' … */
export function doorbellRole(m: Machine, card: number, dir: 'h2c' | 'c2h', db: number): string {
  const dev = m.mics[card];
  if (!dev || dev.dpHost < 0) return '';
  const page = new Uint8Array(4096);
  m.hostRam.read(dev.dpHost, page);
  const dp = decodeDevicePage(page);
  const roles: string[] = [];
  if (dir === 'h2c') {
    if (dp.h2c_shutdown_db === db) roles.push('h2c_shutdown_db');
    if (dp.h2c_config_db === db) roles.push('h2c_config_db');
    // The doorbell event is recorded as the host writes APICICR7, before the firmware takes it.
    if (db === 7 && m.cardOs[card]?.bootstrap.state === 'ready') roles.push('bootstrap kick');
    for (const d of dp.devices)
      if (d.type > 0 && d.ctrl.h2c_vdev_db === db) roles.push(`h2c_vdev_db of ${deviceName(d.type)}`);
  } else {
    if (dp.c2h_shutdown_db === db) roles.push('c2h_shutdown_db');
    for (const d of dp.devices)
      if (d.type > 0 && d.ctrl.c2h_vdev_db === db) roles.push(`c2h_vdev_db of ${deviceName(d.type)}`);
  }
  return roles.join(', ');
}

const hex = addr;

/** One line for an event, the way the stop reason and the top stack frame show it. */
export function describeEvent(m: Machine, e: BusEvent): string {
  const who = initiatorName(e.initiator);
  const cardName = e.card >= 0 ? `mic${e.card}` : '';
  switch (e.kind) {
    case 'doorbell': {
      const dir = e.dir === 'c2h' ? 'c2h' : 'h2c';
      const role = doorbellRole(m, e.card, dir, e.db);
      return `doorbell ${dir} ${e.db}${role ? ` (${role} on ${cardName})` : ` on ${cardName}`} written by ${who}`;
    }
    case 'mmio.read':
    case 'mmio.write': {
      const reg = e.register || `BAR4+${hex(e.address)}`;
      return `${e.kind === 'mmio.write' ? 'write' : 'read'} ${reg} (${e.space}+${hex(e.address)}) ${e.kind === 'mmio.write' ? '=' : '→'} ${hex(e.value)} by ${who}`;
    }
    case 'mem.read':
    case 'mem.write':
      return `${e.kind === 'mem.write' ? 'write' : 'read'} ${count(e.size, 'byte')} at ${e.space}+${hex(e.address)} by ${who}`;
    case 'cfg.read':
    case 'cfg.write':
      return `config ${e.kind === 'cfg.write' ? 'write' : 'read'} ${e.space}+${hex(e.address)} ${e.kind === 'cfg.write' ? '=' : '→'} ${hex(e.value)} by ${who}`;
    case 'dma.desc':
      return `DMA descriptor on ${who}: ${e.detail}`;
    case 'irq':
      return `interrupt ${e.detail} on ${cardName}`;
    case 'vring.avail':
    case 'vring.used':
      return `${e.detail} (${who})`;
    case 'state':
      return `${cardName || e.space} state ${e.state}`;
    case 'milestone':
      return e.detail;
    case 'console':
      return `${cardName} console output ${JSON.stringify(e.text.length > 60 ? e.text.slice(0, 60) + '…' : e.text)}`;
    case 'protocol':
      return `protocol error: ${e.text}`;
    case 'input':
      return `input ${JSON.stringify(e.text)} on ${e.space}`;
    case 'log':
      return e.detail;
  }
}
