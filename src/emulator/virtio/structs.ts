// Hardware as data for the structures in shared memory (the device page, the vring), as
// card/sboxRegisters.ts is for the MMIO block: each field once, with its offset, size, sign and
// a doc line. The byte offsets the drivers use (DEVICE_CTRL.guest_ack), the decoders, the
// adapter's Device Page scope and the trees' memory references all come from these tables.

export interface FieldSpec {
  /** Bytes from the start of the structure. */
  offset: number;
  /** 1, 2, 4 or 8 bytes, little-endian; an array's element size when `array` is set. */
  size: number;
  /** Read as two's complement (s8 doorbell numbers: -1 = none). */
  signed?: boolean;
  /** An array of elements that runs to the end of the structure (avail.ring[num]). */
  array?: true;
  /** What the field is, for people: tooltips and the Variables view's type column. */
  doc: string;
}

export type StructSpec = Record<string, FieldSpec>;

/** `{field: offset, …, SIZE}`: the offsets the drivers and back-ends address fields by. */
export function offsetsOf<S extends StructSpec>(
  spec: S,
  size: number,
): { readonly [K in keyof S]: number } & { readonly SIZE: number } {
  const out: Record<string, number> = {};
  for (const [name, f] of Object.entries(spec)) out[name] = f.offset;
  out.SIZE = size;
  return Object.freeze(out) as { readonly [K in keyof S]: number } & { readonly SIZE: number };
}

/** The value of a field of the structure at `base` in `dv` (plain bytes: views, never the bus). */
export function readField(dv: DataView, base: number, f: FieldSpec): number {
  const at = base + f.offset;
  switch (f.size) {
    case 1:
      return f.signed ? dv.getInt8(at) : dv.getUint8(at);
    case 2:
      return f.signed ? dv.getInt16(at, true) : dv.getUint16(at, true);
    case 4:
      return f.signed ? dv.getInt32(at, true) : dv.getUint32(at, true);
    case 8:
      // 64-bit addresses: exact below 2^53, which every MIC and host address is.
      return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
    default:
      throw new Error(`readField: a ${f.size}-byte field`);
  }
}
