// Byte arrays for the data path. A fresh Uint8Array of more than 64 bytes gets its own
// off-heap backing store, which V8 allocates, zeroes and later finalises one by one: about
// 0.6 µs each, more than a 512-byte request's whole bus transaction. Transient arrays are
// therefore carved out of shared slabs, as Node's Buffer pool does for small Buffers.

/** Up to this, `new Uint8Array(len)` lives on the V8 heap and is cheap. */
const ON_HEAP_MAX = 64;
/** Arrays above this get memory of their own (a slab would mostly hold one of them). */
const SLAB_ITEM_MAX = 16 * 1024;
const SLAB_SIZE = 256 * 1024;

let slab: ArrayBuffer = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer;
let slabUsed = 0;

/**
 * A Uint8Array of len bytes whose contents are undefined: the caller overwrites every byte
 * before anyone reads it. It may share its ArrayBuffer with others (use byteOffset with
 * `.buffer`); a long-lived one keeps its slab alive, so keep these for transient data.
 */
export function uninitBytes(len: number): Uint8Array {
  if (len <= ON_HEAP_MAX) return new Uint8Array(len);
  if (len > SLAB_ITEM_MAX) {
    const b = Buffer.allocUnsafeSlow(len);
    return new Uint8Array(b.buffer, b.byteOffset, len);
  }
  if (slabUsed + len > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer;
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, len);
  // 8-byte aligned, so wider typed views over the same bytes stay possible.
  slabUsed = (slabUsed + len + 7) & ~7;
  return out;
}
