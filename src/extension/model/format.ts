// Words and numbers as the trees show them: hex values, grouped MIC addresses, sizes, and
// arithmetic on the adapter's memory references (`mic0.bar4+0x19004`). No vscode imports.

export { hexAddr } from '../../emulator/card/dma/descriptors.ts';

/** `0x1f` — unpadded, lower case, as the adapter's `hex` fields and the Variables view write it. */
export const hex = (n: number): string => (n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16));

/** A counter in hex with its decimal value: `0x80 (128)`. */
export const hexDec = (n: number): string => (n < 10 ? hex(n) : `${hex(n)} (${n})`);

/** `8 GiB`, `128 KiB`, `4096 bytes` — the largest binary unit that divides evenly. */
export function sizeText(bytes: number): string {
  const units = ['GiB', 'MiB', 'KiB'] as const;
  for (let i = 0; i < units.length; i++) {
    const unit = 2 ** (30 - 10 * i);
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${units[i]}`;
  }
  return `${bytes} bytes`;
}

/** The reference `delta` bytes after `ref` (`host+0x10001000` + 0x802 → `host+0x10001802`). */
export function offsetRef(ref: string | undefined, delta: number): string | undefined {
  if (!ref) return undefined;
  const m = /^(.*)\+0x([0-9a-f]+)$/i.exec(ref);
  if (!m) return undefined;
  const at = parseInt(m[2], 16) + delta;
  return at < 0 ? undefined : `${m[1]}+${hex(at)}`;
}
