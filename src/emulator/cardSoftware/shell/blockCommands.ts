// Shell commands that do real block I/O through the card's virtio_blk driver: `dd` (coreutils
// operands, messages and summary), `hexdump` (`hexdump -C` format) and `sync` (FLUSH). They are
// asynchronous: each returns a routine the card OS runs as a task; the prompt comes back when
// it ends. Time in dd's summary is the card's virtual time.
//
// /dev/vda is reached like a Linux block device without a page cache: byte positions map to
// sectors, a write that does not cover whole sectors is a read-modify-write, a write at or past
// the end of the device fails with ENOSPC after what fits was written.

import { call, type Routine, sleep } from '../../sim/scheduler.ts';
import type { CardOs } from '../cardOs.ts';
import {
  EINVAL,
  EIO,
  ENODEV,
  ENOMEM,
  ENOSPC,
  EOPNOTSUPP,
  EROFS,
  SECTOR_SIZE,
  blockDevice,
  blockDevices,
  type VirtioBlock,
} from '../virtioBlock.ts';
import type { Shell, ShellCommand } from './shell.ts';

const ENOENT = 2;

const STRERROR: Record<number, string> = {
  [ENOENT]: 'No such file or directory',
  [EIO]: 'Input/output error',
  [ENOMEM]: 'Cannot allocate memory',
  [ENODEV]: 'No such device',
  [EINVAL]: 'Invalid argument',
  [ENOSPC]: 'No space left on device',
  [EROFS]: 'Read-only file system',
  [EOPNOTSUPP]: 'Operation not supported',
};

export function strerror(neg: number): string {
  return STRERROR[-neg] ?? STRERROR[neg] ?? `Unknown error ${Math.abs(neg)}`;
}

// ---- number formatting as coreutils does it ----------------------------------------------------

const POWER_LETTERS = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y', 'R', 'Q'];
const EXPONENT_MAX = POWER_LETTERS.length - 1;

function unitSuffix(exponent: number, base: number): string {
  if (exponent === 0) return 'B';
  const letter = base === 1000 && exponent === 1 ? 'k' : POWER_LETTERS[exponent];
  return `${letter}${base === 1024 ? 'i' : ''}B`;
}

/** gnulib human_readable's integer path (autoscale, round to nearest, " " before the unit, "B"). */
function humanInteger(amt: number, tenths: number, rounding: number, base: number): string {
  let exponent = 0;
  let frac = '';
  if (base <= amt) {
    do {
      const r10 = (amt % base) * 10 + tenths;
      const r2 = (r10 % base) * 2 + (rounding >> 1);
      amt = Math.floor(amt / base);
      tenths = Math.floor(r10 / base);
      rounding = r2 < base ? (r2 + rounding !== 0 ? 1 : 0) : 2 + (base < r2 + rounding ? 1 : 0);
      exponent++;
    } while (base <= amt && exponent < EXPONENT_MAX);
    if (amt < 10) {
      if (2 < rounding + (tenths & 1)) {
        tenths++;
        rounding = 0;
        if (tenths === 10) {
          amt++;
          tenths = 0;
        }
      }
      if (amt < 10) {
        frac = `.${tenths}`;
        tenths = rounding = 0;
      }
    }
  }
  if (5 < tenths + (0 < rounding + (amt % 2) ? 1 : 0)) {
    amt++;
    if (amt === base && exponent < EXPONENT_MAX) {
      exponent++;
      frac = '.0';
      amt = 1;
    }
  }
  return `${amt}${frac} ${unitSuffix(exponent, base)}`;
}

/** A byte count as dd shows it: "524 kB" (base 1000) or "512 KiB" (base 1024). */
export function humanBytes(n: number, base: 1000 | 1024): string {
  return humanInteger(Math.max(0, Math.floor(n)), 0, 0, base);
}

/**
 * dd's rate: human_readable(bytes, from = 10⁹, to = elapsed ns) with SI units and "/s". The
 * integer paths apply when one block size divides the other, else the floating-point path.
 */
export function humanRate(bytes: number, elapsedNs: number): string {
  if (elapsedNs <= 0) return 'Infinity B/s';
  const from = 1e9;
  const to = Math.round(elapsedNs);
  if (to <= from && from % to === 0) {
    const amt = bytes * (from / to);
    if (Number.isSafeInteger(amt)) return `${humanInteger(amt, 0, 0, 1000)}/s`;
  } else if (to % from === 0) {
    const divisor = to / from;
    const r10 = (bytes % divisor) * 10;
    const r2 = (r10 % divisor) * 2;
    const rounding = r2 < divisor ? (0 < r2 ? 1 : 0) : 2 + (divisor < r2 ? 1 : 0);
    return `${humanInteger(Math.floor(bytes / divisor), Math.floor(r10 / divisor), rounding, 1000)}/s`;
  }
  let damt = bytes * (from / to);
  let e = 1;
  let exponent = 0;
  do {
    e *= 1000;
    exponent++;
  } while (e * 1000 <= damt && exponent < EXPONENT_MAX);
  damt /= e;
  let s = damt.toFixed(1);
  if (s.length > 4) s = damt.toFixed(0);
  return `${s} ${unitSuffix(exponent, 1000)}/s`;
}

/** C's printf("%g", v): 6 significant digits, exponent form below 1e-4 or from 1e6. */
export function formatG(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const exp = Number(v.toExponential(5).split('e')[1]);
  if (exp < -4 || exp >= 6) {
    const [mant, ex] = v.toExponential(5).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(ex);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

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

// ---- /dev/vda as a byte-addressed file --------------------------------------------------------

/** Byte positions on a virtio_blk disk; unaligned writes are read-modify-write. */
export class BlockFile {
  constructor(readonly dev: VirtioBlock) {}

  get size(): number {
    return this.dev.sizeBytes;
  }

  /** Up to len bytes at pos (fewer at the end, none past it), or −errno. */
  *pread(pos: number, len: number): Routine<Uint8Array | number> {
    if (pos >= this.size || len <= 0) return new Uint8Array(0);
    const n = Math.min(len, this.size - pos);
    const first = Math.floor(pos / SECTOR_SIZE);
    const last = Math.ceil((pos + n) / SECTOR_SIZE);
    const got: Uint8Array | number = yield call(this.dev.read(first, last - first));
    if (typeof got === 'number') return got;
    const off = pos - first * SECTOR_SIZE;
    return got.subarray(off, off + n);
  }

  /** Write at pos what fits before the end; −ENOSPC at or past the end; or −errno. */
  *pwrite(pos: number, data: Uint8Array): Routine<number> {
    if (data.length === 0) return 0;
    if (pos >= this.size) return -ENOSPC;
    const n = Math.min(data.length, this.size - pos);
    const chunk = data.subarray(0, n);
    if (pos % SECTOR_SIZE === 0 && n % SECTOR_SIZE === 0) {
      const rc: number = yield call(this.dev.write(pos / SECTOR_SIZE, chunk));
      return rc < 0 ? rc : n;
    }
    if (this.dev.readOnly) return -EROFS;
    const first = Math.floor(pos / SECTOR_SIZE);
    const last = Math.ceil((pos + n) / SECTOR_SIZE);
    const old: Uint8Array | number = yield call(this.dev.read(first, last - first));
    if (typeof old === 'number') return old;
    const buf = new Uint8Array(old);
    buf.set(chunk, pos - first * SECTOR_SIZE);
    const rc: number = yield call(this.dev.write(first, buf));
    return rc < 0 ? rc : n;
  }
}

// ---- dd ---------------------------------------------------------------------------------------

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

const quote = (s: string) => `'${s}'`;

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

export class BlockCommands {
  constructor(readonly os: CardOs) {}

  commands(): Record<string, ShellCommand> {
    return {
      dd: {
        help: 'copy blocks: dd if=/dev/zero|/dev/vda|pattern:HEX of=/dev/vda|/dev/null bs= count= skip= seek=',
        run: (args, sh) => this.dd(args, sh),
      },
      hexdump: {
        help: 'show disk bytes as hexdump -C: hexdump /dev/vda [offset] [length]',
        run: (args, sh) => this.hexdump(args, sh),
      },
      sync: {
        help: 'flush the block devices (virtio-blk FLUSH)',
        run: (args, sh) => this.sync(args, sh),
      },
    };
  }

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
  dd(args: string[], sh: Shell): number | Routine<number> {
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

  // ---- hexdump --------------------------------------------------------------------------------

  hexdump(args: string[], sh: Shell): number | Routine<number> {
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
    return this.hexdumpRun(new BlockFile(dev), path, off ?? 0, len ?? 256, sh);
  }

  private *hexdumpRun(f: BlockFile, path: string, offset: number, len: number, sh: Shell): Routine<number> {
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

  // ---- sync -----------------------------------------------------------------------------------

  sync(args: string[], sh: Shell): number | Routine<number> {
    const devs: { path: string; dev: VirtioBlock }[] = [];
    for (const a of args) {
      const dev = /^\/dev\/vd[a-z]$/.test(a) ? blockDevice(this.os, a.slice(5)) : undefined;
      if (!dev) {
        sh.print(`sync: error opening ${quote(a)}: No such file or directory\n`);
        return 1;
      }
      devs.push({ path: a, dev });
    }
    if (args.length === 0)
      for (const dev of blockDevices(this.os)) devs.push({ path: `/dev/${dev.diskName}`, dev });
    if (devs.length === 0) return 0;
    return this.syncRun(devs, sh, args.length > 0);
  }

  private *syncRun(devs: { path: string; dev: VirtioBlock }[], sh: Shell, named: boolean): Routine<number> {
    let exit = 0;
    for (const { path, dev } of devs) {
      const rc: number = yield call(dev.flush());
      if (rc < 0) {
        // sync(2) reports nothing; `sync FILE` (fsync) does.
        if (named) sh.print(`sync: error syncing ${quote(path)}: ${strerror(rc)}\n`);
        exit = 1;
      }
    }
    return exit;
  }
}

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

/** `hexdump -C` lines, fed in pieces: 16 bytes a line, `*` for repeated lines, final offset. */
export class HexdumpFormatter {
  private pending = new Uint8Array(0);
  private prev: Uint8Array | null = null;
  private squeezing = false;
  private out = '';
  constructor(private addr: number) {}

  private static hex8(n: number): string {
    return n.toString(16).padStart(8, '0');
  }

  private line(b: Uint8Array): string {
    let s = `${HexdumpFormatter.hex8(this.addr)}  `;
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      s += i < b.length ? `${b[i].toString(16).padStart(2, '0')} ` : '   ';
      if (i === 7) s += ' ';
      if (i < b.length) ascii += b[i] >= 0x20 && b[i] < 0x7f ? String.fromCharCode(b[i]) : '.';
    }
    return `${s} |${ascii}|\n`;
  }

  private emit(b: Uint8Array): void {
    const full = b.length === 16;
    if (full && this.prev && this.prev.every((v, i) => v === b[i])) {
      if (!this.squeezing) this.out += '*\n';
      this.squeezing = true;
    } else {
      this.squeezing = false;
      this.out += this.line(b);
    }
    this.prev = full ? b : null;
    this.addr += b.length;
  }

  push(bytes: Uint8Array): void {
    const all = new Uint8Array(this.pending.length + bytes.length);
    all.set(this.pending);
    all.set(bytes, this.pending.length);
    let i = 0;
    for (; i + 16 <= all.length; i += 16) this.emit(all.slice(i, i + 16));
    this.pending = all.slice(i);
  }

  /** Lines formatted so far (taken). */
  text(): string {
    const t = this.out;
    this.out = '';
    return t;
  }

  /** The last partial line and the final offset line. */
  finish(): string {
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = new Uint8Array(0);
    return `${this.text()}${HexdumpFormatter.hex8(this.addr)}\n`;
  }
}

/** The shell commands, keyed by name, for the shell (wired in cardModules.ts). */
export function blockCommands(os: CardOs): Record<string, ShellCommand> {
  return new BlockCommands(os).commands();
}
