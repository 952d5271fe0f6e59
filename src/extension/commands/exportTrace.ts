// Export Trace: save the session's bus-event trace (JSON lines) where the person wants it.
//
// The adapter writes a trace only when the launch configuration sets `trace` (a file path), and
// it has no request that hands a trace over. So Export Trace copies that file (of the current
// session, else of the last one) to a chosen place; without `trace` it says how to turn it on.
// (A `mic/trace` request that streams the recorded events would let it work without `trace`.)

import * as vscode from 'vscode';
import type { MicSessions } from '../debug/micSessions.ts';

export function registerExportTrace(sessions: MicSessions): vscode.Disposable {
  let lastTrace: string | undefined;
  const remember = (trace: unknown) => {
    if (typeof trace === 'string' && trace) lastTrace = trace;
  };
  return vscode.Disposable.from(
    sessions.onDidStart((s) => remember(s.session.configuration.trace)),
    vscode.commands.registerCommand('mic.exportTrace', async () => {
      const current = sessions.current()?.session.configuration.trace;
      const trace = typeof current === 'string' && current ? current : lastTrace;
      if (!trace) {
        const open = 'Open launch.json';
        const pick = await vscode.window.showInformationMessage(
          'This session records no trace. Set "trace": "${workspaceFolder}/mic-trace.jsonl" in the launch configuration and start it again; every bus event is then written there as a JSON line, and Export Trace saves a copy.',
          open,
        );
        if (pick === open) await vscode.commands.executeCommand('workbench.action.debug.configure');
        return;
      }
      const source = vscode.Uri.file(trace);
      try {
        await vscode.workspace.fs.stat(source);
      } catch {
        void vscode.window.showErrorMessage(`The trace file ${trace} does not exist (yet).`);
        return;
      }
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(trace.replace(/(\.jsonl?)?$/, '-export$1')),
        filters: { 'JSON lines': ['jsonl', 'json'], 'All files': ['*'] },
        title: 'Export the MIC bus trace',
      });
      if (!target) return;
      await vscode.workspace.fs.copy(source, target, { overwrite: true });
      void vscode.window.showInformationMessage(`Trace saved to ${target.fsPath}.`);
    }),
  );
}
