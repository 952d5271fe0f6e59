// dd (coreutils operands, messages and summary) over the card's block devices, the console and
// the /dev nodes. Asynchronous: it returns a routine the card OS runs as a task; the prompt
// comes back when it ends. Time in the summary is the card's virtual time.

import { E, strerror } from '../../errno.ts';
import { call, type Routine, sleep } from '../../sim/scheduler.ts';
import { BlockFile } from '../blockFile.ts';
import type { CardOs } from '../cardOs.ts';
import { blockDevice } from '../virtioBlock.ts';
import { formatG, humanBytes, humanRate, quote } from './format.ts';
import type { Shell, ShellCommand } from './shell.ts';

const { ENOENT, EINVAL, ENOSPC, EROFS } = E;

/** coreutils dd's closing statistics (records in / out, then the transfer line). */
export function ddSummary(
  st: { rFull: number; rPartial: number; wFull: number; wPartial: number; bytes: number },
  elapsedNs: number,
  noxfer = false,
): string {
  let s = `${st.rFull}+${st.rPartial} records in\n${st.wFull}+${st.wPartial} records out\n`;
  if (noxfer) return s;
  const si = humanBytes(st.bytes, 1000);
  const iec = humanBytes(st.bytes, 1024);
  const secs = `${formatG(elapsedNs / 1e9)} s`;
  const rate = humanRate(st.bytes, elapsedNs);
  if (si.endsWith(' B')) s += `${st.bytes} byte${st.bytes === 1 ? '' : 's'} copied, ${secs}, ${rate}\n`;
  else if (iec.endsWith(' B')) s += `${st.bytes} bytes (${si}) copied, ${secs}, ${rate}\n`;
  else s += `${st.bytes} bytes (${si}, ${iec}) copied, ${secs}, ${rate}\n`;
  return s;
}

/**
 * dd's numbers: decimal with an optional multiplicative suffix (c 1, w 2, b 512, kB 1000,
 * K/KiB 1024, MB, M/MiB, GB, G … Y) and `x` products ("2x512"). null when invalid.
 */
export function parseDdNumber(text: string): number | null {
  const parts = text.split('x');
  let result = 1;
  for (const p of parts) {
    const m = /^(\d+)(.*)$/.exec(p);
    if (!m) return null;
    let mult: number;
    const suf = m[2];
    if (suf === '') mult = 1;
    else if (suf === 'c') mult = 1;
    else if (suf === 'w') mult = 2;
    else if (suf === 'b') mult = 512;
    else {
      const u = /^([kKMGTPEZY])(B|iB)?$/.exec(suf);
      if (!u) return null;
      const exp = 'kKMGTPEZY'.indexOf(u[1]) === 0 ? 1 : 'KMGTPEZY'.indexOf(u[1]) + 1;
      mult = (u[2] === 'B' ? 1000 : 1024) ** exp;
    }
    result *= Number(m[1]) * mult;
  }
  return Number.isSafeInteger(result) ? result : null;
}

const DD_MAX_BLOCK = 64 * 2 ** 20;
const CONSOLE_NODES = new Set(['/dev/console', '/dev/hvc0', '/dev/tty', '/dev/stdout', '/dev/stderr']);
const DISCARD_NODES = new Set(['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom']);

interface DdSource {
  name: string;
  read(n: number): Routine<Uint8Array | number>;
  /** Move the position by skip·ibs bytes. false if that is past the end. */
  skip(bytes: number): boolean;
}

interface DdSink {
  name: string;
  /** Bytes written (all of them, or fewer with an errno), as iwrite() reports. */
  write(data: Uint8Array): Routine<{ written: number; error: number }>;
  /** Position by seek·obs bytes. */
  seek(bytes: number): void;
  fsync(): Routine<number>;
}

function parseHex(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A routine that is done at once (sources and sinks that need no I/O). */
// eslint-disable-next-line require-yield
function* done<T>(value: T): Routine<T> {
  return value;
}

class DdUsageError extends Error {}

interface DdOptions {
  input: string | null;
  output: string | null;
  ibs: number;
  obs: number;
  bsGiven: boolean;
  count: number | null;
  skip: number;
  seek: number;
  conv: Set<string>;
  status: 'default' | 'none' | 'noxfer' | 'progress';
}

function parseDdArgs(args: string[]): DdOptions {
  const o: DdOptions = {
    input: null,
    output: null,
    ibs: 512,
    obs: 512,
    bsGiven: false,
    count: null,
    skip: 0,
    seek: 0,
    conv: new Set(),
    status: 'default',
  };
  const num = (v: string, positive: boolean): number => {
    const n = parseDdNumber(v);
    if (n === null || (positive && n <= 0)) throw new DdUsageError(`dd: invalid number: ${quote(v)}\n`);
    return n;
  };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) {
      throw new DdUsageError(`dd: unrecognized operand ${quote(a)}\nTry 'dd --help' for more information.\n`);
    }
    const key = a.slice(0, eq);
    const val = a.slice(eq + 1);
    switch (key) {
      case 'if':
        o.input = val;
        break;
      case 'of':
        o.output = val;
        break;
      case 'bs':
        o.ibs = o.obs = num(val, true);
        o.bsGiven = true;
        break;
      case 'ibs':
        o.ibs = num(val, true);
        break;
      case 'obs':
        o.obs = num(val, true);
        break;
      case 'count':
        o.count = num(val, false);
        break;
      case 'skip':
      case 'iseek':
        o.skip = num(val, false);
        break;
      case 'seek':
      case 'oseek':
        o.seek = num(val, false);
        break;
      case 'conv':
        for (const c of val.split(',')) {
          if (!['notrunc', 'fsync', 'fdatasync', 'sync'].includes(c))
            throw new DdUsageError(
              `dd: invalid conversion: ${quote(c)}\nTry 'dd --help' for more information.\n`,
            );
          o.conv.add(c);
        }
        break;
      case 'iflag':
      case 'oflag':
        for (const f of val.split(',')) {
          if (!['direct', 'dsync', 'sync', 'fullblock', 'nocache', 'noatime', 'nonblock'].includes(f))
            throw new DdUsageError(
              `dd: invalid ${key === 'iflag' ? 'input' : 'output'} flag: ${quote(f)}\nTry 'dd --help' for more information.\n`,
            );
        }
        break;
      case 'status':
        if (val !== 'none' && val !== 'noxfer' && val !== 'progress')
          throw new DdUsageError(
            `dd: invalid status level: ${quote(val)}\nTry 'dd --help' for more information.\n`,
          );
        o.status = val;
        break;
      default:
        throw new DdUsageError(
          `dd: unrecognized operand ${quote(a)}\nTry 'dd --help' for more information.\n`,
        );
    }
  }
  if (o.bsGiven) o.obs = o.ibs;
  if (o.ibs > DD_MAX_BLOCK || o.obs > DD_MAX_BLOCK) {
    const n = Math.max(o.ibs, o.obs);
    throw new DdUsageError(
      `dd: memory exhausted by ${o.ibs >= o.obs ? 'input' : 'output'} buffer of size ${n} bytes (${humanBytes(n, 1024)})\n`,
    );
  }
  return o;
}

const DD_HELP = `Usage: dd [OPERAND]...
Copy a file, converting and formatting according to the operands.

  bs=BYTES        read and write up to BYTES bytes at a time (default: 512)
  count=N         copy only N input blocks
  ibs=BYTES       read up to BYTES bytes at a time (default: 512)
  if=FILE         read from FILE instead of stdin
  obs=BYTES       write BYTES bytes at a time (default: 512)
  of=FILE         write to FILE instead of stdout
  seek=N          skip N obs-sized blocks at start of output
  skip=N          skip N ibs-sized blocks at start of input
  conv=CONVS      notrunc, sync (pad input blocks with NULs), fsync, fdatasync
  status=LEVEL    none, noxfer or progress

Sources: /dev/vda, /dev/zero, /dev/null, pattern:HEXBYTES (those bytes repeated).
Sinks: /dev/vda, /dev/null, the console (no of=).
N and BYTES may be followed by: c=1, w=2, b=512, kB=1000, K=1024, MB=1000*1000,
M=1024*1024, GB, G and so on for T, P, E, Z, Y.
`;

class Dd {
  constructor(readonly os: CardOs) {}

  private openSource(path: string): DdSource | number {
    if (path === '/dev/vda' || /^\/dev\/vd[a-z]$/.test(path)) {
      const dev = blockDevice(this.os, path.slice(5));
      if (!dev) return -ENOENT;
      const f = new BlockFile(dev);
      let pos = 0;
      return {
        name: path,
        *read(n) {
          const got: Uint8Array | number = yield call(f.pread(pos, n));
          if (typeof got !== 'number') pos += got.length;
          return got;
        },
        skip(bytes) {
          if (bytes > f.size) {
            pos = f.size;
            return false;
          }
          pos = bytes;
          return true;
        },
      };
    }
    if (path === '/dev/zero') {
      return {
        name: path,
        read: (n) => done(new Uint8Array(n)),
        skip: () => true,
      };
    }
    if (path === '/dev/random' || path === '/dev/urandom') {
      // Deterministic: the machine never reads a real random source.
      let x = 0x2545f491;
      return {
        name: path,
        read(n) {
          const b = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            b[i] = x & 0xff;
          }
          return done(b);
        },
        skip: () => true,
      };
    }
    if (path.startsWith('pattern:')) {
      const pat = parseHex(path.slice(8));
      if (!pat) return -EINVAL;
      let pos = 0;
      return {
        name: path,
        read(n) {
          const b = new Uint8Array(n);
          for (let i = 0; i < n; i++) b[i] = pat[(pos + i) % pat.length];
          pos += n;
          return done(b);
        },
        skip(bytes) {
          pos = bytes;
          return true;
        },
      };
    }
    if (path === '/dev/null' || CONSOLE_NODES.has(path) || path === '/dev/stdin') {
      // End of file at once (the console as input is not wired to dd).
      return {
        name: path,
        read: () => done(new Uint8Array(0)),
        skip: () => true,
      };
    }
    return -ENOENT;
  }

  private openSink(path: string, sh: Shell): DdSink | number {
    if (/^\/dev\/vd[a-z]$/.test(path)) {
      const dev = blockDevice(this.os, path.slice(5));
      if (!dev) return -ENOENT;
      const f = new BlockFile(dev);
      let pos = 0;
      return {
        name: path,
        *write(data) {
          let written = 0;
          while (written < data.length) {
            const rc: number = yield call(f.pwrite(pos, data.subarray(written)));
            if (rc < 0) return { written, error: rc };
            if (rc === 0) return { written, error: -ENOSPC };
            written += rc;
            pos += rc;
          }
          return { written, error: 0 };
        },
        seek(bytes) {
          pos = bytes;
        },
        fsync: () => dev.flush(),
      };
    }
    if (DISCARD_NODES.has(path)) {
      return {
        name: path,
        write: (data) => done({ written: data.length, error: 0 }),
        seek() {},
        fsync: () => done(0),
      };
    }
    if (path === '' || CONSOLE_NODES.has(path)) {
      return {
        name: path || 'standard output',
        write(data) {
          sh.print(new TextDecoder().decode(data));
          return done({ written: data.length, error: 0 });
        },
        seek() {},
        fsync: () => done(0),
      };
    }
    return path.startsWith('/dev/') ? -ENOENT : -EROFS;
  }

  /** `dd`: parse at once (usage errors print synchronously), copy in a routine. */
  run(args: string[], sh: Shell): number | Routine<number> {
    if (args.includes('--help')) {
      sh.print(DD_HELP);
      return 0;
    }
    if (args.includes('--version')) {
      sh.print('dd (GNU coreutils) 8.32\n');
      return 0;
    }
    let o: DdOptions;
    try {
      o = parseDdArgs(args);
    } catch (e) {
      if (e instanceof DdUsageError) {
        sh.print(e.message);
        return 1;
      }
      throw e;
    }
    const src = o.input === null ? this.openSource('/dev/stdin') : this.openSource(o.input);
    if (typeof src === 'number') {
      sh.print(`dd: failed to open ${quote(o.input ?? '')}: ${strerror(src)}\n`);
      return 1;
    }
    const sink = o.output === null ? this.openSink('', sh) : this.openSink(o.output, sh);
    if (typeof sink === 'number') {
      sh.print(`dd: failed to open ${quote(o.output ?? '')}: ${strerror(sink)}\n`);
      return 1;
    }
    return this.ddCopy(o, src, sink, sh);
  }

  private *ddCopy(o: DdOptions, src: DdSource, sink: DdSink, sh: Shell): Routine<number> {
    const os = this.os;
    const quiet = o.status === 'none';
    const st = { rFull: 0, rPartial: 0, wFull: 0, wPartial: 0, bytes: 0 };
    let exit = 0;
    // Past the end is not fatal (POSIX leaves it open); dd says so and reads nothing.
    if (o.skip > 0 && !src.skip(o.skip * o.ibs) && !quiet)
      sh.print(`dd: ${src.name}: cannot skip to specified offset\n`);
    if (o.seek > 0) sink.seek(o.seek * o.obs);
    const start = os.sched.now;
    let obuf = new Uint8Array(0);
    const reblock = !o.bsGiven;
    let interrupted = false;
    let failed = false;
    /**
     * One write with coreutils' bookkeeping. 'block': a bs= block as read (dd_copy), 'obs': a
     * full reblocked block (write_output), 'rest': the last partial reblocked block.
     */
    const writeBlock = function* (block: Uint8Array, kind: 'block' | 'obs' | 'rest'): Routine<boolean> {
      const r: { written: number; error: number } = yield call(sink.write(block));
      st.bytes += r.written;
      if (kind !== 'block' && r.error && r.written > 0) st.wPartial++;
      if (r.error) {
        const how = kind === 'obs' ? 'writing to' : 'error writing';
        sh.print(`dd: ${how} ${quote(sink.name)}: ${strerror(r.error)}\n`);
        return false;
      }
      if (kind === 'rest' || (kind === 'block' && block.length < o.ibs)) st.wPartial++;
      else st.wFull++;
      return true;
    };
    for (;;) {
      if (o.count !== null && st.rFull + st.rPartial >= o.count) break;
      if (sh.interrupted) {
        interrupted = true;
        break;
      }
      const got: Uint8Array | number = yield call(src.read(o.ibs));
      if (typeof got === 'number') {
        sh.print(`dd: error reading ${quote(src.name)}: ${strerror(got)}\n`);
        exit = 1;
        break;
      }
      if (got.length === 0) break;
      // The CPU's share of moving the block (about 8 bytes/ns); it also lets a copy between
      // /dev/zero and /dev/null give the machine (and Ctrl-C) a turn.
      yield sleep(Math.ceil(got.length / 8));
      if (got.length === o.ibs) st.rFull++;
      else st.rPartial++;
      let block = got;
      if (o.conv.has('sync') && block.length < o.ibs) {
        block = new Uint8Array(o.ibs);
        block.set(got);
      }
      if (!reblock) {
        if (!(yield call(writeBlock(block, 'block')))) {
          failed = true;
          break;
        }
        continue;
      }
      const merged = new Uint8Array(obuf.length + block.length);
      merged.set(obuf);
      merged.set(block, obuf.length);
      obuf = merged;
      let off = 0;
      while (obuf.length - off >= o.obs) {
        if (!(yield call(writeBlock(obuf.subarray(off, off + o.obs), 'obs')))) {
          failed = true;
          break;
        }
        off += o.obs;
      }
      obuf = obuf.slice(off);
      if (failed) break;
    }
    if (!failed && reblock && obuf.length > 0 && !interrupted) {
      if (!(yield call(writeBlock(obuf, 'rest')))) failed = true;
    }
    if (failed) exit = 1;
    if (!failed && exit === 0 && (o.conv.has('fsync') || o.conv.has('fdatasync'))) {
      const rc: number = yield call(sink.fsync());
      if (rc < 0) {
        sh.print(`dd: fsync failed for ${quote(sink.name)}: ${strerror(rc)}\n`);
        exit = 1;
      }
    }
    if (!quiet) sh.print(ddSummary(st, os.sched.now - start, o.status === 'noxfer'));
    return interrupted ? 130 : exit;
  }
}

export function ddCommand(os: CardOs): ShellCommand {
  const dd = new Dd(os);
  return {
    help: 'copy blocks: dd if=/dev/zero|/dev/vda|pattern:HEX of=/dev/vda|/dev/null bs= count= skip= seek=',
    run: (args, sh) => dd.run(args, sh),
  };
}
