// "Break on Write" / "Break on Access" on a tree row, and "MIC: Add Data Breakpoint…": data
// breakpoints written as function breakpoints, `write ADDRESS [LEN]` (docs/breakpoints.md).
// VS Code's extension API cannot create data breakpoints (vscode.debug.addBreakpoints takes
// source and function breakpoints only), so the extension sets this form: it is listed in the
// Breakpoints view, where a person disables, edits or removes it like any other. The adapter
// watches the bytes exactly as it does for a DAP data breakpoint. Pure: no vscode.

export type WatchAccess = 'write' | 'read' | 'access';

export const WATCH_ACCESSES: readonly { access: WatchAccess; label: string; detail: string }[] = [
  { access: 'write', label: 'Write', detail: 'stop when anyone writes these bytes (the usual choice)' },
  {
    access: 'read',
    label: 'Read',
    detail: 'stop when anyone reads these bytes (a descriptor fetch reads its ring slot)',
  },
  { access: 'access', label: 'Read or write', detail: 'stop on any access' },
];

/** The bytes a row stands for (NodeModel.memory) and whether they are one register. */
export interface WatchTarget {
  reference: string;
  bytes: number;
  name: string;
  register?: boolean;
}

/** The breakpoint text for a row: `write mic0.SDBIC0`, `write mic0.gddr+0x1000 64`. */
export function watchText(access: WatchAccess, t: WatchTarget): string {
  if (t.register && /^mic\d+\.[A-Za-z]\w*$/.test(t.name)) return `${access} ${t.name}`;
  return `${access} ${t.reference}${t.bytes !== 4 ? ` ${t.bytes}` : ''}`;
}

/** Words for a watch: `write`, `read or write`. */
export const accessWords = (a: WatchAccess): string => (a === 'access' ? 'read or write' : a);

/** The function breakpoints set now (their names), asked which rows they watch. */
export class WatchList {
  private names = new Set<string>();

  /** Replace the list (from vscode.debug.breakpoints). */
  set(names: readonly string[]): void {
    this.names = new Set(names.map((n) => n.trim().replace(/\s+/g, ' ')));
  }

  /** The breakpoint on this row's bytes, if one is set: its access and its text. */
  find(t: WatchTarget): { access: WatchAccess; text: string } | undefined {
    for (const { access } of WATCH_ACCESSES) {
      const text = watchText(access, t);
      if (this.names.has(text)) return { access, text };
    }
    return undefined;
  }
}
