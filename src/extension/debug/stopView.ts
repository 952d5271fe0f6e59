// What a person sees when the machine stops, without losing the keyboard.
//
// The adapter's stack frames carry no source: with one, VS Code opens it in an editor at every
// stop and (debug.focusEditorOnBreak, on by default) moves the keyboard there, so a person typing
// in the card console — the usual way to reach a breakpoint — loses the rest of the line to a
// read-only editor. Without a source VS Code focuses the stopped thread but no frame, and the
// Variables view stays empty. So the extension:
//   1. shows the stop's transaction (mic/frameText) in the "MIC stop" document, revealed with
//      preserveFocus (it follows the frame selected in the Call Stack);
//   2. selects the top frame for the Variables view through VS Code's own call-stack commands
//      (Focus Bottom of Call Stack, then Focus Up), which open no editor for a frame without
//      a source and so leave the keyboard where it is.

import * as vscode from 'vscode';
import type { MicSession, MicSessions } from './micSessions.ts';
import { log } from '../log.ts';

export const STOP_SCHEME = 'mic-stop';
const STOP_URI = vscode.Uri.from({ scheme: STOP_SCHEME, path: '/MIC stop' });
const BOTTOM = 'workbench.action.debug.callStackBottom';
const UP = 'workbench.action.debug.callStackUp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StopView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changedE = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changedE.event;
  private text = 'The machine is running.\n';
  private readonly disposables: vscode.Disposable[];
  /** Counts stops: a focus walk started for an older stop gives up. */
  private generation = 0;

  constructor(private readonly sessions: MicSessions) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(STOP_SCHEME, this),
      this.changedE,
      sessions.onDidStop((s) => void this.stopped(s)),
      vscode.debug.onDidChangeActiveStackItem((item) => {
        if (
          item instanceof vscode.DebugStackFrame &&
          this.sessions.all().some((x) => x.id === item.session.id)
        )
          void this.showFrame(item.session.id, item.frameId);
      }),
    ];
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  private async stopped(s: MicSession): Promise<void> {
    const gen = ++this.generation;
    await this.showFrame(s.id, undefined, true);
    await this.focusTopFrame(s, gen);
  }

  /** Put a frame's text (the top frame of the stop when `frameId` is undefined) in the document. */
  private async showFrame(sessionId: string, frameId: number | undefined, reveal = false): Promise<void> {
    const s = this.sessions.all().find((x) => x.id === sessionId);
    if (!s) return;
    try {
      const r = await s.request<{ text: string }>('mic/frameText', frameId === undefined ? {} : { frameId });
      this.text = r.text;
    } catch {
      return; // running again, or an older stop's frame
    }
    this.changedE.fire(STOP_URI);
    const visible = vscode.window.visibleTextEditors.some(
      (e) => e.document.uri.toString() === STOP_URI.toString(),
    );
    if (reveal && !visible) {
      const doc = await vscode.workspace.openTextDocument(STOP_URI);
      await vscode.window.showTextDocument(doc, {
        preserveFocus: true,
        preview: true,
        viewColumn: await this.stopColumn(),
      });
    }
  }

  /**
   * Where the stop's text goes: the active group as usual, but beside the MIC Timeline or MIC
   * Memory panel a person is looking at, not over it — the panel follows the stop too, and
   * covering it would lose the view. Beside means the group that already shows the document's
   * tab if there is one; a copy behind the panel is closed (one MIC stop tab, not two).
   */
  private async stopColumn(): Promise<vscode.ViewColumn | undefined> {
    const groups = vscode.window.tabGroups;
    const active = groups.activeTabGroup;
    const input = active.activeTab?.input;
    const overPanel =
      input instanceof vscode.TabInputWebview && /mic\.(timeline|memory)$/.test(input.viewType);
    if (!overPanel) return undefined;
    const isStop = (t: vscode.Tab) =>
      t.input instanceof vscode.TabInputText && t.input.uri.toString() === STOP_URI.toString();
    const behind = active.tabs.filter(isStop);
    if (behind.length > 0) await groups.close(behind, true);
    const elsewhere = groups.all.find((g) => g !== active && g.tabs.some(isStop));
    return elsewhere?.viewColumn ?? vscode.ViewColumn.Beside;
  }

  /** Select the stopped thread's top frame without moving the keyboard (see the file comment). */
  private async focusTopFrame(s: MicSession, gen: number): Promise<void> {
    const thread = s.stoppedThread;
    if (thread === undefined) return;
    const isThread = (x: unknown) =>
      x instanceof vscode.DebugThread && x.session.id === s.id && x.threadId === thread;
    // A frame of this stop: the adapter numbers frames anew at each stop, upwards, and the
    // stopped thread's stack is the first one fetched, so its top frame is the lowest.
    const ofThisStop = (x: unknown) =>
      x instanceof vscode.DebugStackFrame &&
      x.session.id === s.id &&
      s.topFrames.size > 0 &&
      x.frameId >= Math.min(...s.topFrames.values());
    // Wait until VS Code has focused the stopped thread and fetched its stack. The frame still
    // selected from the stop before (a pause, then Reverse Continue) is not a selection: the
    // Variables view would stay empty.
    for (let t = 0; t < 60; t++) {
      if (gen !== this.generation || s.running) return;
      const active = vscode.debug.activeStackItem;
      if (ofThisStop(active)) return; // a frame is selected already
      if (isThread(active) && s.topFrames.has(thread)) break;
      await sleep(50);
    }
    const top = s.topFrames.get(thread);
    if (top === undefined || !isThread(vscode.debug.activeStackItem)) return;
    let last: unknown = vscode.debug.activeStackItem;
    await vscode.commands.executeCommand(BOTTOM);
    for (let step = 0; step < 64; step++) {
      // Each command answers before VS Code tells the extension host about the new focus.
      for (let t = 0; t < 20 && vscode.debug.activeStackItem === last; t++) await sleep(25);
      const a = vscode.debug.activeStackItem;
      last = a;
      if (gen !== this.generation || s.running) return;
      if (!(a instanceof vscode.DebugStackFrame) || a.session.id !== s.id || a.threadId !== thread) return;
      if (a.frameId === top) return;
      await vscode.commands.executeCommand(UP);
    }
    log().warn(`could not select the top frame of thread ${thread}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
