// A Perfetto export (perfetto.ts) into a file: text is gathered into chunks of about 1 MiB and
// written with writeSync, so the session is never held, only the chunk at hand. A write error
// stops the export and is reported once through onError; the run it observes goes on.

import { closeSync, writeSync } from 'node:fs';
import type { BusEvent } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { PerfettoExporter } from './perfetto.ts';

const CHUNK = 1 << 20;

export class PerfettoFile {
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  error: Error | null = null;
  readonly observer: Observer = (e) => this.write(e);
  readonly exporter: PerfettoExporter;

  private parts: string[] = [];
  private pending = 0;
  private closed = false;

  /** Takes over `fd` (close() closes it). */
  constructor(
    private readonly fd: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.exporter = new PerfettoExporter((s) => this.take(s));
  }

  write(e: BusEvent): void {
    if (!this.closed && !this.error) this.exporter.event(e);
  }

  private take(s: string): void {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= CHUNK) this.flush();
  }

  /** Write what is gathered (the file then holds every event so far). */
  flush(): void {
    if (this.pending === 0 || this.error) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    try {
      for (let off = 0; off < buf.length;) off += writeSync(this.fd, buf, off, buf.length - off);
      this.bytesWritten += buf.length;
    } catch (err) {
      this.error = err as Error;
      this.onError(this.error);
    }
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
