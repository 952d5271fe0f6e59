// mpssd's virtio-block back-end (reference §6.3 "Block"): one request queue of 128 entries,
// host feature SEG_MAX (plus RO for a read-only image), virtio_blk_config with capacity and
// seg_max, and per request mpssd's three COPY_DESC calls on queue 0: the 16-byte header
// (update_used = 0), the data (update_used = 0), then the status byte (update_used = 1).
// The back-end walks each chain in the ring block in host RAM (mpssd's read-only mmap of the
// vring) to size the data iovecs; VOP does the copying and the vringh checks.
//
// The backing store is a real disk image file. mpssd maps it and points the data iovecs into
// the mapping, so COPY_DESC copies between the file's pages and the bounce buffer with no
// buffer in between; we do the same with pread/pwrite (FileBytes), so a write the card saw
// completed (status OK) is already in the file, and FLUSH adds an fsync. Requests that are
// refused (range, injected EIO, read-only) or odd (GET_ID, mixed directions) go through a
// buffer of ours instead.
//
// Protocol-compat notes, where we knowingly differ from mpssd (§6.3 quirks, §9 #26):
// * mpssd replies OK to unsupported types and crashes on out-of-range sectors; we answer
//   UNSUPP / IOERR.
// * mpssd's GET_ID returns the image's bytes at sector·512; we return a 20-byte serial
//   "mic-emu-<card>-<inode hex>", NUL-padded, as virtio-blk intends.
// * mpssd ignores FLUSH (it is "unsupported" and answered OK); we fsync the image.
// * A file error (EIO, ENOSPC …) or a write to a read-only image answers IOERR; nothing is
//   thrown out of the event loop.
//
// Config space: config_len = sizeof(struct virtio_blk_config) of the kernel headers Gen-1 mpssd
// was built with in the DMA-era trees (3.17–3.19): 36 bytes — capacity u64 @0, size_max u32 @8,
// seg_max u32 @12, geometry @16, blk_size u32 @20, topology @24–31, wce u8 @32, unused @33,
// num_queues u16 @34 (3.13–3.16 headers end after wce: 33; later ones are longer). mpssd fills
// in capacity and seg_max; the rest stays 0.

import {
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_ID_BYTES,
} from '../../virtio/virtioBlk.ts';
export * from '../../virtio/virtioBlk.ts';
import * as fs from 'node:fs';

import { E } from '../../errno.ts';
import { call, frame, type Routine } from '../../sim/scheduler.ts';
import { VIRTIO_ID_BLOCK, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE } from '../../virtio/virtioIds.ts';
import { uninitBytes } from '../../mem/bytes.ts';
import { FileBytes, type ImageJournal } from './fileBytes.ts';
import { fetchDesc, loadAvailIdx, loadAvailRing, type VringDesc } from '../../virtio/vring.ts';
import type { MicDevice } from '../micHost/micDevice.ts';
import type { CopyIov, DeviceDescImage, HostVdev, HostVring } from '../micHost/vop.ts';
import { BackendPoll, type VirtioBackend } from './backend.ts';

/** virtio_blk_outhdr: u32 type, u32 ioprio, u64 sector. */
/** The disk image a card's virtio-block device serves (mpssd's `mic_virtblk` file). */
export interface DiskConfig {
  path: string;
  /** Keeps what the image held before each change (time travel), or none. */
  journal?: ImageJournal | null;
  /** Size to create the image with when the file does not exist. */
  sizeBytes: number;
  readonly: boolean;
  /** Fault injection: sectors [first, last] answer EIO. */
  eioSectors?: [number, number] | null;
}

export const VIRTIO_BLK_OUTHDR_SIZE = 16;
/** Offsets in virtio_blk_config. */
export const VIRTIO_BLK_CONFIG = { capacity: 0, size_max: 8, seg_max: 12, SIZE: 36 } as const;
/** mpssd's seg_max (§6.3). */
export const MPSSD_BLK_SEG_MAX = 126;
export const SECTOR_SIZE = 512;
const BLK_QUEUE_NUM = 128;
/** Chains whose data part is larger than this are discarded in pieces and fail with IOERR. */
const MAX_REQUEST_DATA = 16 * 2 ** 20;
const DISCARD_CHUNK = 2 ** 20;

const TYPE_NAMES: Record<number, string> = {
  [VIRTIO_BLK_T_IN]: 'IN',
  [VIRTIO_BLK_T_OUT]: 'OUT',
  [VIRTIO_BLK_T_FLUSH]: 'FLUSH',
  [VIRTIO_BLK_T_GET_ID]: 'GET_ID',
};

export interface BlockBackendStats {
  requests: number;
  readBytes: number;
  writtenBytes: number;
  flushes: number;
  ioErrors: number;
  unsupported: number;
}

export class BlockBackend implements VirtioBackend {
  readonly kind = 'block';
  vdev: HostVdev | null = null;
  /** The image is opened read-only (configured so, or the file is not writable). */
  readonly readOnly: boolean = false;
  /** Bytes in the image file when it was opened. */
  fileSize = 0;
  /** Inode number of the image (for the GET_ID serial). */
  readonly inode: bigint = 0n;
  /** Why the image could not be opened, or null. The device then has capacity 0 and fails every request. */
  readonly openError: string | null = null;
  readonly stats: BlockBackendStats = {
    requests: 0,
    readBytes: 0,
    writtenBytes: 0,
    flushes: 0,
    ioErrors: 0,
    unsupported: 0,
  };
  private fd = -1;
  private readonly poll: BackendPoll;
  /**
   * Our buffer for the requests the image does not serve directly (refused, GET_ID), kept from
   * one request to the next: a fresh array over 64 bytes costs an off-heap allocation each.
   */
  private scratch: Uint8Array = new Uint8Array(0);

  constructor(
    readonly dev: MicDevice,
    readonly disk: DiskConfig,
  ) {
    this.poll = new BackendPoll(dev.sched, `${dev.name} block back-end`);
    try {
      if (!fs.existsSync(disk.path)) {
        // A new image: sparse, sizeBytes long.
        const fd = fs.openSync(disk.path, 'wx', 0o644);
        try {
          fs.fchmodSync(fd, 0o644); // whatever the umask (filePolicy.ts)
          fs.ftruncateSync(fd, Math.max(0, disk.sizeBytes));
        } finally {
          fs.closeSync(fd);
        }
      }
      let ro = disk.readonly;
      // O_NONBLOCK: a FIFO named as a disk must not freeze the host; it is refused below.
      const c = fs.constants;
      if (!ro) {
        try {
          this.fd = fs.openSync(disk.path, c.O_RDWR | c.O_NONBLOCK);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
          ro = true;
        }
      }
      if (ro) this.fd = fs.openSync(disk.path, c.O_RDONLY | c.O_NONBLOCK);
      this.readOnly = ro;
      const st = fs.fstatSync(this.fd, { bigint: true });
      if (!st.isFile()) throw new Error(`${disk.path} is not a regular file`);
      this.fileSize = Number(st.size);
      this.inode = st.ino;
    } catch (e) {
      this.openError = e instanceof Error ? e.message : String(e);
      if (this.fd >= 0) {
        try {
          fs.closeSync(this.fd);
        } catch {
          // nothing left to release
        }
      }
      this.fd = -1;
      this.fileSize = 0;
    }
  }

  get initiator(): string {
    return `host.${this.dev.name}.block`;
  }

  /**
   * Grow or shrink the image file, then tell the card through MIC_VIRTIO_CONFIG_CHANGE with the
   * new capacity (config_change = 2, h2c_config_db, guest_ack). Returns 0 or −errno.
   */
  *resize(bytes: number): Routine<number> {
    const v = this.vdev;
    if (this.fd < 0 || this.readOnly) return -E.EROFS; // a read-only or unopened image stays as it is
    if (!v || v.removed) return -19;
    try {
      this.disk.journal?.beforeResize(this.fd, bytes);
      fs.ftruncateSync(this.fd, bytes);
    } catch (e) {
      this.log(`cannot resize ${this.disk.path}: ${(e as Error).message}`);
      return -5;
    }
    this.fileSize = bytes;
    this.log(`virtio-block: ${this.disk.path} resized to ${this.capacity} sectors`);
    return yield call(this.dev.vop.configChange(v, this.deviceImage().config));
  }

  /** capacity = ceil(fileSize / 512) (§6.3). */
  get capacity(): number {
    return Math.ceil(this.fileSize / SECTOR_SIZE);
  }

  /** The GET_ID answer: "mic-emu-<card>-<inode hex>", NUL-padded to 20 bytes. */
  get serial(): string {
    return `mic-emu-${this.dev.card.index}-${this.inode.toString(16)}`.slice(0, VIRTIO_BLK_ID_BYTES);
  }

  deviceImage(): DeviceDescImage {
    const hostFeatures = new Uint8Array(4);
    hostFeatures[0] = (1 << VIRTIO_BLK_F_SEG_MAX) | (this.readOnly ? 1 << VIRTIO_BLK_F_RO : 0);
    const config = new Uint8Array(VIRTIO_BLK_CONFIG.SIZE);
    const dv = new DataView(config.buffer);
    dv.setBigUint64(VIRTIO_BLK_CONFIG.capacity, BigInt(this.capacity), true);
    dv.setUint32(VIRTIO_BLK_CONFIG.seg_max, MPSSD_BLK_SEG_MAX, true);
    return {
      type: VIRTIO_ID_BLOCK,
      numVq: 1,
      featureLen: 4,
      configLen: VIRTIO_BLK_CONFIG.SIZE,
      num: [BLK_QUEUE_NUM],
      hostFeatures,
      config,
    };
  }

  attach(vdev: HostVdev): void {
    this.vdev = vdev;
    this.poll.watch(vdev);
    if (this.openError) this.log(`cannot open ${this.disk.path}: ${this.openError}; every request fails`);
    else
      this.log(
        `virtio-block on ${this.disk.path}: ${this.capacity} sectors${this.readOnly ? ', read-only' : ''}`,
      );
  }

  /** fsync and close the image. Idempotent; never throws. */
  close(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    try {
      if (!this.readOnly) fs.fsyncSync(fd);
    } catch {
      // best effort: the data went out with pwrite already
    }
    try {
      fs.closeSync(fd);
    } catch {
      // already gone
    }
  }

  private log(text: string): void {
    this.dev.kernel.printk(`mpssd: ${this.dev.name}: ${text}`);
  }

  *run(): Routine {
    const v = this.vdev;
    for (;;) {
      // This thread serves the device it was started for; a re-added one gets a new thread.
      if (!v || v.removed || this.vdev !== v) return;
      const ready: boolean = yield call(this.poll.next(this.dev, v));
      if (!ready) continue;
      yield call(frame(this.dev.sched, 'mpssd.virtio_block', undefined, this.serve(v)));
    }
  }

  /** Serve requests while info.avail_idx ≠ avail.idx (mpssd's loop). */
  private *serve(v: HostVdev): Routine {
    const vr = v.vrings[0];
    const io = this.dev.io;
    for (;;) {
      if (v.removed) return;
      // The request the card made available at the position the host is at, if any, is what it
      // serves now (from its first look on).
      this.dev.sched.req = this.dev.vop.requestsOf(v, vr).atAvail(vr.lastAvailIdx);
      const infoAvail: number = yield io.read16(vr.infoHost);
      const availIdx: number = yield loadAvailIdx(io, vr.addrs);
      if (infoAvail === availIdx) return;
      const ok: boolean = yield call(this.serveOne(v, vr, infoAvail));
      if (!ok) return; // wait for the next poll wake-up
    }
  }

  /** Walk the chain at avail.ring[info.avail_idx] in the ring mapping. null: malformed. */
  private *walkChain(vr: HostVring, slot: number): Routine<VringDesc[] | null> {
    const io = this.dev.io;
    const head: number = yield loadAvailRing(io, vr.addrs, slot);
    if (head >= vr.num) return null;
    const descs: VringDesc[] = [];
    let i = head;
    for (;;) {
      if (descs.length >= vr.num) return null;
      const d = fetchDesc(io, vr.addrs, i);
      yield;
      descs.push(d);
      if (!(d.flags & VRING_DESC_F_NEXT)) return descs;
      if (d.next >= vr.num) return null;
      i = d.next;
    }
  }

  /** COPY_DESC on queue 0 (the routine itself, not a wrapper around it: one level less per step). */
  private copy(v: HostVdev, iov: CopyIov[], updateUsed: boolean): Routine<number> {
    return this.dev.vop.copyDesc(v, iov, 0, updateUsed);
  }

  /** One request in mpssd's three COPY_DESC calls. Returns false when serving must stop. */
  private *serveOne(v: HostVdev, vr: HostVring, slot: number): Routine<boolean> {
    const descs: VringDesc[] | null = yield call(this.walkChain(vr, slot));
    const hdr = new Uint8Array(VIRTIO_BLK_OUTHDR_SIZE);
    if (!descs) {
      // A broken ring: let COPY_DESC run vringh's checks and report (it fails with −errno).
      const rc: number = yield call(this.copy(v, [{ buf: hdr, len: hdr.length }], false));
      return rc > 0;
    }
    const h = descs[0];
    const last = descs[descs.length - 1];
    const headerOk =
      h.len === VIRTIO_BLK_OUTHDR_SIZE &&
      (h.flags & VRING_DESC_F_NEXT) !== 0 &&
      !(h.flags & VRING_DESC_F_WRITE);
    const statusOk = descs.length >= 2 && (last.flags & VRING_DESC_F_WRITE) !== 0 && last.len >= 1;
    if (!headerOk || !statusOk) {
      this.log(
        `virtio-block: malformed request (header ${h.len} bytes flags ${h.flags}, ${descs.length} descriptors); failing it with IOERR`,
      );
      return yield call(this.failChain(v, descs));
    }
    this.stats.requests++;
    // 1. the header
    const rc: number = yield call(this.copy(v, [{ buf: hdr, len: hdr.length }], false));
    if (rc <= 0) return false;
    // virtio_blk_outhdr read byte-wise (a DataView would move the small array off the V8 heap).
    const u32 = (o: number) => (hdr[o] | (hdr[o + 1] << 8) | (hdr[o + 2] << 16) | (hdr[o + 3] << 24)) >>> 0;
    const type = u32(0);
    // The u64 as the nearest double, as Number(getBigUint64()) gives it.
    const sector = u32(12) * 0x1_0000_0000 + u32(8);
    // The data descriptors: those with NEXT after the header.
    const data = descs.slice(1, -1);
    const dataLen = data.reduce((n, d) => n + d.len, 0);
    if (dataLen > MAX_REQUEST_DATA) {
      this.log(`virtio-block: request of ${dataLen} data bytes is larger than we serve; IOERR`);
      return yield call(this.discardAndFinish(v, data, VIRTIO_BLK_S_IOERR));
    }
    const name = TYPE_NAMES[type] ?? 'unsupported';
    return yield call(
      frame(
        this.dev.sched,
        `virtio_blk_${name}`,
        { type, sector, len: dataLen },
        this.handle(v, type, sector, data),
      ),
    );
  }

  /** Calls 2 and 3 of a request whose header said `type` at `sector`. */
  private *handle(v: HostVdev, type: number, sector: number, data: VringDesc[]): Routine<boolean> {
    const dataLen = data.reduce((n, d) => n + d.len, 0);
    const allWrite = data.every((d) => (d.flags & VRING_DESC_F_WRITE) !== 0);
    const allRead = data.every((d) => !(d.flags & VRING_DESC_F_WRITE));
    // IN and OUT are decided before the copy (once: a refusal is logged and counted once).
    let status: number = VIRTIO_BLK_S_OK;
    if (type === VIRTIO_BLK_T_IN)
      status = allWrite ? this.check('read', sector, dataLen) : VIRTIO_BLK_S_IOERR;
    else if (type === VIRTIO_BLK_T_OUT)
      status = !allRead
        ? VIRTIO_BLK_S_IOERR
        : this.readOnly
          ? this.refuseReadOnly(sector)
          : this.check('write', sector, dataLen);
    // A well-formed IN or OUT the image serves: the iovecs point into the image itself (mpssd's
    // mapping), and the copy moves bytes between the file and the bounce buffer directly.
    if ((type === VIRTIO_BLK_T_IN || type === VIRTIO_BLK_T_OUT) && status === VIRTIO_BLK_S_OK && dataLen > 0)
      return yield call(this.handleMapped(v, type, sector, data, dataLen));
    // Everything else goes through a buffer of ours: zeros to the card (a refused IN), the
    // serial (GET_ID), or what the card sent, dropped (a refused OUT).
    const buf = this.requestBuffer(dataLen).fill(0);
    if (type === VIRTIO_BLK_T_GET_ID) {
      buf.set(new TextEncoder().encode(this.serial).subarray(0, Math.min(dataLen, VIRTIO_BLK_ID_BYTES)));
    } else if (type !== VIRTIO_BLK_T_IN && type !== VIRTIO_BLK_T_OUT && type !== VIRTIO_BLK_T_FLUSH) {
      // mpssd replies OK to unsupported types; we answer UNSUPP.
      this.stats.unsupported++;
      this.log(`virtio-block: unsupported request type ${type}; UNSUPP`);
      status = VIRTIO_BLK_S_UNSUPP;
    }
    // 2. the data: one iovec per data descriptor; the WRITE flags give the direction.
    const iov: CopyIov[] = [];
    let off = 0;
    for (const d of data) {
      iov.push({ buf: buf.subarray(off, off + d.len), len: d.len });
      off += d.len;
    }
    let rc: number = yield call(this.copy(v, iov, false));
    if (rc < 0) return false;
    if (type === VIRTIO_BLK_T_FLUSH) status = this.flushImage();
    // 3. the status byte, completing the chain
    rc = yield call(this.copy(v, [{ buf: Uint8Array.of(status), len: 1 }], true));
    return rc > 0;
  }

  /** `len` bytes of the reused request buffer (contents undefined). */
  private requestBuffer(len: number): Uint8Array {
    if (this.scratch.length < len) this.scratch = uninitBytes(Math.max(len, 64 * 1024));
    return len === this.scratch.length ? this.scratch : this.scratch.subarray(0, len);
  }

  /** Calls 2 and 3 of an IN or OUT whose data the copy moves straight to or from the image. */
  private *handleMapped(
    v: HostVdev,
    type: number,
    sector: number,
    data: VringDesc[],
    dataLen: number,
  ): Routine<boolean> {
    const file = FileBytes.of(this.fd, sector * SECTOR_SIZE, dataLen, this.disk.journal ?? null);
    const iov: CopyIov[] = [];
    let off = 0;
    for (const d of data) {
      iov.push({ buf: data.length === 1 ? file : file.subarray(off, off + d.len), len: d.len });
      off += d.len;
    }
    let rc: number = yield call(this.copy(v, iov, false));
    if (rc < 0) return false;
    let status: number = VIRTIO_BLK_S_OK;
    if (file.error !== null) status = this.fileError(type === VIRTIO_BLK_T_IN ? 'read' : 'write', file.error);
    else if (type === VIRTIO_BLK_T_IN) this.stats.readBytes += dataLen;
    else this.stats.writtenBytes += dataLen;
    rc = yield call(this.copy(v, [{ buf: Uint8Array.of(status), len: 1 }], true));
    return rc > 0;
  }

  /** Consume a malformed chain whole and complete it, writing IOERR into its last writable byte. */
  private *failChain(v: HostVdev, descs: VringDesc[]): Routine<boolean> {
    const readable = descs.filter((d) => !(d.flags & VRING_DESC_F_WRITE)).reduce((n, d) => n + d.len, 0);
    const writable = descs.filter((d) => (d.flags & VRING_DESC_F_WRITE) !== 0).reduce((n, d) => n + d.len, 0);
    if (readable + writable > MAX_REQUEST_DATA || readable + writable === 0) return false;
    if (writable === 0) {
      const rc: number = yield call(this.copy(v, [{ buf: new Uint8Array(readable), len: readable }], true));
      return rc > 0;
    }
    const rest = new Uint8Array(readable + writable - 1);
    let rc: number = yield call(this.copy(v, [{ buf: rest, len: rest.length }], false));
    if (rc < 0) return false;
    rc = yield call(this.copy(v, [{ buf: Uint8Array.of(VIRTIO_BLK_S_IOERR), len: 1 }], true));
    return rc > 0;
  }

  /** Move an oversized data part in pieces without keeping it, then write the status. */
  private *discardAndFinish(v: HostVdev, data: VringDesc[], status: number): Routine<boolean> {
    let left = data.reduce((n, d) => n + d.len, 0);
    const scratch = new Uint8Array(DISCARD_CHUNK);
    while (left > 0) {
      const n = Math.min(left, DISCARD_CHUNK);
      const rc: number = yield call(this.copy(v, [{ buf: scratch.subarray(0, n), len: n }], false));
      if (rc <= 0) return false;
      left -= rc;
    }
    const rc: number = yield call(this.copy(v, [{ buf: Uint8Array.of(status), len: 1 }], true));
    return rc > 0;
  }

  /** Sectors [first, last] the request touches fall in the configured EIO range. */
  private inEioRange(sector: number, len: number): boolean {
    const r = this.disk.eioSectors;
    if (!r) return false;
    const last = sector + Math.max(1, Math.ceil(len / SECTOR_SIZE)) - 1;
    return sector <= r[1] && last >= r[0];
  }

  /** Range and fault checks shared by IN and OUT; an error status or OK. */
  private check(op: string, sector: number, len: number): number {
    if (this.fd < 0) {
      this.stats.ioErrors++;
      return VIRTIO_BLK_S_IOERR;
    }
    // mpssd has no bounds check and crashes here; we answer IOERR without touching the file.
    if (!Number.isSafeInteger(sector) || sector * SECTOR_SIZE + len > this.fileSize) {
      this.stats.ioErrors++;
      this.log(
        `virtio-block: ${op} sector ${sector} + ${len} bytes is beyond the image (${this.fileSize} bytes); IOERR`,
      );
      return VIRTIO_BLK_S_IOERR;
    }
    if (this.inEioRange(sector, len)) {
      this.stats.ioErrors++;
      this.log(`virtio-block: ${op} sector ${sector} + ${len} bytes hits the injected EIO range; IOERR`);
      return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
  }

  private refuseReadOnly(sector: number): number {
    this.stats.ioErrors++;
    this.log(`virtio-block: write to sector ${sector} on a read-only image; IOERR`);
    return VIRTIO_BLK_S_IOERR;
  }

  private flushImage(): number {
    if (this.fd < 0) return VIRTIO_BLK_S_IOERR;
    try {
      this.stats.flushes++;
      if (!this.readOnly) fs.fsyncSync(this.fd);
      return VIRTIO_BLK_S_OK;
    } catch (e) {
      return this.fileError('flush', e);
    }
  }

  private fileError(op: string, e: unknown): number {
    this.stats.ioErrors++;
    const code = (e as NodeJS.ErrnoException)?.code ?? String(e);
    this.log(`virtio-block: ${op} on ${this.disk.path} failed (${code}); IOERR`);
    return VIRTIO_BLK_S_IOERR;
  }
}
