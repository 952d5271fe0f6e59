// Byte arrays for the data path. Zeroing a fresh 64 KiB Uint8Array costs more than copying
// 64 KiB into it, so where every byte is about to be overwritten we take memory as it comes.

/** Below this, `new Uint8Array(len)` is as cheap (small arrays live on the V8 heap). */
const UNINIT_MIN = 1024;

/**
 * A plain Uint8Array of len bytes whose contents are undefined: the caller overwrites every
 * byte before anyone reads it. (Its own ArrayBuffer of exactly len bytes, as `new Uint8Array`.)
 */
export function uninitBytes(len: number): Uint8Array {
  if (len < UNINIT_MIN) return new Uint8Array(len);
  const b = Buffer.allocUnsafeSlow(len);
  return new Uint8Array(b.buffer, b.byteOffset, len);
}
