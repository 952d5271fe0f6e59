// The debuggee: one Machine, run in slices on the Node event loop so DAP requests are served
// between slices. Stops come from observers on the event spine (breakpoints, steps, pause);
// the machine halts after the step that raised them, between two events.

import { EventEmitter } from 'node:events';
import type { Machine, HostCommand } from '../emulator/machine.ts';
import { buildMachine, MachineOptionError, type BuiltMachine } from '../emulator/buildMachine.ts';
import { cloneEvent, type BusEvent, type Frame } from '../emulator/sim/busEvent.ts';
import type { TraceSink } from '../emulator/sim/traceSink.ts';
import { R } from '../emulator/card/sboxRegisters.ts';
import { LaunchError, type LaunchConfig } from './launchConfig.ts';
import { ThreadRegistry } from './threads.ts';
import { describeEvent } from './names.ts';
import { BootProgress } from './bootProgress.ts';

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

export interface RuntimeEvents {
  stopped: [StopInfo];
  continued: [];
  output: [category: 'console' | 'stdout' | 'stderr' | 'important', text: string];
  console: [card: number, data: Uint8Array];
  progress: [card: number, phase: 'start' | 'update' | 'end', message: string];
  thread: [id: number, initiator: string];
  state: [card: number, state: string];
  terminated: [];
  /** The runtime failed inside (a model or adapter bug): the session ends, the process does not. */
  failed: [message: string];
}

export class DebugRuntime extends EventEmitter<RuntimeEvents> {
  machine!: Machine;
  readonly threads = new ThreadRegistry();
  running = false;
  stopped: StopInfo | null = null;
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
  private readonly progress = new BootProgress((card, phase, message) =>
    this.emit('progress', card, phase, message),
  );
  /** Observers that must be re-attached after a restart (breakpoints). */
  private readonly attachers: ((m: Machine) => void)[] = [];
  /** Detaches the full observer while nothing needs every event. */
  private unobserve: (() => void) | null = null;

  constructor(readonly config: LaunchConfig) {
    super();
    this.threads.onNew = (id, initiator) => this.emit('thread', id, initiator);
  }

  /** Register something that observes every new machine (breakpoint index, views). */
  onMachine(attach: (m: Machine) => void): void {
    this.attachers.push(attach);
    if (this.machine) attach(this.machine);
  }

  /**
   * Build the machine from the launch configuration (its files already checked by
   * resolveLaunchFiles) and power it on. Throws LaunchError naming the attribute when a file
   * cannot be opened after all; whatever was opened by then is closed again.
   */
  start(): void {
    const c = this.config;
    // The trace file outlives restarts (the next machine's lines follow): opened once.
    let built: BuiltMachine;
    try {
      built = buildMachine({
        cards: c.cards,
        memoryBytes: c.cardMemoryMiB * 2 ** 20,
        stepping: c.stepping,
        autoBoot: c.autoBoot,
        disk: c.disk,
        diskSizeBytes: c.diskSizeMiB * 2 ** 20,
        diskReadonly: c.diskReadonly,
        pcap: c.pcap,
        trace: this.trace ? null : c.trace,
        // A full disk must not stop the debuggee: the trace ends there, said once in the console.
        onTraceError: (err) =>
          this.emit(
            'output',
            'important',
            `trace: writing ${c.trace} failed (${err.message}); the trace stops here\n`,
          ),
        terminal: (i) => ({ write: (b) => this.emit('console', i, b) }),
      });
    } catch (e) {
      // A file that could not be opened after the checks: name the attribute (filePolicy.ts).
      if (e instanceof MachineOptionError)
        throw new LaunchError(`launch attribute '${e.option}': ${e.message}`);
      throw e;
    }
    const { machine: m, trace } = built;
    this.machine = m;
    if (trace) this.trace = trace;
    this.unobserve = null;
    m.spine.observeRare((e) => this.onRare(e));
    this.syncObserver();
    for (const a of this.attachers) a(m);
    this.refreshThreads();
    m.host.onLog = (l) => this.emit('output', 'console', `${l.text}\n`);
    m.start();
    if (c.autoBoot) for (let i = 0; i < c.cards; i++) this.progress.begin(i);
  }

  /** Threads: every initiator the machine has that a person thinks about (DMA channels once used). */
  private refreshThreads(): void {
    for (const t of this.machine.initiators()) if (!this.threads.has(t)) this.threads.id(t);
  }

  /**
   * The adapter watches every event (the trace, steps, pause, breakpoints, and the last event,
   * which a pause while the machine waits for input and the Debug Console show): `events/s
   * (adapter)` in `npm run bench` measures the machine with this observer on.
   */
  private syncObserver(): void {
    const m = this.machine;
    if (m && !this.unobserve) this.unobserve = m.spine.observe((e) => this.observe(e));
  }

  /** What a front end follows all the time: boot milestones, states, log lines, protocol errors. */
  private onRare(e: BusEvent): void {
    switch (e.kind) {
      case 'log':
        // The card kernel's printk (the host's arrives through host.onLog).
        if (e.card >= 0 && e.initiator !== 'host.driver') this.emit('output', 'stdout', `${e.detail}\n`);
        break;
      case 'milestone':
        this.progress.onMilestone(e);
        break;
      case 'state':
        if (e.card >= 0) this.emit('state', e.card, e.state);
        break;
      case 'protocol':
        this.emit('output', 'important', `protocol error: ${e.text}\n`);
        break;
    }
  }

  /** Every event, while something needs it: trace, step and pause conditions, breakpoints. */
  private observe(e: BusEvent): void {
    if (this.trace) this.trace.write(e);
    if (this.stepCond && this.stepCond(e)) {
      this.stepCond = null;
      this.requestStop({
        reason: 'step',
        description: describeEvent(this.machine, e),
        event: cloneEvent(e),
        initiator: e.initiator,
      });
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
    const last = this.machine.spine.last();
    this.requestStop({
      reason: 'pause',
      description: last ? `paused after ${describeEvent(this.machine, last)}` : 'paused',
      event: last ? cloneEvent(last) : null,
      initiator: last ? last.initiator : 'host.driver',
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
    // Progress only for a boot that will happen: the host refuses boot unless the card is
    // offline, and resume unless it is suspended (a refused command's progress would never end).
    const state = this.machine.state(card);
    if ((cmd === 'boot' && state === 'offline') || (cmd === 'resume' && state === 'suspended'))
      this.progress.begin(card);
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
    try {
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
    } catch (e) {
      // Not a user mistake (model errors are caught per task): end this session, not the process.
      this.running = false;
      this.emit('failed', e instanceof Error ? e.message : String(e));
      return;
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
    this.refreshThreads();
    this.emit('stopped', info);
  }

  /** Tear down: no timers, no file handles; disk images flushed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.running = false;
    this.progress.cancelAll('session ended');
    this.machine?.dispose();
    this.trace?.close();
    this.trace = null;
    this.removeAllListeners();
  }

  /** Restart: a new machine with the same configuration (breakpoints re-attach). */
  restart(): void {
    this.progress.cancelAll('restarted');
    this.machine?.dispose();
    this.pending = null;
    this.stepCond = null;
    this.stepOrigin = null;
    this.stopped = null;
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
