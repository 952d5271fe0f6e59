// A pcap capture file (the classic libpcap format that tcpdump -w writes and Wireshark opens):
// a 24-byte global header (magic 0xa1b2c3d4, version 2.4, snaplen 65535, linktype 1 =
// Ethernet), then per frame a 16-byte record header {ts_sec, ts_usec, incl_len, orig_len} and
// the bytes. Timestamps are the machine's VIRTUAL time, so two runs give the same file.
// Writes are synchronous (node:fs writeSync), so a capture is complete up to the last frame even
// if the process exits without closing. I/O errors are reported once and stop the capture;
// they never throw into the machine.

import { closeSync, writeSync } from 'node:fs';
import { openOutputFile } from './filePolicy.ts';

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_SNAPLEN = 65535;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;

export class PcapWriter {
  private fd: number | null = null;
  /** Frames written so far. */
  frames = 0;
  /** The first I/O error, in words; the capture stopped there. */
  error: string | null = null;

  /**
   * Create (or empty) `path` and write the global header. `report` hears about I/O errors
   * (e.g. the host kernel log); the writer itself never throws.
   */
  constructor(
    readonly path: string,
    private readonly report: (message: string) => void = () => {},
  ) {
    try {
      // Regular files only, never blocking on a FIFO, 0644 (hostSoftware/filePolicy.ts).
      this.fd = openOutputFile(path);
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

  /** Append one Ethernet frame seen at virtual time `timeNs`. Frames beyond snaplen are cut. */
  write(timeNs: number, frame: Uint8Array): void {
    if (this.fd === null) return;
    const t = Math.max(0, Math.floor(timeNs));
    const incl = Math.min(frame.length, PCAP_SNAPLEN);
    const rec = new Uint8Array(PCAP_RECORD_HEADER + incl);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, Math.floor(t / 1e9), true);
    dv.setUint32(4, Math.floor((t % 1e9) / 1000), true);
    dv.setUint32(8, incl, true);
    dv.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), PCAP_RECORD_HEADER);
    try {
      writeSync(this.fd, rec);
      this.frames++;
    } catch (e) {
      this.fail(`writing frame ${this.frames + 1} failed`, e);
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
