// The one split-ring implementation (legacy layout, align 4096), used by the card's virtio
// drivers and the host back-ends alike. Each side passes its own accessor (Io) and the ring's
// addresses as that side sees them. Every access is a bus transaction, so every helper is a
// routine that yields after each one.

import type { Io } from '../bus/io.ts';
import { offsetsOf, type StructSpec } from './structs.ts';

export const MIC_VRING_ENTRIES = 128;
export const MIC_VIRTIO_RING_ALIGN = 4096;
export const MIC_VRING_INFO_MAGIC = 0xc0ffee00;

/** struct vring_desc, 16 bytes each (decodeDesc reads it byte by byte, in this order). */
export const VRING_DESC_FIELDS = {
  addr: { offset: 0, size: 8, doc: 'u64 MIC address of the buffer' },
  len: { offset: 8, size: 4, doc: 'u32 bytes of the buffer' },
  flags: { offset: 12, size: 2, doc: 'u16 NEXT 1, WRITE 2 (device writes), INDIRECT 4' },
  next: { offset: 14, size: 2, doc: 'u16 the next descriptor of the chain, when NEXT' },
} as const satisfies StructSpec;
export const VRING_DESC = offsetsOf(VRING_DESC_FIELDS, 16);

/** struct vring_avail: a 4-byte header, then ring[num]; written by the driver (the card). */
export const VRING_AVAIL_FIELDS = {
  flags: { offset: 0, size: 2, doc: 'bit 0 = VRING_AVAIL_F_NO_INTERRUPT' },
  idx: { offset: 2, size: 2, doc: 'written by the card' },
  ring: { offset: 4, size: 2, array: true, doc: 'u16 heads of the chains made available' },
} as const satisfies StructSpec;
export const VRING_AVAIL = offsetsOf(VRING_AVAIL_FIELDS, 4);

/** struct vring_used: a 4-byte header, then ring[num] of vring_used_elem; written by the host. */
export const VRING_USED_FIELDS = {
  flags: { offset: 0, size: 2, doc: 'bit 0 = VRING_USED_F_NO_NOTIFY' },
  idx: { offset: 2, size: 2, doc: 'written by the host' },
  ring: {
    offset: 4,
    size: 8,
    array: true,
    doc: 'vring_used_elem: u32 id (the head), u32 len (bytes written)',
  },
} as const satisfies StructSpec;
export const VRING_USED = offsetsOf(VRING_USED_FIELDS, 4);

/** struct _mic_vring_info, right after the ring in the host's ring block. */
export const MIC_VRING_INFO_FIELDS = {
  avail_idx: { offset: 0, size: 2, doc: '_mic_vring_info.avail_idx: the host’s next avail index to consume' },
  magic: { offset: 4, size: 4, doc: 'u32 MIC_VRING_INFO_MAGIC + virtio type + queue index' },
} as const satisfies StructSpec;
export const MIC_VRING_INFO = offsetsOf(MIC_VRING_INFO_FIELDS, 8);

const align = (x: number, a: number) => Math.ceil(x / a) * a;

export function vringDescOffset(): number {
  return 0;
}
export function vringAvailOffset(num: number): number {
  return VRING_DESC.SIZE * num;
}
export function vringUsedOffset(num: number, alignment = MIC_VIRTIO_RING_ALIGN): number {
  // The avail ring ends with used_event (u16), hence the + 2.
  return align(VRING_DESC.SIZE * num + VRING_AVAIL.SIZE + 2 + 2 * num, alignment);
}
/** vring_size(num, align): bytes of desc + avail + used. 0x1406 for 128 entries. */
export function vringSize(num: number, alignment = MIC_VIRTIO_RING_ALIGN): number {
  // The used ring ends with avail_event (u16), hence the + 2.
  return vringUsedOffset(num, alignment) + VRING_USED.SIZE + 2 + 8 * num;
}
/** Host ring block: pageAlign(vring_size + sizeof(_mic_vring_info)). 8 KiB for 128 entries. */
export function micRingBlockSize(num: number): number {
  return align(vringSize(num) + MIC_VRING_INFO.SIZE, 4096);
}
/** `_mic_vring_info` (MIC_VRING_INFO_FIELDS) sits right after the ring. */
export function vringInfoOffset(num: number): number {
  return vringSize(num);
}
export function vringInfoMagic(virtioId: number, queueIndex: number): number {
  return (MIC_VRING_INFO_MAGIC + virtioId + queueIndex) >>> 0;
}
/** Card-allocated used ring: pageAlign(6 + 8·num) — 4 KiB for 128 entries. */
export function usedRingBytes(num: number): number {
  return align(6 + 8 * num, 4096);
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Addresses of one ring as one side sees them. */
export interface VringAddrs {
  num: number;
  desc: number;
  avail: number;
  used: number;
}

export function vringAddrs(base: number, num: number, usedOverride?: number): VringAddrs {
  return {
    num,
    desc: base + vringDescOffset(),
    avail: base + vringAvailOffset(num),
    used: usedOverride ?? base + vringUsedOffset(num),
  };
}

export interface VringDesc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** Decode 16 descriptor bytes: {u64 addr, u32 len, u16 flags, u16 next}. */
export function decodeDesc(b: Uint8Array): VringDesc {
  const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  const hi = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
  return {
    addr: hi * 0x100000000 + lo,
    len: (b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24)) >>> 0,
    flags: b[12] | (b[13] << 8),
    next: b[14] | (b[15] << 8),
  };
}

// Byte stores, not a DataView: asking a small typed array for its ArrayBuffer moves it off the
// V8 heap, an allocation per descriptor on the hot path.
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** Encode into b (16 bytes): {u64 addr, u32 len, u16 flags, u16 next}, as DataView setters would. */
export function encodeDescInto(
  b: Uint8Array,
  addr: number,
  len: number,
  flags: number,
  next: number,
): Uint8Array {
  // DataView.setUint32 takes its value modulo 2^32, like these stores.
  put32(b, 0, addr % 0x100000000);
  put32(b, 4, Math.floor(addr / 0x100000000) % 0x100000000);
  put32(b, 8, len % 0x100000000);
  put16(b, 12, flags);
  put16(b, 14, next);
  return b;
}

/** Scratch for the accessors below: written and copied by the bus, or read and decoded, before the routine yields. */
const scratch16 = new Uint8Array(16);
const scratch8 = new Uint8Array(8);

// One bus access each. `load*`/`store*` perform the access now and return what the routine
// yields (`const idx: number = yield loadAvailIdx(io, r)`): the machine may stop right after,
// and no generator is made for a single access.

/**
 * One 16-byte read of descriptor i, decoded now: the bytes go through a scratch array, not a new
 * one per descriptor. It returns an object, which the routine keeps rather than yields, so it writes
 * `const d = fetchDesc(io, r, i); yield;` (the access and its event happen here, the stop
 * point is the bare yield).
 */
export function fetchDesc(io: Io, r: VringAddrs, i: number): VringDesc {
  io.readInto(r.desc + 16 * i, scratch16, 0, 16);
  return decodeDesc(scratch16);
}
export function storeDesc(io: Io, r: VringAddrs, i: number, d: VringDesc): number {
  return io.write(r.desc + 16 * i, encodeDescInto(scratch16, d.addr, d.len, d.flags, d.next));
}
export function loadAvailFlags(io: Io, r: VringAddrs): number {
  return io.read16(r.avail);
}
/** Driver side: avail.flags (VRING_AVAIL_F_NO_INTERRUPT is virtqueue_disable_cb). */
export function storeAvailFlags(io: Io, r: VringAddrs, flags: number): number {
  return io.write16(r.avail, flags);
}
export function loadAvailIdx(io: Io, r: VringAddrs): number {
  return io.read16(r.avail + 2);
}
export function loadAvailRing(io: Io, r: VringAddrs, slot: number): number {
  return io.read16(r.avail + 4 + 2 * (slot % r.num));
}
/** used_event (VIRTIO_RING_F_EVENT_IDX): the u16 after avail.ring[num]. */
export function loadUsedEvent(io: Io, r: VringAddrs): number {
  return io.read16(r.avail + 4 + 2 * r.num);
}
/** Driver side: put head in avail.ring[idx % num]; the caller publishes idx separately. */
export function storeAvailRing(io: Io, r: VringAddrs, slot: number, head: number): number {
  return io.write16(r.avail + 4 + 2 * (slot % r.num), head);
}
export function storeAvailIdx(io: Io, r: VringAddrs, idx: number): number {
  return io.write16(r.avail + 2, idx & 0xffff);
}
export function loadUsedIdx(io: Io, r: VringAddrs): number {
  return io.read16(r.used + 2);
}
/** The 8 bytes of used.ring[slot % num]: decode with usedElemId / usedElemLen. */
export function loadUsedElem(io: Io, r: VringAddrs, slot: number): Uint8Array {
  return io.read(r.used + 4 + 8 * (slot % r.num), 8);
}
export function usedElemId(b: Uint8Array): number {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
export function usedElemLen(b: Uint8Array): number {
  return (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
}
export function storeUsedElem(io: Io, r: VringAddrs, slot: number, id: number, len: number): number {
  put32(scratch8, 0, id % 0x100000000);
  put32(scratch8, 4, len % 0x100000000);
  return io.write(r.used + 4 + 8 * (slot % r.num), scratch8);
}
export function storeUsedIdx(io: Io, r: VringAddrs, idx: number): number {
  return io.write16(r.used + 2, idx & 0xffff);
}
