// "Show in Memory": the row's bytes in a memory view.
//
// VS Code has no command an extension can call to open its memory view at an address (the
// Variables view's "View Binary Data" is internal and needs a variable). What that action opens
// is the `vscode-debug-memory://<sessionId>/<memoryReference>/<name>.bin` resource (backed by
// the session's readMemory/writeMemory) in the Hex Editor extension (`hexEditor.hexedit`).
// So: with the Hex Editor installed, the extension opens exactly that resource with it — the
// same editable, live memory view "View Binary Data" gives. Without it (the resource is binary;
// the text editor will not show it), the extension opens a read-only hex dump of the bytes
// (`mic-memory:` documents, read with the adapter's readMemory, refreshed at every stop) and
// offers once to install the Hex Editor.

import * as vscode from 'vscode';
import { dumpWindow, hexDump } from '../model/hexDump.ts';
import type { NodeModel } from '../model/nodeModel.ts';
import { errorText, type MicSessions } from '../debug/micSessions.ts';

const HEX_EDITOR_EXTENSION = 'ms-vscode.hexeditor';
const HEX_EDITOR = 'hexEditor.hexedit';
const DEBUG_MEMORY_SCHEME = 'vscode-debug-memory';
const DUMP_SCHEME = 'mic-memory';

export class MemoryView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changedE = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changedE.event;
  private readonly open = new Set<string>();
  private offeredHexEditor = false;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly sessions: MicSessions) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(DUMP_SCHEME, this),
      vscode.workspace.onDidCloseTextDocument((d) => this.open.delete(d.uri.toString())),
      sessions.onDidStop(() => {
        for (const u of this.open) this.changedE.fire(vscode.Uri.parse(u));
      }),
      this.changedE,
    ];
  }

  async show(row: NodeModel | undefined): Promise<void> {
    const mem = row?.memory;
    if (!mem) return;
    const s = this.sessions.current();
    if (!s?.launched) {
      void vscode.window.showWarningMessage(
        'Start a MIC debug session first: memory is read from its machine.',
      );
      return;
    }
    if (vscode.extensions.getExtension(HEX_EDITOR_EXTENSION)) {
      const uri = vscode.Uri.from({
        scheme: DEBUG_MEMORY_SCHEME,
        authority: s.id,
        path: `/${encodeURIComponent(mem.reference)}/${encodeURIComponent(mem.name)}.bin`,
      });
      await vscode.commands.executeCommand('vscode.openWith', uri, HEX_EDITOR, {
        viewColumn: vscode.ViewColumn.Active,
        preview: false,
      });
      return;
    }
    const uri = vscode.Uri.from({
      scheme: DUMP_SCHEME,
      path: `/${mem.reference} ${mem.name.replace(/\//g, '∕')} memory`,
      query: new URLSearchParams({ session: s.id, ref: mem.reference, bytes: String(mem.bytes) }).toString(),
    });
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: false });
    this.offerHexEditor();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    this.open.add(uri.toString());
    const q = new URLSearchParams(uri.query);
    const ref = q.get('ref') ?? '';
    const bytes = Number(q.get('bytes') ?? '4') || 4;
    const s = this.sessions.all().find((x) => x.id === q.get('session')) ?? this.sessions.current();
    const head = `${ref}: ${bytes} byte${bytes === 1 ? '' : 's'} — read-only view, read again at every stop.`;
    if (!s) return `${head}\n\nThe debug session has ended.`;
    const w = dumpWindow(ref, bytes);
    try {
      const r = await s.request<{ address: string; data?: string; unreadableBytes?: number }>('readMemory', {
        memoryReference: w.reference,
        offset: 0,
        count: w.count,
      });
      const data = new Uint8Array(Buffer.from(r.data ?? '', 'base64'));
      const state = s.running ? 'running' : 'stopped';
      const at = r.address || w.reference;
      return `${head}\nThe machine was ${state} when this was read.\n\n${hexDump(at, data, r.unreadableBytes ?? 0)}\n`;
    } catch (e) {
      return `${head}\n\nreadMemory failed: ${errorText(e)}`;
    }
  }

  private offerHexEditor(): void {
    if (this.offeredHexEditor) return;
    this.offeredHexEditor = true;
    const install = 'Install Hex Editor';
    void vscode.window
      .showInformationMessage(
        'This is a read-only hex dump. With the Hex Editor extension, "Show in Memory" opens VS Code’s memory view (live and editable).',
        install,
      )
      .then((pick) => {
        if (pick === install)
          void vscode.commands.executeCommand('workbench.extensions.installExtension', HEX_EDITOR_EXTENSION);
      });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
