// The small root shell on the card's virtio console (hvc0). Pure logic: raw key bytes in,
// console text out through ShellHost.write. The line discipline is tty.ts, the files it reads
// are procfs.ts; this file is the shell itself: a tiny word splitter, the dispatch of commands
// (built-in, registered, asynchronous) and a handful of busybox-like built-ins.
// Deterministic: it never reads the real clock or a random source.

import type { CpuDescription } from '../../card/x100Cpu.ts';
import { lookup, two, uptimeParts, type FsSources, type Uname } from './procfs.ts';
import { CLEAR_SCREEN, LineDiscipline, toCrlfParts } from './tty.ts';

export interface ShellCommand {
  help: string;
  /**
   * Output goes through host.write (or sh.print). May return an exit status (void means 0), or
   * a generator routine that does I/O over virtual time: the card OS runs it as a task
   * (ShellHost.spawn) and the next prompt appears when it returns its exit status.
   */
  run(args: string[], sh: Shell): unknown;
}

/** A generator routine as the card OS runs it (structural: the shell stays pure logic). */
export type AsyncCommand = Generator<unknown, number | void, unknown>;

export interface ShellHost {
  /** Send text to the console. The shell already turns '\n' into '\r\n' before calling this. */
  write(text: string): void;
  /** uname fields */
  uname(): Uname;
  /** The kernel log as dmesg prints it: lines like "[    0.000000] mic: device page found at 0x8000001000" */
  dmesg(): string;
  /** Names under /dev, e.g. ['console','hvc0','null','zero','vda','ttyS0'] */
  devices(): string[];
  /** Card CPU description for /proc/cpuinfo */
  cpu(): CpuDescription;
  /** Memory in KiB for /proc/meminfo MemTotal */
  memTotalKiB(): number;
  /** Virtual nanoseconds since the card OS started, for uptime */
  uptimeNs(): number;
  /** Orderly power transitions: the card OS does the device removal and shutdown doorbell. */
  poweroff(): void;
  reboot(): void;
  halt(): void;
  /** Extra commands registered by later features (block, net). Built-ins win on a name clash. */
  extraCommands?(): Record<string, ShellCommand>;
  /** The kernel command line for /proc/cmdline (without the trailing newline). */
  cmdline?(): string;
  /** Run an asynchronous command; call done(exitStatus) when it finishes. */
  spawn?(cmd: AsyncCommand, done: (status: number) => void): void;
  /**
   * A bug in the shell or in what it called (the shell goes on): the card OS reports it as the
   * machine reports any task's uncaught error (Machine.internalErrors, a rule-0 protocol error).
   */
  internalError?(err: unknown): void;
}

export interface ShellOptions {
  /** Fixed prompt; by default `[root@${nodename} ~]# ` with the node name read at each prompt. */
  prompt?: string;
}

/** `date` and `uptime` show this fixed wall clock plus the card's virtual uptime. */
export const SHELL_EPOCH_MS = Date.UTC(2015, 0, 1, 0, 0, 0); // Thu Jan  1 00:00:00 UTC 2015

const HOME = '/root';

const FALLBACK_UNAME: Uname = {
  sysname: 'Linux',
  nodename: 'mic0',
  release: 'unknown',
  version: '#1',
  machine: 'k1om',
};

interface Builtin {
  help: string;
  run(args: string[]): number;
}

type Parsed = { ok: true; words: string[] } | { ok: false; error: string };

/**
 * Split a command line into words: blanks separate, '…' is literal, "…" keeps blanks and
 * allows \" \\ \$ escapes, a backslash outside quotes escapes the next character, `$?` expands
 * to the last exit status (not inside '…'), and an unquoted # at a word start begins a comment.
 */
export function splitWords(line: string, status: number): Parsed {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: 'unterminated quoted string' };
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      inWord = true;
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i];
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n && '"\\$'.includes(line[i + 1])) {
          cur += line[i + 1];
          i += 2;
        } else if (c === '$' && line[i + 1] === '?') {
          cur += String(status);
          i += 2;
        } else {
          cur += c;
          i++;
        }
      }
      if (!closed) return { ok: false, error: 'unterminated quoted string' };
    } else if (ch === '\\') {
      if (i + 1 < n) cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (ch === '$' && line[i + 1] === '?') {
      cur += String(status);
      inWord = true;
      i += 2;
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return { ok: true, words };
}

function normalizePath(path: string): string {
  let p = path;
  if (p === '~' || p.startsWith('~/')) p = HOME + p.slice(1);
  if (!p.startsWith('/')) p = `${HOME}/${p}`;
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function isRoutine(r: unknown): r is AsyncCommand {
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof (r as AsyncCommand).next === 'function' &&
    typeof (r as AsyncCommand).throw === 'function'
  );
}

export class Shell {
  private readonly host: ShellHost;
  private readonly fixedPrompt: string | undefined;
  private readonly builtins: Record<string, Builtin>;

  private _stopped = false;
  /** An asynchronous command is running: input waits, the prompt comes when it ends. */
  private busy = false;
  private typeahead: number[] = [];
  private _interrupted = false;
  private status = 0;
  private relogin = false;
  /** Output since the last flush, as written (joined and converted at the flush). */
  private readonly pendingOut: string[] = [];
  private readonly tty: LineDiscipline;
  private readonly fs: FsSources;

  constructor(host: ShellHost, opts?: ShellOptions) {
    this.host = host;
    this.fixedPrompt = opts?.prompt;
    this.builtins = this.makeBuiltins();
    this.tty = new LineDiscipline({
      out: (text) => this.out(text),
      line: (line) => {
        this.execute(line);
        this.afterCommand();
      },
      interrupt: () => {
        this.status = 130;
        this.out(this.prompt());
      },
      eof: () => {
        this.logout();
        this.afterCommand();
      },
      prompt: () => this.prompt(),
    });
    this.fs = {
      commandNames: () => this.commandNames(),
      devices: () => this.devices(),
      uname: () => this.uname(),
      cpu: () => this.host.cpu(),
      cmdline: () => String(this.host.cmdline?.() ?? ''),
      uptimeNs: () => this.uptimeNs(),
      memTotalKiB: () => this.host.memTotalKiB(),
    };
  }

  /** true once poweroff/reboot/halt was invoked (no more prompts, input ignored). */
  get stopped(): boolean {
    return this._stopped;
  }

  /** Exit status of the last command ($?). */
  get exitStatus(): number {
    return this.status;
  }

  /** Print the banner and the first prompt. Calling it again (e.g. after a reboot) re-arms the shell. */
  start(): void {
    this.guard(() => {
      this._stopped = false;
      this.tty.reset();
      this.status = 0;
      this.out(this.banner());
      this.out(this.prompt());
    });
  }

  /** The OS is going away (panic): no more prompts, input ignored. */
  stop(): void {
    this._stopped = true;
  }

  /** Ctrl-C arrived while an asynchronous command runs; the command polls this. */
  get interrupted(): boolean {
    return this._interrupted;
  }

  get running(): boolean {
    return this.busy;
  }

  /** Bytes typed on the console (raw terminal: the shell does the echo). */
  input(bytes: Uint8Array): void {
    this.guard(() => {
      if (!(bytes instanceof Uint8Array)) return;
      if (this.busy) {
        for (const b of bytes) {
          if (b === 0x03) {
            this._interrupted = true;
            this.out('^C');
          } else this.typeahead.push(b);
        }
        return;
      }
      // A partial UTF-8 sequence is kept across calls (it may arrive split over two chunks).
      for (let i = 0; i < bytes.length && !this._stopped; i++) this.tty.feed(bytes[i]);
    });
  }

  /**
   * Run command line(s) as if typed and followed by Enter: the line is echoed, the command runs,
   * then the next prompt is printed. Any partly typed line is dropped. A '\n' in `line` separates
   * several commands (a tiny script).
   */
  run(line: string): void {
    this.guard(() => {
      this.tty.reset();
      for (const one of String(line).split(/\r\n|\r|\n/)) {
        if (this._stopped || this.busy) break;
        this.out(one + '\n');
        this.execute(one);
        this.afterCommand();
      }
    });
  }

  /** Write text to the console with '\n' → '\r\n' (for extra commands; host.write is raw). */
  print(text: string): void {
    this.out(String(text));
    this.flush();
  }

  /** Let an extra command set $? explicitly (alternative to returning a number from run). */
  setExitStatus(code: number): void {
    const v = Math.trunc(Number(code));
    this.status = Number.isFinite(v) ? v & 0xff : 1;
  }

  // ---- output ------------------------------------------------------------------------------

  private out(text: string): void {
    if (text !== '') this.pendingOut.push(text);
  }

  private flush(): void {
    if (this.pendingOut.length === 0) return;
    const text = toCrlfParts(this.pendingOut);
    this.pendingOut.length = 0;
    try {
      this.host.write(text);
    } catch (e) {
      // The console went away: it cannot show the error, the machine's error list can.
      this.reportInternal(e);
    }
  }

  /**
   * Run fn and flush the output. An exception is a bug (commands' own errors are caught in
   * execute): it must not escape into the console driver that called us, and it must not
   * vanish either, so it is printed and reported.
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.internalError(e);
    }
    this.flush();
  }

  /** `-sh: internal error: …` on the console, and into the machine's internal errors. */
  private internalError(e: unknown): void {
    this.out(`-sh: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    this.reportInternal(e);
  }

  private reportInternal(e: unknown): void {
    try {
      this.host.internalError?.(e);
    } catch {
      // The report itself failed: the console line above is all that is left.
    }
  }

  private uname(): Uname {
    try {
      const u = this.host.uname();
      return {
        sysname: String(u?.sysname ?? FALLBACK_UNAME.sysname),
        nodename: String(u?.nodename ?? FALLBACK_UNAME.nodename),
        release: String(u?.release ?? FALLBACK_UNAME.release),
        version: String(u?.version ?? FALLBACK_UNAME.version),
        machine: String(u?.machine ?? FALLBACK_UNAME.machine),
      };
    } catch (e) {
      // Reported, not printed: uname is asked while a prompt or a banner is being drawn.
      this.reportInternal(e);
      return FALLBACK_UNAME;
    }
  }

  private prompt(): string {
    return this.fixedPrompt ?? `[root@${this.uname().nodename} ~]# `;
  }

  private banner(): string {
    const u = this.uname();
    return `\nIntel(R) Xeon Phi(TM) coprocessor ${u.nodename}\nKernel ${u.release} on an ${u.machine} (hvc0)\n\n`;
  }

  private afterCommand(): void {
    if (this._stopped || this.busy) return;
    if (this.relogin) {
      this.relogin = false;
      this.status = 0;
      this.out(this.banner());
    }
    this.out(this.prompt());
  }

  private logout(): void {
    this.out('logout\n');
    this.relogin = true;
  }

  // ---- commands ----------------------------------------------------------------------------

  private execute(line: string): void {
    const parsed = splitWords(line, this.status);
    if (!parsed.ok) {
      this.out(`-sh: syntax error: ${parsed.error}\n`);
      this.status = 2;
      return;
    }
    if (parsed.words.length === 0) return; // empty line: $? unchanged
    const [name, ...args] = parsed.words;
    const builtin = Object.prototype.hasOwnProperty.call(this.builtins, name)
      ? this.builtins[name]
      : undefined;
    try {
      if (builtin) {
        this.status = builtin.run(args);
        return;
      }
      const extra = this.extras()[name];
      if (extra && typeof extra.run === 'function') {
        this.status = 0;
        this.flush(); // keep ordering: extras may write through host.write directly
        const r: unknown = extra.run(args, this);
        if (typeof r === 'number') this.setExitStatus(r);
        else if (isRoutine(r)) this.startAsync(name, r);
        return;
      }
      this.out(`-sh: ${name}: command not found\n`);
      this.status = 127;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.out(`-sh: ${name}: ${msg}\n`);
      this.status = 1;
    }
  }

  private startAsync(name: string, r: AsyncCommand): void {
    if (!this.host.spawn) {
      this.out(`-sh: ${name}: cannot run here (no scheduler)\n`);
      this.status = 1;
      return;
    }
    this.busy = true;
    this._interrupted = false;
    this.flush();
    this.host.spawn(r, (status) => this.finishAsync(status));
  }

  private finishAsync(status: number): void {
    this.guard(() => {
      if (!this.busy) return;
      this.busy = false;
      this._interrupted = false;
      this.setExitStatus(status);
      this.afterCommand();
      // Replay what was typed meanwhile; if it starts another async command, keep the rest.
      const pending = this.typeahead;
      this.typeahead = [];
      let i = 0;
      while (i < pending.length && !this._stopped && !this.busy) this.tty.feed(pending[i++]);
      if (this.busy) this.typeahead = pending.slice(i).concat(this.typeahead);
    });
  }

  private extras(): Record<string, ShellCommand> {
    try {
      const x = this.host.extraCommands?.();
      if (!x || typeof x !== 'object') return {};
      const own: Record<string, ShellCommand> = {};
      for (const k of Object.keys(x)) own[k] = x[k];
      return own;
    } catch (e) {
      this.internalError(e);
      return {};
    }
  }

  private power(kind: 'poweroff' | 'reboot' | 'halt'): number {
    this._stopped = true;
    this.flush();
    this.host[kind]();
    return 0;
  }

  private makeBuiltins(): Record<string, Builtin> {
    const b: Record<string, Builtin> = Object.create(null);
    b.help = { help: 'list the commands', run: () => this.cmdHelp() };
    b.uname = { help: 'print system information (-a -s -n -r -v -m -o)', run: (a) => this.cmdUname(a) };
    b.echo = { help: 'print the arguments ($? is the last exit status)', run: (a) => this.cmdEcho(a) };
    b.cat = { help: 'print files (/proc/cpuinfo, /proc/meminfo, ...)', run: (a) => this.cmdCat(a) };
    b.dmesg = {
      help: 'print the kernel log',
      run: () => {
        const log = String(this.host.dmesg() ?? '');
        this.out(log === '' || log.endsWith('\n') ? log : log + '\n');
        return 0;
      },
    };
    b.ls = { help: 'list a directory (/, /dev, /proc, ...)', run: (a) => this.cmdLs(a) };
    b.poweroff = { help: 'shut the card down and power it off', run: () => this.power('poweroff') };
    b.reboot = { help: 'reboot the card', run: () => this.power('reboot') };
    b.halt = { help: 'halt the card', run: () => this.power('halt') };
    b.uptime = { help: 'how long the card OS has been running', run: () => this.cmdUptime() };
    b.true = { help: 'do nothing, successfully', run: () => 0 };
    b.false = { help: 'do nothing, unsuccessfully', run: () => 1 };
    b.clear = {
      help: 'clear the screen',
      run: () => {
        this.out(CLEAR_SCREEN);
        return 0;
      },
    };
    b.exit = {
      help: 'log out (a new login shell starts on the console)',
      run: () => {
        this.logout();
        return 0;
      },
    };
    b.hostname = {
      help: 'print the node name',
      run: () => {
        this.out(this.uname().nodename + '\n');
        return 0;
      },
    };
    b.whoami = {
      help: 'print the user name',
      run: () => {
        this.out('root\n');
        return 0;
      },
    };
    b.date = {
      help: 'print the date (virtual clock)',
      run: () => {
        this.out(this.dateString() + '\n');
        return 0;
      },
    };
    return b;
  }

  private commandNames(): string[] {
    const names = new Set([...Object.keys(this.builtins), ...Object.keys(this.extras())]);
    return [...names].sort();
  }

  private cmdHelp(): number {
    const extras = this.extras();
    const names = this.commandNames();
    const width = Math.max(8, ...names.map((n) => n.length));
    this.out('Commands:\n');
    for (const name of names) {
      const help = this.builtins[name]?.help ?? String(extras[name]?.help ?? '');
      this.out(`  ${name.padEnd(width)}  ${help.split('\n')[0]}\n`);
    }
    return 0;
  }

  private cmdUname(args: string[]): number {
    const order = ['s', 'n', 'r', 'v', 'm', 'o'] as const;
    const want = new Set<string>();
    const long: Record<string, string> = {
      '--all': 'a',
      '--kernel-name': 's',
      '--nodename': 'n',
      '--kernel-release': 'r',
      '--kernel-version': 'v',
      '--machine': 'm',
      '--operating-system': 'o',
    };
    for (const a of args) {
      if (a in long) {
        want.add(long[a]);
      } else if (a.startsWith('-') && a.length > 1 && !a.startsWith('--')) {
        for (const f of a.slice(1)) {
          if (f === 'a' || (order as readonly string[]).includes(f)) want.add(f);
          else {
            this.out(`uname: invalid option -- '${f}'\nTry 'uname --help' for more information.\n`);
            return 1;
          }
        }
      } else if (a.startsWith('--')) {
        this.out(`uname: unrecognized option '${a}'\nTry 'uname --help' for more information.\n`);
        return 1;
      } else {
        this.out(`uname: extra operand '${a}'\nTry 'uname --help' for more information.\n`);
        return 1;
      }
    }
    if (want.has('a')) for (const f of order) want.add(f);
    if (want.size === 0) want.add('s');
    const u = this.uname();
    const value: Record<(typeof order)[number], string> = {
      s: u.sysname,
      n: u.nodename,
      r: u.release,
      v: u.version,
      m: u.machine,
      o: 'GNU/Linux',
    };
    this.out(
      order
        .filter((f) => want.has(f))
        .map((f) => value[f])
        .join(' ') + '\n',
    );
    return 0;
  }

  private cmdEcho(args: string[]): number {
    let newline = true;
    let i = 0;
    while (i < args.length && args[i] === '-n') {
      newline = false;
      i++;
    }
    this.out(args.slice(i).join(' ') + (newline ? '\n' : ''));
    return 0;
  }

  private cmdCat(args: string[]): number {
    let status = 0;
    for (const path of args) {
      const node = lookup(normalizePath(path), this.fs);
      if (!node) {
        this.out(`cat: ${path}: No such file or directory\n`);
        status = 1;
      } else if (node.kind === 'dir') {
        this.out(`cat: ${path}: Is a directory\n`);
        status = 1;
      } else if (node.kind === 'file') {
        this.out(node.content());
      }
      // Device nodes read as empty (there is no stream to copy from here).
    }
    return status;
  }

  private cmdLs(args: string[]): number {
    const paths = args.filter((a) => !(a.startsWith('-') && a.length > 1));
    if (paths.length === 0) paths.push('.');
    let status = 0;
    const files: string[] = [];
    const dirs: { path: string; entries: string[] }[] = [];
    for (const path of paths) {
      const node = lookup(normalizePath(path), this.fs);
      if (!node) {
        this.out(`ls: cannot access '${path}': No such file or directory\n`);
        status = 2;
      } else if (node.kind === 'dir') {
        dirs.push({ path, entries: [...node.entries()].sort() });
      } else {
        files.push(path);
      }
    }
    const blocks: string[] = [];
    if (files.length > 0) blocks.push(files.sort().join('\n') + '\n');
    for (const d of dirs) {
      const header = paths.length > 1 ? `${d.path}:\n` : '';
      blocks.push(header + d.entries.map((e) => e + '\n').join(''));
    }
    this.out(blocks.join('\n'));
    return status;
  }

  private uptimeNs(): number {
    return Number(this.host.uptimeNs());
  }

  private cmdUptime(): number {
    const { sec } = uptimeParts(this.uptimeNs());
    const now = new Date(SHELL_EPOCH_MS + sec * 1000);
    let s = ` ${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} up `;
    const mins = Math.floor(sec / 60);
    const days = Math.floor(mins / 1440);
    const hours = Math.floor(mins / 60) % 24;
    const m = mins % 60;
    if (days > 0) s += `${days} day${days === 1 ? '' : 's'}, `;
    s += hours > 0 ? `${String(hours).padStart(2)}:${two(m)}, ` : `${m} min, `;
    s += ' load average: 0.00, 0.00, 0.00\n';
    this.out(s);
    return 0;
  }

  private dateString(): string {
    const { sec } = uptimeParts(this.uptimeNs());
    const d = new Date(SHELL_EPOCH_MS + sec * 1000);
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
      d.getUTCMonth()
    ];
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
    return `${day} ${mon} ${String(d.getUTCDate()).padStart(2)} ${time} UTC ${d.getUTCFullYear()}`;
  }

  private devices(): string[] {
    const d = this.host.devices();
    return Array.isArray(d) ? d.map(String) : [];
  }
}
