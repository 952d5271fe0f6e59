// A DAP client for the adapter tests: @vscode/debugadapter-testsupport's DebugClient against the
// built dist/debugAdapter.js, on stdio (a process this helper owns, so tests can see its pid, its
// stderr and its exit) or on a `--server=PORT` socket. Every event is recorded from the first
// byte on, so a test can wait for an event that arrived before it started waiting.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const ROOT = resolve(__dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');

/** Generous: a slow 2-core CI machine, several test files at once. Not a speed target. */
export const TIMEOUT = 20_000;

let snapshot: { dir: string; file: string } | null = null;

/**
 * Build dist/debugAdapter.js (scripts/build.mjs) and return the path of the built adapter to run.
 * Other test files (the CLI tests) rebuild dist/ while these tests run, and esbuild rewrites the
 * file in place; an adapter spawned in that moment would read half a file. So the tests run a
 * byte copy of the file this build produced, checked with `node --check`.
 */
export function buildAdapter(): string {
  // MIC_TEST_DIST=<a dist folder>: run the adapter tests against another build, as is (e.g. a
  // clean clone of an older commit, to show a test failed before its fix: docs/reliability.md).
  if (process.env.MIC_TEST_DIST) return join(process.env.MIC_TEST_DIST, 'debugAdapter.js');
  if (snapshot) return snapshot.file;
  for (let attempt = 1; ; attempt++) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`scripts/build.mjs failed (${b.status}):\n${b.stdout}${b.stderr}`);
    const dir = mkdtempSync(join(tmpdir(), 'mic-dap-'));
    const file = join(dir, 'debugAdapter.js');
    copyFileSync(ADAPTER, file);
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    // The same bytes as dist/ holds now: no rewrite was in progress while we copied.
    if (check.status === 0 && readFileSync(file).equals(readFileSync(ADAPTER))) {
      snapshot = { dir, file };
      return file;
    }
    rmSync(dir, { recursive: true, force: true });
    if (attempt === 3)
      throw new Error(`dist/debugAdapter.js kept changing or does not parse:\n${check.stderr}`);
  }
}

/** Remove the copy made by buildAdapter (call from an `after` hook). */
export function removeAdapterCopy(): void {
  if (snapshot) rmSync(snapshot.dir, { recursive: true, force: true });
  snapshot = null;
}

/** DebugClient with `connect` opened up, so it can talk to a process we spawned ourselves. */
class Client extends DebugClient {
  attach(proc: ChildProcess): void {
    this.connect(proc.stdout!, proc.stdin!);
  }
}

export type Body = Record<string, any>;

/** One adapter connection: the client, the recorded events, and small helpers over them. */
export class Dap {
  readonly events: DebugProtocol.Event[] = [];
  /** stderr of a stdio adapter we spawned. */
  stderr = '';
  private waiters: (() => void)[] = [];

  private constructor(
    readonly dc: Client,
    /** The stdio adapter process (null on a server socket). */
    readonly proc: ChildProcess | null,
  ) {
    const emit = dc.emit.bind(dc);
    dc.emit = (name: string | symbol, ...args: any[]) => {
      const e = args[0] as DebugProtocol.Event | undefined;
      if (e && typeof e === 'object' && e.type === 'event') {
        this.events.push(e);
        for (const w of this.waiters.splice(0)) w();
      }
      return emit(name, ...args);
    };
  }

  /** Spawn `node ADAPTER` and speak DAP on its stdio. */
  /**
   * An adapter process on stdio. `fileSizeLimitKiB` runs it under `ulimit -f`: a write past that
   * size fails with EFBIG, which is how tests give it a full disk (the file policy refuses
   * /dev/full, which is not a regular file).
   */
  static stdio(adapter: string, args: string[] = [], o: { fileSizeLimitKiB?: number } = {}): Dap {
    const proc =
      o.fileSizeLimitKiB === undefined
        ? spawn(process.execPath, [adapter, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(
            'bash',
            ['-c', `ulimit -f ${o.fileSizeLimitKiB}; exec "$0" "$@"`, process.execPath, adapter, ...args],
            { stdio: ['pipe', 'pipe', 'pipe'] },
          );
    const dc = new Client(process.execPath, adapter, 'mic');
    dc.defaultTimeout = TIMEOUT;
    const d = new Dap(dc, proc);
    proc.stderr!.on('data', (b: Buffer) => (d.stderr += b.toString()));
    dc.attach(proc);
    return d;
  }

  /** Connect to an adapter started with --server=PORT. */
  static async server(adapter: string, port: number): Promise<Dap> {
    const dc = new Client(process.execPath, adapter, 'mic');
    dc.defaultTimeout = TIMEOUT;
    await dc.start(port);
    // Small messages in bursts: don't let Nagle hold the second one for a delayed ACK.
    (dc as unknown as { _socket: Socket })._socket.setNoDelay(true);
    return new Dap(dc, null);
  }

  /** Disconnect (if still connected) and make sure a spawned adapter is gone. */
  async close(): Promise<void> {
    const dc = this.dc as unknown as { _socket?: Socket | null };
    const p = this.proc;
    const connected = p
      ? p.exitCode === null && p.signalCode === null
      : !!dc._socket && !dc._socket.destroyed;
    if (connected)
      await withTimeout(this.dc.disconnectRequest({}), 5000, 'disconnect').catch(() => undefined);
    if (dc._socket) {
      dc._socket.destroy();
      dc._socket = null;
    }
    if (p && p.exitCode === null && p.signalCode === null) {
      p.stdin!.end();
      if (!(await this.exited(2000))) p.kill();
    }
  }

  /** True once the spawned adapter has exited (false if still running after `ms`). */
  async exited(ms: number): Promise<boolean> {
    const p = this.proc;
    if (!p) return true;
    if (p.exitCode !== null || p.signalCode !== null) return true;
    return new Promise((r) => {
      const t = setTimeout(() => r(false), ms);
      p.once('exit', () => {
        clearTimeout(t);
        r(true);
      });
    });
  }

  // ---- events ---------------------------------------------------------------------------

  /** Where the event log is now: wait for events after this point with `since`. */
  mark(): number {
    return this.events.length;
  }

  /** Events named `name` recorded from `since` on. */
  all(name: string, since = 0): DebugProtocol.Event[] {
    return this.events.slice(since).filter((e) => e.event === name);
  }

  /** The first event `name` (after `since`) that `pred` accepts, waiting for it if need be. */
  async waitFor(
    name: string,
    pred: (body: Body) => boolean = () => true,
    since = 0,
    timeout = TIMEOUT,
  ): Promise<DebugProtocol.Event> {
    const deadline = Date.now() + timeout;
    let from = since;
    for (;;) {
      for (let i = from; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.event === name && pred(e.body ?? {})) return e;
      }
      from = this.events.length;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events
          .slice(since)
          .map((e) => e.event)
          .join(', ');
        throw new Error(`no '${name}' event that matches within ${timeout} ms (saw: ${seen})`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The next `stopped` event after `since`. */
  async stopped(since: number, timeout = TIMEOUT): Promise<DebugProtocol.StoppedEvent['body']> {
    return (await this.waitFor('stopped', () => true, since, timeout)).body;
  }

  /** Everything the `output` events said after `since` (optionally one category only). */
  output(since = 0, category?: string): string {
    return this.all('output', since)
      .filter((e) => category === undefined || e.body.category === category)
      .map((e) => e.body.output as string)
      .join('');
  }

  /** What card `card`'s console printed (mic/console events) after `since`. */
  console(since = 0, card = 0): string {
    return this.all('mic/console', since)
      .filter((e) => e.body.card === card)
      .map((e) => Buffer.from(e.body.data as string, 'base64').toString('utf8'))
      .join('');
  }

  /** Wait until card `card`'s console has printed text matching `re` after `since`. */
  async waitConsole(re: RegExp, since = 0, card = 0, timeout = TIMEOUT): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const text = this.console(since, card);
      if (re.test(text)) return text;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`mic${card} console never matched ${re}; it printed ${JSON.stringify(text)}`);
      await this.waitFor('mic/console', () => true, this.mark(), left).catch(() => undefined);
    }
  }

  // ---- launch ---------------------------------------------------------------------------

  /**
   * initialize → launch → (configure: breakpoints, as a client sends them) → configurationDone,
   * and the launch response. The launch response arrives after configurationDone.
   */
  async launch(args: Body = {}, configure: () => Promise<unknown> = async () => {}): Promise<void> {
    const init = await this.dc.initializeRequest();
    if (!init.body?.supportsConfigurationDoneRequest) throw new Error('adapter lacks configurationDone');
    await this.waitFor('initialized');
    const launched = this.dc.launchRequest({ type: 'mic', request: 'launch', name: 'MIC', ...args } as never);
    launched.catch(() => undefined); // awaited below, after configurationDone
    await configure();
    await this.dc.configurationDoneRequest();
    await launched;
  }

  /** Launch and wait until mic0's shell prompt is up (the machine keeps running, idle). */
  async launchBooted(args: Body = {}, configure?: () => Promise<unknown>): Promise<void> {
    await this.launch(args, configure);
    await this.waitConsole(/\[root@mic0 ~\]# $/);
  }

  /** Launch with stopOnEntry and wait for the entry stop. */
  async launchStopped(args: Body = {}, configure?: () => Promise<unknown>): Promise<void> {
    const since = this.mark();
    await this.launch({ ...args, stopOnEntry: true }, configure);
    const s = await this.stopped(since);
    if (s.reason !== 'entry') throw new Error(`expected an entry stop, got ${s.reason}`);
  }

  // ---- requests -------------------------------------------------------------------------

  /**
   * Send the requests `send` makes in one write, so the adapter reads them together (e.g.
   * continue and pause: the pause then lands before the machine takes its first step).
   */
  async together<T>(send: () => Promise<T>[]): Promise<T[]> {
    const out = this.proc?.stdin ?? (this.dc as unknown as { _socket: Socket | null })._socket ?? undefined;
    if (!out) throw new Error('not connected');
    out.cork();
    let sent: Promise<T>[];
    try {
      sent = send();
    } finally {
      out.uncork();
    }
    return Promise.all(sent);
  }

  async custom(command: string, args: Body = {}): Promise<Body> {
    return (await this.dc.customRequest(command, args)).body as Body;
  }

  async threads(): Promise<DebugProtocol.Thread[]> {
    return (await this.dc.threadsRequest()).body.threads;
  }

  async frames(threadId: number): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId })).body.stackFrames;
  }

  /** Pause and wait for the stop. */
  async pause(): Promise<DebugProtocol.StoppedEvent['body']> {
    const since = this.mark();
    await this.dc.pauseRequest({ threadId: 1 });
    return this.stopped(since);
  }

  /** Send a request that resumes (continue, next, stepIn …) and wait for the next stop. */
  async resumeUntilStop(
    send: () => Promise<unknown>,
    timeout = TIMEOUT,
  ): Promise<DebugProtocol.StoppedEvent['body']> {
    const since = this.mark();
    await send();
    return this.stopped(since, timeout);
  }

  async evaluate(expression: string, frameId?: number, context = 'repl'): Promise<Body> {
    const args: DebugProtocol.EvaluateArguments = { expression, context };
    if (frameId !== undefined) args.frameId = frameId;
    return (await this.dc.evaluateRequest(args)).body as Body;
  }

  async readMemory(memoryReference: string, count: number, offset = 0): Promise<Buffer> {
    const r = await this.dc.send('readMemory', { memoryReference, offset, count });
    return Buffer.from((r.body as { data?: string }).data ?? '', 'base64');
  }

  async writeMemory(memoryReference: string, bytes: Uint8Array, offset = 0): Promise<Body> {
    const data = Buffer.from(bytes).toString('base64');
    return (await this.dc.send('writeMemory', { memoryReference, offset, data })).body as Body;
  }

  /** Type on card `card`'s console through the mic/consoleInput custom request. */
  async type(text: string, card = 0): Promise<Body> {
    return this.custom('mic/consoleInput', { card, text });
  }

  // ---- variables ------------------------------------------------------------------------

  async scopes(frameId: number): Promise<DebugProtocol.Scope[]> {
    return (await this.dc.scopesRequest({ frameId })).body.scopes;
  }

  async variables(variablesReference: number): Promise<DebugProtocol.Variable[]> {
    return (await this.dc.variablesRequest({ variablesReference })).body.variables;
  }

  /** The variables of the scope whose name is `name` or starts with `name (`. */
  async scope(frameId: number, name: string): Promise<{ ref: number; vars: DebugProtocol.Variable[] }> {
    const scopes = await this.scopes(frameId);
    const s = scopes.find((x) => x.name === name || x.name.startsWith(`${name} (`));
    if (!s) throw new Error(`no scope ${name} among ${scopes.map((x) => x.name).join(', ')}`);
    return { ref: s.variablesReference, vars: await this.variables(s.variablesReference) };
  }

  /**
   * Find a variable by name anywhere under `ref` (breadth first, `depth` levels), returning it
   * and the reference of its container (what setVariable and dataBreakpointInfo want).
   */
  async find(
    ref: number,
    name: string,
    depth = 3,
  ): Promise<{ variable: DebugProtocol.Variable; container: number } | null> {
    let level = [ref];
    for (let d = 0; d <= depth && level.length; d++) {
      const next: number[] = [];
      for (const r of level) {
        const vars = await this.variables(r);
        const hit = vars.find((v) => v.name === name);
        if (hit) return { variable: hit, container: r };
        for (const v of vars) if (v.variablesReference > 0) next.push(v.variablesReference);
      }
      level = next;
    }
    return null;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Start `node ADAPTER --server=0` and read the port from its `listening on 127.0.0.1:PORT` line. */
export async function startServer(adapter: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [adapter, '--server=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`adapter server did not listen: ${err}`)), TIMEOUT);
    proc.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`adapter server exited (${code}): ${err}`));
    });
  });
  return { proc, port };
}

/** Stop a process we started, and wait for it to be gone. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill();
  await withTimeout(gone, 5000, `process ${proc.pid} to exit`).catch(() => proc.kill('SIGKILL'));
}

/** Little-endian bytes of a 32-bit value. */
export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** The unsigned 32-bit little-endian value at the start of `b`. */
export function u32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

/** The number a Debug Console result starts with (`0x1000 (4096)` → 4096, `12` → 12). */
export function resultNumber(result: string): number {
  const m = /^\s*(0x[0-9a-f_]+|-?\d+)/i.exec(result);
  if (!m) throw new Error(`not a number: ${JSON.stringify(result)}`);
  return Number(m[1].replace(/_/g, ''));
}

/** What the process's file descriptors point at (Linux /proc). */
export function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  const out: string[] = [];
  for (const fd of readdirSync(dir)) {
    try {
      out.push(readlinkSync(`${dir}/${fd}`));
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}
