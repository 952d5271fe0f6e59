// MIC: Save Recording…: the session's recording (configuration, inputs, the disk bytes it read)
// to a file the person picks, through the adapter's mic/saveRecording. The file opens again
// with the launch attribute `replay` or the CLI's --replay (docs/time-travel.md, "Recordings").

import * as vscode from 'vscode';
import { errorText, type MicSessions } from '../debug/micSessions.ts';

export function registerSaveRecording(sessions: MicSessions): vscode.Disposable {
  return vscode.commands.registerCommand('mic.saveRecording', async () => {
    const s = sessions.current();
    if (!s) {
      void vscode.window.showInformationMessage('No MIC debug session is running: start one to record it.');
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, 'session.micrec') : undefined,
      filters: { 'MIC recordings': ['micrec'], 'All files': ['*'] },
      title: 'Save the MIC session as a recording',
    });
    if (!target) return;
    try {
      // The save dialog already asked about replacing an existing file.
      const r = await s.request<{ path: string; bytes: number; head: number; inputs: number }>(
        'mic/saveRecording',
        { path: target.fsPath, overwrite: true },
      );
      void vscode.window.showInformationMessage(
        `Recording saved to ${r.path}: ${r.head.toLocaleString('en-US')} events, ${r.inputs} inputs, ${r.bytes.toLocaleString('en-US')} bytes. Open it with the launch attribute "replay".`,
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Save Recording: ${errorText(e)}`);
    }
  });
}
