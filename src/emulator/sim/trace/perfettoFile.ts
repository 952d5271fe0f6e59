// A Perfetto export (perfetto.ts) into a file: the exporter's chunks of about 1 MiB are written
// with writeSync as they come, so the session is never held, only the chunk at hand. A write error
// stops the export and is reported once through onError; the run it observes goes on.

import { closeSync, writeSync } from 'node:fs';
import type { BusEvent } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { PerfettoExporter } from './perfetto.ts';

export class PerfettoFile {
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  error: Error | null = null;
  readonly observer: Observer = (e) => this.write(e);
  readonly exporter: PerfettoExporter;

  private closed = false;

  /** Takes over `fd` (close() closes it). */
  constructor(
    private readonly fd: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.exporter = new PerfettoExporter((bytes) => this.take(bytes));
  }

  write(e: BusEvent): void {
    if (!this.closed && !this.error) this.exporter.event(e);
  }

  private take(buf: Uint8Array): void {
    if (this.error) return;
    try {
      for (let off = 0; off < buf.length;) off += writeSync(this.fd, buf, off, buf.length - off);
      this.bytesWritten += buf.length;
    } catch (err) {
      this.error = err as Error;
      this.onError(this.error);
    }
  }

  /** Write what is gathered (the file then holds every event so far). */
  flush(): void {
    if (!this.error) this.exporter.flush();
  }

  /** Finish the array, flush and close the file. */
  close(): void {
    if (this.closed) return;
    if (!this.error) this.exporter.finish();
    this.flush();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
