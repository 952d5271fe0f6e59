// A pcap capture file (the classic libpcap format that tcpdump -w writes and Wireshark opens):
// a 24-byte global header (magic 0xa1b2c3d4, version 2.4, snaplen 65535, linktype 1 =
// Ethernet), then per frame a 16-byte record header {ts_sec, ts_usec, incl_len, orig_len} and
// the bytes. Timestamps are the machine's VIRTUAL time, so two runs give the same file.
// Writes are synchronous (node:fs writeSync), so a capture is complete up to the last frame even
// if the process exits without closing. I/O errors are reported once and stop the capture;
// they never throw into the machine.
//
// Time travel (docs/time-travel.md, "Host files follow the timeline"): the file is a
// PcapCapture that outlives the machines of a Timeline, and each machine's PcapWriter writes
// through it. A machine that runs from power-on writes the same frames in the same order, so
// its writer's Nth frame is the file's Nth record: a replay's frames that the file holds already
// are counted, not written again, and after a seek the file is cut to the frames the machine
// has written by then (cutHere). Records are appended (O_APPEND), so writes after a cut go to
// the new end.

import { closeSync, ftruncateSync, writeSync } from 'node:fs';
import { openOutputFile } from './filePolicy.ts';

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_SNAPLEN = 65535;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;

/** A capture file: its header and records, cut back on a seek (one per path, across machines). */
export class PcapCapture {
  private fd: number | null = null;
  /** The first I/O error, in words; the capture stopped there. */
  error: string | null = null;
  /** Where each record ends: ends[0] is the header's end, ends[n] the nth record's. */
  private readonly ends: number[] = [PCAP_GLOBAL_HEADER];
  /** Records the current machine has written (or found in the file already) since power-on. */
  private written = 0;
  /** Who hears about I/O errors now (the current machine's host log). */
  private report: (message: string) => void;

  /** Create (or empty) `path` and write the global header. The capture itself never throws. */
  constructor(
    readonly path: string,
    report: (message: string) => void = () => {},
  ) {
    this.report = report;
    try {
      // Regular files only, never blocking on a FIFO, 0644 (hostSoftware/filePolicy.ts).
      this.fd = openOutputFile(path, true);
      const h = new Uint8Array(PCAP_GLOBAL_HEADER);
      const dv = new DataView(h.buffer);
      dv.setUint32(0, PCAP_MAGIC, true);
      dv.setUint16(4, PCAP_VERSION_MAJOR, true);
      dv.setUint16(6, PCAP_VERSION_MINOR, true);
      dv.setInt32(8, 0, true); // thiszone: GMT
      dv.setUint32(12, 0, true); // sigfigs
      dv.setUint32(16, PCAP_SNAPLEN, true);
      dv.setUint32(20, LINKTYPE_ETHERNET, true);
      writeSync(this.fd, h);
    } catch (e) {
      this.fail('cannot create the capture file', e);
    }
  }

  get open(): boolean {
    return this.fd !== null;
  }

  /** Records in the file. */
  get records(): number {
    return this.ends.length - 1;
  }

  /** A new machine writes from power-on (its errors reported through `report`). */
  powerOn(report: (message: string) => void): void {
    this.written = 0;
    this.report = report;
  }

  /** The machine's next record: written, unless the file has it already (a replay). */
  put(rec: Uint8Array): void {
    const n = this.written++;
    if (this.fd === null || n < this.records) return;
    try {
      writeSync(this.fd, rec);
      this.ends.push(this.ends[this.ends.length - 1] + rec.length);
    } catch (e) {
      this.fail(`writing frame ${n + 1} failed`, e);
    }
  }

  /** The machine is where a seek took it: the file keeps the records it has written by now. */
  cutHere(): void {
    if (this.fd === null || this.written >= this.records) return;
    try {
      ftruncateSync(this.fd, this.ends[this.written]);
      this.ends.length = this.written + 1;
    } catch (e) {
      this.fail(`cutting the capture back to frame ${this.written} failed`, e);
    }
  }

  /** Finish the file. Safe to call more than once. */
  close(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch (e) {
      this.fail('closing the capture file failed', e);
    }
  }

  private fail(what: string, e: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    const msg = `pcap ${this.path}: ${what}: ${why}; the capture stops here`;
    if (this.error === null) this.error = msg;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already failing: the first error is the one reported
      }
      this.fd = null;
    }
    try {
      this.report(msg);
    } catch {
      // a reporter that throws must not take the machine down
    }
  }
}

/** One machine's writer: to its own file (a path), or through a capture shared across machines. */
export class PcapWriter {
  /** Frames this machine has written so far. */
  frames = 0;
  private readonly file: PcapCapture;
  /** The file is this writer's own (closed with it), not a Timeline's. */
  private readonly owned: boolean;

  /**
   * Create (or empty) `target` and write the global header, or write through a shared capture.
   * `report` hears about I/O errors (e.g. the host kernel log); the writer itself never throws.
   */
  constructor(target: string | PcapCapture, report: (message: string) => void = () => {}) {
    this.owned = typeof target === 'string';
    if (typeof target === 'string') this.file = new PcapCapture(target, report);
    else {
      this.file = target;
      target.powerOn(report);
    }
  }

  get path(): string {
    return this.file.path;
  }

  /** The first I/O error, in words; the capture stopped there. */
  get error(): string | null {
    return this.file.error;
  }

  get open(): boolean {
    return this.file.open;
  }

  /** Append one Ethernet frame seen at virtual time `timeNs`. Frames beyond snaplen are cut. */
  write(timeNs: number, frame: Uint8Array): void {
    if (!this.file.open) return;
    const t = Math.max(0, Math.floor(timeNs));
    const incl = Math.min(frame.length, PCAP_SNAPLEN);
    const rec = new Uint8Array(PCAP_RECORD_HEADER + incl);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, Math.floor(t / 1e9), true);
    dv.setUint32(4, Math.floor((t % 1e9) / 1000), true);
    dv.setUint32(8, incl, true);
    dv.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), PCAP_RECORD_HEADER);
    this.file.put(rec);
    if (this.file.open) this.frames++;
  }

  /** Finish the file (a shared capture stays open for the next machine). Safe to call more than once. */
  close(): void {
    if (this.owned) this.file.close();
  }
}
