// The DAP session: translates requests to the runtime and back. Each request family lives in
// its own module (breakpoints/, inspection/, memory.ts, evaluate.ts, customRequests.ts); this
// class only wires them together.

import {
  InitializedEvent,
  TerminatedEvent,
  StoppedEvent,
  ContinuedEvent,
  OutputEvent,
  ThreadEvent,
  ProgressStartEvent,
  ProgressUpdateEvent,
  ProgressEndEvent,
  MemoryEvent,
  InvalidatedEvent,
  Event,
  Thread,
  StackFrame,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DebugRuntime, type StopInfo } from './runtime.ts';
import { LaunchError, parseLaunchConfig, resolveLaunchFiles } from './launchConfig.ts';
import { GuardedSession } from './guard.ts';
import { BreakpointManager } from './breakpoints/breakpointManager.ts';
import { VariablesProvider } from './inspection/variables.ts';
import { readMemory, writeMemory } from './memory.ts';
import { Evaluator } from './evaluate.ts';
import { handleCustomRequest } from './customRequests.ts';
import { describeEvent, initiatorName } from './names.ts';
import { stopBadge } from './stopWords.ts';
// frameText is the one frame text (busEvent.ts); this file's own frameText is a frame's source.
import { frameText as frameName, type Frame } from '../emulator/sim/busEvent.ts';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments, Record<string, unknown> {
  /** Set by the VS Code extension: card consoles go to its terminals, not the Debug Console. */
  consoleTerminal?: boolean;
}

const ERR_LAUNCH = 1001;
const ERR_STATE = 1002;

export class MicDebugSession extends GuardedSession {
  rt: DebugRuntime | null = null;
  readonly breakpoints = new BreakpointManager(() => this.rt);
  readonly vars = new VariablesProvider(() => this.rt);
  readonly evaluator = new Evaluator(() => this.rt, this.vars);
  private configurationDone: () => void = () => {};
  private readonly configured = new Promise<void>((r) => (this.configurationDone = r));
  private consoleToTerminal = false;
  private progressIds = new Map<number, string>();
  /** The progress of the replay in progress (time travel), if any. */
  private replayProgress: string | null = null;
  private frameIds = new Map<number, { threadId: number; index: number }>();
  /** What each stack frame of this stop is, as text (frameId → text): mic/frameText. */
  private frameTexts = new Map<number, string>();
  private nextFrameId = 1;
  /** A session launches once: 'launching' from the launch request until its machine is built. */
  private launchState: 'none' | 'launching' | 'launched' | 'ended' = 'none';
  /** Settles when the launch has built its machine (or has failed): requests that need it wait. */
  private launching: Promise<void> | null = null;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(
    response: DebugProtocol.InitializeResponse,
    _args: DebugProtocol.InitializeRequestArguments,
  ): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      // Time travel (docs/time-travel.md): Step Back and Reverse Continue in the toolbar; a
      // replay's progress can be cancelled.
      supportsStepBack: true,
      supportsCancelRequest: true,
      supportsDelayedStackTraceLoading: false,
      exceptionBreakpointFilters: BreakpointManager.exceptionFilters,
    } as DebugProtocol.Capabilities;
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected override machinePending(): Promise<void> | null {
    return this.launching;
  }

  protected override async launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: LaunchArguments,
  ): Promise<void> {
    if (this.launchState !== 'none')
      return this.sendErrorResponse(response, {
        id: ERR_LAUNCH,
        format:
          this.launchState === 'ended'
            ? 'this session has ended; start a new one'
            : 'this session has already launched its machine; use restart, or start a new session',
        showUser: true,
      });
    // Every attribute and every file is checked before anything is built or opened.
    let cfg;
    try {
      cfg = resolveLaunchFiles(parseLaunchConfig(args));
    } catch (e) {
      if (e instanceof LaunchError)
        return this.sendErrorResponse(response, { id: ERR_LAUNCH, format: e.message, showUser: true });
      throw e;
    }
    this.launchState = 'launching';
    let built: () => void = () => {};
    this.launching = new Promise<void>((r) => (built = r));
    try {
      this.consoleToTerminal = args.consoleTerminal === true;
      // Breakpoints come between initialize and configurationDone; wait for them (at most 1 s,
      // for clients that never send configurationDone).
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([this.configured, new Promise((r) => (wait = setTimeout(r, 1000)))]);
      clearTimeout(wait);
      if (this.launchState !== 'launching') {
        // terminated, disconnected or closed while waiting: nothing starts
        return this.sendErrorResponse(response, {
          id: ERR_LAUNCH,
          format: 'the session ended before the launch completed',
          showUser: false,
        });
      }
      const rt = new DebugRuntime(cfg);
      this.wire(rt);
      this.breakpoints.attach(rt);
      try {
        rt.start();
      } catch (e) {
        rt.dispose();
        this.launchState = 'none';
        return this.sendErrorResponse(response, {
          id: ERR_LAUNCH,
          format: e instanceof LaunchError ? e.message : `cannot start the machine: ${(e as Error).message}`,
          showUser: true,
        });
      }
      this.rt = rt;
      this.launchState = 'launched';
      this.sendResponse(response);
      rt.begin();
    } finally {
      this.launching = null;
      built();
    }
  }

  private wire(rt: DebugRuntime): void {
    rt.on('stopped', (info) => this.onStopped(info));
    rt.on('output', (category, text) => this.sendEvent(new OutputEvent(text, category)));
    rt.on('thread', (id) => this.sendEvent(new ThreadEvent('started', id)));
    rt.on('console', (card, data) => {
      this.sendEvent(new Event('mic/console', { card, data: Buffer.from(data).toString('base64') }));
      if (!this.consoleToTerminal)
        this.sendEvent(new OutputEvent(Buffer.from(data).toString('utf8'), 'stdout'));
    });
    rt.on('state', (card, state) => this.sendEvent(new Event('mic/state', { card, state })));
    rt.on('replay', (phase, message, percent) => {
      if (phase === 'start') {
        this.replayProgress = `replay-${Date.now()}`;
        const start: DebugProtocol.ProgressStartEvent = new ProgressStartEvent(
          this.replayProgress,
          'Time travel',
          message,
        );
        start.body.cancellable = true;
        start.body.percentage = percent;
        this.sendEvent(start);
      } else if (this.replayProgress) {
        if (phase === 'update') {
          const update: DebugProtocol.ProgressUpdateEvent = new ProgressUpdateEvent(
            this.replayProgress,
            message,
          );
          update.body.percentage = percent;
          this.sendEvent(update);
        } else {
          this.sendEvent(new ProgressEndEvent(this.replayProgress, message));
          this.replayProgress = null;
        }
      }
    });
    rt.on('consoleReplay', (card, text) =>
      this.sendEvent(
        new Event('mic/consoleReplay', { card, data: Buffer.from(text, 'latin1').toString('base64') }),
      ),
    );
    rt.on('failed', (message) => this.endAfterFailure(message));
    rt.on('progress', (card, phase, message) => {
      if (phase === 'start') {
        const id = `boot-mic${card}-${Date.now()}`;
        this.progressIds.set(card, id);
        this.sendEvent(new ProgressStartEvent(id, `mic${card}`, message));
      } else {
        const id = this.progressIds.get(card);
        if (!id) return;
        if (phase === 'update') this.sendEvent(new ProgressUpdateEvent(id, message));
        else {
          this.sendEvent(new ProgressEndEvent(id, message));
          this.progressIds.delete(card);
        }
      }
    });
  }

  private onStopped(info: StopInfo): void {
    const rt = this.rt!;
    this.vars.reset();
    this.frameIds.clear();
    this.frameTexts.clear();
    const threadId = rt.threads.id(info.initiator);
    // `description` is the short badge beside the thread; `text`, the sentence, is what VS Code
    // shows on hover and in the exception widget (stopWords.ts).
    const ev = new StoppedEvent(info.reason, threadId, info.description) as DebugProtocol.StoppedEvent;
    ev.body.description = stopBadge(info);
    ev.body.allThreadsStopped = true;
    if (info.hitBreakpointIds?.length) ev.body.hitBreakpointIds = info.hitBreakpointIds;
    this.sendEvent(ev);
    this.sendEvent(new InvalidatedEvent(['variables']));
  }

  /** `need`, and not while a travel runs (DebugRuntime.busy): for requests that move or feed the machine. */
  private needIdle(response: DebugProtocol.Response): DebugRuntime | null {
    const rt = this.need(response);
    const busy = rt?.busy();
    if (!rt || !busy) return rt;
    this.sendErrorResponse(response, { id: ERR_STATE, format: busy, showUser: true });
    return null;
  }

  private need(response: DebugProtocol.Response): DebugRuntime | null {
    if (!this.rt) {
      this.sendErrorResponse(response, {
        id: ERR_STATE,
        format: 'no machine: launch first',
        showUser: false,
      });
      return null;
    }
    return this.rt;
  }

  // ---- threads and stacks --------------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const rt = this.rt;
    response.body = { threads: rt ? rt.threads.list().map((t) => new Thread(t.id, t.name)) : [] };
    this.sendResponse(response);
  }

  /** The frames a thread shows: the stopped event on top, then its software frames. */
  private framesOf(threadId: number): { name: string; frame: Frame | null; event: boolean }[] {
    const rt = this.rt!;
    const initiator = rt.threads.initiator(threadId);
    const stop = rt.stopped;
    const out: { name: string; frame: Frame | null; event: boolean }[] = [];
    let chain: Frame | null = null;
    if (stop?.event && stop.event.initiator === initiator) {
      out.push({ name: describeEvent(rt.machine, stop.event), frame: null, event: true });
      chain = stop.event.frames;
    } else {
      // Another thread: where its task last yielded.
      for (const t of rt.machine.sched.tasks) if (t.initiator === initiator && t.frames) chain = t.frames;
      if (!chain) out.push({ name: `${initiatorName(initiator ?? '')}: idle`, frame: null, event: false });
    }
    for (let f = chain; f; f = f.parent) out.push({ name: frameName(f), frame: f, event: false });
    return out;
  }

  protected override stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): void {
    if (!this.need(response)) return;
    const frames = this.framesOf(args.threadId);
    const start = args.startFrame ?? 0;
    const levels = args.levels && args.levels > 0 ? args.levels : frames.length;
    const stackFrames = frames.slice(start, start + levels).map((f, i) => {
      const id = this.nextFrameId++;
      this.frameIds.set(id, { threadId: args.threadId, index: start + i });
      // No source: with one, VS Code opens it in an editor at every stop and moves the keyboard
      // there (debug.focusEditorOnBreak), away from the card console a person is typing in. The
      // frame's text (the transaction, or the function and its arguments) is mic/frameText;
      // the extension shows it beside the stop without taking the focus.
      this.frameTexts.set(id, frameText(this.rt!, f, frames));
      return new StackFrame(id, f.name);
    });
    response.body = { stackFrames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(
    response: DebugProtocol.ScopesResponse,
    args: DebugProtocol.ScopesArguments,
  ): void {
    const rt = this.need(response);
    if (!rt) return;
    const f = this.frameIds.get(args.frameId);
    const initiator = f ? rt.threads.initiator(f.threadId) : undefined;
    response.body = { scopes: this.vars.scopes(initiator ?? null) };
    this.sendResponse(response);
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    if (!this.need(response)) return;
    response.body = {
      variables: this.vars.variables(args.variablesReference, args.filter, args.start, args.count),
    };
    this.sendResponse(response);
  }

  protected override setVariableRequest(
    response: DebugProtocol.SetVariableResponse,
    args: DebugProtocol.SetVariableArguments,
  ): void {
    if (!this.needIdle(response)) return;
    const r = this.vars.setVariable(args.variablesReference, args.name, args.value);
    if (typeof r === 'string')
      return this.sendErrorResponse(response, { id: ERR_STATE, format: r, showUser: true });
    response.body = r.body;
    this.sendResponse(response);
    if (r.memory) this.sendEvent(new MemoryEvent(r.memory.ref, r.memory.offset, r.memory.count));
    this.sendEvent(new InvalidatedEvent(['variables']));
  }

  // ---- run control ---------------------------------------------------------------------

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    rt.resume();
  }

  protected override nextRequest(
    response: DebugProtocol.NextResponse,
    args: DebugProtocol.NextArguments,
  ): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.sendResponse(response);
    rt.step('next', args.threadId);
  }

  protected override stepInRequest(
    response: DebugProtocol.StepInResponse,
    args: DebugProtocol.StepInArguments,
  ): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.sendResponse(response);
    rt.step('in', args.threadId);
  }

  protected override stepOutRequest(
    response: DebugProtocol.StepOutResponse,
    args: DebugProtocol.StepOutArguments,
  ): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.sendResponse(response);
    rt.step('out', args.threadId);
  }

  /** Step Back: to the moment before the previous bus access (a replay from power-on). */
  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.sendResponse(response);
    void rt.stepBack();
  }

  /** Reverse Continue: back to the previous hit of any armed breakpoint. */
  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.sendResponse(response);
    void rt.reverseContinue();
  }

  /** Cancel: the replay in progress stops where it is (its progress is cancellable). */
  protected override cancelRequest(
    response: DebugProtocol.CancelResponse,
    args: DebugProtocol.CancelArguments,
  ): void {
    if (args?.progressId && args.progressId === this.replayProgress) this.rt?.cancelTravel();
    this.sendResponse(response);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    const rt = this.need(response);
    if (!rt) return;
    this.sendResponse(response);
    rt.pause();
  }

  /** The runtime failed inside: say so, end this session (its machine and files), keep the process. */
  private endAfterFailure(message: string): void {
    this.sendEvent(
      new OutputEvent(
        `the machine stopped on an internal error (${message}); the session ends\n`,
        'important',
      ),
    );
    this.rt?.dispose();
    this.rt = null;
    this.launchState = 'ended';
    this.sendEvent(new TerminatedEvent());
  }

  /** Every progress that started ends: on restart, terminate and disconnect too. */
  private endProgress(message: string): void {
    for (const id of this.progressIds.values()) this.sendEvent(new ProgressEndEvent(id, message));
    this.progressIds.clear();
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    this.endProgress('restarted');
    try {
      rt.restart();
    } catch (e) {
      // The new machine could not be built (a file went away): the old one is gone too.
      this.sendErrorResponse(response, {
        id: ERR_LAUNCH,
        format: e instanceof LaunchError ? e.message : `cannot restart the machine: ${(e as Error).message}`,
        showUser: true,
      });
      this.endAfterFailure('restart failed');
      return;
    }
    this.sendResponse(response);
    this.sendEvent(new ContinuedEvent(1, true));
    rt.begin();
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.endProgress('session ended');
    this.rt?.dispose();
    this.rt = null;
    this.launchState = 'ended';
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.endProgress('session ended');
    this.rt?.dispose();
    this.rt = null;
    this.launchState = 'ended';
    this.sendResponse(response);
    // DAP: after disconnect the adapter shuts itself down (a no-op in server mode and inline).
    this.shutdown();
  }

  /**
   * The client disconnected, its connection closed, or SIGTERM: stop the machine (disk images
   * flushed and closed, no timers), then let DebugSession end a stdio adapter process.
   */
  override shutdown(): void {
    this.rt?.dispose();
    this.rt = null;
    this.launchState = 'ended';
    this.stopReading();
    super.shutdown();
  }

  // ---- breakpoints -----------------------------------------------------------------------

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): void {
    response.body = { breakpoints: this.breakpoints.setFunctionBreakpoints(args) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse,
    args: DebugProtocol.DataBreakpointInfoArguments,
  ): void {
    response.body = this.breakpoints.dataBreakpointInfo(args, this.vars);
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse,
    args: DebugProtocol.SetDataBreakpointsArguments,
  ): void {
    response.body = { breakpoints: this.breakpoints.setDataBreakpoints(args) };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    response.body = { breakpoints: this.breakpoints.setExceptionBreakpoints(args) };
    this.sendResponse(response);
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    // There is no source to set line breakpoints in: answer each as unverified, with a reason.
    response.body = {
      breakpoints: (args.breakpoints ?? []).map(() => ({
        verified: false,
        message:
          'The MIC debugger has no source lines: use function breakpoints (doorbell, dma, vq …) or data breakpoints.',
      })),
    };
    this.sendResponse(response);
  }

  /** The text of a frame of this stop (`frameId`), or of the stopped thread's top frame. */
  private frameTextOf(frameId: unknown): string | undefined {
    const rt = this.rt;
    if (!rt?.stopped) return undefined;
    if (typeof frameId === 'number') return this.frameTexts.get(frameId);
    const frames = this.framesOf(rt.threads.id(rt.stopped.initiator));
    return frames.length ? frameText(rt, frames[0], frames) : undefined;
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.rt?.stopped;
    response.body = {
      exceptionId: s?.reason === 'exception' ? stopBadge(s) : 'none',
      description: s ? (s.text ?? s.description) : '',
      breakMode: 'always',
    };
    this.sendResponse(response);
  }

  // ---- memory, evaluate, custom ------------------------------------------------------------

  protected override readMemoryRequest(
    response: DebugProtocol.ReadMemoryResponse,
    args: DebugProtocol.ReadMemoryArguments,
  ): void {
    const rt = this.need(response);
    if (!rt) return;
    const r = readMemory(rt.machine, args.memoryReference, args.offset ?? 0, args.count);
    if (typeof r === 'string')
      return this.sendErrorResponse(response, { id: ERR_STATE, format: r, showUser: false });
    response.body = {
      address: r.address,
      data: Buffer.from(r.data).toString('base64'),
      unreadableBytes: r.unreadableBytes,
    };
    this.sendResponse(response);
  }

  protected override writeMemoryRequest(
    response: DebugProtocol.WriteMemoryResponse,
    args: DebugProtocol.WriteMemoryArguments,
  ): void {
    const rt = this.needIdle(response);
    if (!rt) return;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(args.data) || args.data.length % 4 === 1)
      return this.sendErrorResponse(response, {
        id: ERR_STATE,
        format: "writeMemory: 'data' is not base64",
        showUser: false,
      });
    const data = new Uint8Array(Buffer.from(args.data, 'base64'));
    const r = writeMemory(rt.machine, args.memoryReference, args.offset ?? 0, data);
    if (typeof r === 'string')
      return this.sendErrorResponse(response, { id: ERR_STATE, format: r, showUser: false });
    response.body = { bytesWritten: r.written };
    this.sendResponse(response);
    this.sendEvent(new MemoryEvent(args.memoryReference, args.offset ?? 0, r.written));
    this.sendEvent(new InvalidatedEvent(['variables']));
    if (rt.running) rt.resume();
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): void {
    const rt = this.need(response);
    if (!rt) return;
    const frame = args.frameId !== undefined ? this.frameIds.get(args.frameId) : undefined;
    const initiator = frame ? (rt.threads.initiator(frame.threadId) ?? null) : null;
    const r = this.evaluator.evaluate(args.expression, args.context ?? 'repl', initiator);
    if (typeof r === 'string')
      return this.sendErrorResponse(response, { id: ERR_STATE, format: r, showUser: false });
    const { memoryEvent, ...body } = r; // memoryEvent is ours, not a DAP response field
    response.body = body;
    this.sendResponse(response);
    if (memoryEvent) this.sendEvent(new MemoryEvent(memoryEvent.ref, memoryEvent.offset, memoryEvent.count));
  }

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    if (command === 'mic/frameText') {
      const text = this.frameTextOf((args as { frameId?: unknown } | undefined)?.frameId);
      if (text === undefined)
        return this.sendErrorResponse(response, {
          id: ERR_STATE,
          format: 'not stopped, or the frame belongs to an earlier stop',
          showUser: false,
        });
      response.body = { text };
      return this.sendResponse(response);
    }
    const r = handleCustomRequest(this, command, args);
    if (r === undefined) return super.customRequest(command, response, args);
    // A request that takes time (mic/exportPerfetto) answers when it is done.
    if (r instanceof Promise)
      return void r.then(
        (v: unknown) => this.answerCustom(response, v),
        (e: unknown) => this.answerCustom(response, e instanceof Error ? e.message : String(e)),
      );
    this.answerCustom(response, r);
  }

  private answerCustom(response: DebugProtocol.Response, r: unknown): void {
    if (typeof r === 'string')
      return this.sendErrorResponse(response, { id: ERR_STATE, format: r, showUser: false });
    response.body = r;
    this.sendResponse(response);
  }
}

/** The text a frame's source shows: the stopped transaction's fields, or a software frame. */
function frameText(
  rt: DebugRuntime,
  f: { name: string; frame: Frame | null; event: boolean },
  all: { name: string; frame: Frame | null; event: boolean }[],
): string {
  const lines = [`// ${f.name}`, ''];
  const e = rt.stopped?.event;
  if (f.event && e) {
    lines.push(
      `seq        ${e.seq}`,
      `time       ${(e.time / 1e9).toFixed(9)} s (virtual)`,
      `initiator  ${e.initiator} (${initiatorName(e.initiator)})`,
      `kind       ${e.kind}`,
      `space      ${e.space}`,
      `address    0x${e.address.toString(16)}`,
      `size       ${e.size}`,
      `value      0x${(e.value >>> 0).toString(16)}`,
    );
    if (e.detail) lines.push(`detail     ${e.detail}`);
    // The causal links (events as data): in the MIC stop document each event number is a link
    // that goes there (time travel).
    if (e.cause > 0) lines.push(`cause      ${e.cause} (the event that made this one happen)`);
    if (e.req > 0) lines.push(`request    ${e.req} (the virtio request this event belongs to)`);
  } else if (f.frame?.args) {
    for (const [k, v] of Object.entries(f.frame.args))
      lines.push(`${k.padEnd(10)} ${typeof v === 'number' ? '0x' + v.toString(16) : v}`);
  }
  lines.push(
    '',
    'call path (innermost first):',
    ...all.map((x, i) => `${x === f ? '→' : ' '} #${i} ${x.name}`),
  );
  return lines.join('\n') + '\n';
}
