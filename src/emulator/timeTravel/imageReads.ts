// What a session read of a disk image's starting content: all a replay can observe of the bytes
// the session did not write itself. A recording (recordingFile.ts) carries the starting bytes of
// these chunks and nothing else of the image.
//
// Kept in 4 KiB chunks. A read marks every chunk it touches as needed unless a write of the
// current timeline covered that whole chunk before (a chunk only partly written is still needed:
// its other bytes are starting content). Over-marking costs a little size, never correctness:
// the bytes saved are the starting content of the whole chunk (startingContent.ts), whatever the
// image holds now.

export const CHUNK_SHIFT = 12;
export const CHUNK = 1 << CHUNK_SHIFT;

export class ImageReads {
  /** The image's size when the session first touched it (−1: not touched yet). */
  startSize = -1;
  /** Chunks read while they still held starting content. */
  readonly needed = new Set<number>();
  /** Chunks wholly written in the current timeline → the event count of the first such write. */
  private readonly written = new Map<number, number>();

  /** A read of [pos, pos+n). */
  read(pos: number, n: number): void {
    if (n <= 0) return;
    const last = Math.floor((pos + n - 1) / CHUNK);
    for (let c = Math.floor(pos / CHUNK); c <= last; c++)
      if (!this.needed.has(c) && !this.written.has(c)) this.needed.add(c);
  }

  /** A write of [pos, pos+n) at event count `seq`: the chunks it covers wholly are the session's own now. */
  write(pos: number, n: number, seq: number): void {
    const first = Math.ceil(pos / CHUNK);
    const end = Math.floor((pos + n) / CHUNK);
    for (let c = first; c < end; c++) if (!this.written.has(c)) this.written.set(c, seq);
  }

  /** A new timeline from moment `seq`: writes made at or after it are gone (conservative at `seq`). */
  dropFrom(seq: number): void {
    for (const [c, s] of this.written) if (s >= seq) this.written.delete(c);
  }
}
