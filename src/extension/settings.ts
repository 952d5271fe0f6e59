// The extension's settings (package.json contributes.configuration).

import * as vscode from 'vscode';

export const SETTINGS = {
  externalAdapter: 'mic.debugAdapter.external',
  refreshRate: 'mic.views.refreshRate',
} as const;

/** Run dist/debugAdapter.js as its own process instead of inside the extension host. */
export function useExternalAdapter(): boolean {
  return vscode.workspace.getConfiguration().get<boolean>(SETTINGS.externalAdapter, false);
}

/** View refreshes per second while the machine runs (0: only when it stops). */
export function refreshRate(): number {
  const r = vscode.workspace.getConfiguration().get<number>(SETTINGS.refreshRate, 4);
  return typeof r === 'number' && Number.isFinite(r) ? Math.min(30, Math.max(0, r)) : 4;
}
