// The undo journal of one disk image: time travel's way of letting the image follow the
// timeline. Before the block back-end changes the image (a write, a resize), the journal keeps
// what the image held there, in a file beside it (IMAGE.mic-journal). Going back in time undoes
// the changes newest first; replaying forward makes them again (the machine is deterministic),
// and the journal only checks that each one is the change it recorded.
//
// The image is always at some moment of the timeline, even if the process is killed at any
// point: changes are made and undone one at a time, in order, and each is a single pwrite or
// ftruncate, which a kill does not tear (the page cache keeps what the process handed it). So a
// journal found at start-up (the last session did not end cleanly) needs no repair: the image
// holds the state of some moment, the journal is stale and is removed.

import * as fs from 'node:fs';
import type { ImageJournal } from '../hostSoftware/mpssd/fileBytes.ts';
import { ImageReads } from './imageReads.ts';

export interface Change {
  /** The event count when the change was made (the moment it belongs to). */
  readonly seq: number;
  readonly kind: 'write' | 'resize';
  /** write: the range [pos, pos+len); resize: the new size in pos, the old size in len. */
  readonly pos: number;
  readonly len: number;
  /** Where its before-image starts in the journal file, and how many bytes it has. */
  readonly at: number;
  readonly saved: number;
  /** In the image now (true), or undone (the recorded future). */
  applied: boolean;
}

/** What the undo journal found and did at start-up. */
export interface JournalRecovery {
  path: string;
  /** A journal was left by a session that did not end cleanly (removed now). */
  stale: boolean;
}

export const JOURNAL_SUFFIX = '.mic-journal';
const MAGIC = Buffer.from('MICJRNL1');

export class DiskJournal implements ImageJournal {
  readonly journalPath: string;
  private fd: number;
  private size = MAGIC.length;
  private readonly changes: Change[] = [];
  /** Index of the first change that is not applied (changes.length when all are). */
  private cursor = 0;
  /** Set when a replay made a change other than the recorded one. */
  divergence: string | null = null;
  /** What the session read of the image's starting content (for recordings: recordingFile.ts). */
  readonly reads = new ImageReads();

  /**
   * @param image the disk image this journal keeps
   * @param seqOf the machine's event count now (the moment a change belongs to)
   */
  constructor(
    readonly image: string,
    public seqOf: () => number,
  ) {
    this.journalPath = image + JOURNAL_SUFFIX;
    this.fd = fs.openSync(this.journalPath, 'w+', 0o644);
    fs.writeSync(this.fd, MAGIC, 0, MAGIC.length, 0);
  }

  /** Before a session opens `image`: remove the journal an unclean end left (the image is at some moment). */
  static recover(image: string): JournalRecovery {
    const path = image + JOURNAL_SUFFIX;
    let stale = false;
    try {
      if (fs.lstatSync(path).isFile()) {
        fs.unlinkSync(path);
        stale = true;
      }
    } catch {
      // no journal: the last session ended cleanly
    }
    return { path, stale };
  }

  /** Changes recorded (applied or not). */
  get length(): number {
    return this.changes.length;
  }

  /** Changes in the image now. */
  get applied(): number {
    return this.cursor;
  }

  /** Bytes of before-images kept. */
  get bytes(): number {
    return this.size;
  }

  beforeRead(fd: number, pos: number, n: number): void {
    if (this.reads.startSize < 0) this.reads.startSize = fs.fstatSync(fd).size;
    this.reads.read(pos, n);
  }

  beforeWrite(fd: number, pos: number, n: number): void {
    if (this.reads.startSize < 0) this.reads.startSize = fs.fstatSync(fd).size;
    this.change('write', fd, pos, n);
    this.reads.write(pos, n, this.seqOf());
  }

  beforeResize(fd: number, size: number): void {
    const old = fs.fstatSync(fd).size;
    if (this.reads.startSize < 0) this.reads.startSize = old;
    this.change('resize', fd, size, old);
  }

  /** The changes in the image now, oldest first (what undoing them in memory needs: startingContent.ts). */
  appliedChanges(): readonly Change[] {
    return this.changes.slice(0, this.cursor);
  }

  /** Bytes of before-images kept in the journal file, from `at`, into dst (what the file has). */
  readSaved(at: number, dst: Uint8Array): number {
    let done = 0;
    while (done < dst.length) {
      const got = fs.readSync(this.fd, dst, done, dst.length - done, at + done);
      if (got <= 0) break;
      done += got;
    }
    return done;
  }

  private change(kind: 'write' | 'resize', fd: number, pos: number, len: number): void {
    const seq = this.seqOf();
    // Replaying the recorded future: this must be the change that comes next.
    if (this.cursor < this.changes.length) {
      const c = this.changes[this.cursor];
      if (c.seq === seq && c.kind === kind && c.pos === pos && (kind === 'resize' || c.len === len)) {
        c.applied = true;
        this.cursor++;
        return;
      }
      this.divergence ??= `the disk image ${this.image} changed at event ${seq} (${kind} ${pos}+${len}), where the recording has ${c.kind} ${c.pos}+${c.len} at event ${c.seq}`;
      this.dropFuture();
    }
    // A new change: keep what the image holds there first (a write's bytes; a shrink's tail).
    let saved = 0;
    const at = this.size;
    if (kind === 'write') saved = this.copyFromImage(fd, pos, len, at);
    else if (pos < len) saved = this.copyFromImage(fd, pos, len - pos, at);
    this.size += saved;
    this.changes.push({ seq, kind, pos, len, at, saved, applied: true });
    this.cursor = this.changes.length;
  }

  /** Append image bytes [pos, pos+n) to the journal at `at` (what lies past the end reads as nothing). */
  private copyFromImage(fd: number, pos: number, n: number, at: number): number {
    const buf = Buffer.allocUnsafe(Math.min(n, 1 << 20));
    let done = 0;
    while (done < n) {
      const want = Math.min(buf.length, n - done);
      const got = fs.readSync(fd, buf, 0, want, pos + done);
      if (got <= 0) break;
      fs.writeSync(this.fd, buf, 0, got, at + done);
      done += got;
      if (got < want) break;
    }
    return done;
  }

  /**
   * Undo the applied changes made after moment `seq`, newest first (seq 0: every change, the
   * image as it was when the session began). The undone ones stay as the recorded future.
   */
  undoAfter(seq: number): number {
    let undone = 0;
    let fd = -1;
    try {
      while (this.cursor > 0 && this.changes[this.cursor - 1].seq > seq) {
        if (fd < 0) fd = fs.openSync(this.image, 'r+');
        const c = this.changes[this.cursor - 1];
        if (c.kind === 'write') this.copyToImage(fd, c.at, c.saved, c.pos);
        else {
          // Back to the old size; a shrink's lost tail comes back from the journal.
          fs.ftruncateSync(fd, c.len);
          if (c.saved > 0) this.copyToImage(fd, c.at, c.saved, c.pos);
        }
        c.applied = false;
        this.cursor--;
        undone++;
      }
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    return undone;
  }

  private copyToImage(fd: number, at: number, n: number, pos: number): void {
    const buf = Buffer.allocUnsafe(Math.min(n, 1 << 20));
    for (let done = 0; done < n;) {
      const want = Math.min(buf.length, n - done);
      const got = fs.readSync(this.fd, buf, 0, want, at + done);
      if (got <= 0) throw new Error(`the journal ${this.journalPath} is cut short at byte ${at + done}`);
      let w = 0;
      while (w < got) w += fs.writeSync(fd, buf, w, got - w, pos + done + w);
      done += got;
    }
  }

  /** A new timeline from here: the recorded future's changes are dropped. */
  dropFuture(): number {
    const dropped = this.changes.length - this.cursor;
    if (dropped === 0) return 0;
    this.changes.length = this.cursor;
    this.size =
      this.cursor > 0 ? this.changes[this.cursor - 1].at + this.changes[this.cursor - 1].saved : MAGIC.length;
    fs.ftruncateSync(this.fd, this.size);
    return dropped;
  }

  /** The session ended at the image's present moment: the journal is no longer needed. */
  close(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } finally {
      this.fd = -1;
      fs.rmSync(this.journalPath, { force: true });
    }
  }
}
