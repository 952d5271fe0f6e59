// "Break on Write" / "Break on Access" on a tree row.
//
// A row with an address (a register, an index in a ring, a descriptor's buffer …) gets a data
// breakpoint on its bytes through the adapter's own data-breakpoint requests, because VS Code
// 1.90's API cannot create data breakpoints (see model/watchList.ts for how and why). A row
// without an address but with activity of its own (a card, a virtio device or queue, a DMA
// channel) gets the function breakpoint that stops on that activity (`mic0: vq console.tx`,
// `mic0: dma ch 0`, `mic0: state`) through vscode.debug.addBreakpoints: it shows in the
// Breakpoints view like one typed there.

import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { NodeModel } from '../model/nodeModel.ts';
import { OWN_REQUEST_MARK, WatchList, accessWords, type WatchAccess } from '../model/watchList.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import { log } from '../log.ts';

export class RowBreakpoints implements vscode.Disposable {
  /** Sessions that have the extension's data breakpoints (they need the list again after a removal). */
  private readonly armed = new Set<MicSession>();
  private explained = false;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly sessions: MicSessions,
    readonly watches: WatchList,
    private readonly changed: () => void,
  ) {
    this.disposables = [
      // VS Code just replaced the adapter's data breakpoints with its own: add ours back.
      sessions.onDidSetDataBreakpoints((s) => {
        if (this.watches.list().length > 0) setTimeout(() => void this.send(s), 0);
      }),
      sessions.onDidEnd((s) => this.armed.delete(s)),
    ];
  }

  async breakOn(row: NodeModel | undefined, access: WatchAccess): Promise<void> {
    if (!row) return;
    if (row.memory) return this.watch(row, access);
    if (row.breakpoint) return this.functionBreakpoint(row.breakpoint);
    void vscode.window.showInformationMessage(`${row.label} has no address to watch.`);
  }

  async remove(row: NodeModel | undefined): Promise<void> {
    let reference = row?.memory?.reference;
    if (!reference) {
      const pick = await vscode.window.showQuickPick(
        this.watches.list().map((w) => ({
          label: w.description,
          description: accessWords(w.access),
          reference: w.memoryReference,
        })),
        { placeHolder: 'Remove which MIC data breakpoint?' },
      );
      reference = pick?.reference;
    }
    if (!reference || !this.watches.remove(reference)) return;
    this.changed();
    await Promise.all([...this.armed].map((s) => this.send(s)));
  }

  private async watch(row: NodeModel, access: WatchAccess): Promise<void> {
    const mem = row.memory!;
    const s = this.sessions.current();
    log().info(
      `break on ${access}: ${mem.name} ${mem.reference} (${mem.bytes} bytes), session ${s?.id ?? 'none'}`,
    );
    if (!s?.launched) {
      void vscode.window.showWarningMessage(
        'Start a MIC debug session first: data breakpoints are set on its machine.',
      );
      return;
    }
    let info: DebugProtocol.DataBreakpointInfoResponse['body'];
    try {
      info = await s.request('dataBreakpointInfo', {
        name: mem.reference,
        asAddress: true,
        bytes: mem.bytes,
      });
    } catch (e) {
      log().error(`dataBreakpointInfo ${mem.reference}: ${errorText(e)}`);
      void vscode.window.showErrorMessage(`Cannot watch ${mem.name}: ${errorText(e)}`);
      return;
    }
    log().info(`dataBreakpointInfo ${mem.reference}: ${JSON.stringify(info)}`);
    const want: DebugProtocol.DataBreakpointAccessType = access;
    if (!info.dataId || (info.accessTypes && !info.accessTypes.includes(want))) {
      void vscode.window.showErrorMessage(`Cannot watch ${mem.name}: ${info.description}`);
      return;
    }
    this.watches.add({
      memoryReference: mem.reference,
      bytes: mem.bytes,
      access,
      dataId: info.dataId,
      description: info.description,
    });
    const ok = await this.send(s, info.dataId);
    if (!ok) this.watches.remove(mem.reference);
    this.changed();
    if (!ok) return;
    const text = `MIC: breaks on ${accessWords(access)} of ${info.description}`;
    if (this.explained) vscode.window.setStatusBarMessage(text, 5000);
    else {
      this.explained = true;
      void vscode.window.showInformationMessage(
        `${text}. VS Code's Breakpoints view cannot list data breakpoints made by an extension: the MIC views mark the row, and "Remove Data Breakpoint" on it removes it.`,
      );
    }
  }

  /** Send VS Code's data breakpoints plus the extension's; false if `checkId` was refused. */
  private async send(s: MicSession, checkId?: string): Promise<boolean> {
    if (s.ended) return false;
    const breakpoints = this.watches.merged(s.vscodeDataBreakpoints);
    try {
      const r = await s.request<DebugProtocol.SetDataBreakpointsResponse['body']>('setDataBreakpoints', {
        breakpoints,
        [OWN_REQUEST_MARK]: true,
      });
      this.armed.add(s);
      log().info(`setDataBreakpoints ${JSON.stringify(breakpoints)} → ${JSON.stringify(r.breakpoints)}`);
      const i = checkId ? breakpoints.findIndex((b) => b.dataId === checkId) : -1;
      const answer = i >= 0 ? r.breakpoints[i] : undefined;
      if (answer && !answer.verified) {
        void vscode.window.showErrorMessage(`MIC data breakpoint refused: ${answer.message ?? checkId}`);
        return false;
      }
      return true;
    } catch (e) {
      log().error(`setDataBreakpoints: ${errorText(e)}`);
      void vscode.window.showErrorMessage(`MIC data breakpoints not set: ${errorText(e)}`);
      return false;
    }
  }

  private functionBreakpoint(text: string): void {
    const exists = vscode.debug.breakpoints.some(
      (b) => b instanceof vscode.FunctionBreakpoint && b.functionName === text,
    );
    if (!exists) vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(text)]);
    vscode.window.setStatusBarMessage(
      `MIC: function breakpoint "${text}" ${exists ? 'is already set' : 'added'} (Breakpoints view)`,
      5000,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
