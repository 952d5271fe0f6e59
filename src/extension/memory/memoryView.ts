// "Show in Memory": a memory reference's bytes in the MIC memory view (memoryPanel.ts, a webview
// that works offline: hex + ASCII, register names, change marks, live refresh, edits through
// writeMemory). From the MIC views' rows, from the Variables view (any variable with a
// memoryReference) and from the palette (MIC: Open Memory View…, which asks for an address).
//
// VS Code's own memory view ("View Binary Data") needs the Hex Editor extension, which an offline
// workbench cannot install. When the Hex Editor IS installed, it is offered too: "Show in Hex
// Editor" (menus, when the context key mic.hexEditorInstalled is set) and a button in the view.
// It opens the `vscode-debug-memory://<sessionId>/<memoryReference>/<name>.bin` resource VS Code
// backs with the session's readMemory/writeMemory — exactly what "View Binary Data" opens.

import * as vscode from 'vscode';
import type { NodeModel } from '../model/nodeModel.ts';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { MemoryPanel, type MemoryTarget } from './memoryPanel.ts';
import { formatAddress, parseAddress, variableBytes } from './memoryModel.ts';

const HEX_EDITOR_EXTENSION = 'ms-vscode.hexeditor';
const HEX_EDITOR = 'hexEditor.hexedit';
const DEBUG_MEMORY_SCHEME = 'vscode-debug-memory';
const HEX_EDITOR_CONTEXT = 'mic.hexEditorInstalled';

/** What the Variables view's context menu passes to a `debug/variables/context` command. */
export interface VariableContext {
  sessionId?: string;
  variable?: { name?: string; value?: string; memoryReference?: string };
}

export class MemoryView implements vscode.Disposable {
  private readonly panel: MemoryPanel;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly sessions: MicSessions,
    extensionUri: vscode.Uri,
  ) {
    this.panel = new MemoryPanel(sessions, extensionUri, hexEditorInstalled, (s, t) =>
      openInHexEditor(s, t, 'page'),
    );
    const setContext = () =>
      void vscode.commands.executeCommand('setContext', HEX_EDITOR_CONTEXT, hexEditorInstalled());
    setContext();
    this.disposables = [this.panel, vscode.extensions.onDidChange(setContext)];
  }

  /** Show in Memory from a MIC tree row or a Variables view row. */
  async show(arg: NodeModel | VariableContext | undefined): Promise<void> {
    const found = this.targetOf(arg);
    if (!found) return;
    await this.panel.show(found.s, found.t);
  }

  /** Show in Hex Editor (offered only when it is installed). */
  async showInHexEditor(arg: NodeModel | VariableContext | undefined): Promise<void> {
    const found = this.targetOf(arg);
    if (found) await openInHexEditor(found.s, found.t, found.name);
  }

  /** MIC: Open Memory View…: asks for an address, validated as you type. */
  async open(): Promise<void> {
    const s = this.launched();
    if (!s) return;
    const text = await vscode.window.showInputBox({
      title: 'MIC: Open Memory View',
      prompt: 'An address: mic0.bar4+0x9004 (a register), mic0.gddr+0x1000, host+0x0, or a host-physical 0x…',
      value: 'mic0.bar4+0x0',
      validateInput: (v) => {
        const r = parseAddress(v);
        return 'error' in r ? r.error : undefined;
      },
    });
    if (text === undefined) return;
    const r = parseAddress(text);
    if ('error' in r) return;
    await this.panel.show(s, { reference: formatAddress(r), bytes: 1 });
  }

  private targetOf(
    arg: NodeModel | VariableContext | undefined,
  ): { s: MicSession; t: MemoryTarget; name: string } | undefined {
    const s = this.launched(arg && 'sessionId' in arg ? arg.sessionId : undefined);
    if (!s || !arg) return undefined;
    if ('variable' in arg) {
      const v = arg.variable;
      if (!v?.memoryReference) {
        void vscode.window.showInformationMessage(`${v?.name ?? 'This variable'} has no memory reference.`);
        return undefined;
      }
      return {
        s,
        t: { reference: v.memoryReference, bytes: variableBytes(v.value) },
        name: v.name ?? 'memory',
      };
    }
    const mem = (arg as NodeModel).memory;
    if (!mem) return undefined;
    return { s, t: { reference: mem.reference, bytes: mem.bytes }, name: mem.name };
  }

  private launched(id?: string): MicSession | undefined {
    const s = (id ? this.sessions.all().find((x) => x.id === id) : undefined) ?? this.sessions.current();
    if (!s?.launched || s.ended) {
      void vscode.window.showWarningMessage(
        'Start a MIC debug session first: memory is read from its machine.',
      );
      return undefined;
    }
    return s;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function hexEditorInstalled(): boolean {
  return vscode.extensions.getExtension(HEX_EDITOR_EXTENSION) !== undefined;
}

async function openInHexEditor(s: MicSession, t: MemoryTarget, name: string): Promise<void> {
  if (!hexEditorInstalled()) {
    void vscode.window.showInformationMessage(
      'The Hex Editor extension (ms-vscode.hexeditor) is not installed.',
    );
    return;
  }
  const uri = vscode.Uri.from({
    scheme: DEBUG_MEMORY_SCHEME,
    authority: s.id,
    path: `/${encodeURIComponent(t.reference)}/${encodeURIComponent(name)}.bin`,
  });
  await vscode.commands.executeCommand('vscode.openWith', uri, HEX_EDITOR, {
    viewColumn: vscode.ViewColumn.Active,
    preview: false,
  });
}
