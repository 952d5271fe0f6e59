// The inspection data as plain JSON, built on the emulator's own decoders (registerViews,
// pciConfigView, decodeDevicePage, virtqueueViews, DmaEngine.channelView, smptViews). The custom
// requests return these objects as they are; the scopes (scopes.ts) render the very same objects
// as variables. Here we only add what a debugger needs on top: memory references, hex text and
// tooltips. Nothing here performs a bus transaction: looking never changes device state.

import type { Machine } from '../../emulator/machine.ts';
import { REGISTER_BY_NAME, SBOX_BASE, R, type Access } from '../../emulator/card/sboxRegisters.ts';
import { registerViews, type FieldView, type RegisterView } from '../../emulator/inspect/registers.ts';
import { pciConfigView, type PciField } from '../../emulator/inspect/pciConfigView.ts';
import {
  virtqueueViews,
  type ChainView,
  type DescView,
  type DeviceView,
  type QueueView,
} from '../../emulator/inspect/virtqueues.ts';
import { smptViews, type SmptEntryView } from '../../emulator/inspect/smptView.ts';
import { postCode } from '../../emulator/inspect/debugfs.ts';
import { DMA_CHANNELS, type DmaChannelView, type DmaRecent } from '../../emulator/card/dma/dmaEngine.ts';
import {
  decodeDevicePage,
  MIC_DP_SIZE,
  SHUTDOWN_STATUS,
  type DecodedDevice,
  type DecodedDevicePage,
} from '../../emulator/virtio/devicePage.ts';
import { deviceName, statusText } from '../../emulator/virtio/virtioIds.ts';
import {
  MIC_VRING_INFO,
  VRING_AVAIL,
  VRING_USED,
  vringAvailOffset,
  vringInfoOffset,
} from '../../emulator/virtio/vring.ts';
import { bar4Ref, fieldValue, hex, hostRef, micAddressRef, regValue } from './format.ts';

// ---- registers ---------------------------------------------------------------------------

export const ACCESS_TEXT: Record<Access, string> = {
  rw: 'read/write',
  ro: 'read-only (hardware-owned; writes are ignored)',
  w1c: 'write 1 to clear',
  wo: 'write-only (reads return 0)',
};

export interface FieldModel extends FieldView {
  hex: string;
}

export interface RegisterModel extends Omit<RegisterView, 'fields'> {
  card: number;
  hex: string;
  /** `mic0.bar4+0x19004` */
  memoryReference: string;
  /** `mic0.SICR0`: what the Debug Console evaluates to this register */
  evaluateName: string;
  writable: boolean;
  /** DMA channel of a per-channel DMA register */
  channel?: number;
  tooltip: string;
  fields: FieldModel[];
}

export interface RegisterGroupModel {
  /** the hardware group: SMPT, Reset, Interrupts, DMA, Doorbells, Scratchpads, POST */
  name: string;
  registers: RegisterModel[];
  /** DMA only: one subgroup per channel (`channel 0` …), DCR stays in `registers` */
  subgroups?: RegisterGroupModel[];
}

export interface RegistersModel {
  card: number;
  name: string;
  groups: RegisterGroupModel[];
}

function registerModel(card: number, v: RegisterView): RegisterModel {
  const inst = REGISTER_BY_NAME.get(v.name);
  const perChannel = inst && inst.spec.group === 'DMA' && inst.spec.count !== undefined;
  const where = v.bar4 >= SBOX_BASE ? `SBOX+${hex(v.bar4 - SBOX_BASE)}` : 'DBOX';
  const fields = v.fields.map((f) => ({ ...f, hex: fieldValue(f.value, f.bits) }));
  const tooltip = [
    `${v.name} — BAR4+${hex(v.bar4)} (${where}), ${ACCESS_TEXT[v.access]}`,
    v.doc,
    ...fields.map((f) => `  ${f.name} [${f.bits}] = ${f.hex}: ${f.doc}`),
  ].join('\n');
  return {
    ...v,
    card,
    hex: regValue(v.value),
    memoryReference: bar4Ref(card, v.bar4),
    evaluateName: `mic${card}.${v.name}`,
    writable: v.access !== 'ro',
    ...(perChannel ? { channel: inst.index } : {}),
    tooltip,
    fields,
  };
}

/** Every register of the card in its hardware group; the DMA group split by channel. */
export function registersModel(m: Machine, card: number): RegistersModel {
  const groups: RegisterGroupModel[] = [];
  for (const v of registerViews(m.cards[card])) {
    const r = registerModel(card, v);
    let g = groups.find((x) => x.name === v.group);
    if (!g) groups.push((g = { name: v.group, registers: [] }));
    if (r.channel === undefined) {
      g.registers.push(r);
      continue;
    }
    g.subgroups ??= [];
    const name = `channel ${r.channel}`;
    let sub = g.subgroups.find((x) => x.name === name);
    if (!sub) g.subgroups.push((sub = { name, registers: [] }));
    sub.registers.push(r);
  }
  for (const g of groups) g.subgroups?.sort((a, b) => a.name.localeCompare(b.name));
  return { card, name: `mic${card}`, groups };
}

/** One register by its instance name (`SICR0`, `DHPR3`), or null. */
export function registerByName(m: Machine, card: number, name: string): RegisterModel | null {
  const inst = REGISTER_BY_NAME.get(name);
  if (!inst) return null;
  const v = registerViews(m.cards[card]).find((x) => x.name === inst.name);
  return v ? registerModel(card, v) : null;
}

// ---- cards -------------------------------------------------------------------------------

export interface CardModel {
  name: string;
  index: number;
  family: 'x100';
  /** sysfs `state` */
  state: string;
  /** sysfs `shutdown_status`, as its name (nop, crashed, halted, poweroff, restart) */
  shutdownStatus: string;
  shutdownStatusCode: number;
  stepping: string;
  vendorId: number;
  deviceId: number;
  revision: number;
  bar0: { address: number; size: number; memoryReference: string };
  bar4: { address: number; size: number; memoryReference: string };
  /** the two POST code characters and the register */
  postCode: { text: string; value: number };
  /** what runs on the card: off, firmware, booting, running, stopping, crashed, hung … */
  cardOsState: string;
  /** device page address in host RAM and as the card sees it (SPAD14/15), -1/0 before probe */
  devicePage: { host: number; mic: number };
}

export function cardModel(m: Machine, i: number): CardModel {
  const dev = m.mics[i];
  const card = m.cards[i];
  return {
    name: dev.name,
    index: i,
    family: 'x100',
    state: dev.state,
    shutdownStatus: SHUTDOWN_STATUS[dev.shutdownStatus] ?? String(dev.shutdownStatus),
    shutdownStatusCode: dev.shutdownStatus,
    stepping: dev.stepping,
    vendorId: card.config.bytes[0] | (card.config.bytes[1] << 8),
    deviceId: card.config.deviceId,
    revision: card.config.revision,
    bar0: { address: dev.bar0, size: dev.bar0Size, memoryReference: `${dev.name}.gddr+0x0` },
    bar4: { address: dev.bar4, size: card.config.bar4Size, memoryReference: `${dev.name}.bar4+0x0` },
    postCode: { text: postCode(m, i), value: card.reg(R.POST_CODE) },
    cardOsState: m.cardOs[i].state,
    devicePage: { host: dev.dpHost, mic: dev.dpMic },
  };
}

export function cardsModel(m: Machine): { cards: CardModel[] } {
  return { cards: m.cards.map((_, i) => cardModel(m, i)) };
}

/** One line per card, as `cat /sys/class/mic/micN/state` plus what a person asks next. */
export function cardStateLine(c: CardModel): string {
  return (
    `${c.name}: ${c.state} (shutdown_status ${c.shutdownStatus}, card OS ${c.cardOsState}, ` +
    `stepping ${c.stepping}, post code '${c.postCode.text.replace(/\0/g, ' ')}', ` +
    `BAR0 ${hex(c.bar0.address)} ${c.bar0.size / 2 ** 20} MiB, BAR4 ${hex(c.bar4.address)})`
  );
}

// ---- PCI config --------------------------------------------------------------------------

export interface PciFieldModel extends PciField {
  hex: string;
  memoryReference?: string;
}

export function pciConfigModel(
  m: Machine,
  card: number,
): { card: number; name: string; fields: PciFieldModel[] } {
  const fields = pciConfigView(m.cards[card]).map((f) => {
    const ref =
      f.name === 'BAR0' && f.value
        ? `mic${card}.gddr+0x0`
        : f.name === 'BAR4' && f.value
          ? `mic${card}.bar4+0x0`
          : undefined;
    return { ...f, hex: hex(f.value), ...(ref ? { memoryReference: ref } : {}) };
  });
  return { card, name: `mic${card}`, fields };
}

// ---- device page -------------------------------------------------------------------------

export interface DeviceModel extends DecodedDevice {
  name: string;
  removed: boolean;
  statusText: string;
  /** the entry in host RAM */
  memoryReference?: string;
  /** per vqconfig: the ring block (host RAM through the SMPT) and the used ring (GDDR) */
  rings: { ringMemoryReference?: string; usedMemoryReference?: string }[];
}

export interface DevicePageModel {
  card: number;
  name: string;
  /** false before the host driver probed the card (no page yet) */
  present: boolean;
  /** host RAM address of the page, and its MIC address (what SPAD14/15 publish) */
  hostAddress: number;
  micAddress: number;
  memoryReference?: string;
  bootparam: Omit<DecodedDevicePage, 'devices'> & { shutdown_status_text: string };
  devices: DeviceModel[];
}

export function devicePageModel(m: Machine, card: number): DevicePageModel {
  const dev = m.mics[card];
  const page = new Uint8Array(MIC_DP_SIZE);
  if (dev.dpHost >= 0) m.hostRam.read(dev.dpHost, page);
  const dp = decodeDevicePage(page);
  const { devices, ...bootparam } = dp;
  return {
    card,
    name: dev.name,
    present: dev.dpHost >= 0,
    hostAddress: dev.dpHost,
    micAddress: dev.dpMic,
    memoryReference: dev.dpHost >= 0 ? hostRef(m, dev.dpHost) : undefined,
    bootparam: {
      ...bootparam,
      shutdown_status_text: SHUTDOWN_STATUS[bootparam.shutdown_status] ?? String(bootparam.shutdown_status),
    },
    devices: (dev.dpHost >= 0 ? devices : []).map((d) => ({
      ...d,
      name: d.type === -1 ? 'removed' : deviceName(d.type),
      removed: d.type === -1,
      statusText: statusText(d.status),
      memoryReference: hostRef(m, dev.dpHost + d.offset),
      rings: d.vqconfig.map((q) => ({
        ringMemoryReference: q.address ? micAddressRef(m, card, q.address) : undefined,
        usedMemoryReference: q.used_address ? micAddressRef(m, card, q.used_address) : undefined,
      })),
    })),
  };
}

// ---- virtqueues ----------------------------------------------------------------------------

export interface DescModel extends DescView {
  /** the buffer, in the card's GDDR */
  memoryReference?: string;
}
export interface ChainModel extends Omit<ChainView, 'descs'> {
  descs: DescModel[];
}
export interface QueueModel extends Omit<QueueView, 'inFlight'> {
  /** the host-allocated ring block (descriptor table, avail ring, _mic_vring_info) */
  ringMemoryReference?: string;
  /** the used ring the card relocated into GDDR */
  usedMemoryReference?: string;
  /** Each index field where it lives (from the vring tables), so no view does ring arithmetic. */
  availFlagsMemoryReference?: string;
  availIdxMemoryReference?: string;
  usedFlagsMemoryReference?: string;
  usedIdxMemoryReference?: string;
  /** _mic_vring_info.avail_idx, after the ring in the host's ring block */
  infoMemoryReference?: string;
  inFlight: ChainModel[];
}
export interface DeviceQueuesModel extends Omit<DeviceView, 'queues'> {
  queues: QueueModel[];
}
export interface CardQueuesModel {
  card: number;
  name: string;
  devices: DeviceQueuesModel[];
}

export function virtqueuesModel(m: Machine, card: number): CardQueuesModel {
  const devices = virtqueueViews(m, card).map((d) => ({
    ...d,
    queues: d.queues.map((q) => ({
      ...q,
      ringMemoryReference: hostRef(m, q.ringHost),
      usedMemoryReference: q.usedAddress ? micAddressRef(m, card, q.usedAddress) : undefined,
      availFlagsMemoryReference: hostRef(m, q.ringHost + vringAvailOffset(q.num) + VRING_AVAIL.flags),
      availIdxMemoryReference: hostRef(m, q.ringHost + vringAvailOffset(q.num) + VRING_AVAIL.idx),
      usedFlagsMemoryReference: q.usedAddress
        ? micAddressRef(m, card, q.usedAddress + VRING_USED.flags)
        : undefined,
      usedIdxMemoryReference: q.usedAddress
        ? micAddressRef(m, card, q.usedAddress + VRING_USED.idx)
        : undefined,
      infoMemoryReference: hostRef(m, q.ringHost + vringInfoOffset(q.num) + MIC_VRING_INFO.avail_idx),
      inFlight: q.inFlight.map((c) => ({
        ...c,
        descs: c.descs.map((x) => ({ ...x, memoryReference: micAddressRef(m, card, x.addr) })),
      })),
    })),
  }));
  return { card, name: `mic${card}`, devices };
}

// ---- DMA -------------------------------------------------------------------------------------

export interface DmaRecentModel extends DmaRecent {
  srcMemoryReference?: string;
  dstMemoryReference?: string;
}
export interface DmaChannelModel extends Omit<DmaChannelView, 'recent'> {
  /** descriptor 0 of the ring (host RAM through the SMPT for host-owned channels, else GDDR) */
  ringMemoryReference?: string;
  /** the channel's registers, as the Registers scope shows them */
  registers: RegisterModel[];
  recent: DmaRecentModel[];
}
export interface CardDmaModel {
  card: number;
  name: string;
  DCR: RegisterModel;
  channels: DmaChannelModel[];
}

export function dmaModel(m: Machine, card: number): CardDmaModel {
  const c = m.cards[card];
  const regs = registersModel(m, card).groups.find((g) => g.name === 'DMA');
  const channels: DmaChannelModel[] = [];
  for (let n = 0; n < DMA_CHANNELS; n++) {
    const v = c.dma.channelView(n);
    channels.push({
      ...v,
      ringMemoryReference: v.ringSize ? micAddressRef(m, card, v.ringAddress) : undefined,
      registers: regs?.subgroups?.find((s) => s.name === `channel ${n}`)?.registers ?? [],
      recent: v.recent.map((r) => ({
        ...r,
        srcMemoryReference: r.desc.src !== undefined ? micAddressRef(m, card, r.desc.src) : undefined,
        dstMemoryReference: r.desc.dst !== undefined ? micAddressRef(m, card, r.desc.dst) : undefined,
      })),
    });
  }
  return { card, name: `mic${card}`, DCR: regs!.registers.find((r) => r.name === 'DCR')!, channels };
}

// ---- SMPT --------------------------------------------------------------------------------------

export interface SmptEntryModel extends SmptEntryView {
  /** the SMPTi register */
  registerMemoryReference: string;
  /** the host memory the entry maps (when it is host RAM) */
  hostMemoryReference?: string;
}

export function smptModel(
  m: Machine,
  card: number,
): { card: number; name: string; entries: SmptEntryModel[] } {
  const entries = smptViews(m, card).map((e) => ({
    ...e,
    registerMemoryReference: bar4Ref(card, R.SMPT(e.index)),
    hostMemoryReference: hostRef(m, e.hwBase),
  }));
  return { card, name: `mic${card}`, entries };
}
