// The Linux MIC drivers' debugfs files, rendered from the machine: the same layout, labels and
// printf conversions the kernel uses, with this machine's values, so a reader who knows
// /sys/kernel/debug/mic_host/micN/* recognises every line. Pure functions: they read host RAM,
// GDDR and register storage directly — no bus transaction, no event, no state change.
//
// Formats (read from the Linux sources; the text below is ours), as the DMA-era Gen-1 kernels
// (3.17–3.19) print them:
// * drivers/misc/mic/host/mic_debugfs.c: log_buf, smpt, post_code, dp, vdev_info, msi_irq_info.
//   `dp` prints the six bootparam fields of layout A (magic, h2c_shutdown_db, h2c_config_db,
//   c2h_shutdown_db, shutdown_status, shutdown_card — the 4.2+ SCIF fields don't exist in
//   layout A) and then every device entry; `vdev_info` is the Gen-1 line without the Gen-2 DMA
//   byte counters (drivers/misc/mic/vop/vop_debugfs.c).
// * drivers/dma/mic_x100_dma.c: mic_dma_reg (3.18+, under mic_x100_dma/mbus-devN/).
//
// Where a value has no kernel counterpart, the choice is documented at the function.

import type { Machine } from '../machine.ts';
import type { SparseMemory } from '../mem/sparseMemory.ts';
import { R } from '../card/sboxRegisters.ts';
import { DMA_CHANNELS } from '../card/dma/dmaEngine.ts';
import { KERNEL_VIRT_BASE } from '../cardSoftware/cardOs.ts';
import { MIC_MIN_MSIX } from '../hostSoftware/micHost/micInterrupts.ts';
import { DEVICE_CTRL, MIC_DP_SIZE, VQCONFIG, decodeDevicePage, entryLayout } from '../virtio/devicePage.ts';
import { vringAvailOffset, vringDescOffset } from '../virtio/vring.ts';
import { smptViews } from './smptView.ts';
import { virtqueueViews } from './virtqueues.ts';

// ---- printf conversions, as the kernel's vsnprintf does them ---------------------------------

/** `%-Ns` / `%-Nd`: left-justified in N columns. */
const left = (s: string | number, n: number): string => String(s).padEnd(n);
/** `%Ns`: right-justified in N columns. */
const right = (s: string | number, n: number): string => String(s).padStart(n);
/** `%d` of a 32-bit value (u32 fields printed with %d come out signed, as in C). */
const d32 = (v: number): number => v | 0;
/** `%x` / `%llx`. */
const hex = (v: number | bigint): string => (typeof v === 'bigint' ? v : BigInt(Math.trunc(v))).toString(16);
/** `%#x` / `%#llx`: the 0x prefix only for non-zero values (C prints 0 as "0"). */
const althex = (v: number | bigint): string => {
  const h = hex(v);
  return h === '0' ? '0' : `0x${h}`;
};
/** `%08X`. */
const hex08 = (v: number): string => (v >>> 0).toString(16).toUpperCase().padStart(8, '0');

// ---- reading without side effects -------------------------------------------------------

/** The device page as the host driver's `mdev->dp` sees it, or null before probe. */
function devicePage(m: Machine, i: number): Uint8Array | null {
  const dev = m.mics[i];
  if (dev.dpHost < 0) return null;
  const page = new Uint8Array(MIC_DP_SIZE);
  m.hostRam.read(dev.dpHost, page);
  return page;
}

/** Copy memory into `dst`; bytes outside the memory read as 0 (as a debugger shows a hole). */
function readInto(mem: SparseMemory, addr: number, dst: Uint8Array): void {
  dst.fill(0);
  const lo = Math.max(0, addr);
  const hi = Math.min(mem.size, addr + dst.length);
  if (hi > lo) mem.read(lo, dst, lo - addr, hi - lo);
}

function u64(dv: DataView, off: number): bigint {
  return dv.getBigUint64(off, true);
}

// ---- dp -------------------------------------------------------------------------------

/**
 * `mic_host/micN/dp`: the bootparam (Gen-1 layout A) and then, for every device entry up to
 * the first type 0 (entries of type −1, removed devices, are skipped as the kernel does):
 * header, vqconfig[], the first two feature words, config bytes and the device_ctrl fields.
 * 64-bit fields are read as exact integers from the page bytes (a card kernel pointer in
 * device_ctrl.vdev does not fit a double).
 */
export function dp(m: Machine, i: number): string {
  const page = devicePage(m, i);
  if (!page) return '';
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const bp = decodeDevicePage(page);
  let s = '';
  s += `Bootparam: magic 0x${hex(bp.magic)}\n`;
  s += `Bootparam: h2c_shutdown_db ${bp.h2c_shutdown_db}\n`;
  s += `Bootparam: h2c_config_db ${bp.h2c_config_db}\n`;
  s += `Bootparam: c2h_shutdown_db ${bp.c2h_shutdown_db}\n`;
  s += `Bootparam: shutdown_status ${bp.shutdown_status}\n`;
  s += `Bootparam: shutdown_card ${bp.shutdown_card}\n`;
  for (const d of bp.devices) {
    if (d.type === -1) continue;
    const l = entryLayout(d.offset, d.num_vq, d.feature_len, d.config_len);
    s += `Type ${d.type} Num VQ ${d.num_vq} Feature Len ${d.feature_len}\n`;
    s += `Config Len ${d.config_len} Shutdown Status ${d.status}\n`;
    for (let k = 0; k < d.num_vq; k++) {
      const q = l.vq + k * VQCONFIG.SIZE;
      s +=
        `vqconfig[${k}]: address 0x${hex(u64(dv, q + VQCONFIG.address))} ` +
        `num ${d.vqconfig[k].num} used address 0x${hex(u64(dv, q + VQCONFIG.used_address))}\n`;
    }
    // The kernel reads two u32 words from the start of the feature bitmaps: host features,
    // then the word after it (the guest features when feature_len is 4).
    const f0 = l.hostFeatures + 4 <= MIC_DP_SIZE ? dv.getUint32(l.hostFeatures, true) : 0;
    const f1 = l.hostFeatures + 8 <= MIC_DP_SIZE ? dv.getUint32(l.hostFeatures + 4, true) : 0;
    s += `Features: Host 0x${hex(f0)} Guest 0x${hex(f1)}\n`;
    d.config.forEach((b, k) => {
      s += `config[${k}]=${b}\n`;
    });
    const c = d.ctrl;
    s += 'Device control:\n';
    s += `Config Change ${c.config_change} Vdev reset ${c.vdev_reset}\n`;
    s += `Guest Ack ${c.guest_ack} Host ack ${c.host_ack}\n`;
    s += `Used address updated ${c.used_address_updated} Vdev 0x${hex(u64(dv, c.offset + DEVICE_CTRL.vdev))}\n`;
    s += `c2h doorbell ${c.c2h_vdev_db} h2c doorbell ${c.h2c_vdev_db}\n`;
  }
  return s;
}

// ---- vdev_info --------------------------------------------------------------------------

/**
 * `mic_host/micN/vdev_info`: per host virtio device (in the order they were added), its state
 * and byte counters, then per vring the _mic_vring_info index, the host vringh indices
 * (weak_barriers is 0: the MIC host driver creates its vringh with weak_barriers = false),
 * all descriptors, and the avail and used rings (each header line twice, as the kernel
 * prints it: the index masked to the ring, then the raw index). Descriptors and the avail ring
 * are read from the host ring block; the used ring from where the host's vringh points: the
 * card's GDDR once the card relocated it (through BAR0), else the host block's own.
 */
export function vdevInfo(m: Machine, i: number): string {
  const dev = m.mics[i];
  const card = m.cards[i];
  const views = virtqueueViews(m, i);
  let s = '';
  dev.vop.vdevs.forEach((v, n) => {
    const view = views[n];
    if (!view) return;
    s += `VDEV type ${v.desc.type} state ${view.status !== 0 ? 'UP' : 'DOWN'} in ${v.inBytes} out ${v.outBytes}\n`;
    v.vrings.forEach((vr, q) => {
      const num = vr.num;
      if (!num) return;
      const qv = view.queues[q];
      const mask = num - 1;
      s += `vring i ${q} avail_idx ${qv.infoAvailIdx & mask} vring i ${q} avail_idx ${qv.infoAvailIdx}\n`;
      s +=
        `vrh i ${q} weak_barriers 0 last_avail_idx ${qv.hostLastAvail} last_used_idx ${qv.hostLastUsed}` +
        ` completed ${d32(qv.hostCompleted)}\n`;
      const descBytes = new Uint8Array(16 * num);
      m.hostRam.read(vr.blockHost + vringDescOffset(), descBytes);
      const dd = new DataView(descBytes.buffer);
      for (let j = 0; j < num; j++) {
        const o = 16 * j;
        s +=
          `desc[${j}] addr 0x${hex(u64(dd, o))} len ${dd.getInt32(o + 8, true)}` +
          ` flags 0x${hex(dd.getUint16(o + 12, true))} next ${dd.getUint16(o + 14, true)}\n`;
      }
      const availBytes = new Uint8Array(4 + 2 * num);
      m.hostRam.read(vr.blockHost + vringAvailOffset(num), availBytes);
      const ad = new DataView(availBytes.buffer);
      const aFlags = ad.getUint16(0, true);
      const aIdx = ad.getUint16(2, true);
      s += `avail flags 0x${hex(aFlags)} idx ${aIdx & mask}\n`;
      s += `avail flags 0x${hex(aFlags)} idx ${aIdx}\n`;
      for (let j = 0; j < num; j++) s += `avail ring[${j}] ${ad.getUint16(4 + 2 * j, true)}\n`;
      const usedBytes = new Uint8Array(4 + 8 * num);
      readInto(
        vr.usedRelocated ? card.gddr : m.hostRam,
        vr.addrs.used - (vr.usedRelocated ? dev.bar0 : 0),
        usedBytes,
      );
      const ud = new DataView(usedBytes.buffer);
      const uFlags = ud.getUint16(0, true);
      const uIdx = ud.getUint16(2, true);
      s += `used flags 0x${hex(uFlags)} idx ${uIdx & mask}\n`;
      s += `used flags 0x${hex(uFlags)} idx ${uIdx}\n`;
      for (let j = 0; j < num; j++)
        s += `used ring[${j}] id ${ud.getInt32(4 + 8 * j, true)} len ${ud.getInt32(8 + 8 * j, true)}\n`;
    });
  });
  return s;
}

// ---- smpt -----------------------------------------------------------------------------

const RULE = '====================================================\n';

/** `mic_host/micN/smpt`: the driver's software copy of all 32 entries (DMA base, byte refcount). */
export function smpt(m: Machine, i: number): string {
  let s = `MIC ${left(i, 2)} |${left('SMPT entry', 10)}| ${left('SW DMA addr', 14)} ${left('RefCount', 10)}\n`;
  s += RULE;
  for (const e of smptViews(m, i)) {
    s += `${right(' ', 9)}|${left(e.index, 10)}| ${left(althex(e.swBase), 14)} ${left(e.refCount, 10)}\n`;
  }
  s += RULE;
  return s;
}

// ---- post_code ----------------------------------------------------------------------------

/** `mic_host/micN/post_code`: the low two bytes of BAR4+0x242C as characters, no newline. */
export function postCode(m: Machine, i: number): string {
  const reg = m.cards[i].reg(R.POST_CODE);
  return String.fromCharCode(reg & 0xff, (reg >>> 8) & 0xff);
}

// ---- msi_irq_info -------------------------------------------------------------------------

/** MIC_NUM_OFFSETS: the 32 SICR0 source positions of the bitmap rows. */
export const MIC_NUM_OFFSETS = 32;
/** First made-up host IRQ number; see msiIrqNumber. */
export const MSI_IRQ_BASE = 120;

/**
 * The Linux IRQ number the host would have given MSI-X entry `entry` of card `i`. The emulator
 * has no IRQ allocator, so it is a stable invention: 120 + 8·card + entry (distinct per card).
 */
export function msiIrqNumber(i: number, entry: number): number {
  return MSI_IRQ_BASE + MIC_MIN_MSIX * i + entry;
}

/**
 * `mic_host/micN/msi_irq_info`: one block per MSI-X vector the driver enabled (the DMA-era
 * Gen-1 driver enables exactly MIC_MIN_MSIX = 8, and the kernel lists them all, used or not):
 * IRQ, entry, the MXAR register as the hardware holds it, then the 32 source positions and the
 * driver's software map (which source bits the requests bound to this vector). With a card
 * online, vectors 4–7 carry the host DMA channels 0–3 (sources 8–11).
 */
export function msiIrqInfo(m: Machine, i: number): string {
  const card = m.cards[i];
  const intr = m.mics[i].intr;
  if (!card.config.msixEnabled) return 'MSI/MSIx interrupts not enabled\n';
  let s = '';
  for (let v = 0; v < MIC_MIN_MSIX; v++) {
    const entry = v;
    const reg = card.reg(R.MXAR(entry));
    let map = 0;
    for (const r of intr.requests) if (r.vector === v) map |= 1 << r.sourceBit;
    s += `IRQ: ${left(msiIrqNumber(i, entry), 10)} Entry: ${left(entry, 10)} MXAR[${v}]: ${hex08(reg)}\n`;
    let offsets = left('offset:', 10);
    let counts = left('count:', 10);
    for (let j = MIC_NUM_OFFSETS - 1; j >= 0; j--) {
      offsets += `${right(j, 4)} `;
      counts += `${right((map >>> j) & 1, 4)} `;
    }
    s += `${offsets}\n${counts}\n\n`;
  }
  return s;
}

// ---- log_buf ----------------------------------------------------------------------------------

/** __START_KERNEL_map: card kernel text/data virtual address = this + physical address. */
export const START_KERNEL_MAP = BigInt(KERNEL_VIRT_BASE);

/**
 * `mic_host/micN/log_buf`, as mic_log_buf_show does it: nothing unless mpssd set both sysfs
 * values (log_buf_addr = &__log_buf, log_buf_len = &log_buf_len, kernel virtual addresses from
 * the card's System.map); the size is the int at log_buf_len, and that many bytes from
 * log_buf_addr are dumped raw, through the BAR0 aperture at `address − __START_KERNEL_map`,
 * only while the card is online or shutting_down.
 *
 * The bytes are what the card kernel keeps there: the emulated card keeps plain, NUL-terminated
 * text lines in its ring (a Linux card kernel of this era keeps binary printk_log records), so
 * the dump reads as text followed by the NUL fill of the rest of the buffer.
 */
export function logBuf(m: Machine, i: number): string {
  const dev = m.mics[i];
  const { log_buf_addr: addr, log_buf_len: lenAddr } = dev.sysfs;
  if (!addr || !lenAddr) return '';
  const gddr = m.cards[i].gddr;
  const lenPhys = Number(BigInt(lenAddr) - START_KERNEL_MAP);
  const phys = Number(BigInt(addr) - START_KERNEL_MAP);
  if (lenPhys < 0 || lenPhys + 4 > gddr.size || phys < 0 || phys >= gddr.size) return '';
  const size = gddr.read32(lenPhys) | 0;
  if (dev.state !== 'online' && dev.state !== 'shutting_down') return '';
  if (size <= 0) return '';
  const bytes = new Uint8Array(Math.min(size, gddr.size - phys));
  gddr.read(phys, bytes);
  return new TextDecoder().decode(bytes);
}

// ---- mic_dma_reg ------------------------------------------------------------------------------

/** MIC_DMA_NUM_CHAN: each owner's share of the 8 channels (host 0–3, card 4–7). */
export const MIC_DMA_NUM_CHAN = 4;

/**
 * `mic_x100_dma/mbus-devN/mic_dma_reg`: SBOX_DCR, then the channel registers of the owner's
 * four channels (the host's DMA device by default: channels 0–3; 'card' shows 4–7).
 */
export function micDmaReg(m: Machine, i: number, owner: 'host' | 'card' = 'host'): string {
  const card = m.cards[i];
  const first = owner === 'host' ? 0 : DMA_CHANNELS - MIC_DMA_NUM_CHAN;
  let s = `SBOX_DCR: ${althex(card.reg(R.DCR))}\n`;
  s += 'DMA Channel Registers\n';
  s += `${left('Channel', 10)}| ${['DCAR', 'DTPR', 'DHPR', 'DRAR_HI', 'DRAR_LO'].map((h) => left(h, 10)).join(' ')}`;
  s += ` ${left('DCHERR', 11)} ${left('DCHERRMSK', 14)} ${left('DSTAT', 10)}\n`;
  for (let n = first; n < first + MIC_DMA_NUM_CHAN; n++) {
    const c = card.dma.channelView(n);
    s += `${left(n, 10)}| ${[c.DCAR, c.DTPR, c.DHPR, c.DRAR_HI].map((x) => left(althex(x >>> 0), 10)).join(' ')}`;
    s +=
      ` ${left(althex(c.DRAR_LO >>> 0), 10)} ${left(althex(c.DCHERR >>> 0), 10)}` +
      ` ${left(althex(c.DCHERRMSK >>> 0), 14)} ${left(althex(c.DSTAT >>> 0), 10)}\n`;
  }
  return s;
}

// ---- the directory ------------------------------------------------------------------------------

export interface DebugfsFile {
  name: string;
  /** Directory under /sys/kernel/debug, with N the card (or mbus device) number. */
  dir: string;
  doc: string;
  read: (m: Machine, card: number) => string;
}

/**
 * The files, in the order the drivers create them. soft_reset is left out on purpose: reading
 * it resets the card, and these views never change the machine.
 */
export const DEBUGFS_FILES: readonly DebugfsFile[] = [
  { name: 'log_buf', dir: 'mic_host/micN', doc: 'card kernel log (online/shutting_down only)', read: logBuf },
  { name: 'smpt', dir: 'mic_host/micN', doc: 'SMPT entries: host DMA base and refcount', read: smpt },
  { name: 'post_code', dir: 'mic_host/micN', doc: 'two POST code characters', read: postCode },
  { name: 'dp', dir: 'mic_host/micN', doc: 'device page: bootparam and device entries', read: dp },
  {
    name: 'vdev_info',
    dir: 'mic_host/micN',
    doc: 'virtio devices: state, counters, vring indices and tables',
    read: vdevInfo,
  },
  {
    name: 'msi_irq_info',
    dir: 'mic_host/micN',
    doc: 'MSI-X vectors: IRQ, MXAR and source bitmap',
    read: msiIrqInfo,
  },
  {
    name: 'mic_dma_reg',
    dir: 'mic_x100_dma/mbus-devN',
    doc: 'DMA registers of the host-owned channels',
    read: (m, i) => micDmaReg(m, i),
  },
];

/** Read one file by name; null for a name that is not a debugfs file here. */
export function readDebugfs(m: Machine, card: number, name: string): string | null {
  const f = DEBUGFS_FILES.find((x) => x.name === name);
  return f ? f.read(m, card) : null;
}
