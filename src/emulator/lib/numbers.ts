// How a number is written wherever a person reads it (docs/naming.md, "Numbers"): the MIC views,
// the Variables view, stop texts, the Debug Console, traces. One module, so the style is one.
// The lowest floor of the emulator: the adapter, the extension and the CLI import it too.

/** An address or offset: `0x1cc90`, `0x3800000000` — lower case, no leading zeros, no grouping. */
export function addr(n: number): string {
  if (n < 0) return '-' + addr(-n);
  // The same text as '0x' + Math.floor(n).toString(16), from a table: toString(16) costs ~300 ns
  // and every observed DMA descriptor event names two addresses (test/emulator/numbers.test.ts).
  const f = Math.floor(n);
  if (f < 0x1_0000_0000) return '0x' + hex32(f >>> 0);
  if (f < 2 ** 53) return '0x' + hex32(Math.floor(f / 0x1_0000_0000)) + hex32Padded(f >>> 0);
  return '0x' + f.toString(16);
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_LEAD = Array.from({ length: 256 }, (_, i) => i.toString(16));

/** v in [0, 2^32): its hex digits, no leading zeros. */
function hex32(v: number): string {
  if (v < 0x100) return HEX_LEAD[v];
  if (v < 0x1_0000) return HEX_LEAD[v >>> 8] + HEX_BYTE[v & 0xff];
  if (v < 0x100_0000) return HEX_LEAD[v >>> 16] + HEX_BYTE[(v >>> 8) & 0xff] + HEX_BYTE[v & 0xff];
  return HEX_LEAD[v >>> 24] + HEX_BYTE[(v >>> 16) & 0xff] + HEX_BYTE[(v >>> 8) & 0xff] + HEX_BYTE[v & 0xff];
}

/** v in [0, 2^32): 8 hex digits. */
function hex32Padded(v: number): string {
  return HEX_BYTE[v >>> 24] + HEX_BYTE[(v >>> 16) & 0xff] + HEX_BYTE[(v >>> 8) & 0xff] + HEX_BYTE[v & 0xff];
}

/** A register value, fixed width by the register's size in bytes: `0x00000057` for 32 bits. */
export function regValue(n: number, bytes = 4): string {
  return '0x' + (Math.floor(n) >>> 0).toString(16).padStart(bytes * 2, '0');
}

/** A bit field's value, as wide as the field (`hi:lo` or one bit): `0x3` for 2 bits, `0x0f` for 8. */
export function fieldValue(n: number, bits: string | number): string {
  let width: number;
  if (typeof bits === 'number') width = bits;
  else {
    const m = /^(\d+)(?::(\d+))?$/.exec(bits.trim());
    width = m ? Number(m[1]) - Number(m[2] ?? m[1]) + 1 : 32;
  }
  return (
    '0x' +
    Math.floor(n)
      .toString(16)
      .padStart(Math.ceil(width / 4), '0')
  );
}

/** A count with its unit, decimal, singular for one: `1 byte`, `64 bytes`, `3 descriptors`. */
export function count(n: number, unit: string, plural = `${unit}s`): string {
  return `${n} ${n === 1 ? unit : plural}`;
}

/** A size: the largest binary unit that divides it evenly (`8 GiB`, `128 KiB`), else bytes. */
export function size(bytes: number): string {
  const units = ['GiB', 'MiB', 'KiB'] as const;
  for (let i = 0; i < units.length; i++) {
    const unit = 2 ** (30 - 10 * i);
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${units[i]}`;
  }
  return count(bytes, 'byte');
}
