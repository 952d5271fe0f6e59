// What "MIC: Add Data Breakpoint…" says about an address as you type it. Pure (no vscode).

import {
  parseWatchTarget,
  watchedName,
  WatchSyntaxError,
} from '../../debugAdapter/breakpoints/dataBreakpoints.ts';

/** What the input box says about an address: an error, or the bytes it names. */
export function checkAddress(v: string): { error?: string; name?: string } {
  const words = v.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0)
    return { error: 'Type an address: mic0.bar4+0x1cc90, mic0.SDBIC0, mic0.gddr+0x1000 64' };
  if (words.length > 2) return { error: 'ADDRESS [LEN]: at most two words' };
  try {
    return { name: watchedName(parseWatchTarget(words[0], words[1])) };
  } catch (e) {
    if (e instanceof WatchSyntaxError) return { error: e.message };
    throw e;
  }
}
