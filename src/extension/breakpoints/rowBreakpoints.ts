// "Break on Write" / "Break on Access" on a tree row, "Remove Data Breakpoint", and "MIC: Add
// Data Breakpoint…" (an input box that checks the address as you type).
//
// A row with an address (a register, an index in a ring, a descriptor's buffer …) gets the
// function breakpoint `write ADDRESS [LEN]` (model/watchList.ts says why a function breakpoint).
// A row without an address but with activity of its own (a card, a virtio device or queue, a
// DMA channel) gets the function breakpoint that stops on that activity (`mic0: vq console.tx`,
// `mic0: dma ch 0`, `mic0: state`). Both show in the Breakpoints view like ones typed there.

import * as vscode from 'vscode';
import type { NodeModel } from '../model/nodeModel.ts';
import { WATCH_ACCESSES, WatchList, accessWords, watchText, type WatchAccess } from '../model/watchList.ts';
import { checkAddress } from './checkAddress.ts';

export class RowBreakpoints implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[];

  constructor(
    readonly watches: WatchList,
    private readonly changed: () => void,
  ) {
    const sync = () => {
      this.watches.set(
        vscode.debug.breakpoints
          .filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint && b.enabled)
          .map((b) => b.functionName),
      );
      this.changed();
    };
    sync();
    this.disposables = [vscode.debug.onDidChangeBreakpoints(sync)];
  }

  async breakOn(row: NodeModel | undefined, access: WatchAccess): Promise<void> {
    if (!row) return;
    if (row.memory) return this.add(watchText(access, { ...row.memory, register: row.kind === 'register' }));
    if (row.breakpoint) return this.add(row.breakpoint);
    void vscode.window.showInformationMessage(`${row.label} has no address to watch.`);
  }

  async remove(row: NodeModel | undefined): Promise<void> {
    const found = row?.memory
      ? this.watches.find({ ...row.memory, register: row.kind === 'register' })
      : undefined;
    if (!found) return;
    const bps = vscode.debug.breakpoints.filter(
      (b) => b instanceof vscode.FunctionBreakpoint && b.functionName.trim() === found.text,
    );
    vscode.debug.removeBreakpoints(bps);
  }

  /** MIC: Add Data Breakpoint… — the address (checked as you type), then the access. */
  async addByAddress(): Promise<void> {
    const input = await vscode.window.showInputBox({
      title: 'MIC: Add Data Breakpoint',
      prompt: 'ADDRESS [LEN]: mic0.bar4+0x1cc90, mic0.SDBIC0, mic0.gddr+0x1000 64, host+0x2000 8',
      placeHolder: 'mic0.bar4+0x…  or a register name',
      ignoreFocusOut: true,
      validateInput: (v) => checkAddress(v).error,
    });
    if (input === undefined || checkAddress(input).error) return;
    const pick = await vscode.window.showQuickPick(
      WATCH_ACCESSES.map((a) => ({ label: a.label, detail: a.detail, access: a.access })),
      { title: `Stop on which access of ${checkAddress(input).name}?` },
    );
    if (!pick) return;
    await this.add(`${pick.access} ${input.trim().replace(/\s+/g, ' ')}`);
  }

  private async add(text: string): Promise<void> {
    const exists = vscode.debug.breakpoints.some(
      (b) => b instanceof vscode.FunctionBreakpoint && b.functionName.trim() === text,
    );
    if (!exists) vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(text)]);
    const [word] = text.split(' ');
    const what =
      word in { write: 1, read: 1, access: 1 } ? `stops on ${accessWords(word as WatchAccess)}: ` : '';
    vscode.window.setStatusBarMessage(
      `MIC: breakpoint "${text}" ${exists ? 'is already set' : 'added'} (${what}Breakpoints view)`,
      5000,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
