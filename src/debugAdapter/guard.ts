// The one door every request comes through, below MicDebugSession: framing (framing.ts),
// the order DAP prescribes (initialize first, once), argument shapes (validate.ts), and a guard
// around every handler so that nothing a client sends can throw past the session — a handler
// that throws or rejects is answered with an error (or, if it had already answered, reported in
// an output event), never an unhandled rejection and never a second response.
//
// It replaces @vscode/debugadapter's dispatchRequest, which refuses `initialize` without
// `pathFormat` (DAP says it defaults to "path"), answers requests we do not implement (attach,
// goto …) with success, and drops the promise of async handlers.

import { appendFileSync } from 'node:fs';
import { DebugSession, OutputEvent, Response } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MessageReader } from './framing.ts';
import { show, validateArguments } from './validate.ts';

export const ERR_REQUEST = 1010;
export const ERR_INTERNAL = 1104;

/** Requests that act on the machine: while a launch is building it, they wait for it. */
export const NEEDS_MACHINE: ReadonlySet<string> = new Set([
  'continue',
  'next',
  'stepIn',
  'stepOut',
  'stepBack',
  'reverseContinue',
  'pause',
  'restart',
  'stackTrace',
  'scopes',
  'variables',
  'setVariable',
  'evaluate',
  'readMemory',
  'writeMemory',
  'exceptionInfo',
]);

/** DAP requests this adapter does not implement (DebugSession would answer them "success"). */
const NOT_SUPPORTED = new Set([
  'restartFrame',
  'goto',
  'setExpression',
  'terminateThreads',
  'stepInTargets',
  'gotoTargets',
  'completions',
  'loadedSources',
  'disassemble',
  'breakpointLocations',
  'setInstructionBreakpoints',
  'locations',
  'runInTerminal',
  'startDebugging',
]);

/** An error's text for a client: its first line, without our install paths. */
export function cleanMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text
    .split('\n')[0]
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\\/\s'"():]+)+[\\/](?:node_modules|dist|src)[\\/][^\s'"():]*/g, (p) =>
      p.replace(/^.*[\\/]/, ''),
    );
}

export abstract class GuardedSession extends DebugSession {
  private initialized = false;
  private reader: MessageReader | null = null;

  /** While the machine is being built: a promise that settles when it is (or is not). */
  protected abstract machinePending(): Promise<unknown> | null;

  /** Say something to the client about the protocol itself (Debug Console, stderr). */
  protected tellClient(text: string): void {
    this.sendEvent(new OutputEvent(`mic debug adapter: ${text}\n`, 'stderr'));
  }

  // ---- transport -------------------------------------------------------------------------

  /** Speak DAP on these streams (stdio, or a --server socket), with our framing. */
  override start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void {
    (this as unknown as { _writableStream: NodeJS.WritableStream })._writableStream = outStream;
    const reader = new MessageReader({
      message: (msg, validUtf8) => this.fromWire(msg, validUtf8),
      problem: (text) => this.tellClient(text),
    });
    this.reader = reader;
    inStream.on('data', (d: Buffer | string) => reader.push(typeof d === 'string' ? Buffer.from(d) : d));
    inStream.on('end', () => reader.end());
    inStream.on('close', () => {
      reader.dispose();
      this.emit('close');
    });
    inStream.on('error', (e: Error) => this.emit('error', e));
    outStream.on('error', (e: Error) => this.emit('error', e));
    inStream.resume();
  }

  /** A message off the wire: only objects that say what they are go on. */
  private fromWire(msg: unknown, validUtf8: boolean): void {
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.tellClient(`a message that is not a DAP object (${show(msg)}) was skipped`);
      return;
    }
    const m = msg as Record<string, unknown>;
    if (m.type === 'response') return super.handleMessage(m as unknown as DebugProtocol.ProtocolMessage);
    if (m.type !== 'request' && typeof m.command !== 'string') {
      this.tellClient(`a message of type ${show(m.type)} was skipped: a client sends requests and responses`);
      return;
    }
    if (!validUtf8) {
      this.refuse(new Response(m as unknown as DebugProtocol.Request), 'the message is not valid UTF-8');
      return;
    }
    if (m.type !== 'request') {
      this.refuse(
        new Response(m as unknown as DebugProtocol.Request),
        `'type' must be "request", not ${show(m.type)}`,
      );
      return;
    }
    this.dispatchRequest(m as unknown as DebugProtocol.Request);
  }

  override handleMessage(msg: DebugProtocol.ProtocolMessage): void {
    // Inline (VS Code calls this directly) and from the wire alike.
    if (msg && (msg as { type?: unknown }).type === 'request')
      this.dispatchRequest(msg as DebugProtocol.Request);
    else super.handleMessage(msg);
  }

  // ---- dispatch --------------------------------------------------------------------------

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    if (REQUEST_LOG) logRequest(request);
    const response = new Response(request);
    if (!Number.isSafeInteger(request.seq) || request.seq < 0) {
      response.request_seq = 0;
      return this.refuse(response, `'seq' must be a whole number, not ${show(request.seq)}`);
    }
    const cmd = request.command as unknown;
    if (typeof cmd !== 'string' || cmd === '')
      return this.refuse(response, `'command' must be a request name, not ${show(cmd)}`);
    if (cmd === 'attach')
      return this.refuse(
        response,
        'attach is not supported: the MIC debugger runs its own emulated machine; use "request": "launch"',
      );
    if (NOT_SUPPORTED.has(cmd)) return this.refuse(response, `'${cmd}' is not supported by the MIC debugger`);
    if (cmd === 'initialize' && this.initialized)
      return this.refuse(response, "'initialize' was already sent; a session is initialized once");
    if (cmd !== 'initialize' && !this.initialized)
      return this.refuse(response, `'${cmd}' came before 'initialize': send initialize first`);
    const bad = validateArguments(cmd, request.arguments);
    if (bad) return this.refuse(response, bad);
    const pending = NEEDS_MACHINE.has(cmd) || cmd.startsWith('mic/') ? this.machinePending() : null;
    if (pending) {
      // Wait for the machine the launch is building; requests keep their order.
      pending.then(
        () => this.run(cmd, response, request),
        () => this.run(cmd, response, request),
      );
      return;
    }
    this.run(cmd, response, request);
  }

  private refuse(response: DebugProtocol.Response, text: string): void {
    this.sendErrorResponse(response, { id: ERR_REQUEST, format: text, showUser: false });
  }

  /** Run a handler; whatever it throws or rejects with is answered, once. */
  private run(cmd: string, response: DebugProtocol.Response, request: DebugProtocol.Request): void {
    const fail = (e: unknown) => {
      const text = cleanMessage(e);
      process.stderr.write(`mic debug adapter: '${cmd}' failed: ${e instanceof Error ? e.stack : text}\n`);
      if (response.seq > 0) this.tellClient(`'${cmd}' failed after it was answered: ${text}`);
      else
        this.sendErrorResponse(response, {
          id: ERR_INTERNAL,
          format: `'${cmd}' failed inside the adapter: ${text}`,
          showUser: false,
        });
    };
    try {
      const r = this.invoke(cmd, response, request);
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  /** The handler of each request we serve (DebugSession's method names). */
  private invoke(cmd: string, response: DebugProtocol.Response, request: DebugProtocol.Request): unknown {
    const a = request.arguments;
    // Each handler takes its own response type; they are all this one response object.
    const r = response as never;
    switch (cmd) {
      case 'initialize': {
        const args = a as DebugProtocol.InitializeRequestArguments;
        const self = this as unknown as { _clientLinesStartAt1: boolean; _clientColumnsStartAt1: boolean };
        if (typeof args.linesStartAt1 === 'boolean') self._clientLinesStartAt1 = args.linesStartAt1;
        if (typeof args.columnsStartAt1 === 'boolean') self._clientColumnsStartAt1 = args.columnsStartAt1;
        // pathFormat: DAP's default is "path". We hand out no paths (sources are by reference),
        // so "uri" clients are served too.
        this.initialized = true;
        response.body = {};
        return this.initializeRequest(r, args);
      }
      case 'launch':
        return this.launchRequest(r, a, request);
      case 'configurationDone':
        return this.configurationDoneRequest(r, a, request);
      case 'disconnect':
        return this.disconnectRequest(r, a, request);
      case 'terminate':
        return this.terminateRequest(r, a, request);
      case 'restart':
        return this.restartRequest(r, a, request);
      case 'setBreakpoints':
        return this.setBreakPointsRequest(r, a, request);
      case 'setFunctionBreakpoints':
        return this.setFunctionBreakPointsRequest(r, a, request);
      case 'setExceptionBreakpoints':
        return this.setExceptionBreakPointsRequest(r, a, request);
      case 'dataBreakpointInfo':
        return this.dataBreakpointInfoRequest(r, a, request);
      case 'setDataBreakpoints':
        return this.setDataBreakpointsRequest(r, a, request);
      case 'continue':
        return this.continueRequest(r, a, request);
      case 'next':
        return this.nextRequest(r, a, request);
      case 'stepIn':
        return this.stepInRequest(r, a, request);
      case 'stepOut':
        return this.stepOutRequest(r, a, request);
      case 'stepBack':
        return this.stepBackRequest(r, a, request);
      case 'reverseContinue':
        return this.reverseContinueRequest(r, a, request);
      case 'cancel':
        return this.cancelRequest(r, a, request);
      case 'pause':
        return this.pauseRequest(r, a, request);
      case 'threads':
        return this.threadsRequest(r, request);
      case 'stackTrace':
        return this.stackTraceRequest(r, a, request);
      case 'scopes':
        return this.scopesRequest(r, a, request);
      case 'variables':
        return this.variablesRequest(r, a, request);
      case 'setVariable':
        return this.setVariableRequest(r, a, request);
      case 'source':
        return this.sourceRequest(r, a, request);
      case 'exceptionInfo':
        return this.exceptionInfoRequest(r, a, request);
      case 'evaluate':
        return this.evaluateRequest(r, a, request);
      case 'readMemory':
        return this.readMemoryRequest(r, a, request);
      case 'writeMemory':
        return this.writeMemoryRequest(r, a, request);
      default:
        if (!cmd.startsWith('mic/'))
          return this.refuse(response, `'${cmd}' is not a request this adapter knows`);
        return this.customRequest(cmd, r, a, request);
    }
  }

  /** Stop reading (the session is over). */
  protected stopReading(): void {
    this.reader?.dispose();
  }
}

/**
 * MIC_DAP_LOG=FILE: every request the adapter receives, one JSON line each with the wall-clock
 * time (ms) it arrived — what a client really sent, for a bug report or to replay a session's
 * traffic against the adapter. Off unless set; a failing write is ignored (never stops a session).
 */
const REQUEST_LOG = process.env.MIC_DAP_LOG || null;
function logRequest(request: DebugProtocol.Request): void {
  try {
    appendFileSync(REQUEST_LOG!, JSON.stringify({ at: Date.now(), request }) + '\n');
  } catch {
    // the log is a convenience
  }
}
