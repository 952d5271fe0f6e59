// Every `mic` debug session the extension knows, and what its adapter says: a DebugAdapterTracker
// (registered for type `mic`) watches the messages both ways and turns them into events the
// views, consoles and status bar listen to — stopped / running, the card consoles' bytes
// (mic/console) and the card states (mic/state).

import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DEBUG_TYPE, cardCount } from '../model/launchConfigurations.ts';
import type { ConsoleEventBody, StateEventBody } from '../model/requests.ts';

export class MicSession {
  /** The machine runs (no stop since the last continue). */
  running = false;
  /** The adapter answered launch: mic/ requests now have a machine to look at. */
  launched = false;
  ended = false;
  /** Per card, the last state the adapter reported (mic/state) or mic/cards showed. */
  readonly cardStates: string[];
  /** The last stop: its thread (the stopped event's threadId). */
  stoppedThread: number | undefined;
  /** Per thread, the id of the top frame the adapter last answered for this stop. */
  readonly topFrames = new Map<number, number>();

  constructor(readonly session: vscode.DebugSession) {
    this.cardStates = Array.from({ length: cardCount(session.configuration) }, () => 'starting');
  }

  get id(): string {
    return this.session.id;
  }

  get cards(): number {
    return this.cardStates.length;
  }

  request<T>(command: string, args?: object): Promise<T> {
    return Promise.resolve(this.session.customRequest(command, args) as Thenable<T>);
  }
}

export interface ConsoleOutput {
  s: MicSession;
  card: number;
  data: string;
}
export interface CardStateChange {
  s: MicSession;
  card: number;
  state: string;
}

const RUNS = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restart']);

export class MicSessions implements vscode.Disposable {
  private readonly byId = new Map<string, MicSession>();
  private latest: MicSession | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private readonly started = new vscode.EventEmitter<MicSession>();
  private readonly launchedE = new vscode.EventEmitter<MicSession>();
  private readonly stopped = new vscode.EventEmitter<MicSession>();
  private readonly runningE = new vscode.EventEmitter<MicSession>();
  private readonly consoleE = new vscode.EventEmitter<ConsoleOutput>();
  private readonly consoleReplayE = new vscode.EventEmitter<ConsoleOutput>();
  private readonly stateE = new vscode.EventEmitter<CardStateChange>();
  private readonly cardsE = new vscode.EventEmitter<MicSession>();
  private readonly endedE = new vscode.EventEmitter<MicSession>();
  private readonly currentE = new vscode.EventEmitter<MicSession | undefined>();

  readonly onDidStart = this.started.event;
  readonly onDidLaunch = this.launchedE.event;
  readonly onDidStop = this.stopped.event;
  /** The session started or stopped running. */
  readonly onDidChangeRunning = this.runningE.event;
  readonly onDidConsole = this.consoleE.event;
  /** After a seek: a card console's text as it was at that moment (mic/consoleReplay). */
  readonly onDidReplayConsole = this.consoleReplayE.event;
  readonly onDidChangeCardState = this.stateE.event;
  /** Any card state of the session changed (events or a fresh mic/cards). */
  readonly onDidChangeCards = this.cardsE.event;
  readonly onDidEnd = this.endedE.event;
  /** The session the views show changed. */
  readonly onDidChangeCurrent = this.currentE.event;
  /** The adapter answered a stackTrace: a top frame is known (MicSession.topFrames). */
  private readonly framesE = new vscode.EventEmitter<MicSession>();
  readonly onDidLearnFrames = this.framesE.event;

  constructor() {
    // `mic.sessionActive` (package.json `when` clauses): there is a MIC session to act on.
    const setContext = () =>
      void vscode.commands.executeCommand('setContext', 'mic.sessionActive', this.current() !== undefined);
    this.disposables.push(
      this.currentE.event(setContext),
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => this.tracker(this.ensure(session)),
      }),
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type !== DEBUG_TYPE) return;
        const s = this.ensure(session);
        this.latest = s;
        this.started.fire(s);
        this.currentE.fire(this.current());
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        const s = this.byId.get(session.id);
        if (s) this.end(s);
      }),
      vscode.debug.onDidChangeActiveDebugSession((session) => {
        if (session?.type === DEBUG_TYPE) this.currentE.fire(this.current());
      }),
      this.started,
      this.launchedE,
      this.stopped,
      this.runningE,
      this.consoleE,
      this.consoleReplayE,
      this.stateE,
      this.cardsE,
      this.endedE,
      this.currentE,
      this.framesE,
    );
  }

  /** The session the views and commands act on: the active one if it is `mic`, else the latest. */
  current(): MicSession | undefined {
    const active = vscode.debug.activeDebugSession;
    if (active?.type === DEBUG_TYPE) {
      const s = this.byId.get(active.id);
      if (s) return s;
    }
    return this.latest && !this.latest.ended ? this.latest : undefined;
  }

  all(): MicSession[] {
    return [...this.byId.values()];
  }

  /** Record card states learnt elsewhere (the Cards view's mic/cards answer). */
  setCardStates(s: MicSession, states: readonly string[]): void {
    let changed = false;
    states.forEach((st, i) => {
      if (s.cardStates[i] !== st) {
        s.cardStates[i] = st;
        changed = true;
      }
    });
    if (changed) this.cardsE.fire(s);
  }

  /**
   * The session is over: VS Code ended it, or its adapter exited, or its launch failed. A launch
   * refused by the adapter (a bad `disk`) may end without onDidTerminateDebugSession; left here,
   * such a session — its cards forever "starting" — became the current one when the next real
   * session ended.
   */
  private end(s: MicSession): void {
    if (s.ended) return;
    s.ended = true;
    s.running = false;
    this.byId.delete(s.id);
    if (this.latest === s) this.latest = [...this.byId.values()].pop();
    this.endedE.fire(s);
    this.currentE.fire(this.current());
  }

  private ensure(session: vscode.DebugSession): MicSession {
    let s = this.byId.get(session.id);
    if (!s) {
      s = new MicSession(session);
      this.byId.set(session.id, s);
    }
    return s;
  }

  private setRunning(s: MicSession, running: boolean): void {
    if (s.running === running) return;
    s.running = running;
    this.runningE.fire(s);
  }

  private tracker(s: MicSession): vscode.DebugAdapterTracker {
    /** stackTrace requests from the top of a thread's stack: request seq → threadId. */
    const stackRequests = new Map<number, number>();
    return {
      onExit: () => this.end(s),
      onWillReceiveMessage: (m: DebugProtocol.Request) => {
        if (m.type !== 'request') return;
        if (RUNS.has(m.command)) this.setRunning(s, true);
        if (m.command === 'stackTrace') {
          const a = m.arguments as DebugProtocol.StackTraceArguments;
          if (!a.startFrame) stackRequests.set(m.seq, a.threadId);
        }
      },
      onDidSendMessage: (m: DebugProtocol.ProtocolMessage) => {
        if (m.type === 'response') {
          const r = m as DebugProtocol.Response;
          const thread = stackRequests.get(r.request_seq);
          if (r.command === 'stackTrace' && thread !== undefined) {
            stackRequests.delete(r.request_seq);
            const top = (r as DebugProtocol.StackTraceResponse).body?.stackFrames?.[0];
            if (r.success && top) {
              s.topFrames.set(thread, top.id);
              this.framesE.fire(s);
            }
          }
          if (r.command === 'launch' && !r.success) this.end(s);
          if (r.command === 'launch' && r.success) {
            s.launched = true;
            this.setRunning(s, true);
            this.launchedE.fire(s);
          }
          return;
        }
        if (m.type !== 'event') return;
        const e = m as DebugProtocol.Event;
        switch (e.event) {
          case 'stopped':
            s.running = false;
            s.stoppedThread = (e.body as DebugProtocol.StoppedEvent['body']).threadId;
            s.topFrames.clear();
            this.runningE.fire(s);
            this.stopped.fire(s);
            break;
          case 'continued':
            this.setRunning(s, true);
            break;
          case 'terminated':
          case 'exited':
            this.setRunning(s, false);
            break;
          case 'mic/console': {
            const b = e.body as ConsoleEventBody;
            this.consoleE.fire({ s, card: b.card, data: b.data });
            break;
          }
          case 'mic/consoleReplay': {
            const b = e.body as ConsoleEventBody;
            this.consoleReplayE.fire({ s, card: b.card, data: b.data });
            break;
          }
          case 'mic/state': {
            const b = e.body as StateEventBody;
            s.cardStates[b.card] = b.state;
            this.stateE.fire({ s, card: b.card, state: b.state });
            this.cardsE.fire(s);
            break;
          }
        }
      },
    };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** The message of a failed customRequest. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
