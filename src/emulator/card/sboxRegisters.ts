// The X100 MMIO block (BAR4, 128 KiB) declared once, as data. Everything else — the decoder,
// the Registers scope, the Cards tree, tooltips, the mic_dma_reg dump — derives from this table.
// Offsets and names are the Linux MIC drivers' (drivers/misc/mic/host/mic_x100.h,
// drivers/dma/mic_x100_dma.h); see ../shared/reference/mic-x100-protocol.md §1.3, §7.2.

export type Access =
  /** plain read/write */
  | 'rw'
  /** hardware-owned: writes are ignored */
  | 'ro'
  /** write-1-to-clear */
  | 'w1c'
  /** write-only command register: reads return 0 */
  | 'wo';

/** Named side effects; the card model binds each to behaviour (card/x100Card.ts). */
export type Effect =
  | 'rgcr'
  | 'sice'
  | 'sicc'
  | 'siac'
  | 'msixpbacr'
  | 'apicicr'
  | 'rdmasr'
  | 'sdbic'
  | 'dma.dcar'
  | 'dma.dhpr'
  | 'dma.drar'
  | 'dma.dcherr'
  | 'dcr';

export interface FieldSpec {
  name: string;
  hi: number;
  lo: number;
  doc: string;
}

export interface RegisterSpec {
  /** Offset inside its block (SBOX offsets as the drivers write them). */
  offset: number;
  block: 'sbox' | 'dbox';
  count?: number;
  stride?: number;
  access: Access;
  reset?: number;
  effect?: Effect;
  doc: string;
  fields?: FieldSpec[];
  /** Register group, as the Cards tree shows them. */
  group: 'SMPT' | 'Reset' | 'Interrupts' | 'DMA' | 'Doorbells' | 'Scratchpads' | 'POST';
}

export const SBOX_BASE = 0x10000;
export const MMIO_SIZE = 0x20000;
export const MIC_MMIO_CARD_BASE = 0x08_007c_0000;

const dmaChannel = (off: number, access: Access, doc: string, effect?: Effect, fields?: FieldSpec[]) =>
  ({
    offset: 0xa000 + off,
    block: 'sbox',
    count: 8,
    stride: 0x40,
    access,
    doc,
    effect,
    fields,
    group: 'DMA',
  }) as const;

export const SBOX = {
  POST_CODE: {
    offset: 0x242c,
    block: 'dbox',
    access: 'rw',
    doc: 'POST code: two ASCII characters written by card firmware while it boots',
    fields: [
      { name: 'char0', hi: 7, lo: 0, doc: 'first character' },
      { name: 'char1', hi: 15, lo: 8, doc: 'second character' },
    ],
    group: 'POST',
  },
  SMPT: {
    offset: 0x3100,
    block: 'sbox',
    count: 32,
    stride: 4,
    access: 'rw',
    doc: 'System memory page table entry i: maps 16 GiB of host DMA space at MIC 0x80_0000_0000 + i·16 GiB',
    fields: [
      { name: 'no_snoop', hi: 0, lo: 0, doc: '1 = no-snoop (the driver always writes 0)' },
      { name: 'base', hi: 31, lo: 2, doc: 'host address bits 63:34' },
    ],
    group: 'SMPT',
  },
  RGCR: {
    offset: 0x4010,
    block: 'sbox',
    access: 'rw',
    effect: 'rgcr',
    doc: 'Reset/global control: setting bit 0 resets the card',
    fields: [{ name: 'reset', hi: 0, lo: 0, doc: '1 = trigger card reset (self-clearing)' }],
    group: 'Reset',
  },
  SICR0: {
    offset: 0x9004,
    block: 'sbox',
    access: 'w1c',
    doc: 'Host interrupt cause (write 1 to clear): bits 0–3 card→host doorbells, 8–15 DMA channel completion, 30 SBOX error',
    fields: [
      { name: 'DBR', hi: 3, lo: 0, doc: 'card→host doorbells 0–3 (SDBIC0–3)' },
      { name: 'DMA', hi: 15, lo: 8, doc: 'DMA channel 0–7 completion' },
      { name: 'ERR', hi: 30, lo: 30, doc: 'SBOX error' },
    ],
    group: 'Interrupts',
  },
  SICE0: {
    offset: 0x900c,
    block: 'sbox',
    access: 'rw',
    effect: 'sice',
    doc: 'Host interrupt enable (the driver sets 0x0000FF0F)',
    group: 'Interrupts',
  },
  SICC0: {
    offset: 0x9010,
    block: 'sbox',
    access: 'wo',
    effect: 'sicc',
    doc: 'Host interrupt enable clear: 1s written here clear the same bits in SICE0',
    group: 'Interrupts',
  },
  SIAC0: {
    offset: 0x9014,
    block: 'sbox',
    access: 'rw',
    effect: 'siac',
    doc: 'Host interrupt auto-clear enable (MSI-X): cause bits set here clear on delivery',
    group: 'Interrupts',
  },
  MXAR: {
    offset: 0x9044,
    block: 'sbox',
    count: 16,
    stride: 4,
    access: 'rw',
    doc: 'MSI-X vector v → bitmap of SICR0 sources that raise it',
    group: 'Interrupts',
  },
  MSIXPBACR: {
    offset: 0x9084,
    block: 'sbox',
    access: 'wo',
    effect: 'msixpbacr',
    doc: 'MSI-X pending-bit array clear (A0 stepping workaround: write 1 after each interrupt)',
    group: 'Interrupts',
  },
  DCAR: dmaChannel(0x00, 'rw', 'DMA channel control', 'dma.dcar', [
    { name: 'apic_mask', hi: 24, lo: 24, doc: 'interrupt mask, card-owned channel (APIC)' },
    { name: 'msix_mask', hi: 25, lo: 25, doc: 'interrupt mask, host-owned channel (MSI-X)' },
    { name: 'irq_status', hi: 26, lo: 26, doc: 'interrupt status' },
  ]),
  DHPR: dmaChannel(
    0x04,
    'rw',
    'DMA head: index of the next free descriptor slot; a write hands descriptors to the engine',
    'dma.dhpr',
  ),
  DTPR: dmaChannel(0x08, 'ro', 'DMA tail as kept by hardware (read once at setup to seed head)'),
  DAUX_LO: dmaChannel(0x0c, 'rw', 'DMA auxiliary low (unused upstream)'),
  DAUX_HI: dmaChannel(0x10, 'rw', 'DMA auxiliary high (unused upstream)'),
  DRAR_LO: dmaChannel(0x14, 'rw', 'DMA ring address bits 31:0', 'dma.drar'),
  DRAR_HI: dmaChannel(0x18, 'rw', 'DMA ring address high, ring size and system-memory flag', 'dma.drar', [
    {
      name: 'addr_hi',
      hi: 3,
      lo: 0,
      doc: 'GDDR ring: address bits 35:32 (host ring: bits 1:0 = address bits 33:32)',
    },
    { name: 'size', hi: 20, lo: 4, doc: 'ring size in descriptors' },
    { name: 'smpt', hi: 25, lo: 21, doc: 'host ring: SMPT index' },
    { name: 'sysmem', hi: 26, lo: 26, doc: '1 = ring in host memory' },
  ]),
  DITR: dmaChannel(0x1c, 'rw', 'DMA interrupt timer (unused upstream)'),
  DSTAT: dmaChannel(
    0x20,
    'ro',
    'DMA status: bits 16:0 completion count (hardware tail), 31:28 engine status',
    undefined,
    [
      { name: 'completions', hi: 16, lo: 0, doc: 'hardware tail index' },
      { name: 'busy', hi: 29, lo: 29, doc: 'quiesced/busy flag checked at setup' },
      { name: 'status', hi: 31, lo: 28, doc: 'engine status' },
    ],
  ),
  DSTATWB_LO: dmaChannel(0x24, 'rw', 'DMA tail write-back address low (unused upstream)'),
  DSTATWB_HI: dmaChannel(0x28, 'rw', 'DMA tail write-back address high (unused upstream)'),
  DCHERR: dmaChannel(0x2c, 'w1c', 'DMA channel error: non-zero = error (write 1s to clear)', 'dma.dcherr', [
    { name: 'align', hi: 0, lo: 0, doc: 'address or length not a multiple of 64 (emulator encoding)' },
    { name: 'size', hi: 1, lo: 1, doc: 'length above the channel maximum (emulator encoding)' },
    {
      name: 'smpt',
      hi: 2,
      lo: 2,
      doc: 'address in an SMPT window that reaches no host memory (emulator encoding)',
    },
    { name: 'range', hi: 3, lo: 3, doc: 'address beyond GDDR (emulator encoding)' },
    { name: 'dhpr', hi: 4, lo: 4, doc: 'same DHPR value written twice (emulator encoding)' },
    {
      name: 'desc',
      hi: 5,
      lo: 5,
      doc: 'descriptor type not supported or host-to-host copy (emulator encoding)',
    },
  ]),
  DCHERRMSK: dmaChannel(0x30, 'rw', 'DMA channel error mask (the driver writes 0)'),
  DCR: {
    offset: 0xa280,
    block: 'sbox',
    access: 'rw',
    effect: 'dcr',
    doc: 'DMA configuration: per channel n, bit 2n = owner (1 host, 0 card), bit 2n+1 = enable',
    group: 'DMA',
  },
  APICICR: {
    offset: 0xa9d0,
    block: 'sbox',
    count: 8,
    stride: 8,
    access: 'rw',
    effect: 'apicicr',
    doc: 'Host→card doorbell k (0–7), low dword: vector in bits 7:0, bit 13 = send. APICICR7 is also the bootstrap kick',
    fields: [
      { name: 'vector', hi: 7, lo: 0, doc: 'card interrupt vector (programmed by the card OS)' },
      { name: 'send', hi: 13, lo: 13, doc: 'write 1 to raise the doorbell (self-clearing)' },
    ],
    group: 'Doorbells',
  },
  APICICR_HI: {
    offset: 0xa9d4,
    block: 'sbox',
    count: 8,
    stride: 8,
    access: 'rw',
    doc: 'Host→card doorbell k, high dword: destination APIC ID (APICICR7 high takes the BSP APIC ID before the kick)',
    group: 'Doorbells',
  },
  SPAD: {
    offset: 0xab20,
    block: 'sbox',
    count: 16,
    stride: 4,
    access: 'rw',
    doc: 'Scratchpad i. SPAD2 download info, SPAD5 firmware size, SPAD14/15 device page address',
    group: 'Scratchpads',
  },
  RDMASR: {
    offset: 0xb180,
    block: 'sbox',
    count: 8,
    stride: 4,
    access: 'rw',
    effect: 'rdmasr',
    doc: 'Host→card doorbell 8+j: the host writes 0 to ring it',
    group: 'Doorbells',
  },
  SDBIC: {
    offset: 0xcc90,
    block: 'sbox',
    count: 4,
    stride: 4,
    access: 'rw',
    effect: 'sdbic',
    doc: 'Card→host doorbell d: the card writes bit 31 (DBREQ) to set SICR0 bit d',
    fields: [{ name: 'DBREQ', hi: 31, lo: 31, doc: 'doorbell request (self-clearing)' }],
    group: 'Doorbells',
  },
} as const satisfies Record<string, RegisterSpec>;

export type SboxName = keyof typeof SBOX;

/** One concrete register: a spec expanded for one index. */
export interface RegisterInstance {
  /** 'SICR0', 'SPAD14', 'DHPR0', 'APICICR7_HI' … */
  name: string;
  spec: RegisterSpec;
  family: SboxName;
  index: number;
  /** Offset inside BAR4 (= MMIO block). */
  bar4: number;
  /** The DMA channel a per-channel DMA register belongs to (its index), −1 for the rest. */
  channel: number;
}

function instanceName(family: string, spec: RegisterSpec, i: number): string {
  if (spec.count === undefined) return family;
  // Singletons named with a trailing 0 by the drivers keep it (SICR0); arrays get the index.
  // The high dword of a register named without _LO (APICICR_HI) reads APICICR7_HI; a _LO/_HI
  // pair of one DMA channel (DRAR_LO/DRAR_HI) keeps its suffix: DRAR_LO3, DRAR_HI3.
  if (family.endsWith('_HI') && family.slice(0, -3) in SBOX) return `${family.slice(0, -3)}${i}_HI`;
  return `${family}${i}`;
}

export function bar4Offset(spec: RegisterSpec, index = 0): number {
  const base = spec.block === 'sbox' ? SBOX_BASE + spec.offset : spec.offset;
  return base + index * (spec.stride ?? 0);
}

export const REGISTERS: readonly RegisterInstance[] = (() => {
  const out: RegisterInstance[] = [];
  for (const [family, spec] of Object.entries(SBOX) as [SboxName, RegisterSpec][]) {
    const n = spec.count ?? 1;
    for (let i = 0; i < n; i++) {
      out.push({
        name: instanceName(family, spec, i),
        spec,
        family,
        index: i,
        bar4: bar4Offset(spec, i),
        channel: spec.group === 'DMA' && spec.count === 8 ? i : -1,
      });
    }
  }
  return out.sort((a, b) => a.bar4 - b.bar4);
})();

export const REGISTER_BY_NAME: ReadonlyMap<string, RegisterInstance> = new Map(
  REGISTERS.map((r) => [r.name, r]),
);

/** BAR4 offset → register, by dword. */
const byWord = new Int32Array(MMIO_SIZE / 4).fill(-1);
REGISTERS.forEach((r, i) => {
  byWord[r.bar4 >>> 2] = i;
});

export function registerAt(bar4: number): RegisterInstance | undefined {
  if (bar4 < 0 || bar4 >= MMIO_SIZE || (bar4 & 3) !== 0) return undefined;
  const i = byWord[bar4 >>> 2];
  return i >= 0 ? REGISTERS[i] : undefined;
}

export function reg(name: string): RegisterInstance {
  const r = REGISTER_BY_NAME.get(name);
  if (!r) throw new Error(`no SBOX register named ${name}`);
  return r;
}

export function fieldValue(f: FieldSpec, v: number): number {
  const width = f.hi - f.lo + 1;
  return width >= 32 ? v >>> 0 : (v >>> f.lo) & ((2 ** width - 1) >>> 0);
}

/** Handy offsets for the models (BAR4 offsets). */
export const R = {
  POST_CODE: bar4Offset(SBOX.POST_CODE),
  SMPT: (i: number) => bar4Offset(SBOX.SMPT, i),
  RGCR: bar4Offset(SBOX.RGCR),
  SICR0: bar4Offset(SBOX.SICR0),
  SICE0: bar4Offset(SBOX.SICE0),
  SICC0: bar4Offset(SBOX.SICC0),
  SIAC0: bar4Offset(SBOX.SIAC0),
  MXAR: (v: number) => bar4Offset(SBOX.MXAR, v),
  MSIXPBACR: bar4Offset(SBOX.MSIXPBACR),
  DCAR: (n: number) => bar4Offset(SBOX.DCAR, n),
  DHPR: (n: number) => bar4Offset(SBOX.DHPR, n),
  DTPR: (n: number) => bar4Offset(SBOX.DTPR, n),
  DRAR_LO: (n: number) => bar4Offset(SBOX.DRAR_LO, n),
  DRAR_HI: (n: number) => bar4Offset(SBOX.DRAR_HI, n),
  DSTAT: (n: number) => bar4Offset(SBOX.DSTAT, n),
  DCHERR: (n: number) => bar4Offset(SBOX.DCHERR, n),
  DCHERRMSK: (n: number) => bar4Offset(SBOX.DCHERRMSK, n),
  DCR: bar4Offset(SBOX.DCR),
  APICICR: (k: number) => bar4Offset(SBOX.APICICR, k),
  APICICR_HI: (k: number) => bar4Offset(SBOX.APICICR_HI, k),
  SPAD: (i: number) => bar4Offset(SBOX.SPAD, i),
  RDMASR: (j: number) => bar4Offset(SBOX.RDMASR, j),
  SDBIC: (d: number) => bar4Offset(SBOX.SDBIC, d),
} as const;

/** SDBIC4..8: offsets the card driver would accept (it only rejects db > 8) but hardware lacks. */
export const SDBIC_PHANTOM_FIRST = bar4Offset(SBOX.SDBIC, 4);
export const SDBIC_PHANTOM_LAST = bar4Offset(SBOX.SDBIC, 8);

/** SICR0 bit positions (the kernel's "offsets"). */
export const SICR0_DB = (d: number) => d;
export const SICR0_DMA = (n: number) => 8 + n;
export const SICR0_ERR = 30;
