// The shell's tiny read-only file system: /, /bin, /dev, /etc and the /proc files a person
// looks at first (cpuinfo, meminfo, uptime, version, cmdline), as the card's Linux shows them.
// Each file's text is made when it is read, from the kernel's state (FsSources).

import type { CpuDescription } from '../../card/x100Cpu.ts';
import { cpuinfoText } from './cpuinfo.ts';

export interface Uname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
}

/** Where the files' contents come from. */
export interface FsSources {
  /** Every command the shell has (for /bin). */
  commandNames(): string[];
  /** Names under /dev. */
  devices(): string[];
  uname(): Uname;
  cpu(): CpuDescription;
  /** The kernel command line, without the trailing newline. */
  cmdline(): string;
  /** Virtual nanoseconds since the card OS started. */
  uptimeNs(): number;
  memTotalKiB(): number;
}

export type FsNode =
  { kind: 'dir'; entries: () => string[] } | { kind: 'file'; content: () => string } | { kind: 'dev' };

/** Two digits, zero-padded (clock fields). */
export function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Uptime split into whole seconds and hundredths, from virtual nanoseconds (never negative). */
export function uptimeParts(ns: number): { sec: number; centi: number } {
  const v = Number(ns);
  const safe = Number.isFinite(v) && v > 0 ? v : 0;
  const centiTotal = Math.floor(safe / 10_000_000);
  return { sec: Math.floor(centiTotal / 100), centi: centiTotal % 100 };
}

/** The node at an absolute, normalised path, or null. */
export function lookup(path: string, src: FsSources): FsNode | null {
  const dir = (entries: () => string[]): FsNode => ({ kind: 'dir', entries });
  const file = (content: () => string): FsNode => ({ kind: 'file', content });
  switch (path) {
    case '/':
      return dir(() => ['bin', 'dev', 'etc', 'proc', 'root', 'sys', 'tmp']);
    case '/bin':
      return dir(() => ['sh', ...src.commandNames()]);
    case '/dev':
      return dir(() => src.devices());
    case '/etc':
      return dir(() => ['hostname', 'passwd']);
    case '/etc/hostname':
      return file(() => src.uname().nodename + '\n');
    case '/etc/passwd':
      return file(() => 'root:x:0:0:root:/root:/bin/sh\n');
    case '/proc':
      return dir(() => ['cmdline', 'cpuinfo', 'meminfo', 'uptime', 'version']);
    case '/proc/cpuinfo':
      return file(() => cpuinfoText(src.cpu()));
    case '/proc/meminfo':
      return file(() => meminfoText(src.memTotalKiB()));
    case '/proc/version':
      return file(() => {
        const u = src.uname();
        return `${u.sysname} version ${u.release} (root@mic-build) (gcc version 4.7.0 (GCC) ) ${u.version}\n`;
      });
    case '/proc/uptime':
      return file(() => {
        const { sec, centi } = uptimeParts(src.uptimeNs());
        // Idle time is summed over all logical CPUs, as Linux does; the card is idle.
        const c = src.cpu();
        const cpus = Math.max(1, Math.floor(Number(c?.cores) * Number(c?.threadsPerCore)) || 1);
        const idleCenti = (sec * 100 + centi) * cpus;
        return `${sec}.${two(centi)} ${Math.floor(idleCenti / 100)}.${two(idleCenti % 100)}\n`;
      });
    case '/proc/cmdline':
      return file(() => src.cmdline() + '\n');
    case '/root':
    case '/tmp':
      return dir(() => []);
    case '/sys':
      return dir(() => ['block', 'bus', 'class', 'devices', 'kernel']);
  }
  if (path.startsWith('/dev/')) {
    const name = path.slice(5);
    if (src.devices().includes(name)) return { kind: 'dev' };
  }
  return null;
}

/** /proc/meminfo of a freshly booted card with this much memory. */
export function meminfoText(memTotalKiB: number): string {
  const raw = Math.floor(Number(memTotalKiB));
  const total = Number.isFinite(raw) && raw > 0 ? raw : 0;
  // A freshly booted card: a little page cache and slab, no swap. Deterministic fractions.
  const cached = Math.floor(total / 256);
  const buffers = Math.floor(total / 4096);
  const slab = Math.floor(total / 512);
  const used = Math.floor(total / 64);
  const free = Math.max(0, total - used - cached - buffers - slab);
  const rows: [string, number][] = [
    ['MemTotal', total],
    ['MemFree', free],
    ['Buffers', buffers],
    ['Cached', cached],
    ['SwapCached', 0],
    ['Active', Math.floor((cached + buffers) / 2)],
    ['Inactive', cached + buffers - Math.floor((cached + buffers) / 2)],
    ['SwapTotal', 0],
    ['SwapFree', 0],
    ['Dirty', 0],
    ['Shmem', 0],
    ['Slab', slab],
  ];
  // Linux: "%-16s%8lu kB" in effect (label and colon padded to 16 columns).
  return rows.map(([k, v]) => `${(k + ':').padEnd(16)}${String(v).padStart(8)} kB\n`).join('');
}
