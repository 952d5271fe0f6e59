// The MIC memory view: one webview panel ("MIC Memory") that shows a 4 KiB page of any memory
// reference the adapter's readMemory takes, as hex + ASCII (the script is dist/memoryView.js,
// bundled from webview/main.ts; no CDN, no library). This side reads and writes through the
// session's DAP readMemory/writeMemory, learns register names from mic/registers (the SBOX/DBOX
// table the adapter already serves), re-reads the page at every stop and, throttled by
// mic.views.refreshRate, while the machine runs.

import * as vscode from 'vscode';
import { webviewPage } from '../webviewPage.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import { READ, type RegistersResponse, type RegisterModel } from '../model/requests.ts';
import { refreshRate } from '../settings.ts';
import {
  PAGE_BYTES,
  addressOf,
  formatAddress,
  pageStart,
  registersIn,
  type Address,
  type FromView,
  type RegisterSpan,
  type ToView,
  type Write,
} from './memoryModel.ts';

/** What "Show in Memory" asks for: the reference and how many bytes are the target. */
export interface MemoryTarget {
  reference: string;
  bytes: number;
}

/** Live refresh while running: at most this often, whatever the views' refresh rate. */
const MAX_LIVE_HZ = 4;

export class MemoryPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: MicSession | undefined;
  private at: Address = { space: null, offset: 0 };
  private target: { offset: number; length: number } | undefined;
  private cursor: number | undefined;
  private readonly registerFiles = new Map<string, RegisterSpan[]>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reading = false;
  private again: { atStop: boolean; status?: string } | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    sessions: MicSessions,
    private readonly extensionUri: vscode.Uri,
    private readonly hexEditorInstalled: () => boolean,
    private readonly openHexEditor: (s: MicSession, t: MemoryTarget) => Promise<void>,
  ) {
    this.disposables = [
      sessions.onDidStop((s) => {
        if (s === this.session) void this.read(true);
      }),
      sessions.onDidChangeRunning((s) => {
        if (s === this.session) this.schedule();
      }),
      sessions.onDidEnd((s) => {
        if (s !== this.session) return;
        this.registerFiles.clear();
        this.post({
          type: 'status',
          text: 'The debug session has ended: nothing to read or write.',
          error: true,
        });
      }),
      sessions.onDidLaunch((s) => {
        // A restarted session: follow it if the view showed the one before.
        if (this.panel && (!this.session || this.session.ended)) {
          this.session = s;
          void this.read(true);
        }
      }),
    ];
  }

  /** Opens (or reveals) the view at `t` in session `s`. */
  async show(s: MicSession, t: MemoryTarget): Promise<void> {
    const a = addressOf(t.reference);
    if (!a) {
      void vscode.window.showWarningMessage(`'${t.reference}' is not a memory reference.`);
      return;
    }
    this.session = s;
    this.at = { space: a.space, offset: pageStart(a.offset) };
    this.target = { offset: a.offset, length: Math.max(1, t.bytes) };
    this.cursor = a.offset;
    if (!this.panel) this.create();
    else this.panel.reveal(vscode.ViewColumn.Active, false);
    await this.read(false);
  }

  private create(): void {
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'mic.memory',
      'MIC Memory',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, localResourceRoots: [dist] },
    );
    this.panel = panel;
    panel.webview.html = html(panel.webview, dist);
    panel.webview.onDidReceiveMessage((m: FromView) => void this.onMessage(m), undefined, this.disposables);
    panel.onDidChangeViewState(() => this.schedule(), undefined, this.disposables);
    panel.onDidDispose(
      () => {
        this.panel = undefined;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
      },
      undefined,
      this.disposables,
    );
  }

  private async onMessage(m: FromView): Promise<void> {
    const s = this.session;
    switch (m.type) {
      case 'ready':
        // A (re)loaded webview: it has nothing yet.
        return this.read(false);
      case 'goto':
        this.at = { space: m.space, offset: pageStart(m.offset) };
        this.cursor = m.offset;
        return this.read(false);
      case 'hexEditor':
        if (s) await this.openHexEditor(s, { reference: formatAddress(this.at), bytes: PAGE_BYTES });
        return;
      case 'write':
        return this.write(m.space, m.writes);
    }
  }

  private async write(space: string | null, writes: Write[]): Promise<void> {
    const s = this.session;
    if (!s || s.ended)
      return this.post({ type: 'status', text: 'No debug session: not written.', error: true });
    const done: string[] = [];
    for (const w of writes) {
      const ref = formatAddress({ space, offset: w.offset });
      try {
        await s.request('writeMemory', {
          memoryReference: ref,
          offset: 0,
          data: Buffer.from(w.data).toString('base64'),
        });
        done.push(
          w.register
            ? `${w.register} (${ref}, ${w.data.length} bytes in one write)`
            : `${ref} (${bytes(w.data.length)})`,
        );
      } catch (e) {
        this.post({ type: 'status', text: `writeMemory ${ref} failed: ${errorText(e)}`, error: true });
        await this.read(false);
        return;
      }
    }
    await this.read(false, `Wrote ${done.join(', ')}.`);
    // The MIC views show register values: let them look again now rather than at the next tick.
    void vscode.commands.executeCommand('mic.refreshViews');
  }

  /** Reads the page and sends it; `atStop` moves the change marks on. */
  private async read(atStop: boolean, status?: string): Promise<void> {
    const s = this.session;
    if (!this.panel || !s) return;
    if (this.reading) {
      // One read at a time; a go-to, a write or a stop during a live read is read right after it.
      this.again = { atStop: atStop || (this.again?.atStop ?? false), status: status ?? this.again?.status };
      return;
    }
    this.reading = true;
    try {
      const at = this.at;
      const ref = formatAddress(at);
      let msg: ToView;
      try {
        const r = await s.request<{ address: string; data?: string; unreadableBytes?: number }>(
          'readMemory',
          {
            memoryReference: ref,
            offset: 0,
            count: PAGE_BYTES,
          },
        );
        // Gone elsewhere (go-to, Show in Memory) while this was read: the read after this one shows it.
        if (this.at !== at) {
          this.again ??= { atStop };
          return;
        }
        // A host-physical address comes back as what it is (mic0.bar4+0x19000): show it so.
        const canon = addressOf(r.address ?? '') ?? at;
        if (canon.space !== at.space && at.space === null) {
          const delta = canon.offset - at.offset;
          if (this.target) this.target = { ...this.target, offset: this.target.offset + delta };
          if (this.cursor !== undefined) this.cursor += delta;
        }
        this.at = canon;
        const data = r.data ?? '';
        const length = Buffer.from(data, 'base64').length + (r.unreadableBytes ?? 0);
        msg = {
          type: 'page',
          space: canon.space,
          start: canon.offset,
          data,
          unreadable: r.unreadableBytes ?? 0,
          target: this.target,
          registers: registersIn(await this.registers(s, canon.space), canon.offset, length),
          atStop,
          running: s.running,
          hexEditor: this.hexEditorInstalled(),
          cursor: this.cursor,
          status,
        };
        this.cursor = undefined;
      } catch (e) {
        msg = { type: 'status', text: `readMemory ${ref} failed: ${errorText(e)}`, error: true };
      }
      this.post(msg);
    } finally {
      this.reading = false;
      const again = this.again;
      this.again = undefined;
      if (again) void this.read(again.atStop, again.status);
      else this.schedule();
    }
  }

  /** The register file of `space` (micN.bar4) from mic/registers, once per session and card. */
  private async registers(s: MicSession, space: string | null): Promise<RegisterSpan[]> {
    const m = space ? /^mic(\d+)\.bar4$/.exec(space) : null;
    if (!m) return [];
    const key = `${s.id}/${m[1]}`;
    const known = this.registerFiles.get(key);
    if (known) return known;
    try {
      const r = await s.request<RegistersResponse>(READ.registers, { card: Number(m[1]) });
      const spans: RegisterSpan[] = [];
      const add = (regs: RegisterModel[]) =>
        regs.forEach((x) =>
          spans.push({
            name: x.name,
            offset: x.bar4,
            size: 4,
            access: x.access,
            writable: x.writable,
            doc: x.doc,
          }),
        );
      for (const g of r.groups) {
        add(g.registers);
        for (const sg of g.subgroups ?? []) add(sg.registers);
      }
      this.registerFiles.set(key, spans);
      return spans;
    } catch {
      return [];
    }
  }

  /** Live refresh: while the session runs and the view is visible, at most MAX_LIVE_HZ. */
  private schedule(): void {
    if (this.timer) return;
    const s = this.session;
    const hz = Math.min(MAX_LIVE_HZ, refreshRate());
    if (!this.panel?.visible || !s?.running || s.ended || hz <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.read(false);
    }, 1000 / hz);
  }

  private post(m: ToView): void {
    void this.panel?.webview.postMessage(m);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

const bytes = (n: number): string => `${n} byte${n === 1 ? '' : 's'}`;

/** The page: strict CSP (webviewPage.ts) around the view's toolbar and content. */
const html = (w: vscode.Webview, dist: vscode.Uri): string =>
  webviewPage(
    w,
    dist,
    'memoryView',
    'MIC Memory',
    `
<div class="bar" role="toolbar" aria-label="Memory view">
  <label>Go to <input class="goto" type="text" spellcheck="false" aria-label="Go to address (Ctrl+G)" placeholder="mic0.bar4+0x9004 (Ctrl+G)"></label>
  <button class="prev" title="Previous page (Page Up)" aria-label="Previous page">◀</button>
  <button class="next" title="Next page (Page Down)" aria-label="Next page">▶</button>
  <span class="where" aria-live="polite"></span>
  <button class="hexeditor" hidden title="Open this page in VS Code's Hex Editor">Open in Hex Editor</button>
</div>
<div class="grid" role="grid" tabindex="0" aria-label="Memory bytes: arrows move, hex digits edit, Enter writes, Escape discards"></div>
<div class="status" role="status" aria-live="polite"></div>
`,
  );
