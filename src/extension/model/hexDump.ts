// The read-only memory dump "Show in Memory" falls back to when VS Code's hex editor (the memory
// view of "View Binary Data") is not installed: 16 bytes a line, addressed as the adapter's
// memory references are (`mic0.bar4+0x19000`), with ASCII at the right. Pure.

import { hex } from './format.ts';

export interface DumpRequest {
  /** Where the dump starts (a memory reference the adapter's readMemory accepts). */
  reference: string;
  /** Bytes to read. */
  count: number;
}

/** A line-aligned window that covers `bytes` at `reference`: at least 256 bytes, at most 4 KiB. */
export function dumpWindow(reference: string, bytes: number): DumpRequest & { lead: number } {
  const m = /^(.*)\+0x([0-9a-f]+)$/i.exec(reference);
  const at = m ? parseInt(m[2], 16) : 0;
  const lead = at % 16;
  const count = Math.min(4096, Math.max(256, Math.ceil((lead + bytes) / 16) * 16));
  return { reference: m ? `${m[1]}+${hex(at - lead)}` : reference, count, lead };
}

/** `mic0.bar4+0x19000  00 11 22 … 77  88 … ff  |........|`; unreadable bytes print as `??`. */
export function hexDump(reference: string, data: Uint8Array, unreadable = 0): string {
  const m = /^(.*)\+0x([0-9a-f]+)$/i.exec(reference);
  const space = m ? m[1] : reference;
  const base = m ? parseInt(m[2], 16) : 0;
  const total = data.length + unreadable;
  const digits = (base + Math.max(0, total - 1)).toString(16).length;
  const lines: string[] = [];
  for (let off = 0; off < total; off += 16) {
    const cells: string[] = [];
    let ascii = '';
    for (let i = 0; i < 16 && off + i < total; i++) {
      const b = off + i < data.length ? data[off + i] : -1;
      cells.push(b < 0 ? '??' : b.toString(16).padStart(2, '0'));
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    const left = cells.slice(0, 8).join(' ');
    const right = cells.slice(8).join(' ');
    const addr = `${space}+0x${(base + off).toString(16).padStart(digits, '0')}`;
    lines.push(`${addr}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}
