// The device page (4 KiB of host RAM whose MIC address is in SPAD14/15): bootparam layout A
// (Gen-1), then device entries {desc, vqconfig[], host/guest feature bitmaps, config space,
// device_ctrl}. Offsets and size formulas from reference §5.1–§5.2. This file is the one
// decoder used by both drivers, the debug adapter's Device Page scope, the trees and `dp`.

import { offsetsOf, readField, type StructSpec } from './structs.ts';

export const MIC_DP_SIZE = 4096;
export const MIC_MAGIC = 0xc0ffee00;
export const MIC_MAX_VRINGS = 4;
export const MIC_MAX_DESC_BLK_SIZE = 256;

/** Bootparam layout A (Gen-1), 16 bytes at the start of the page (mic_bootparam). */
export const BOOTPARAM_FIELDS = {
  magic: { offset: 0, size: 4, doc: 'u32 MIC_MAGIC (0xc0ffee00) once the host has set the page up' },
  c2h_shutdown_db: {
    offset: 4,
    size: 1,
    signed: true,
    doc: 's8 card→host shutdown doorbell, chosen by the host',
  },
  h2c_shutdown_db: {
    offset: 5,
    size: 1,
    signed: true,
    doc: 's8 host→card shutdown doorbell, chosen by the card',
  },
  h2c_config_db: {
    offset: 6,
    size: 1,
    signed: true,
    doc: 's8 host→card config-change doorbell, chosen by the card',
  },
  shutdown_status: {
    offset: 7,
    size: 1,
    doc: 'u8 why the card went down (nop, crashed, halted, poweroff, restart)',
  },
  shutdown_card: { offset: 8, size: 1, doc: 'u8 set by the host to ask the card to shut down' },
} as const satisfies StructSpec;
export const BOOTPARAM = offsetsOf(BOOTPARAM_FIELDS, 16);

/** Device descriptor header (mic_device_desc), relative to the entry; vqconfig[num_vq] follows. */
export const DEVICE_DESC_FIELDS = {
  type: { offset: 0, size: 1, signed: true, doc: 's8 virtio ID; -1 = removed' },
  num_vq: { offset: 1, size: 1, doc: 'u8 number of virtqueues' },
  feature_len: { offset: 2, size: 1, doc: 'u8 bytes of each feature bitmap' },
  config_len: { offset: 3, size: 1, doc: 'u8 bytes of config space' },
  status: { offset: 4, size: 1, doc: 'virtio status, written by the card' },
  vqconfig: { offset: 8, size: 24, array: true, doc: 'mic_vqconfig[num_vq]' },
} as const satisfies StructSpec;
export const DEVICE_DESC = offsetsOf(DEVICE_DESC_FIELDS, 8);

/** mic_vqconfig, 24 bytes each. */
export const VQCONFIG_FIELDS = {
  address: { offset: 0, size: 8, doc: 'u64 MIC (SMPT) address of the host ring block' },
  used_address: { offset: 8, size: 8, doc: 'u64 MIC address of the used ring the card allocated in GDDR' },
  num: { offset: 16, size: 2, doc: 'u16 ring entries' },
} as const satisfies StructSpec;
export const VQCONFIG = offsetsOf(VQCONFIG_FIELDS, 24);

/** mic_device_ctrl, 16 bytes after the (8-aligned) descriptor. */
export const DEVICE_CTRL_FIELDS = {
  vdev: { offset: 0, size: 8, doc: 'card-private cookie' },
  config_change: { offset: 8, size: 1, doc: '1 = hot-remove request, 2 = config changed' },
  vdev_reset: { offset: 9, size: 1, doc: 'u8 set by the card to reset the device, cleared by the host' },
  guest_ack: { offset: 10, size: 1, doc: 'u8 set by the card when it has handled config_change' },
  host_ack: { offset: 11, size: 1, doc: 'u8 set by the host when it has reset the device' },
  used_address_updated: {
    offset: 12,
    size: 1,
    doc: 'u8 set by the card after moving the used rings, cleared by the host',
  },
  c2h_vdev_db: { offset: 13, size: 1, signed: true, doc: 's8, chosen by the host' },
  h2c_vdev_db: { offset: 14, size: 1, signed: true, doc: 's8, chosen by the card' },
} as const satisfies StructSpec;
export const DEVICE_CTRL = offsetsOf(DEVICE_CTRL_FIELDS, 16);

export const MIC_VIRTIO_PARAM_DEV_REMOVE = 1;
export const MIC_VIRTIO_PARAM_CONFIG_CHANGED = 2;

/** Shutdown status codes (§4.7). */
export const SHUTDOWN_STATUS = ['nop', 'crashed', 'halted', 'poweroff', 'restart'] as const;
export type ShutdownStatus = (typeof SHUTDOWN_STATUS)[number];
export const MIC_NOP = 0;
export const MIC_CRASHED = 1;
export const MIC_HALTED = 2;
export const MIC_POWER_OFF = 3;
export const MIC_RESTART = 4;

export function descSize(numVq: number, featureLen: number, configLen: number): number {
  return DEVICE_DESC.SIZE + VQCONFIG.SIZE * numVq + 2 * featureLen + configLen;
}
export function alignedDescSize(numVq: number, featureLen: number, configLen: number): number {
  return Math.ceil(descSize(numVq, featureLen, configLen) / 8) * 8;
}
export function totalSize(numVq: number, featureLen: number, configLen: number): number {
  return alignedDescSize(numVq, featureLen, configLen) + DEVICE_CTRL.SIZE;
}
/** Offsets of an entry's parts, relative to the device page. */
export function entryLayout(off: number, numVq: number, featureLen: number, configLen: number) {
  const vq = off + DEVICE_DESC.vqconfig;
  const hostFeatures = vq + VQCONFIG.SIZE * numVq;
  const guestFeatures = hostFeatures + featureLen;
  const config = guestFeatures + featureLen;
  const ctrl = off + alignedDescSize(numVq, featureLen, configLen);
  return { off, vq, hostFeatures, guestFeatures, config, ctrl, next: ctrl + DEVICE_CTRL.SIZE };
}

export function s8(v: number): number {
  return (v << 24) >> 24;
}

// ---- plain decode (views, `dp`, tests): reads bytes, never the bus --------------------------

export interface DecodedVqConfig {
  address: number;
  used_address: number;
  num: number;
}
export interface DecodedDevice {
  offset: number;
  type: number;
  num_vq: number;
  feature_len: number;
  config_len: number;
  status: number;
  vqconfig: DecodedVqConfig[];
  host_features: number[];
  guest_features: number[];
  config: number[];
  ctrl: {
    offset: number;
    vdev: number;
    config_change: number;
    vdev_reset: number;
    guest_ack: number;
    host_ack: number;
    used_address_updated: number;
    c2h_vdev_db: number;
    h2c_vdev_db: number;
  };
}
export interface DecodedDevicePage {
  magic: number;
  c2h_shutdown_db: number;
  h2c_shutdown_db: number;
  h2c_config_db: number;
  shutdown_status: number;
  shutdown_card: number;
  devices: DecodedDevice[];
}

export function decodeDevicePage(page: Uint8Array): DecodedDevicePage {
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const bp = BOOTPARAM_FIELDS;
  const out: DecodedDevicePage = {
    magic: readField(dv, 0, bp.magic),
    c2h_shutdown_db: readField(dv, 0, bp.c2h_shutdown_db),
    h2c_shutdown_db: readField(dv, 0, bp.h2c_shutdown_db),
    h2c_config_db: readField(dv, 0, bp.h2c_config_db),
    shutdown_status: readField(dv, 0, bp.shutdown_status),
    shutdown_card: readField(dv, 0, bp.shutdown_card),
    devices: [],
  };
  const dd = DEVICE_DESC_FIELDS;
  const vq = VQCONFIG_FIELDS;
  const ctrl = DEVICE_CTRL_FIELDS;
  let off: number = BOOTPARAM.SIZE;
  while (off + DEVICE_DESC.SIZE <= MIC_DP_SIZE) {
    const type = readField(dv, off, dd.type);
    if (type === 0) break;
    const numVq = readField(dv, off, dd.num_vq);
    const featureLen = readField(dv, off, dd.feature_len);
    const configLen = readField(dv, off, dd.config_len);
    const l = entryLayout(off, numVq, featureLen, configLen);
    if (l.next > MIC_DP_SIZE) break;
    const bytes = (a: number, n: number) => Array.from(page.subarray(a, a + n));
    out.devices.push({
      offset: off,
      type,
      num_vq: numVq,
      feature_len: featureLen,
      config_len: configLen,
      status: readField(dv, off, dd.status),
      vqconfig: Array.from({ length: numVq }, (_, i) => {
        const at = l.vq + i * VQCONFIG.SIZE;
        return {
          address: readField(dv, at, vq.address),
          used_address: readField(dv, at, vq.used_address),
          num: readField(dv, at, vq.num),
        };
      }),
      host_features: bytes(l.hostFeatures, featureLen),
      guest_features: bytes(l.guestFeatures, featureLen),
      config: bytes(l.config, configLen),
      ctrl: {
        offset: l.ctrl,
        vdev: readField(dv, l.ctrl, ctrl.vdev),
        config_change: readField(dv, l.ctrl, ctrl.config_change),
        vdev_reset: readField(dv, l.ctrl, ctrl.vdev_reset),
        guest_ack: readField(dv, l.ctrl, ctrl.guest_ack),
        host_ack: readField(dv, l.ctrl, ctrl.host_ack),
        used_address_updated: readField(dv, l.ctrl, ctrl.used_address_updated),
        c2h_vdev_db: readField(dv, l.ctrl, ctrl.c2h_vdev_db),
        h2c_vdev_db: readField(dv, l.ctrl, ctrl.h2c_vdev_db),
      },
    });
    off = l.next;
  }
  return out;
}
