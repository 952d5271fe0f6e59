// The shell's `hexdump -C` of a block device: reads it through the driver 64 KiB at a time and
// prints as it goes (the format is lib/hexdump.ts). Asynchronous, like dd.

import { strerror } from '../../errno.ts';
import { HexdumpFormatter } from '../../lib/hexdump.ts';
import { call, type Routine } from '../../sim/scheduler.ts';
import { BlockFile } from '../blockFile.ts';
import type { CardOs } from '../cardOs.ts';
import { blockDevice } from '../virtioBlock.ts';
import { quote } from './format.ts';
import type { Shell, ShellCommand } from './shell.ts';

/** hexdump's offsets and lengths: decimal, 0x hex or 0 octal, with b (512), k/K, m/M, g/G (1024ⁿ). */
export function parseHexdumpNumber(text: string): number | null {
  const m = /^(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)([bkKmMgG]?)$/.exec(text);
  if (!m) return null;
  const v = m[1].startsWith('0x')
    ? parseInt(m[1], 16)
    : m[1].startsWith('0')
      ? parseInt(m[1], 8)
      : Number(m[1]);
  const mult = { '': 1, b: 512, k: 1024, K: 1024, m: 2 ** 20, M: 2 ** 20, g: 2 ** 30, G: 2 ** 30 }[m[2]] ?? 1;
  const n = v * mult;
  return Number.isSafeInteger(n) ? n : null;
}

class Hexdump {
  constructor(readonly os: CardOs) {}

  run(args: string[], sh: Shell): number | Routine<number> {
    const positional: string[] = [];
    let off: number | null = null;
    let len: number | null = null;
    const num = (v: string | undefined, what: string): number | null => {
      const n = v === undefined ? null : parseHexdumpNumber(v);
      if (n === null) sh.print(`hexdump: invalid ${what} argument: ${quote(v ?? '')}\n`);
      return n;
    };
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-C') continue;
      if (a === '-s' || a === '-n') {
        const n = num(args[++i], a === '-s' ? 'offset' : 'length');
        if (n === null) return 1;
        if (a === '-s') off = n;
        else len = n;
      } else if (a.startsWith('-') && a.length > 1) {
        sh.print(`hexdump: invalid option -- '${a.slice(1)}'\nUsage: hexdump /dev/vda [offset] [length]\n`);
        return 1;
      } else positional.push(a);
    }
    if (positional.length === 0) {
      sh.print('Usage: hexdump /dev/vda [offset] [length]\n');
      return 1;
    }
    const path = positional[0];
    if (positional[1] !== undefined) {
      off = num(positional[1], 'offset');
      if (off === null) return 1;
    }
    if (positional[2] !== undefined) {
      len = num(positional[2], 'length');
      if (len === null) return 1;
    }
    const dev = /^\/dev\/vd[a-z]$/.test(path) ? blockDevice(this.os, path.slice(5)) : undefined;
    if (!dev) {
      sh.print(`hexdump: ${path}: No such file or directory\nhexdump: all input file arguments failed\n`);
      return 1;
    }
    return this.dump(new BlockFile(dev), path, off ?? 0, len ?? 256, sh);
  }

  private *dump(f: BlockFile, path: string, offset: number, len: number, sh: Shell): Routine<number> {
    if (len <= 0) return 0;
    const start = Math.min(offset, f.size);
    const end = Math.min(offset + len, f.size);
    const fmt = new HexdumpFormatter(start);
    for (let pos = start; pos < end;) {
      if (sh.interrupted) return 130;
      const n = Math.min(end - pos, 64 * 1024);
      const got: Uint8Array | number = yield call(f.pread(pos, n));
      if (typeof got === 'number') {
        const text = fmt.text();
        sh.print(`${text}hexdump: ${path}: ${strerror(got)}\n`);
        return 1;
      }
      fmt.push(got);
      sh.print(fmt.text());
      pos += n;
    }
    sh.print(fmt.finish());
    return 0;
  }
}

export function hexdumpCommand(os: CardOs): ShellCommand {
  const h = new Hexdump(os);
  return {
    help: 'show disk bytes as hexdump -C: hexdump /dev/vda [offset] [length]',
    run: (args, sh) => h.run(args, sh),
  };
}
