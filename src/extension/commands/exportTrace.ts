// Export Trace: save the session's bus events where the person wants them, in one of two formats.
//
// - Perfetto (Chrome Trace Event JSON, for ui.perfetto.dev and chrome://tracing): the adapter
//   writes the whole session so far through `mic/exportPerfetto {path}` (it replays the session
//   from power-on into the exporter, then comes back to the moment). Needs a running session.
// - JSON lines: the adapter writes a trace only when the launch configuration sets `trace`, so
//   this copies that file (of the current session, else of the last one); without `trace` it
//   says how to turn it on.

import * as vscode from 'vscode';
import type { MicSessions } from '../debug/micSessions.ts';

const PERFETTO = 'Perfetto (Chrome Trace Event JSON)';
const JSONL = 'Bus events as JSON lines (the launch `trace` file)';

export function registerExportTrace(sessions: MicSessions): vscode.Disposable {
  let lastTrace: string | undefined;
  const remember = (trace: unknown) => {
    if (typeof trace === 'string' && trace) lastTrace = trace;
  };

  const exportPerfetto = async () => {
    const s = sessions.current();
    if (!s) {
      void vscode.window.showInformationMessage('Export to Perfetto needs a running MIC debug session.');
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, 'mic-session.perfetto.json') : undefined,
      filters: { 'Chrome Trace Event JSON': ['json'], 'All files': ['*'] },
      title: 'Export the MIC session for Perfetto',
    });
    if (!target) return;
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Exporting the session to Perfetto…' },
        () =>
          s.request<{ path: string; events: number; bytes: number; complete: boolean }>(
            'mic/exportPerfetto',
            {
              path: target.fsPath,
              // The save dialog already asked whether to replace the file.
              overwrite: true,
            },
          ),
      );
      void vscode.window.showInformationMessage(
        `${r.complete ? '' : 'Cancelled part way: '}${r.events} events written to ${r.path} (${Math.round(r.bytes / 1e3)} kB). Open it in ui.perfetto.dev or chrome://tracing.`,
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Export to Perfetto: ${(e as Error).message}`);
    }
  };

  const exportJsonLines = async () => {
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
  };

  return vscode.Disposable.from(
    sessions.onDidStart((s) => remember(s.session.configuration.trace)),
    vscode.commands.registerCommand('mic.exportTrace', async (format?: unknown) => {
      // A caller (a test, a keybinding's args) may name the format: 'perfetto' | 'jsonl'.
      const pick =
        format === 'perfetto'
          ? PERFETTO
          : format === 'jsonl'
            ? JSONL
            : await vscode.window.showQuickPick(sessions.current() ? [PERFETTO, JSONL] : [JSONL, PERFETTO], {
                title: 'MIC: Export Trace — format',
              });
      if (pick === PERFETTO) await exportPerfetto();
      else if (pick === JSONL) await exportJsonLines();
    }),
  );
}
