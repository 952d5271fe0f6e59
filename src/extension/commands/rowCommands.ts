// What the context menu of a tree row does: Break on Write / Break on Access (and Remove Data
// Breakpoint), Show in Memory, Copy Value; and Refresh Views in the view titles.

import * as vscode from 'vscode';
import type { RowBreakpoints } from '../breakpoints/rowBreakpoints.ts';
import type { MemoryView } from '../memory/memoryView.ts';
import type { MicNode } from '../views/micNode.ts';
import type { ViewRefresher } from '../views/viewRefresher.ts';

export function registerRowCommands(
  breakpoints: RowBreakpoints,
  memory: MemoryView,
  refresher: ViewRefresher,
): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('mic.breakOnWrite', (row?: MicNode) =>
      breakpoints.breakOn(row?.model, 'write'),
    ),
    vscode.commands.registerCommand('mic.breakOnAccess', (row?: MicNode) =>
      breakpoints.breakOn(row?.model, 'readWrite'),
    ),
    vscode.commands.registerCommand('mic.removeDataBreakpoint', (row?: MicNode) =>
      breakpoints.remove(row?.model),
    ),
    vscode.commands.registerCommand('mic.showInMemory', (row?: MicNode) => memory.show(row?.model)),
    vscode.commands.registerCommand('mic.copyValue', async (row?: MicNode) => {
      if (!row) return;
      const m = row.model;
      await vscode.env.clipboard.writeText(m.value ?? m.label);
      vscode.window.setStatusBarMessage(`Copied ${m.label} = ${m.value ?? m.label}`, 3000);
    }),
    vscode.commands.registerCommand('mic.refreshViews', () => refresher.all('look')),
  );
}
