// PCI configuration space of one X100 function: IDs, class, the two 64-bit BARs the drivers use
// (BAR0 aperture, BAR4 MMIO), and the capability list a host walks (PCIe, MSI-X).

export const PCI_VENDOR_INTEL = 0x8086;
/** Device IDs 0x2250–0x225E are all family "x100" (reference §1.1). */
export const X100_DEVICE_IDS = Array.from({ length: 15 }, (_, i) => 0x2250 + i);

export const STEPPINGS: Record<number, string> = { 0x00: 'A0', 0x10: 'B0', 0x11: 'B1', 0x20: 'C0' };
export function steppingName(revision: number): string {
  return STEPPINGS[revision] ?? '??';
}
/** Stepping name → PCI revision ID (the inverse of STEPPINGS): `A0` → 0x00 … `C0` → 0x20. */
export const STEPPING_REVISION: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(STEPPINGS).map(([rev, name]) => [name, Number(rev)]),
);

export const CFG = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION_ID: 0x08,
  CLASS_CODE: 0x09,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  BAR1: 0x14,
  BAR4: 0x20,
  BAR5: 0x24,
  SUBSYS_VENDOR: 0x2c,
  SUBSYS_ID: 0x2e,
  CAP_PTR: 0x34,
  INTERRUPT_PIN: 0x3d,
  CAP_PCIE: 0x40,
  CAP_MSIX: 0x80,
} as const;

export const CMD_MEMORY = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;

/** Which writable bits each config dword has; everything else is read-only. */
export class PciConfig {
  readonly bytes = new Uint8Array(4096);
  private readonly dv = new DataView(this.bytes.buffer);
  private readonly writeMask = new Uint32Array(1024);

  constructor(
    readonly deviceId: number,
    readonly revision: number,
    readonly bar0Size: number,
    readonly bar4Size: number,
  ) {
    this.reset();
  }

  reset(): void {
    this.bytes.fill(0);
    this.writeMask.fill(0);
    const d = this.dv;
    d.setUint16(CFG.VENDOR_ID, PCI_VENDOR_INTEL, true);
    d.setUint16(CFG.DEVICE_ID, this.deviceId, true);
    d.setUint16(CFG.STATUS, 0x0010, true); // capabilities list present
    d.setUint8(CFG.REVISION_ID, this.revision);
    // class 0x0b (processor), subclass 0x40 (co-processor), prog-if 0
    d.setUint8(CFG.CLASS_CODE, 0x00);
    d.setUint8(CFG.CLASS_CODE + 1, 0x40);
    d.setUint8(CFG.CLASS_CODE + 2, 0x0b);
    d.setUint8(CFG.HEADER_TYPE, 0x00);
    // BAR0: 64-bit (type 2), prefetchable (bit 3) memory BAR.
    d.setUint32(CFG.BAR0, 0x0000000c, true);
    // BAR4: 64-bit, non-prefetchable.
    d.setUint32(CFG.BAR4, 0x00000004, true);
    d.setUint16(CFG.SUBSYS_VENDOR, PCI_VENDOR_INTEL, true);
    d.setUint16(CFG.SUBSYS_ID, 0x2500, true);
    d.setUint8(CFG.CAP_PTR, CFG.CAP_PCIE);
    d.setUint8(CFG.INTERRUPT_PIN, 1); // INTA#
    // PCI Express capability (endpoint, v2) → MSI-X capability.
    d.setUint8(CFG.CAP_PCIE, 0x10);
    d.setUint8(CFG.CAP_PCIE + 1, CFG.CAP_MSIX);
    d.setUint16(CFG.CAP_PCIE + 2, 0x0002, true);
    // MSI-X: 16 vectors (table size field = N−1), table and PBA in BAR4 (unsure where: the
    // drivers never read them; we place them in the unused DBOX area at 0x8000 / 0x9000).
    d.setUint8(CFG.CAP_MSIX, 0x11);
    d.setUint8(CFG.CAP_MSIX + 1, 0x00);
    d.setUint16(CFG.CAP_MSIX + 2, 15, true);
    d.setUint32(CFG.CAP_MSIX + 4, 0x8000 | 4, true);
    d.setUint32(CFG.CAP_MSIX + 8, 0x9000 | 4, true);

    this.writeMask[CFG.COMMAND >> 2] = 0x0000_0547; // io, mem, master, parity, serr, intx-disable
    this.writeMask[CFG.BAR0 >> 2] = sizeMaskLo(this.bar0Size);
    this.writeMask[CFG.BAR1 >> 2] = sizeMaskHi(this.bar0Size);
    this.writeMask[CFG.BAR4 >> 2] = sizeMaskLo(this.bar4Size);
    this.writeMask[CFG.BAR5 >> 2] = sizeMaskHi(this.bar4Size);
    this.writeMask[0x3c >> 2] = 0x0000_00ff; // interrupt line
    this.writeMask[CFG.CAP_MSIX >> 2] = 0xc000_0000; // MSI-X enable + function mask
  }

  read32(off: number): number {
    return this.dv.getUint32(off & 0xffc, true);
  }

  write32(off: number, v: number): void {
    const i = (off & 0xffc) >> 2;
    const m = this.writeMask[i];
    const old = this.dv.getUint32(i << 2, true);
    this.dv.setUint32(i << 2, ((old & ~m) | (v & m)) >>> 0, true);
  }

  /** BAR address as programmed by the host (64-bit BARs span two dwords). */
  barAddress(bar: 0 | 4): number {
    const lo = this.read32(CFG.BAR0 + bar * 4) & 0xfffffff0;
    const hi = this.read32(CFG.BAR0 + bar * 4 + 4);
    return hi * 0x100000000 + (lo >>> 0);
  }

  get memoryEnabled(): boolean {
    return (this.read32(CFG.COMMAND) & CMD_MEMORY) !== 0;
  }
  get busMaster(): boolean {
    return (this.read32(CFG.COMMAND) & CMD_BUS_MASTER) !== 0;
  }
  get msixEnabled(): boolean {
    return (this.read32(CFG.CAP_MSIX) & 0x8000_0000) !== 0;
  }
}

// Writable address bits of a 64-bit BAR of `size` bytes (a power of two): sizing by writing
// all-ones reads back the complement of size−1, as on real hardware.
function sizeMaskLo(size: number): number {
  if (size >= 0x100000000) return 0;
  return (~(size - 1) & 0xfffffff0) >>> 0;
}
function sizeMaskHi(size: number): number {
  if (size <= 0x100000000) return 0xffffffff;
  return (~(size / 0x100000000 - 1) & 0xffffffff) >>> 0;
}
