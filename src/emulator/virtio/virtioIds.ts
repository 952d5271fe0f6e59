// Virtio constants as the Linux headers name them (legacy virtio: 4-byte feature bitmaps).

export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;

export const VIRTIO_DEVICE_NAMES: Record<number, string> = {
  [VIRTIO_ID_NET]: 'virtio-net',
  [VIRTIO_ID_BLOCK]: 'virtio-block',
  [VIRTIO_ID_CONSOLE]: 'virtio-console',
};
/** Short names used in breakpoint syntax (`vq console.tx`). */
export const VIRTIO_SHORT_NAMES: Record<number, string> = {
  [VIRTIO_ID_NET]: 'net',
  [VIRTIO_ID_BLOCK]: 'block',
  [VIRTIO_ID_CONSOLE]: 'console',
};
/** Queue names per device type, in virtio queue order. */
export const VIRTIO_QUEUE_NAMES: Record<number, string[]> = {
  [VIRTIO_ID_NET]: ['rx', 'tx'],
  [VIRTIO_ID_BLOCK]: ['requestq'],
  [VIRTIO_ID_CONSOLE]: ['rx', 'tx'],
};

export function deviceName(type: number): string {
  return VIRTIO_DEVICE_NAMES[type] ?? `virtio-${type}`;
}

export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

export function statusText(s: number): string {
  if (s === 0) return 'reset';
  const parts: string[] = [];
  if (s & VIRTIO_CONFIG_S_ACKNOWLEDGE) parts.push('ACKNOWLEDGE');
  if (s & VIRTIO_CONFIG_S_DRIVER) parts.push('DRIVER');
  if (s & VIRTIO_CONFIG_S_FEATURES_OK) parts.push('FEATURES_OK');
  if (s & VIRTIO_CONFIG_S_DRIVER_OK) parts.push('DRIVER_OK');
  if (s & VIRTIO_CONFIG_S_FAILED) parts.push('FAILED');
  return parts.join('|');
}

export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
export const VRING_USED_F_NO_NOTIFY = 1;
/** Transport feature bits (include/uapi/linux/virtio_ring.h). */
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
