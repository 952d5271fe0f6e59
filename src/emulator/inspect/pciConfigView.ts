// PCI configuration space decoded (the fields lspci -vv shows for the X100 function).

import { CFG, steppingName } from '../card/pciConfig.ts';
import type { X100Card } from '../card/x100Card.ts';

export interface PciField {
  name: string;
  offset: number;
  size: number;
  value: number;
  text?: string;
}

export function pciConfigView(card: X100Card): PciField[] {
  const c = card.config;
  const b = c.bytes;
  const u8 = (o: number) => b[o];
  const u16 = (o: number) => b[o] | (b[o + 1] << 8);
  const u32 = (o: number) => c.read32(o);
  const rev = u8(CFG.REVISION_ID);
  return [
    { name: 'vendor_id', offset: 0, size: 2, value: u16(0), text: 'Intel' },
    { name: 'device_id', offset: 2, size: 2, value: u16(2), text: 'Xeon Phi coprocessor (x100 family)' },
    {
      name: 'command',
      offset: 4,
      size: 2,
      value: u16(4),
      text: c.memoryEnabled ? (c.busMaster ? 'Mem+ BusMaster+' : 'Mem+') : 'Mem-',
    },
    { name: 'status', offset: 6, size: 2, value: u16(6) },
    { name: 'revision_id', offset: 8, size: 1, value: rev, text: `stepping ${steppingName(rev)}` },
    {
      name: 'class_code',
      offset: 9,
      size: 3,
      value: u8(9) | (u8(10) << 8) | (u8(11) << 16),
      text: 'Co-processor',
    },
    { name: 'header_type', offset: 0x0e, size: 1, value: u8(0x0e) },
    {
      name: 'BAR0',
      offset: 0x10,
      size: 8,
      value: c.barAddress(0),
      text: `aperture, 64-bit prefetchable, ${c.bar0Size / 2 ** 20} MiB`,
    },
    {
      name: 'BAR4',
      offset: 0x20,
      size: 8,
      value: c.barAddress(4),
      text: `MMIO (DBOX+SBOX), 64-bit, ${c.bar4Size / 1024} KiB`,
    },
    { name: 'subsystem_vendor_id', offset: 0x2c, size: 2, value: u16(0x2c) },
    { name: 'subsystem_id', offset: 0x2e, size: 2, value: u16(0x2e) },
    { name: 'capabilities_ptr', offset: 0x34, size: 1, value: u8(0x34) },
    { name: 'interrupt_pin', offset: 0x3d, size: 1, value: u8(0x3d), text: 'INTA' },
    {
      name: 'msix_control',
      offset: CFG.CAP_MSIX + 2,
      size: 2,
      value: u16(CFG.CAP_MSIX + 2),
      text: `${(u16(CFG.CAP_MSIX + 2) & 0x7ff) + 1} vectors, ${c.msixEnabled ? 'Enable+' : 'Enable-'}`,
    },
    { name: 'msix_table', offset: CFG.CAP_MSIX + 4, size: 4, value: u32(CFG.CAP_MSIX + 4) },
  ];
}
