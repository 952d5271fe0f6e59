// Which rows of a MIC tree a person opened or closed, by the row's stable id (`mic0/bar4`,
// `mic0/console.tx`): remembered across stops, session restarts and window reloads (the
// workspace state), so a refresh or a new session shows the tree as the person left it.
// No vscode imports: the store is anything with get/update (a vscode.Memento).

import { walk, type NodeModel } from './nodeModel.ts';

export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void> | void;
}

/** How many row states a view keeps (oldest forgotten first). */
const MAX_ROWS = 500;

export class ExpansionMemory {
  private readonly rows: Map<string, boolean>;

  constructor(
    private readonly key: string,
    private readonly store?: KeyValueStore,
  ) {
    const saved = store?.get<[string, boolean][]>(key);
    this.rows = new Map(Array.isArray(saved) ? saved : []);
  }

  get(id: string): boolean | undefined {
    return this.rows.get(id);
  }

  set(id: string, expanded: boolean): void {
    this.rows.delete(id);
    this.rows.set(id, expanded);
    while (this.rows.size > MAX_ROWS) this.rows.delete(this.rows.keys().next().value as string);
    void this.store?.update(this.key, [...this.rows]);
  }

  /** The rows open or closed as the person left them (the builder's choice for the others). */
  apply(models: readonly NodeModel[]): void {
    for (const n of walk(models)) {
      const e = this.rows.get(n.id);
      if (e !== undefined) n.expanded = e;
    }
  }
}
