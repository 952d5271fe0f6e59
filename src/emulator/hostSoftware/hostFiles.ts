// Where a card's host-side files live when the user names one path for all cards, and where
// the default disk image goes. Pure string functions: callers pass the environment in.

import { join } from 'node:path';

/** PATH for mic0; PATH with -micN before the extension for card N (disk.img → disk-mic1.img). */
export function perCardPath(base: string, card: number): string {
  if (card === 0) return base;
  const dot = base.lastIndexOf('.');
  const slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
  return dot > slash ? `${base.slice(0, dot)}-mic${card}${base.slice(dot)}` : `${base}-mic${card}`;
}

/** The user's cache directory for mic-emu: $XDG_CACHE_HOME/mic-emu or ~/.cache/mic-emu. */
export function cacheDir(env: Record<string, string | undefined>, home: string): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(base, 'mic-emu');
}

/** The default virtio-block image of mic0, created on first use and reused. */
export function defaultDiskPath(env: Record<string, string | undefined>, home: string): string {
  return join(cacheDir(env, home), 'mic0-disk.img');
}
