// A DAP connection at the byte level, for the hardening tests and the fuzzer: send any bytes
// (broken framing, invalid JSON, hostile arguments), read what the adapter answers with the
// adapter's own reader, and see whether the process is still there.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MessageReader } from '../../src/debugAdapter/framing.ts';

export type Message = DebugProtocol.ProtocolMessage & Record<string, any>;

export class RawDap {
  readonly messages: Message[] = [];
  stderr = '';
  closed = false;
  private seq = 1;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly proc: ChildProcess | null,
    private readonly out: Writable,
    input: NodeJS.ReadableStream,
    readonly socket: Socket | null,
  ) {
    const reader = new MessageReader({
      message: (m) => {
        this.messages.push(m as Message);
        for (const w of this.waiters.splice(0)) w();
      },
      problem: (t) => {
        this.stderr += `[client reader] ${t}\n`;
      },
    });
    input.on('data', (b: Buffer) => reader.push(b));
    input.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static stdio(adapter: string, args: string[] = [], opts: { umask?: string } = {}): RawDap {
    const proc = opts.umask
      ? spawn('sh', ['-c', `umask ${opts.umask}; exec "$0" "$@"`, process.execPath, adapter, ...args], {
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, [adapter, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const d = new RawDap(proc, proc.stdin!, proc.stdout!, null);
    proc.stderr!.on('data', (b: Buffer) => (d.stderr += b.toString()));
    proc.stdin!.on('error', () => undefined);
    return d;
  }

  static async server(port: number): Promise<RawDap> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((res, rej) => {
      socket.once('connect', res);
      socket.once('error', rej);
    });
    socket.on('error', () => undefined);
    return new RawDap(null, socket, socket, socket);
  }

  get alive(): boolean {
    if (this.proc) return this.proc.exitCode === null && this.proc.signalCode === null;
    return !this.closed;
  }

  /** Raw bytes, as they are. */
  write(bytes: string | Buffer): void {
    this.out.write(bytes);
  }

  /** One framed message (any JSON value, or a string taken as the body). */
  frame(body: unknown): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    this.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }

  /** Send a request (not waiting); its seq. */
  send(command: string, args?: unknown, extra: Record<string, unknown> = {}): number {
    const seq = this.seq++;
    const msg: Record<string, unknown> = { seq, type: 'request', command, ...extra };
    if (args !== undefined) msg.arguments = args;
    this.frame(msg);
    return seq;
  }

  /** Send a request and wait for its response(s); the first one. */
  async request(command: string, args?: unknown, timeout = 20_000): Promise<Message> {
    const seq = this.send(command, args);
    return this.response(seq, timeout);
  }

  responses(seq: number): Message[] {
    return this.messages.filter((m) => m.type === 'response' && m.request_seq === seq);
  }

  async response(seq: number, timeout = 20_000): Promise<Message> {
    await this.until(() => this.responses(seq).length > 0, timeout, `a response to request ${seq}`);
    return this.responses(seq)[0];
  }

  events(name: string, since = 0): Message[] {
    return this.messages.slice(since).filter((m) => m.type === 'event' && m.event === name);
  }

  output(since = 0): string {
    return this.events('output', since)
      .map((e) => e.body.output as string)
      .join('');
  }

  async until(pred: () => boolean, timeout: number, what: string): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0 || (this.closed && !pred())) throw new Error(`no ${what} within ${timeout} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** initialize (and wait for `initialized`). */
  async initialize(
    args: Record<string, unknown> = { adapterID: 'mic', pathFormat: 'path' },
  ): Promise<Message> {
    const r = await this.request('initialize', args);
    await this.until(() => this.events('initialized').length > 0, 20_000, 'initialized event');
    return r;
  }

  /** initialize, launch, configurationDone; the launch response. */
  async launch(args: Record<string, unknown>): Promise<Message> {
    if (this.events('initialized').length === 0) await this.initialize();
    const l = this.send('launch', { type: 'mic', request: 'launch', name: 'MIC', ...args });
    await this.request('configurationDone');
    return this.response(l);
  }

  async close(): Promise<void> {
    if (this.socket) this.socket.destroy();
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.stdin!.end();
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
  }
}

/** Bytes that must never reach a client: a JS stack, or where the adapter is installed. */
export function leaksInternals(text: string): boolean {
  return /\n\s+at |\bat .*\.[jt]s:\d+|node_modules|\/dist\/|\/src\/debugAdapter/.test(text);
}
