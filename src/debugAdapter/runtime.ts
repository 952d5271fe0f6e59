// The debuggee: one Machine, run in slices on the Node event loop so DAP requests are served
// between slices. Stops come from observers on the event spine (breakpoints, steps, pause);
// the machine halts after the step that raised them, between two events.

import { EventEmitter } from 'node:events';
import type { Machine, HostCommand } from '../emulator/machine.ts';
import { buildMachine, MachineOptionError } from '../emulator/buildMachine.ts';
import { cloneEvent, type BusEvent, type Frame } from '../emulator/sim/busEvent.ts';
import type { TraceSink } from '../emulator/sim/trace/traceSink.ts';
import { R } from '../emulator/card/sboxRegisters.ts';
import { LaunchError, type LaunchConfig } from './launchConfig.ts';
import { ThreadRegistry } from './threads.ts';
import { describeEvent } from './names.ts';
import { BootProgress } from './bootProgress.ts';
import { Timeline } from '../emulator/timeTravel/timeline.ts';
import type { EventStore } from '../emulator/timeTravel/eventStore.ts';
import { removeReplayDir } from '../emulator/timeTravel/recordingSession.ts';
import { openReplay, saveSessionRecording, type OpenReplay } from './recording.ts';
import { ConsoleHistory } from './consoleHistory.ts';
import { TraceFollower } from '../emulator/sim/trace/traceFollower.ts';

/** The console text a seek sends per card (mic/consoleReplay): the moment's last 64 KiB. */
const REPLAY_CONSOLE_SEND = 64 * 1024;

export type StopReason =
  | 'entry'
  | 'step'
  | 'pause'
  | 'goto'
  | 'breakpoint'
  | 'function breakpoint'
  | 'data breakpoint'
  | 'exception';

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
  /** The Call Stack badge, where the reason's own does not say it ('step back', 'goto'). */
  badge?: string;
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
  /** A replay (time travel) starts, goes on (percent done) or ends. */
  replay: [phase: 'start' | 'update' | 'end', message: string, percent: number];
  /** After a replay: the console of card `card` as it was at the moment (its last 64 KiB). */
  consoleReplay: [card: number, text: string];
}

/** Where the session is on its timeline. */
export interface TimelinePosition {
  /** The moment: after event `seq`. */
  seq: number;
  /** The furthest event reached (the end of the recorded future). */
  head: number;
  /** Virtual time now, ns. */
  time: number;
  inputs: number;
  /** What a new input now would drop. */
  future: { events: number; inputs: number };
}

export type TravelReason = 'goto' | 'step back' | 'reverse continue' | 'export';

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
  /** Time travel: the inputs of this session, the disk journals, the machine that runs now. */
  timeline!: Timeline;
  /** A replay runs (a seek): output, progress and console text of the past are not repeated. */
  replaying = false;
  /** What the replay in progress does, for `busy()` ("step back: a replay to event 41022"). */
  private travelWords = '';
  /** Each card console's text over the recorded timeline: a seek shows the moment's. */
  private consoleText = new ConsoleHistory();
  /** The trace file follows the timeline: cut back on a seek back (traceFollower.ts). */
  private traceCut: TraceFollower | null = null;
  /** Reverse continue's first pass runs: breakpoint hits are collected, not stopped at. */
  private collecting = false;
  private lastHit: StopInfo | null = null;
  /** The seek in progress asked to stop (the client cancelled its progress). */
  private cancelSeek = false;
  /** The launch's `replay` recording, open (its disk images in their own folder). */
  private openedReplay: OpenReplay | null = null;

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
    // The trace file outlives restarts and replays (the next machine's lines follow): opened once.
    // `replay`: the recording's machine on fresh images, its timeline to go through (recording.ts).
    const replay = c.replay ? (this.openedReplay = openReplay(c.replay)) : null;
    try {
      this.timeline = new Timeline({
        recorded: replay?.recording.timeline,
        build: (journalFor, pcapFor) => {
          const built = buildMachine({
            cards: c.cards,
            memoryBytes: c.cardMemoryMiB * 2 ** 20,
            stepping: c.stepping,
            autoBoot: c.autoBoot,
            disk: c.disk,
            diskSizeBytes: c.diskSizeMiB * 2 ** 20,
            diskReadonly: c.diskReadonly,
            ...replay?.options,
            pcap: c.pcap,
            pcapFor,
            trace: this.trace ? null : c.trace,
            // A full disk must not stop the debuggee: the trace ends there, said once in the console.
            onTraceError: (err) =>
              this.emit(
                'output',
                'important',
                `trace: writing ${c.trace} failed (${err.message}); the trace stops here\n`,
              ),
            terminal: (i) => ({ write: (b) => this.consoleOut(i, b) }),
            journalFor,
          });
          if (built.trace) this.trace = built.trace;
          return built.machine;
        },
        // The MIC Timeline's data (docs/timeline.md, "Timeline panel: data").
      });
    } catch (e) {
      // A file that could not be opened after the checks: name the attribute (filePolicy.ts).
      if (e instanceof MachineOptionError)
        throw new LaunchError(`launch attribute '${e.option}': ${e.message}`);
      throw e;
    }
    this.consoleText = new ConsoleHistory();
    this.timeline.onFork = (seq, dropped) => {
      this.consoleText.fork();
      this.emit(
        'output',
        'important',
        `time travel: a new timeline from event ${seq}: the recorded future (${dropped.events} events, ${dropped.inputs} inputs) is dropped\n`,
      );
    };
    if (this.trace && c.trace) this.traceCut ??= new TraceFollower(this.trace, c.trace);
    const m = this.timeline.machine;
    this.adopt(m);
    m.start();
    if (c.autoBoot && !replay) for (let i = 0; i < c.cards; i++) this.progress.begin(i);
  }

  /** After start: a replay goes to the recording's end (and stops there); else run, or stop on entry. */
  begin(): void {
    if (this.openedReplay) void this.goto(this.timeline.head);
    else if (this.config.stopOnEntry) this.stopOnEntry();
    else this.resume();
  }

  /** mic/saveRecording {path, overwrite?}: the response body or an error text (recording.ts). */
  saveRecording(args: Record<string, unknown>): unknown {
    return saveSessionRecording(this.timeline, this.config, this.openedReplay, args);
  }

  private closeReplay(): void {
    if (this.openedReplay) removeReplayDir(this.openedReplay.dir);
    this.openedReplay = null;
  }

  /** Make `m` the machine of this session: observers, breakpoints, threads, the host log. */
  private adopt(m: Machine): void {
    this.machine = m;
    this.unobserve = null;
    this.consoleText.powerOn();
    m.spine.observeRare((e) => this.onRare(e));
    this.syncObserver();
    for (const a of this.attachers) a(m);
    this.refreshThreads();
    m.host.onLog = (l) => {
      if (!this.replaying) this.emit('output', 'console', `${l.text}\n`);
    };
  }

  /**
   * Console output of card `card`: kept with its moment (consoleHistory.ts), and to the terminal
   * unless a replay runs (a seek shows the moment's console when it ends: showConsole).
   */
  private consoleOut(card: number, b: Uint8Array): void {
    this.consoleText.add(card, this.machine.spine.seq, b);
    if (!this.replaying) this.emit('console', card, b);
  }

  /** After a seek: every card console as it was at this moment (mic/consoleReplay). */
  private showConsole(): void {
    for (const card of this.consoleText.cardNumbers())
      this.emit('consoleReplay', card, this.consoleText.now(card, REPLAY_CONSOLE_SEND));
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
    if (this.replaying) return;
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
    this.timeline.observe(e);
    // The trace has the events up to its head already (a replay goes through them again).
    const tc = this.traceCut;
    if (tc !== null && e.seq > tc.head) {
      this.trace?.write(e);
      tc.head = e.seq;
    }
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
    const x = this.replayObserver;
    if (x !== null && e.seq > this.replayedTo) {
      this.replayedTo = e.seq;
      x(e);
    }
  }

  /** An export's observer: the events of a replay through the whole session, each once. */
  private replayObserver: ((e: BusEvent) => void) | null = null;
  private replayedTo = 0;

  /**
   * The session's events for the MIC Timeline. Kept only once a timeline is asked for: the
   * store costs about a third of the adapter's event rate, which a session that never opens the
   * panel should not pay. The first ask fills it by a replay from power-on (then it follows
   * live); a running machine runs on afterwards.
   */
  async eventStore(): Promise<EventStore> {
    const have = this.timeline.events;
    if (have) return have;
    const wasRunning = this.running;
    const store = this.timeline.keepEvents();
    await this.replayAll(() => {});
    if (wasRunning) this.resume();
    return store;
  }

  /**
   * Every event of the session, from power-on to the head, to `o` (in seq order, each once): a
   * replay from power-on to the head, then back to this moment; the session is stopped here
   * again afterwards. False if cancelled (`o` then had the events up to where it was).
   */
  async replayAll(o: (e: BusEvent) => void): Promise<boolean> {
    const here = this.timeline.seq;
    const head = this.timeline.head;
    const prev = this.stopped;
    this.replayObserver = o;
    this.replayedTo = 0;
    let done = false;
    try {
      done = (await this.replay(0, 'export', true)) && (await this.replay(head, 'export', true));
    } finally {
      this.replayObserver = null;
    }
    if (this.timeline.seq !== here) await this.replay(here, 'export', true);
    this.settle();
    this.running = false;
    this.stopped = prev;
    if (prev) this.emit('stopped', prev);
    return done;
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
    // Reverse continue's first pass: a hit is remembered (the last one wins), not stopped at.
    if (this.collecting) {
      if (info.event && info.reason !== 'step' && info.reason !== 'pause') this.lastHit = info;
      return;
    }
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
    const tl = this.timeline;
    const spine = this.machine.spine;
    try {
      for (;;) {
        // Going on through the recorded future: its inputs enter where they entered.
        tl.enterDueInputs();
        spine.stopAtSeq = tl.nextInputSeq();
        // Small enough that the 8 ms slice holds (a step may make up to maxInline + 1 accesses).
        const r = this.machine.run(500);
        spine.stopAtSeq = -1;
        if (r === 'stopped') {
          if (spine.stopRequested === 'seek' && this.pending === null) {
            spine.stopRequested = null;
            continue;
          }
          return this.finishStop();
        }
        if (r === 'idle') {
          if (tl.nextInputSeq() === spine.seq) continue;
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

  // ---- time travel --------------------------------------------------------------------

  /** Where the session is on its timeline. */
  position(): TimelinePosition {
    const tl = this.timeline;
    return {
      seq: tl.seq,
      head: tl.head,
      time: this.machine.sched.now,
      inputs: tl.inputs.length,
      future: tl.future(),
    };
  }

  /**
   * Why a request that moves the machine or feeds it must wait, or null: a travel (a replay
   * from power-on) runs between turns of the event loop, and a continue, a step, another seek
   * or a key typed then would act on a machine halfway to somewhere else — a key would even
   * start a new timeline at a moment nobody chose. Refused in words instead (the replay's
   * progress notification can cancel it).
   */
  busy(): string | null {
    if (!this.replaying) return null;
    return `time travel in progress (${this.travelWords}): wait until it stops, or cancel it from its progress notification`;
  }

  /** Give up the seek in progress: the session stops where the replay is. */
  cancelTravel(): void {
    this.cancelSeek = true;
  }

  /** Step back: to the moment before the latest access (the previous bus event or events). */
  stepBack(): Promise<void> {
    const to = this.timeline.momentBefore(this.timeline.seq);
    return this.travel(Math.max(0, to), 'step back');
  }

  /** Go to the moment after event `seq` (clamped to the recorded timeline). */
  goto(seq: number): Promise<void> {
    return this.travel(seq, 'goto');
  }

  /**
   * Reverse continue: the previous hit of any armed breakpoint — function, data, exception
   * filter, console text, armed before or after the fact. Two replays: the first from power-on
   * to here notes every hit without stopping, the second goes to the last of them.
   */
  async reverseContinue(): Promise<void> {
    const here = this.timeline.seq;
    this.lastHit = null;
    this.collecting = true;
    this.running = true;
    let done: boolean;
    try {
      done = await this.replay(0, 'reverse continue', false);
      if (done) done = await this.replay(here, 'reverse continue', false);
    } finally {
      this.collecting = false;
      this.running = false;
    }
    const hit = this.lastHit as StopInfo | null;
    if (!done) return this.stopAfterTravel('reverse continue', 'reverse continue cancelled');
    if (!hit?.event) {
      await this.replay(0, 'reverse continue', true);
      return this.stopAfterTravel(
        'reverse continue',
        'reverse continue: no breakpoint was hit before this moment; at the start of the recording',
      );
    }
    await this.replay(hit.event.seq, 'reverse continue', true);
    this.stopAfterTravel('reverse continue', `reverse continue: ${hit.description}`, hit);
  }

  /** Go to the first moment at or after virtual time `ns` (clamped to the recorded timeline). */
  async gotoTime(ns: number): Promise<void> {
    const tl = this.timeline;
    let done = await this.replay(tl.seqNearTime(ns), 'goto', true);
    if (done) {
      // From the window's start, access by access, to the first event at or after the time.
      const m = this.machine;
      this.replaying = true;
      try {
        while (m.sched.now < ns && tl.seq < tl.head) {
          tl.enterDueInputs();
          const before = tl.seq;
          const next = tl.momentAfter(before);
          if (next < 0 || !m.runTo(next)) break;
        }
      } finally {
        this.replaying = false;
      }
      done = true;
    }
    this.stopAfterTravel('goto', done ? `goto time ${ns} ns` : 'goto cancelled');
  }

  private travel(seq: number, reason: TravelReason): Promise<void> {
    return this.replay(seq, reason, true).then((done) => {
      // A moment inside an access is no place to stop: the machine lands at the access's end.
      // Say so, or a goto that lands where the session already is looks like nothing happened.
      const inside = done && this.timeline.seq !== seq && seq < this.timeline.head;
      const words = !done
        ? `${reason} cancelled`
        : inside
          ? `${reason} event ${seq} (inside an access; stopped at its end)`
          : reason;
      this.stopAfterTravel(reason, words);
    });
  }

  /**
   * Run the timeline to moment `seq` (a replay from power-on if it lies behind), with progress
   * the client can cancel. Nothing is said on the way. False if cancelled.
   */
  private async replay(seq: number, reason: TravelReason, show: boolean): Promise<boolean> {
    this.scheduled = false;
    if (!this.collecting) this.running = false;
    this.pending = null;
    this.stepCond = null;
    this.replaying = true;
    this.travelWords = `${reason}: a replay to event ${seq}`;
    this.cancelSeek = false;
    const from = this.timeline.seq;
    const total = Math.max(1, seq < from ? seq : seq - from);
    if (show) this.emit('replay', 'start', `${reason}: to event ${seq}`, 0);
    const g = this.timeline.seek(seq, (m) => this.adopt(m));
    let cancelled = false;
    try {
      for (;;) {
        const r = g.next();
        if (r.done) break;
        if (show) {
          const done = seq < from ? r.value.at : r.value.at - from;
          this.emit(
            'replay',
            'update',
            `event ${r.value.at} of ${seq}`,
            Math.min(99, Math.floor((100 * done) / total)),
          );
        }
        await new Promise((res) => setImmediate(res));
        if (this.disposed) return false;
        if (this.cancelSeek) {
          g.return(this.machine);
          cancelled = true;
          break;
        }
      }
    } catch (e) {
      this.emit('output', 'important', `time travel: ${(e as Error).message}\n`);
    } finally {
      this.replaying = false;
      this.machine.spine.stopRequested = null;
      if (show) this.emit('replay', 'end', cancelled ? 'cancelled' : `at event ${this.timeline.seq}`, 100);
    }
    return !cancelled;
  }

  /** After a seek: the views show the moment (console text, threads), the machine is stopped there. */
  private stopAfterTravel(reason: TravelReason, words: string, hit?: StopInfo): void {
    this.settle();
    const last = this.machine.spine.last();
    const at = `event ${this.timeline.seq} of ${this.timeline.head}`;
    const info: StopInfo = hit
      ? // As a forward stop at the hit shows it: the hit event (the machine is after its access).
        { ...hit, description: `${words} (${at})` }
      : {
          badge: reason,
          reason: reason === 'step back' ? 'step' : 'goto',
          description: last
            ? `${words}: ${at}, after ${describeEvent(this.machine, last)}`
            : `${words}: ${at}`,
          event: last ? cloneEvent(last) : null,
          initiator: last ? last.initiator : 'host.driver',
        };
    this.running = false;
    this.stopped = info;
    this.refreshThreads();
    this.emit('stopped', info);
  }

  /**
   * A travel ends here: the host files hold this moment (the trace cut back to it; the pcap
   * files are cut by the Timeline's seek) and the consoles show it.
   */
  private settle(): void {
    if (this.traceCut) {
      const err = this.traceCut.cutTo(this.timeline.seq);
      if (err) this.emit('output', 'important', `trace: ${err}\n`);
    }
    this.showConsole();
  }

  /** Tear down: no timers, no file handles; disk images flushed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.running = false;
    this.progress.cancelAll('session ended');
    // The disk images keep the moment the session ends in; their journals go.
    if (this.timeline) this.timeline.dispose();
    else this.machine?.dispose();
    this.closeReplay();
    this.trace?.close();
    this.trace = null;
    this.removeAllListeners();
  }

  /** Restart: a new machine with the same configuration (breakpoints re-attach). */
  restart(): void {
    this.progress.cancelAll('restarted');
    // A new session on the images as they are now: the old timeline ends here.
    this.timeline?.dispose();
    this.closeReplay();
    // The next machine's lines follow the last one's (its events are numbered from 1 again).
    this.traceCut?.restart();
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
