// A row of a MIC tree view. Like cortex-debug's nodes, the node owns its TreeItem and its
// children; what it says comes from a NodeModel the pure builders made (model/*Tree.ts).
//
// contextValue words (package.json menus match them with `viewItem =~ /\bword\b/`):
//   kind:<kind>  the row's kind (card, register, queue …)
//   card         a card row: Open Console
//   can-boot …   (Cards view) Boot / Reset / Shutdown / Suspend / Resume where the card's state allows
//   memory       has an address: Show in Memory, Break on Write, Break on Access
//   event        has a function breakpoint for its activity: Break on Write
//   value        has a value: Copy Value
//   watched      has a data breakpoint from Break on Write/Access: Remove Data Breakpoint

import * as vscode from 'vscode';
import type { NodeModel } from '../model/nodeModel.ts';
import { accessWords, type WatchList } from '../model/watchList.ts';
import { changedUri } from './changeDecorations.ts';
import { allowedCommands } from '../model/cardActions.ts';

export class MicNode {
  /** The child nodes, once VS Code asked for them (kept across refreshes: see MicTreeView). */
  children: MicNode[] | undefined;

  constructor(
    public model: NodeModel,
    private readonly view: string,
    private readonly watches: WatchList,
  ) {}

  getTreeItem(): vscode.TreeItem {
    const m = this.model;
    const state = m.children?.length
      ? m.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(m.label, state);
    item.id = m.id;
    const description = [m.value, m.detail].filter((x) => x !== undefined && x !== '').join('  ');
    if (description) item.description = description;
    const watch = m.memory ? this.watches.find({ ...m.memory, register: m.kind === 'register' }) : undefined;
    const lines = [m.tooltip ?? `${m.label}${description ? ` = ${description}` : ''}`];
    if (m.changedFrom !== undefined) lines.push(`● changed since the last stop (was ${m.changedFrom})`);
    if (watch) lines.push(`◉ breaks on ${accessWords(watch.access)}: the breakpoint "${watch.text}"`);
    item.tooltip = lines.join('\n');
    if (m.changedFrom !== undefined) item.resourceUri = changedUri(this.view, m.id);
    item.iconPath = watch
      ? new vscode.ThemeIcon('debug-breakpoint-data', new vscode.ThemeColor('debugIcon.breakpointForeground'))
      : new vscode.ThemeIcon(m.icon ?? 'circle-small');
    const words = [`kind:${m.kind}`];
    if (m.kind === 'card') words.push('card');
    // can-boot … can-resume: the card commands that make sense in the card's state (menus).
    if (m.kind === 'card' && m.cardState)
      for (const c of allowedCommands(m.cardState)) words.push(`can-${c}`);
    if (m.memory) words.push('memory');
    if (m.breakpoint) words.push('event');
    if (m.value !== undefined) words.push('value');
    if (watch) words.push('watched');
    item.contextValue = words.join(' ');
    return item;
  }

  getChildren(): MicNode[] {
    this.children ??= (this.model.children ?? []).map((c) => new MicNode(c, this.view, this.watches));
    return this.children;
  }
}
