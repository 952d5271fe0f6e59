// What the three MIC views share: ask the adapter (read-only mic/… requests) for plain JSON,
// build rows with a pure builder, mark the values that changed since the last stop, and hand
// the rows to VS Code. The view refreshes only while it is visible; a stop it missed counts when
// it shows again. A refresh never overlaps another: one that arrives meanwhile runs after it.
//
// A refresh keeps the nodes of rows that are still there (same id) and tells VS Code only about
// the rows that look different, or whose children changed: at 4 looks a second the tree does not
// flicker, and a context menu open on a quiet row stays usable.

import * as vscode from 'vscode';
import { ChangeMarks, type Moment } from '../model/changeMarks.ts';
import { ExpansionMemory, type KeyValueStore } from '../model/expansionMemory.ts';
import { errorNode, type NodeModel } from '../model/nodeModel.ts';
import { NO_MACHINE } from '../model/requests.ts';
import type { WatchList } from '../model/watchList.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import { MicNode } from './micNode.ts';
import { log } from '../log.ts';

/** Why the view looks: the machine just stopped, or anything else (running tick, a click, …). */
export type RefreshReason = 'stop' | 'look';

export abstract class MicTreeView implements vscode.TreeDataProvider<MicNode>, vscode.Disposable {
  private roots: MicNode[] = [];
  private readonly changed = new vscode.EventEmitter<MicNode | MicNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected readonly tree: vscode.TreeView<MicNode>;
  private readonly marks = new ChangeMarks();
  private sessionId: string | undefined;
  private busy = false;
  private queued: RefreshReason | null = null;
  /** A stop happened while the view was hidden. */
  private missedStop = false;
  protected readonly disposables: vscode.Disposable[] = [];
  /** Rows the person opened or closed, by id: kept across stops, restarts and reloads. */
  protected readonly expansion: ExpansionMemory;

  constructor(
    readonly viewId: string,
    protected readonly sessions: MicSessions,
    private readonly watches: WatchList,
    store?: KeyValueStore,
  ) {
    this.expansion = new ExpansionMemory(`${viewId}.expanded`, store);
    this.tree = vscode.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.tree,
      this.changed,
      this.tree.onDidExpandElement(({ element }) => {
        element.model.expanded = true;
        this.expansion.set(element.model.id, true);
      }),
      this.tree.onDidCollapseElement(({ element }) => {
        element.model.expanded = false;
        this.expansion.set(element.model.id, false);
      }),
      this.tree.onDidChangeVisibility((e) => {
        if (e.visible) void this.refresh(this.missedStop ? 'stop' : 'look');
      }),
    );
  }

  /** The row selected in this view, if any (context-menu commands fall back to it). */
  get selectedRow(): MicNode | undefined {
    return this.tree.selection[0];
  }

  /** Fetch and build the rows for session `s` (read-only requests only). */
  protected abstract load(s: MicSession): Promise<NodeModel[]>;

  getTreeItem(node: MicNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  getChildren(node?: MicNode): MicNode[] {
    return node ? node.getChildren() : this.roots;
  }

  get visible(): boolean {
    return this.tree.visible;
  }

  /** Re-render the rows without asking the adapter (a data breakpoint was added or removed). */
  rerender(): void {
    this.changed.fire(undefined);
  }

  async refresh(reason: RefreshReason): Promise<void> {
    if (!this.tree.visible) {
      if (reason === 'stop') this.missedStop = true;
      return;
    }
    if (this.busy) {
      this.queued = this.queued === 'stop' || reason === 'stop' ? 'stop' : 'look';
      return;
    }
    this.busy = true;
    try {
      await this.look(reason);
    } finally {
      this.busy = false;
      const next = this.queued;
      this.queued = null;
      if (next) void this.refresh(next);
    }
  }

  private async look(reason: RefreshReason): Promise<void> {
    const s = this.sessions.current();
    if (s?.id !== this.sessionId) {
      this.marks.reset();
      this.sessionId = s?.id;
    }
    let models: NodeModel[] = [];
    if (s && s.launched) {
      try {
        models = await this.load(s);
      } catch (e) {
        const text = errorText(e);
        if (!text.includes(NO_MACHINE)) log().warn(`${this.viewId}: ${text}`);
        models = text.includes(NO_MACHINE) || s.ended ? [] : [errorNode('error', text)];
      }
      this.expansion.apply(models);
      const moment: Moment = reason === 'stop' ? 'newStop' : s.running ? 'running' : 'stopped';
      this.marks.mark(models, moment);
      if (reason === 'stop') this.missedStop = false;
    }
    const dirty = new Set<MicNode | undefined>();
    this.roots = this.reconcile(this.roots, models, undefined, dirty);
    if (dirty.has(undefined)) this.changed.fire(undefined);
    else if (dirty.size > 0) this.changed.fire([...dirty] as MicNode[]);
  }

  /** Nodes for `next`, reusing those of `prev` with the same id; collects the rows to redraw. */
  private reconcile(
    prev: readonly MicNode[],
    next: readonly NodeModel[],
    parent: MicNode | undefined,
    dirty: Set<MicNode | undefined>,
  ): MicNode[] {
    const byId = new Map(prev.map((n) => [n.model.id, n]));
    let sameList = prev.length === next.length;
    const nodes = next.map((m, i) => {
      const old = byId.get(m.id);
      if (!old) {
        sameList = false;
        return new MicNode(m, this.viewId, this.watches);
      }
      if (prev[i] !== old) sameList = false;
      if (!sameRow(old.model, m)) dirty.add(old);
      old.model = m;
      if (old.children) old.children = this.reconcile(old.children, m.children ?? [], old, dirty);
      return old;
    });
    if (!sameList) dirty.add(parent);
    return nodes;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** The two models render the same TreeItem (children aside). */
function sameRow(a: NodeModel, b: NodeModel): boolean {
  return (
    a.label === b.label &&
    a.value === b.value &&
    a.detail === b.detail &&
    a.tooltip === b.tooltip &&
    a.icon === b.icon &&
    a.kind === b.kind &&
    a.changedFrom === b.changedFrom &&
    a.breakpoint === b.breakpoint &&
    a.memory?.reference === b.memory?.reference &&
    (a.children?.length ?? 0) > 0 === (b.children?.length ?? 0) > 0
  );
}
