// The card OS image the host downloads (the sysfs `firmware`, mic/uos.img). It is shaped like
// an x86 bzImage where the protocol cares — "HdrS" at 0x202, ramdisk_image/size at
// 0x218/0x21C — and carries the kernel identity the card OS reports (uname, /proc/version) in
// a small block at 0x400. The rest is deterministic filler standing in for kernel code.

export const UOS_HDR_MAGIC_OFF = 0x202;
export const UOS_HDR_MAGIC = 0x53726448; // "HdrS"
export const UOS_RAMDISK_IMAGE = 0x218;
export const UOS_RAMDISK_SIZE = 0x21c;
export const UOS_ID_OFF = 0x400;
const UOS_ID_MAGIC = 'MICUOS1\0';

export interface UosIdentity {
  release: string;
  version: string;
  machine: string;
  builder: string;
}

export const DEFAULT_UOS: UosIdentity = {
  release: '3.13.0-mic',
  version: '#1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015',
  machine: 'k1om',
  builder: 'mic-emu@x100 (gcc version 5.1.1 (k1om))',
};

export function buildUosImage(id: UosIdentity = DEFAULT_UOS, size = 512 * 1024): Uint8Array {
  const img = new Uint8Array(size);
  // Deterministic filler (xorshift) so the download moves real, varied bytes.
  let x = 0x2545f491;
  for (let i = 0x1000; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    img[i] = x;
    img[i + 1] = x >>> 8;
    img[i + 2] = x >>> 16;
    img[i + 3] = x >>> 24;
  }
  const dv = new DataView(img.buffer);
  img[0] = 0x4d; // "MZ", as a bzImage starts
  img[1] = 0x5a;
  dv.setUint8(0x1f1, 27); // setup_sects
  dv.setUint16(0x1fe, 0xaa55, true); // boot flag
  dv.setUint32(UOS_HDR_MAGIC_OFF, UOS_HDR_MAGIC, true);
  dv.setUint16(0x206, 0x020c, true); // boot protocol 2.12
  const text = new TextEncoder().encode(
    `${UOS_ID_MAGIC}${id.release}\0${id.version}\0${id.machine}\0${id.builder}\0`,
  );
  img.set(text, UOS_ID_OFF);
  return img;
}

/** Parse what the card needs from the first 4 KiB of the downloaded image, or an error text. */
export function parseUosHeader(head: Uint8Array): UosIdentity | string {
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 0x1000) return 'image too short';
  if (dv.getUint32(UOS_HDR_MAGIC_OFF, true) !== UOS_HDR_MAGIC)
    return 'no "HdrS" boot header at 0x202: not a kernel image';
  const s = new TextDecoder().decode(head.subarray(UOS_ID_OFF, UOS_ID_OFF + 512));
  if (!s.startsWith(UOS_ID_MAGIC)) return 'no MIC uOS identity block at 0x400';
  const [release, version, machine, builder] = s.slice(UOS_ID_MAGIC.length).split('\0');
  return { release, version, machine, builder };
}
