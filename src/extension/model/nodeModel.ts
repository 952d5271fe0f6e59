// What one row of a MIC tree says, as plain data: the tree builders (cardsTree, virtqueuesTree,
// dmaTree) turn custom-request JSON into these, and views/micNode.ts turns them into TreeItems.
// Kept free of vscode so the builders can be tested with Node alone.

export type NodeKind =
  | 'card'
  | 'info'
  | 'bar'
  | 'group'
  | 'register'
  | 'field'
  | 'smpt'
  | 'device'
  | 'queue'
  | 'index'
  | 'ring'
  | 'chain'
  | 'desc'
  | 'channel'
  | 'dmaDesc'
  | 'error';

export interface NodeModel {
  /** Stable across refreshes and sessions: keeps the row's expansion and names its value. */
  id: string;
  kind: NodeKind;
  label: string;
  /** The value the row shows (hex). Compared stop to stop for the changed-value mark. */
  value?: string;
  /** Words after the value that are not compared (access type, sizes, decimal forms). */
  detail?: string;
  tooltip?: string;
  /** A codicon name (`circuit-board`, `symbol-variable` …). */
  icon?: string;
  /** A card row: the card's state (which card commands its menu offers). */
  cardState?: string;
  /** The card the row belongs to (index): card commands act on it. */
  card?: number;
  /** The bytes the row stands for: Show in Memory, Break on Write / Access. */
  memory?: { reference: string; bytes: number; name: string };
  /** A function breakpoint (docs/breakpoints.md) that stops on this row's activity. */
  breakpoint?: string;
  children?: NodeModel[];
  /** Initially expanded (the tree remembers what the person did after that). */
  expanded?: boolean;
  /** Set by ChangeMarks: the value at the last stop, when it differs from `value`. */
  changedFrom?: string;
}

/** Every node, parents before children. */
export function* walk(nodes: readonly NodeModel[]): Generator<NodeModel> {
  for (const n of nodes) {
    yield n;
    if (n.children) yield* walk(n.children);
  }
}

/** A row that only says something (`state online`). */
export function info(id: string, label: string, value: string, tooltip?: string, detail?: string): NodeModel {
  return { id, kind: 'info', label, value, ...(detail ? { detail } : {}), ...(tooltip ? { tooltip } : {}) };
}

/** The one row a view shows when the adapter answered with an error. */
export function errorNode(id: string, message: string): NodeModel {
  return { id, kind: 'error', label: message, icon: 'warning', tooltip: message };
}
