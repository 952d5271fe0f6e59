// The debuggee: one Machine, run in slices on the Node event loop so DAP requests are served
// between slices. Stops come from observers on the event spine (breakpoints, steps, pause);
// the machine halts after the step that raised them, between two events.

import { EventEmitter } from 'node:events';
import { mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { defaultDiskPath } from '../emulator/hostSoftware/hostFiles.ts';
import { Machine, type HostCommand } from '../emulator/machine.ts';
import { blankEvent, cloneEvent, type BusEvent, type Frame } from '../emulator/sim/busEvent.ts';
import { createTraceWriter, type TraceSink } from '../emulator/sim/trace/traceSink.ts';
import { R } from '../emulator/card/sboxRegisters.ts';
import { diskPathFor, type LaunchConfig } from './launchConfig.ts';
import { ThreadRegistry } from './threads.ts';
import { describeEvent, cardIndexOf } from './names.ts';

export type StopReason =
  'entry' | 'step' | 'pause' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'exception';

export interface StopInfo {
  reason: StopReason;
  /** In words: what happened. */
  description: string;
  /** For exceptions: the rule text. */
  text?: string;
  /** The event the machine stopped after (a copy), or null at entry. */
  event: BusEvent | null;
  initiator: string;
  hitBreakpointIds?: number[];
}

export type StepKind = 'next' | 'in' | 'out';

const STEPPING_REVISION: Record<string, number> = { A0: 0x00, B0: 0x10, B1: 0x11, C0: 0x20 };

export interface RuntimeEvents {
  stopped: [StopInfo];
  continued: [];
  output: [category: 'console' | 'stdout' | 'stderr' | 'important', text: string];
  console: [card: number, data: Uint8Array];
  progress: [card: number, phase: 'start' | 'update' | 'end', message: string];
  thread: [id: number, initiator: string];
  state: [card: number, state: string];
  terminated: [];
}

export class DebugRuntime extends EventEmitter<RuntimeEvents> {
  machine!: Machine;
  readonly threads = new ThreadRegistry();
  running = false;
  stopped: StopInfo | null = null;
  /** The last event the machine performed (a reused copy). */
  readonly last: BusEvent = blankEvent();
  private pending: StopInfo | null = null;
  private stepCond: ((e: BusEvent) => boolean) | null = null;
  /**
   * Where the last step in left software (its thread and frames). Hardware events it leads to
   * (DMA descriptors, their transfers, interrupts) have no frames, so step out from them
   * returns here: to the end of the software operation that started the hardware work.
   */
  private stepOrigin: { initiator: string; frames: Frame } | null = null;
  private disposed = false;
  private scheduled = false;
  /** The `trace` file's writer; it outlives restarts (the next machine's lines follow). */
  private trace: TraceSink | null = null;
  private booting = new Set<number>();
  /** Observers that must be re-attached after a restart (breakpoints). */
  private readonly attachers: ((m: Machine) => void)[] = [];

  constructor(readonly config: LaunchConfig) {
    super();
    this.threads.onNew = (id, initiator) => this.emit('thread', id, initiator);
  }

  /** Register something that observes every new machine (breakpoint index, views). */
  onMachine(attach: (m: Machine) => void): void {
    this.attachers.push(attach);
    if (this.machine) attach(this.machine);
  }

  /** Build the machine from the launch configuration and power it on. */
  start(): void {
    const c = this.config;
    // Like the CLI: without `disk`, a default image in the user's cache directory, reused.
    const diskBase = c.disk ?? defaultDiskPath(process.env, homedir());
    if (!c.disk) mkdirSync(dirname(diskBase), { recursive: true });
    const m = new Machine({
      cards: c.cards,
      cardMemoryBytes: c.cardMemoryMiB * 2 ** 20,
      revision: STEPPING_REVISION[c.stepping],
      autoBoot: c.autoBoot,
      terminal: (i) => ({ write: (b) => this.emit('console', i, b) }),
      disk: (i) => ({
        path: diskPathFor(diskBase, i),
        sizeBytes: c.diskSizeMiB * 2 ** 20,
        readonly: c.diskReadonly,
      }),
      pcap: (i) => (c.pcap ? diskPathFor(c.pcap, i) : null),
    });
    this.machine = m;
    if (c.trace && !this.trace) {
      const file = c.trace;
      // A full disk must not stop the debuggee: the trace ends there, said once in the console.
      this.trace = createTraceWriter(openSync(file, 'w'), (err) =>
        this.emit(
          'output',
          'important',
          `trace: writing ${file} failed (${err.message}); the trace stops here\n`,
        ),
      );
    }
    m.spine.observe((e) => this.observe(e));
    for (const a of this.attachers) a(m);
    for (const t of ['host.driver', 'host.mpssd']) this.threads.id(t);
    for (let i = 0; i < c.cards; i++) {
      this.threads.id(`mic${i}.cpu`);
      for (const b of m.mpssd[i].backends) this.threads.id(b.initiator);
    }
    m.host.onLog = (l) => this.emit('output', 'console', `${l.text}\n`);
    m.start();
    if (c.autoBoot) for (let i = 0; i < c.cards; i++) this.beginBoot(i);
  }

  private beginBoot(card: number): void {
    if (this.booting.has(card)) return;
    this.booting.add(card);
    this.emit('progress', card, 'start', `Booting mic${card}`);
  }

  /** The always-on observer: remembers the last event, runs step conditions, feeds output. */
  private observe(e: BusEvent): void {
    const l = this.last;
    l.seq = e.seq;
    l.time = e.time;
    l.initiator = e.initiator;
    l.kind = e.kind;
    l.space = e.space;
    l.address = e.address;
    l.size = e.size;
    l.value = e.value;
    l.frames = e.frames;
    l.detail = e.detail;
    if (this.trace) this.trace.write(e);
    if (!this.threads.has(e.initiator)) this.threads.id(e.initiator);
    if (this.stepCond && this.stepCond(e)) {
      this.stepCond = null;
      this.requestStop({
        reason: 'step',
        description: describeEvent(this.machine, e),
        event: cloneEvent(e),
        initiator: e.initiator,
      });
    }
    switch (e.kind) {
      case 'log':
        if (e.space.endsWith('.gddr')) this.emit('output', 'stdout', `${e.detail}\n`);
        else if (e.space.startsWith('mic') && this.booting.has(cardIndexOf(e.space)))
          this.emit('progress', cardIndexOf(e.space), 'update', e.detail);
        break;
      case 'state': {
        const card = cardIndexOf(e.space);
        if (card < 0) break;
        this.emit('state', card, e.detail);
        if (e.detail === 'hardware reset' || e.detail === 'offline') {
          if (this.booting.has(card))
            this.emit('progress', card, 'update', e.detail === 'hardware reset' ? 'reset' : 'firmware ready');
        } else if (e.detail === 'online') {
          if (this.booting.has(card)) {
            this.booting.delete(card);
            this.emit('progress', card, 'end', `mic${card} online`);
          }
        } else if (e.detail === 'reset_failed' && this.booting.has(card)) {
          this.booting.delete(card);
          this.emit('progress', card, 'end', `mic${card} reset failed`);
        } else if (e.detail === 'shutting_down' || e.detail === 'suspending') {
          // mpssd may boot it again: show progress until it is online (or stays down)
        }
        break;
      }
      case 'mmio.write':
        if (e.address === R.APICICR(7) && e.value === 0x20e5) {
          const card = cardIndexOf(e.space);
          this.beginBoot(card);
          this.emit('progress', card, 'update', 'bootstrap kick');
        } else if (e.address === R.SPAD(2) && e.value & 1 && e.initiator.endsWith('.cpu')) {
          const card = cardIndexOf(e.space);
          if (this.booting.has(card)) this.emit('progress', card, 'update', 'firmware ready');
        }
        break;
      case 'protocol':
        this.emit('output', 'important', `protocol error: ${e.detail}\n`);
        break;
    }
    const bp = this.breakpointObserver;
    if (bp !== null) bp(e);
  }

  private breakpointObserver: ((e: BusEvent) => void) | null = null;
  /**
   * The breakpoint manager sees each event from here, after this runtime's own observer, rather
   * than as a second observer of the spine: a second spine observer costs ~4 % of a block read
   * in dispatch alone (measured), a direct call here almost nothing. Returns the way to stop.
   */
  observeBreakpoints(o: (e: BusEvent) => void): () => void {
    this.breakpointObserver = o;
    return () => {
      if (this.breakpointObserver === o) this.breakpointObserver = null;
    };
  }

  /** Ask the machine to stop after the current step (first request in a step wins). */
  requestStop(info: StopInfo): void {
    if (this.pending) return;
    this.pending = info;
    this.machine.spine.requestStop(info.reason);
  }

  /** Stop before anything runs (stopOnEntry). */
  stopOnEntry(): void {
    this.stopped = {
      reason: 'entry',
      description: 'stopped on entry, before the first bus transaction',
      event: null,
      initiator: 'host.driver',
    };
    this.running = false;
    this.emit('stopped', this.stopped);
  }

  resume(): void {
    if (this.disposed) return;
    this.stopped = null;
    this.running = true;
    this.schedule();
  }

  pause(): void {
    if (!this.running) return;
    this.requestStop({
      reason: 'pause',
      description: this.last.seq ? `paused after ${describeEvent(this.machine, this.last)}` : 'paused',
      event: this.last.seq ? cloneEvent(this.last) : null,
      initiator: this.last.initiator || 'host.driver',
    });
    // If the machine is idle (waiting for input), nothing will run to notice: stop now.
    if (!this.scheduled) this.finishStop();
  }

  step(kind: StepKind, threadId?: number): void {
    const cur = this.stopped?.event ?? null;
    const thread = (threadId !== undefined && this.threads.initiator(threadId)) || cur?.initiator;
    const origin = this.stepOrigin;
    if (kind === 'in' && cur?.frames) this.stepOrigin = { initiator: cur.initiator, frames: cur.frames };
    if (kind === 'out') this.stepOrigin = null;
    this.stepCond =
      kind === 'out' && cur && !cur.frames && origin
        ? (e) => e.initiator === origin.initiator && !chainHas(e.frames, origin.frames)
        : stepCondition(kind, cur, thread ?? null);
    this.resume();
  }

  consoleInput(card: number, bytes: Uint8Array): void {
    this.machine.consoleInput(card, bytes);
    if (this.running) this.schedule();
  }

  hostCommand(card: number, cmd: HostCommand): void {
    if (cmd === 'boot' || cmd === 'resume') this.beginBoot(card);
    this.machine.hostCommand(card, cmd);
    if (this.running) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.disposed) return;
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  /** Run for up to ~8 ms of wall time, then give the event loop a turn. */
  private slice(): void {
    this.scheduled = false;
    if (this.disposed || !this.running) return;
    const t0 = Date.now();
    for (;;) {
      // Small enough that the 8 ms slice holds (a step may make up to maxInline + 1 accesses).
      const r = this.machine.run(500);
      if (r === 'stopped') return this.finishStop();
      if (r === 'idle') {
        this.trace?.flush();
        return; // waiting for input; consoleInput/hostCommand reschedule
      }
      if (Date.now() - t0 > 8) break;
    }
    this.schedule();
  }

  private finishStop(): void {
    this.machine.spine.stopRequested = null;
    const info = this.pending ?? {
      reason: 'pause' as const,
      description: 'paused',
      event: null,
      initiator: 'host.driver',
    };
    this.pending = null;
    this.stepCond = null;
    if (info.reason !== 'step') this.stepOrigin = null;
    this.running = false;
    this.stopped = info;
    this.trace?.flush();
    this.emit('stopped', info);
  }

  /** Tear down: no timers, no file handles; disk images flushed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.running = false;
    this.machine?.dispose();
    this.trace?.close();
    this.trace = null;
    this.removeAllListeners();
  }

  /** Restart: a new machine with the same configuration (breakpoints re-attach). */
  restart(): void {
    this.machine?.dispose();
    this.pending = null;
    this.stepCond = null;
    this.stepOrigin = null;
    this.stopped = null;
    this.booting.clear();
    this.start();
  }
}

function chainHas(f: Frame | null, target: Frame): boolean {
  for (let p = f; p; p = p.parent) if (p === target) return true;
  return false;
}

/**
 * next: the next bus transaction; in: into the transaction's effects (the DMA descriptors a
 * DHPR write hands over, the interrupt a doorbell raises, the handler an interrupt runs);
 * out: the first event of the same thread after the current software operation has returned.
 */
export function stepCondition(
  kind: StepKind,
  cur: BusEvent | null,
  thread: string | null,
): (e: BusEvent) => boolean {
  if (kind === 'next' || !cur) return () => true;
  if (kind === 'in') {
    const card = /^mic\d+/.exec(cur.space)?.[0] ?? '';
    if (cur.kind === 'mmio.write') {
      for (let n = 0; n < 8; n++) {
        if (cur.address === R.DHPR(n))
          return (e) => e.kind === 'dma.desc' && e.initiator === `${card}.dma${n}`;
      }
      if (cur.address >= R.SDBIC(0) && cur.address <= R.SDBIC(3))
        return (e) => e.kind === 'irq' && e.space.startsWith(card);
      if (
        (cur.address >= R.APICICR(0) && cur.address <= R.APICICR(7)) ||
        (cur.address >= R.RDMASR(0) && cur.address <= R.RDMASR(7))
      )
        return (e) => e.kind === 'irq' && e.space.startsWith(card);
    }
    if (cur.kind === 'doorbell') return (e) => e.kind === 'irq' && e.space.startsWith(card);
    if (cur.kind === 'irq') {
      const handler = cur.space.endsWith('.msix') ? 'host.driver' : `${card}.cpu`;
      return (e) => e.initiator === handler && e.kind !== 'irq';
    }
    if (cur.kind === 'dma.desc')
      return (e) => e.initiator === cur.initiator && (e.kind === 'mem.read' || e.kind === 'mem.write');
    return (e) => e.initiator === (thread ?? cur.initiator);
  }
  // out
  const f = cur.frames;
  const who = thread ?? cur.initiator;
  if (!f) return (e) => e.initiator === who;
  return (e) => e.initiator === who && !chainHas(e.frames, f);
}
