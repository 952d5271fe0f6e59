// What the context menu of a tree row does: Break on Write / Break on Access (and Remove Data
// Breakpoint), Show in Memory (MIC memory view; Hex Editor when installed), Copy Value; and Refresh Views in the view titles.

import * as vscode from 'vscode';
import type { RowBreakpoints } from '../breakpoints/rowBreakpoints.ts';
import type { MemoryView, VariableContext } from '../memory/memoryView.ts';
import type { MicNode } from '../views/micNode.ts';
import type { ViewRefresher } from '../views/viewRefresher.ts';

export function registerRowCommands(
  breakpoints: RowBreakpoints,
  memory: MemoryView,
  refresher: ViewRefresher,
  selected: () => MicNode | undefined,
): vscode.Disposable {
  // A menu opened just as a live refresh redraws its row can arrive without the row; then the
  // command acts on the selected row, or says that it needs one.
  const pick = (row?: MicNode): MicNode | undefined => {
    const r = row ?? selected();
    if (!r) void vscode.window.showInformationMessage('Select a row in the MIC views first.');
    return r;
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand('mic.breakOnWrite', (row?: MicNode) =>
      breakpoints.breakOn(pick(row)?.model, 'write'),
    ),
    vscode.commands.registerCommand('mic.breakOnAccess', (row?: MicNode) =>
      breakpoints.breakOn(pick(row)?.model, 'access'),
    ),
    vscode.commands.registerCommand('mic.removeDataBreakpoint', (row?: MicNode) =>
      breakpoints.remove(pick(row)?.model),
    ),
    // From a MIC row or from the Variables view (its argument carries `variable`).
    vscode.commands.registerCommand('mic.showInMemory', (arg?: MicNode | object) => {
      if (arg && 'variable' in arg) return memory.show(arg as VariableContext);
      const r = pick(arg as MicNode | undefined);
      if (r) return memory.show(r.model);
    }),
    vscode.commands.registerCommand('mic.showInHexEditor', (arg?: MicNode | object) => {
      if (arg && 'variable' in arg) return memory.showInHexEditor(arg as VariableContext);
      const r = pick(arg as MicNode | undefined);
      if (r) return memory.showInHexEditor(r.model);
    }),
    vscode.commands.registerCommand('mic.openMemoryView', () => memory.open()),
    vscode.commands.registerCommand('mic.copyValue', async (arg?: MicNode) => {
      const row = pick(arg);
      if (!row) return;
      const m = row.model;
      await vscode.env.clipboard.writeText(m.value ?? m.label);
      vscode.window.setStatusBarMessage(`Copied ${m.label} = ${m.value ?? m.label}`, 3000);
    }),
    vscode.commands.registerCommand('mic.refreshViews', () => refresher.all('look')),
    vscode.commands.registerCommand('mic.addDataBreakpoint', () => breakpoints.addByAddress()),
  );
}
