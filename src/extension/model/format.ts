// Words and numbers as the trees show them — the number style is docs/naming.md's, from the one
// module src/emulator/lib/numbers.ts (addresses, register values, counts, sizes) — and arithmetic
// on the adapter's memory references (`mic0.bar4+0x19004`). No vscode imports.

import { addr } from '../../emulator/lib/numbers.ts';

export { addr, count, fieldValue, regValue, size } from '../../emulator/lib/numbers.ts';

/** An address or offset: `0x1f`, `0x3800000000` (unpadded, no grouping). */
export const hex = addr;
export const hexAddr = addr;

/** The reference `delta` bytes after `ref` (`host+0x10001000` + 0x802 → `host+0x10001802`). */
export function offsetRef(ref: string | undefined, delta: number): string | undefined {
  if (!ref) return undefined;
  const m = /^(.*)\+0x([0-9a-f]+)$/i.exec(ref);
  if (!m) return undefined;
  const at = parseInt(m[2], 16) + delta;
  return at < 0 ? undefined : `${m[1]}+${hex(at)}`;
}
