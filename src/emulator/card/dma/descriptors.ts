// X100 DMA descriptor formats (reference §7.4), declared once as data with one encoder and one
// decoder. The engine, the host and card driver models, the DMA ring view and the Debug Console
// all read descriptors through this file. Names and shifts are the Linux driver's
// (drivers/dma/mic_x100_dma.{c,h}); KEY and KEYNONCECNT come from Intel's out-of-tree MPSS
// headers and their semantics are unsure.
//
// A descriptor is 16 bytes, little-endian: qw0 then qw1. We keep it as four u32 words
// [lo0, hi0, lo1, hi1] so that 40-bit addresses stay plain JS numbers (no BigInt on the hot
// path): bit b of qw0 is bit b of lo0 for b < 32 and bit b−32 of hi0 above; likewise qw1.

import { addr } from '../../lib/numbers.ts';

/** Ring size in descriptors: 128 Ki − 4 (mic_x100_dma.h). */
export const MIC_DMA_DESC_RX_SIZE = 128 * 1024 - 4; // 131068
/** Every MEMCPY address and length is a multiple of this (MIC_DMA_ALIGN_BYTES). */
export const MIC_DMA_ALIGN = 64;
export const MIC_DMA_ALIGN_SHIFT = 6;
/** Largest MEMCPY a host-owned channel takes (MIC_DMA_MAX_XFER_SIZE_HOST). */
export const MAX_XFER_HOST = (1 * 1024 * 1024) >> 1;
/** Largest MEMCPY a card-owned channel takes (MIC_DMA_MAX_XFER_SIZE_CARD); also what the 14-bit length field holds. */
export const MAX_XFER_CARD = 1 * 1024 * 1024 - MIC_DMA_ALIGN;
export const MIC_DMA_DESC_SIZE = 16;

/** qw1 bits 63:60 (MIC_DMA_DESC_TYPE_SHIFT = 60). */
export const MIC_DMA_DESC_TYPE_SHIFT = 60;
/** MEMCPY qw0 bits 59:46: length in 64-byte units. */
export const MIC_DMA_MEMCPY_LEN_SHIFT = 46;
/** STATUS qw1 bit 59: raise the completion interrupt once the data is written. */
export const MIC_DMA_STAT_INTR_SHIFT = 59;

export type DmaDescType = 'nop' | 'memcpy' | 'status' | 'general' | 'keynoncecnt' | 'key' | 'reserved';

/** Type field value → name. Values 6–15 are reserved. */
export const DESC_TYPES: readonly DmaDescType[] = [
  'nop',
  'memcpy',
  'status',
  'general',
  'keynoncecnt',
  'key',
];
export const DESC_TYPE_NUMBER: Readonly<Record<Exclude<DmaDescType, 'reserved'>, number>> = {
  nop: 0,
  memcpy: 1,
  status: 2,
  general: 3,
  keynoncecnt: 4,
  key: 5,
};

/** One field of a descriptor format: which quad word, which bits. */
export interface DescFieldSpec {
  name: string;
  qw: 0 | 1;
  hi: number;
  lo: number;
  doc: string;
}

/** The formats of §7.4 as data: the ring view and tooltips list these fields. */
export const DESC_FORMATS: Readonly<Record<DmaDescType, readonly DescFieldSpec[]>> = {
  nop: [{ name: 'type', qw: 1, hi: 63, lo: 60, doc: '0 = NOP' }],
  memcpy: [
    { name: 'src', qw: 0, hi: 39, lo: 0, doc: 'source MIC address' },
    { name: 'index', qw: 0, hi: 42, lo: 40, doc: 'index (upstream writes 0)' },
    { name: 'len', qw: 0, hi: 59, lo: 46, doc: 'length in 64-byte units' },
    { name: 'dst', qw: 1, hi: 39, lo: 0, doc: 'destination MIC address' },
    { name: 'twb', qw: 1, hi: 55, lo: 55, doc: 'meaning unsure; upstream writes 0' },
    { name: 'intr', qw: 1, hi: 56, lo: 56, doc: 'meaning unsure; upstream writes 0' },
    { name: 'c', qw: 1, hi: 57, lo: 57, doc: 'meaning unsure; upstream writes 0' },
    { name: 'co', qw: 1, hi: 58, lo: 58, doc: 'meaning unsure; upstream writes 0' },
    { name: 'ecy', qw: 1, hi: 59, lo: 59, doc: 'meaning unsure; upstream writes 0' },
    { name: 'type', qw: 1, hi: 63, lo: 60, doc: '1 = MEMCPY' },
  ],
  status: [
    { name: 'data', qw: 0, hi: 63, lo: 0, doc: '64-bit value to store' },
    { name: 'dst', qw: 1, hi: 39, lo: 0, doc: 'destination MIC address' },
    { name: 'intr', qw: 1, hi: 59, lo: 59, doc: 'raise the completion interrupt when done' },
    { name: 'type', qw: 1, hi: 63, lo: 60, doc: '2 = STATUS' },
  ],
  general: [
    { name: 'data', qw: 0, hi: 31, lo: 0, doc: '32-bit value to store' },
    { name: 'dst', qw: 1, hi: 39, lo: 0, doc: 'destination MIC address' },
    { name: 'type', qw: 1, hi: 63, lo: 60, doc: '3 = GENERAL' },
  ],
  keynoncecnt: [
    { name: 'data', qw: 0, hi: 63, lo: 0, doc: 'key/nonce/counter data (AES, card channels only; unsure)' },
    { name: 'cs', qw: 1, hi: 53, lo: 53, doc: 'unsure' },
    { name: 'index', qw: 1, hi: 56, lo: 54, doc: 'unsure' },
    { name: 'h', qw: 1, hi: 57, lo: 57, doc: 'unsure' },
    { name: 'sel', qw: 1, hi: 59, lo: 58, doc: 'unsure' },
    { name: 'type', qw: 1, hi: 63, lo: 60, doc: '4 = KEYNONCECNT' },
  ],
  key: [
    { name: 'src', qw: 0, hi: 39, lo: 0, doc: 'key address' },
    { name: 'index', qw: 0, hi: 42, lo: 40, doc: 'key index' },
    { name: 'di', qw: 1, hi: 53, lo: 51, doc: 'unsure' },
    { name: 'type', qw: 1, hi: 63, lo: 60, doc: '5 = KEY' },
  ],
  reserved: [{ name: 'type', qw: 1, hi: 63, lo: 60, doc: '6–15 reserved' }],
};

export interface DmaDescriptor {
  /** Name of the type field (qw1 63:60); `descTypeNumber(d)` gives the number itself. */
  type: DmaDescType;
  /** MEMCPY source / KEY key address (40-bit MIC address). */
  src?: number;
  /** MEMCPY, STATUS, GENERAL destination (40-bit MIC address). */
  dst?: number;
  /** MEMCPY length in bytes (the field × 64). */
  len?: number;
  /** STATUS/GENERAL/KEYNONCECNT data, low 32 bits. */
  dataLo?: number;
  /** STATUS/KEYNONCECNT data, high 32 bits. */
  dataHi?: number;
  /** STATUS bit 59 (MEMCPY bit 56, whose meaning is unsure). */
  intr?: boolean;
  /** The four u32 words [lo0, hi0, lo1, hi1]. */
  raw: [number, number, number, number];
}

const TWO32 = 0x1_0000_0000;
const lo32 = (a: number) => (a % TWO32) >>> 0;
const hi8 = (a: number) => Math.floor(a / TWO32) & 0xff;

/** Store a u32 little-endian at b[o…o+3]. */
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

// Byte stores rather than a DataView: a DataView needs the array's ArrayBuffer, and asking a
// small typed array for it moves its bytes off the V8 heap (an allocation per descriptor).
// `b`: the caller's 16 bytes to fill (a driver that writes descriptors one after another into
// the ring reuses one), or a fresh array.
function pack(
  lo0: number,
  hi0: number,
  lo1: number,
  hi1: number,
  b: Uint8Array = new Uint8Array(MIC_DMA_DESC_SIZE),
): Uint8Array {
  put32(b, 0, lo0);
  put32(b, 4, hi0);
  put32(b, 8, lo1);
  put32(b, 12, hi1);
  return b;
}

/**
 * MEMCPY of len bytes from src to dst (40-bit MIC addresses). As mic_dma_memcpy_desc does, the
 * length goes in as len >> 6: a length that is not a multiple of 64 loses its low bits, and the
 * engine never sees them. Flags stay 0, as upstream writes them.
 */
export function encodeMemcpy(src: number, dst: number, len: number, into?: Uint8Array): Uint8Array {
  const units = Math.floor(len / MIC_DMA_ALIGN) & 0x3fff;
  return pack(
    lo32(src),
    (hi8(src) | (units << (MIC_DMA_MEMCPY_LEN_SHIFT - 32))) >>> 0,
    lo32(dst),
    (hi8(dst) | (1 << 28)) >>> 0,
    into,
  );
}

/** STATUS: store the 64-bit value dataHi:dataLo at dst; intr sets bit 59 (mic_dma_prep_status_lock). */
export function encodeStatus(
  dataLo: number,
  dataHi: number,
  dst: number,
  intr: boolean,
  into?: Uint8Array,
): Uint8Array {
  const hi1 = hi8(dst) | (2 << 28) | (intr ? 1 << (MIC_DMA_STAT_INTR_SHIFT - 32) : 0);
  return pack(dataLo, dataHi, lo32(dst), hi1 >>> 0, into);
}

/** GENERAL: store the 32-bit data32 at dst. */
export function encodeGeneral(data32: number, dst: number): Uint8Array {
  return pack(data32, 0, lo32(dst), (hi8(dst) | (3 << 28)) >>> 0);
}

export function encodeNop(): Uint8Array {
  return pack(0, 0, 0, 0);
}

/**
 * Decode from the four u32 words into `out` (reused by the engine, so the hot path allocates
 * nothing). Fields that the type does not have are set to undefined.
 */
export function decodeWordsInto(
  lo0: number,
  hi0: number,
  lo1: number,
  hi1: number,
  out: DmaDescriptor,
): DmaDescriptor {
  lo0 >>>= 0;
  hi0 >>>= 0;
  lo1 >>>= 0;
  hi1 >>>= 0;
  const t = hi1 >>> 28;
  out.type = t < DESC_TYPES.length ? DESC_TYPES[t] : 'reserved';
  out.src = undefined;
  out.dst = undefined;
  out.len = undefined;
  out.dataLo = undefined;
  out.dataHi = undefined;
  out.intr = undefined;
  const r = out.raw;
  r[0] = lo0;
  r[1] = hi0;
  r[2] = lo1;
  r[3] = hi1;
  switch (t) {
    case 1: // MEMCPY
      out.src = (hi0 & 0xff) * TWO32 + lo0;
      out.len = ((hi0 >>> (MIC_DMA_MEMCPY_LEN_SHIFT - 32)) & 0x3fff) * MIC_DMA_ALIGN;
      out.dst = (hi1 & 0xff) * TWO32 + lo1;
      out.intr = ((hi1 >>> 24) & 1) === 1;
      break;
    case 2: // STATUS
      out.dataLo = lo0;
      out.dataHi = hi0;
      out.dst = (hi1 & 0xff) * TWO32 + lo1;
      out.intr = ((hi1 >>> (MIC_DMA_STAT_INTR_SHIFT - 32)) & 1) === 1;
      break;
    case 3: // GENERAL
      out.dataLo = lo0;
      out.dst = (hi1 & 0xff) * TWO32 + lo1;
      break;
    case 4: // KEYNONCECNT
      out.dataLo = lo0;
      out.dataHi = hi0;
      break;
    case 5: // KEY
      out.src = (hi0 & 0xff) * TWO32 + lo0;
      break;
  }
  return out;
}

/** The type field value, 0–15 (the 'dma.desc' event carries it as its value). */
export function descTypeNumber(d: DmaDescriptor): number {
  return d.raw[3] >>> 28;
}

export function emptyDescriptor(): DmaDescriptor {
  return { type: 'nop', raw: [0, 0, 0, 0] };
}

export function decodeWords(lo0: number, hi0: number, lo1: number, hi1: number): DmaDescriptor {
  return decodeWordsInto(lo0, hi0, lo1, hi1, emptyDescriptor());
}

/** Decode 16 little-endian bytes (qw0, qw1). */
export function decodeDescriptor(bytes: Uint8Array): DmaDescriptor {
  if (bytes.length < MIC_DMA_DESC_SIZE) {
    throw new RangeError(`a DMA descriptor is ${MIC_DMA_DESC_SIZE} bytes, got ${bytes.length}`);
  }
  const w = (o: number) =>
    (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
  return decodeWords(w(0), w(4), w(8), w(12));
}

export function copyDescriptor(d: DmaDescriptor): DmaDescriptor {
  return { ...d, raw: [d.raw[0], d.raw[1], d.raw[2], d.raw[3]] };
}

/** An address as docs/naming.md writes it (`0x8000001000`: no grouping); see lib/numbers.ts. */
export const hexAddr = addr;

function hex64(hi: number, lo: number): string {
  if (hi === 0) return hexAddr(lo);
  return '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** One line for traces, the ring view and the 'dma.desc' event: `MEMCPY src=0x8000001000 dst=0x4000 len=4096`. */
export function describeDescriptor(d: DmaDescriptor): string {
  switch (d.type) {
    case 'nop':
      return 'NOP';
    case 'memcpy':
      return `MEMCPY src=${hexAddr(d.src ?? 0)} dst=${hexAddr(d.dst ?? 0)} len=${d.len ?? 0}${d.intr ? ' intr' : ''}`;
    case 'status':
      return `STATUS data=${hex64(d.dataHi ?? 0, d.dataLo ?? 0)} dst=${hexAddr(d.dst ?? 0)}${d.intr ? ' intr' : ''}`;
    case 'general':
      return `GENERAL data=${hexAddr(d.dataLo ?? 0)} dst=${hexAddr(d.dst ?? 0)}`;
    case 'keynoncecnt':
      return `KEYNONCECNT data=${hex64(d.dataHi ?? 0, d.dataLo ?? 0)} qw1=${hex64(d.raw[3], d.raw[2])}`;
    case 'key':
      return `KEY addr=${hexAddr(d.src ?? 0)} qw1=${hex64(d.raw[3], d.raw[2])}`;
    default:
      return `RESERVED type=${descTypeNumber(d)} qw0=${hex64(d.raw[1], d.raw[0])} qw1=${hex64(d.raw[3], d.raw[2])}`;
  }
}
