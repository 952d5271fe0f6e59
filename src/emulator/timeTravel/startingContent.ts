// A disk image's starting content (what it held when the session first touched it), read back
// at any later moment without touching the image: the bytes it holds now, with the undo
// journal's changes in it undone in memory, newest first. A recording keeps the starting bytes
// of what the session read (imageReads.ts) and a SHA-256 of the whole starting image.

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Change, DiskJournal } from './diskJournal.ts';

const BLOCK = 1 << 20;

export class StartingContent {
  /** The image's size when the session began (its current size if it never touched it). */
  readonly size: number;
  private readonly changes: readonly Change[];
  /** Write changes by the 1 MiB blocks they touch (indices into changes). */
  private readonly byBlock = new Map<number, number[]>();
  /** Resizes touch any block: few, checked every time. */
  private readonly resizes: number[] = [];

  constructor(private readonly journal: DiskJournal) {
    this.changes = journal.appliedChanges();
    const s = journal.reads.startSize;
    this.size = s >= 0 ? s : fs.statSync(journal.image).size;
    this.changes.forEach((c, i) => {
      if (c.kind === 'resize') return void this.resizes.push(i);
      for (let b = Math.floor(c.pos / BLOCK); b <= Math.floor((c.pos + c.len - 1) / BLOCK); b++) {
        const l = this.byBlock.get(b);
        if (l) l.push(i);
        else this.byBlock.set(b, [i]);
      }
    });
  }

  /** The starting bytes [pos, pos+n) (clipped to the starting size). */
  read(pos: number, n: number): Buffer {
    n = Math.max(0, Math.min(n, this.size - pos));
    const buf = Buffer.alloc(n);
    if (n === 0) return buf;
    const fd = fs.openSync(this.journal.image, 'r');
    try {
      for (let done = 0; done < n;) {
        const got = fs.readSync(fd, buf, done, n - done, pos + done);
        if (got <= 0) break; // past the end now: zeros, unless a change below says otherwise
        done += got;
      }
    } finally {
      fs.closeSync(fd);
    }
    const touching = new Set<number>(this.resizes);
    for (let b = Math.floor(pos / BLOCK); b <= Math.floor((pos + n - 1) / BLOCK); b++)
      for (const i of this.byBlock.get(b) ?? []) touching.add(i);
    for (const i of [...touching].sort((a, b) => b - a)) this.undo(this.changes[i], buf, pos);
    return buf;
  }

  /** Undo one change in buf (which holds image bytes from `pos`). */
  private undo(c: Change, buf: Buffer, pos: number): void {
    const end = pos + buf.length;
    // [from, to) of the image ← the journal's bytes from `at`, then zeros up to `zeroTo`.
    const put = (from: number, savedLen: number, zeroTo: number) => {
      const lo = Math.max(from, pos);
      const savedEnd = Math.min(from + savedLen, end);
      if (lo < savedEnd) this.journal.readSaved(c.at + (lo - from), buf.subarray(lo - pos, savedEnd - pos));
      const z0 = Math.max(from + savedLen, pos);
      const z1 = Math.min(zeroTo, end);
      if (z0 < z1) buf.fill(0, z0 - pos, z1 - pos);
    };
    if (c.kind === 'write')
      put(c.pos, c.saved, c.pos + c.len); // past the old end: nothing was there
    else if (c.pos < c.len)
      put(c.pos, c.saved, c.len); // a shrink: its tail comes back
    else put(c.len, 0, c.pos); // a grow: what it added was not there
  }

  /** SHA-256 of the whole starting image, hex. */
  sha256(): string {
    const h = createHash('sha256');
    for (let pos = 0; pos < this.size; pos += BLOCK) h.update(this.read(pos, BLOCK));
    return h.digest('hex');
  }
}
