// The device page (4 KiB of host RAM whose MIC address is in SPAD14/15): bootparam layout A
// (Gen-1), then device entries {desc, vqconfig[], host/guest feature bitmaps, config space,
// device_ctrl}. Offsets and size formulas from reference §5.1–§5.2. This file is the one
// decoder used by both drivers, the debug adapter's Device Page scope, the trees and `dp`.

export const MIC_DP_SIZE = 4096;
export const MIC_MAGIC = 0xc0ffee00;
export const MIC_MAX_VRINGS = 4;
export const MIC_MAX_DESC_BLK_SIZE = 256;

/** Bootparam layout A (Gen-1), 16 bytes. */
export const BOOTPARAM = {
  magic: 0,
  c2h_shutdown_db: 4,
  h2c_shutdown_db: 5,
  h2c_config_db: 6,
  shutdown_status: 7,
  shutdown_card: 8,
  SIZE: 16,
} as const;

/** Device descriptor header, relative to the entry. */
export const DEVICE_DESC = {
  type: 0,
  num_vq: 1,
  feature_len: 2,
  config_len: 3,
  status: 4,
  vqconfig: 8,
} as const;
/** mic_vqconfig, 24 bytes each. */
export const VQCONFIG = { address: 0, used_address: 8, num: 16, SIZE: 24 } as const;
/** mic_device_ctrl, 16 bytes. */
export const DEVICE_CTRL = {
  vdev: 0,
  config_change: 8,
  vdev_reset: 9,
  guest_ack: 10,
  host_ack: 11,
  used_address_updated: 12,
  c2h_vdev_db: 13,
  h2c_vdev_db: 14,
  SIZE: 16,
} as const;

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
  return 8 + VQCONFIG.SIZE * numVq + 2 * featureLen + configLen;
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
  const out: DecodedDevicePage = {
    magic: dv.getUint32(BOOTPARAM.magic, true),
    c2h_shutdown_db: dv.getInt8(BOOTPARAM.c2h_shutdown_db),
    h2c_shutdown_db: dv.getInt8(BOOTPARAM.h2c_shutdown_db),
    h2c_config_db: dv.getInt8(BOOTPARAM.h2c_config_db),
    shutdown_status: dv.getUint8(BOOTPARAM.shutdown_status),
    shutdown_card: dv.getUint8(BOOTPARAM.shutdown_card),
    devices: [],
  };
  let off: number = BOOTPARAM.SIZE;
  while (off + 8 <= MIC_DP_SIZE) {
    const type = dv.getInt8(off);
    if (type === 0) break;
    const numVq = dv.getUint8(off + 1);
    const featureLen = dv.getUint8(off + 2);
    const configLen = dv.getUint8(off + 3);
    const l = entryLayout(off, numVq, featureLen, configLen);
    if (l.next > MIC_DP_SIZE) break;
    const bytes = (a: number, n: number) => Array.from(page.subarray(a, a + n));
    const u64 = (a: number) => dv.getUint32(a, true) + dv.getUint32(a + 4, true) * 0x100000000;
    out.devices.push({
      offset: off,
      type,
      num_vq: numVq,
      feature_len: featureLen,
      config_len: configLen,
      status: dv.getUint8(off + 4),
      vqconfig: Array.from({ length: numVq }, (_, i) => ({
        address: u64(l.vq + i * VQCONFIG.SIZE),
        used_address: u64(l.vq + i * VQCONFIG.SIZE + 8),
        num: dv.getUint16(l.vq + i * VQCONFIG.SIZE + 16, true),
      })),
      host_features: bytes(l.hostFeatures, featureLen),
      guest_features: bytes(l.guestFeatures, featureLen),
      config: bytes(l.config, configLen),
      ctrl: {
        offset: l.ctrl,
        vdev: u64(l.ctrl),
        config_change: dv.getUint8(l.ctrl + 8),
        vdev_reset: dv.getUint8(l.ctrl + 9),
        guest_ack: dv.getUint8(l.ctrl + 10),
        host_ack: dv.getUint8(l.ctrl + 11),
        used_address_updated: dv.getUint8(l.ctrl + 12),
        c2h_vdev_db: dv.getInt8(l.ctrl + 13),
        h2c_vdev_db: dv.getInt8(l.ctrl + 14),
      },
    });
    off = l.next;
  }
  return out;
}
