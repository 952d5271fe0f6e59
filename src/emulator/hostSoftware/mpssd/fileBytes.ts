// A range of the disk image standing in for a user buffer. mpssd maps the image and points its
// iovecs into the mapping, so MIC_VIRTIO_COPY_DESC's copy_from_user / copy_to_user move bytes
// between the file's pages and the DMA bounce buffer directly: one copy, no buffer of mpssd's
// own. FileBytes lets VOP's copy engine do the same with pread/pwrite into host memory.
//
// File errors are caught and kept (first one wins) for the back-end to answer IOERR after the
// copy; a read past the end of the file gives zeros, as the mapping would.

import * as fs from 'node:fs';

type Fill = (dst: Uint8Array, dstOff: number, srcOff: number, n: number) => void;
type Drain = (src: Uint8Array, srcOff: number, dstOff: number, n: number) => void;

/**
 * Told before the image changes, so what it held can be kept (time travel's undo journal,
 * timeTravel/diskJournal.ts): a write of [pos, pos+n), or a resize to `size` bytes. Told of
 * reads too (optional): a recording keeps the starting bytes of what was read before written.
 */
export interface ImageJournal {
  beforeWrite(fd: number, pos: number, n: number): void;
  beforeResize(fd: number, size: number): void;
  beforeRead?(fd: number, pos: number, n: number): void;
}

/** Shared by a FileBytes and its sub-ranges. */
interface FileState {
  readonly fd: number;
  readonly journal: ImageJournal | null;
  error: unknown;
  read: number;
  written: number;
}

export class FileBytes {
  /** Bytes [pos, pos+length) of the file → this range's fill and drain callbacks. */
  readonly fill: Fill;
  readonly drain: Drain;

  private constructor(
    private readonly st: FileState,
    readonly pos: number,
    readonly length: number,
  ) {
    this.fill = (dst, dstOff, srcOff, n) => this.readInto(dst, dstOff, srcOff, n);
    this.drain = (src, srcOff, dstOff, n) => this.writeFrom(src, srcOff, dstOff, n);
  }

  static of(fd: number, pos: number, length: number, journal: ImageJournal | null = null): FileBytes {
    return new FileBytes({ fd, journal, error: null, read: 0, written: 0 }, pos, length);
  }

  /** The first file error any part of this range met, or null. */
  get error(): unknown {
    return this.st.error;
  }
  get bytesRead(): number {
    return this.st.read;
  }
  get bytesWritten(): number {
    return this.st.written;
  }

  /** Bytes [begin, end) of this range (shares the error). */
  subarray(begin: number, end: number): FileBytes {
    return new FileBytes(this.st, this.pos + begin, end - begin);
  }

  /** File bytes off… of this range into dst[dstOff…dstOff+n); zeros past the end of the file. */
  readInto(dst: Uint8Array, dstOff: number, off: number, n: number): void {
    let done = 0;
    if (this.st.error === null) {
      try {
        this.st.journal?.beforeRead?.(this.st.fd, this.pos + off, n);
        while (done < n) {
          const got = fs.readSync(this.st.fd, dst, dstOff + done, n - done, this.pos + off + done);
          if (got <= 0) break;
          done += got;
        }
      } catch (e) {
        this.st.error = e;
      }
    }
    if (done < n) dst.fill(0, dstOff + done, dstOff + n);
    this.st.read += done;
  }

  /** src[srcOff…srcOff+n) into the file at byte off of this range. */
  writeFrom(src: Uint8Array, srcOff: number, off: number, n: number): void {
    if (this.st.error !== null) return;
    let done = 0;
    try {
      this.st.journal?.beforeWrite(this.st.fd, this.pos + off, n);
      while (done < n) done += fs.writeSync(this.st.fd, src, srcOff + done, n - done, this.pos + off + done);
    } catch (e) {
      this.st.error = e;
    }
    this.st.written += done;
  }
}
