// "Break on Write" / "Break on Access" on a tree row: data breakpoints the extension owns.
//
// VS Code 1.90's extension API cannot create data breakpoints: vscode.debug.addBreakpoints takes
// SourceBreakpoint and FunctionBreakpoint only (the DataBreakpoint class is not in the API), and
// the function-breakpoint syntax (docs/breakpoints.md) has no form for "an access to these
// bytes". So the extension takes the adapter's own data-breakpoint path: it asks
// `dataBreakpointInfo` (asAddress, the row's memoryReference and size) for a dataId, keeps the
// breakpoint here, and sends `setDataBreakpoints` with VS Code's data breakpoints plus these.
// setDataBreakpoints replaces the whole set, so whenever VS Code sends its own list (the
// Breakpoints view changed, or a session starts) the extension sends the merged list again.
// Rows with such a breakpoint show a breakpoint icon; "Remove Data Breakpoint" removes it.

import type { DebugProtocol } from '@vscode/debugprotocol';

export type WatchAccess = 'write' | 'readWrite';

export interface Watch {
  /** `mic0.bar4+0x1cc90` */
  memoryReference: string;
  bytes: number;
  access: WatchAccess;
  /** From dataBreakpointInfo: `SPACE+0xADDRESS/LENGTH`, valid across sessions (canPersist). */
  dataId: string;
  /** From dataBreakpointInfo: `SDBIC0 (mic0.bar4+0x1cc90)`. */
  description: string;
}

/** Marks the setDataBreakpoints requests the extension sends (the adapter ignores it). */
export const OWN_REQUEST_MARK = 'micExtensionWatches';

export class WatchList {
  private readonly watches: Watch[] = [];

  list(): readonly Watch[] {
    return this.watches;
  }

  /** Adds (or replaces the access of) the watch on the same bytes. */
  add(w: Watch): void {
    const i = this.watches.findIndex((x) => x.dataId === w.dataId);
    if (i >= 0) this.watches[i] = w;
    else this.watches.push(w);
  }

  remove(memoryReference: string): Watch | undefined {
    const i = this.watches.findIndex((x) => x.memoryReference === memoryReference);
    return i >= 0 ? this.watches.splice(i, 1)[0] : undefined;
  }

  find(memoryReference: string): Watch | undefined {
    return this.watches.find((x) => x.memoryReference === memoryReference);
  }

  /** VS Code's own data breakpoints followed by the extension's. */
  merged(vscodeOwn: readonly DebugProtocol.DataBreakpoint[]): DebugProtocol.DataBreakpoint[] {
    return [...vscodeOwn, ...this.watches.map((w) => ({ dataId: w.dataId, accessType: w.access }))];
  }
}

/** Words for a watch: `write`, `read or write`. */
export const accessWords = (a: WatchAccess): string => (a === 'write' ? 'write' : 'read or write');
