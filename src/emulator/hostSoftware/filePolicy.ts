// What the host side may do with the files a person names (launch `disk`/`pcap`/`trace`, the
// CLI's --disk/--pcap/--trace, the host command `disk micN PATH`). One policy, written in
// README.md ("Files the emulator opens") and applied the same way everywhere:
//
// - Only regular files. A directory, FIFO, socket or device (`/dev/stdout`) is refused; opening
//   never blocks (O_NONBLOCK), so a FIFO cannot freeze the adapter.
// - A missing file is created (disk images sparse, diskSizeMiB long) in a folder that exists;
//   folders are not created (except the default cache folder). New files are 0644 whatever the
//   umask.
// - A disk image that exists must look like one: not empty, a whole number of 512-byte
//   sectors, and writable unless it is used read-only.
// - A pcap or trace that exists is replaced only if it is one of ours (a pcap header, a trace's
//   first line) or empty, unless `overwrite` says so.
// - Symbolic links: a link named as the file itself must point at an existing file inside the
//   workspace (the launch `cwd`, else the adapter's or CLI's working folder); files are never
//   created through a link. Folders named on the way are the person's choice and are followed.
// - Two attributes never name the same file.
//
// Checks use stat only: nothing is opened or created until every named file has passed.

import * as fs from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

export type FileRole = 'disk' | 'pcap' | 'trace' | 'perfetto' | 'recording';

export interface FilePolicyOptions {
  /** The folder relative paths resolve against, and that links must stay inside. */
  workspace: string;
  /** Replace an existing pcap/trace file that is not ours. */
  overwrite?: boolean;
  /** For disks: the image is used read-only (no write access needed). */
  readonly?: boolean;
}

const SECTOR = 512;
const OUTPUT_KIND = {
  pcap: 'pcap capture',
  trace: 'trace',
  perfetto: 'Perfetto export',
  recording: 'recording',
} as const;
const PCAP_MAGICS = ['d4c3b2a1', 'a1b2c3d4', '4d3cb2a1', 'a1b23c4d'];

/** `~/x`, `${workspaceFolder}/x`, relative paths → absolute, as the adapter and CLI take them. */
export function expandPath(p: string, workspace: string, home: string): string {
  let s = p;
  if (s === '~' || s.startsWith('~/')) s = home + s.slice(1);
  s = s.replace(/\$\{workspaceFolder\}/g, workspace);
  return resolve(workspace, s);
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Where `path` really leads, by the link rule. Returns the stat of the file it names (null if
 * it does not exist and may be created there) or an error text.
 */
function follow(path: string, opts: FilePolicyOptions): { st: fs.Stats | null } | string {
  let lst: fs.Stats;
  try {
    lst = fs.lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `cannot look at it (${code})`;
    const dir = dirname(path);
    let dst: fs.Stats;
    try {
      dst = fs.statSync(dir);
    } catch {
      return `the folder ${dir} does not exist`;
    }
    if (!dst.isDirectory()) return `${dir} is not a folder`;
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      return `it does not exist and the folder ${dir} is not writable`;
    }
    return { st: null };
  }
  if (lst.isSymbolicLink()) {
    let target: string;
    try {
      target = fs.realpathSync(path);
    } catch {
      return `is a symbolic link to a missing file (${fs.readlinkSync(path)}); files are not created through links`;
    }
    const ws = realOr(opts.workspace);
    if (!inside(target, ws))
      return `is a symbolic link to ${target}, outside the workspace ${ws}; name the file itself`;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    return `cannot look at it (${(e as NodeJS.ErrnoException).code})`;
  }
  if (!st.isFile()) return `is ${kindOf(st)}, not a regular file`;
  return { st };
}

function readable(path: string, mode: number): boolean {
  try {
    fs.accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Is the existing file at `path` a pcap or trace of ours (or empty)? */
function looksOurs(path: string, role: Exclude<FileRole, 'disk'>, size: number): boolean {
  if (size === 0) return true;
  let fd = -1;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const b = Buffer.alloc(16);
    const n = fs.readSync(fd, b, 0, 16, 0);
    if (role === 'pcap') return n >= 4 && PCAP_MAGICS.includes(b.subarray(0, 4).toString('hex'));
    const head = b.subarray(0, n).toString('latin1');
    // A Perfetto export begins with its PERFETTO_MAGIC (sim/trace/perfetto.ts; 16 bytes of it).
    // A recording begins with its header (timeTravel/recordingFile.ts: RECORDING_MAGIC).
    if (role === 'recording') return head === '{"format":"mic-e';
    return role === 'perfetto' ? head === '[{"name":"mic-em' : head.startsWith('{"seq":');
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/**
 * Check one file a person named for `role`, before anything opens it. Returns null when it may
 * be used, or what is wrong, in words that follow the path ("is a directory, not a regular file").
 */
export function checkFile(path: string, role: FileRole, opts: FilePolicyOptions): string | null {
  const r = follow(path, opts);
  if (typeof r === 'string') return r;
  const st = r.st;
  if (role === 'disk') {
    if (!st) return null; // created sparse, diskSizeMiB long
    if (st.size === 0)
      return 'is empty (0 bytes), not a disk image; delete it to have a new image created, or name another';
    if (st.size % SECTOR !== 0)
      return `is ${st.size} bytes, not a whole number of 512-byte sectors: not a disk image`;
    if (!readable(path, fs.constants.R_OK)) return 'is not readable';
    if (!opts.readonly && !readable(path, fs.constants.W_OK))
      return 'is not writable; use it read-only (diskReadonly: true, --disk-readonly, or `ro`) or name a writable image';
    return null;
  }
  if (!st) return null;
  if (!readable(path, fs.constants.W_OK)) return 'is not writable';
  if (!opts.overwrite && !looksOurs(path, role, st.size))
    return `exists and is not a ${OUTPUT_KIND[role]} written by the emulator; set overwrite: true (--overwrite) to replace it`;
  return null;
}

/** A named file, for checkFiles: the attribute a person wrote and the path it gives. */
export interface NamedFile {
  /** How the error names it: `launch attribute 'disk'`, `--pcap`, `disk (mic1)`. */
  label: string;
  path: string;
  role: FileRole;
}

/** Check every named file, and that no two name the same file. The first problem, or null. */
export function checkFiles(files: NamedFile[], opts: FilePolicyOptions): string | null {
  const seen = new Map<string, string>();
  for (const f of files) {
    const e = checkFile(f.path, f.role, opts);
    if (e)
      return `${f.label}: ${f.path} ${e.startsWith('the folder') || e.startsWith('it ') ? `cannot be used: ${e}` : e}`;
    const key = realOr(f.path);
    const other = seen.get(key);
    if (other) return `${f.label}: ${f.path} is the same file as ${other}`;
    seen.set(key, f.label);
  }
  return null;
}

/**
 * Open a pcap or trace file for writing, by the policy (checked before with checkFile): never
 * blocks, never follows a link out of the checked path, only a regular file, 0644 when created,
 * emptied only once it is known to be a regular file. Throws an Error with a plain message.
 * `append`: every write goes to the file's end (a file cut back while open: time travel).
 */
export function openOutputFile(path: string, append = false): number {
  let target = path;
  let existed = true;
  try {
    if (fs.lstatSync(path).isSymbolicLink()) target = fs.realpathSync(path);
  } catch {
    existed = false;
  }
  const c = fs.constants;
  const flags = c.O_WRONLY | c.O_CREAT | c.O_NOFOLLOW | c.O_NONBLOCK | (append ? c.O_APPEND : 0);
  const fd = fs.openSync(target, flags, 0o644);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is ${kindOf(st)}, not a regular file`);
    if (!existed) fs.fchmodSync(fd, 0o644);
    fs.ftruncateSync(fd, 0);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
