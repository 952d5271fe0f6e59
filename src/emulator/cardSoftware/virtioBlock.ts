// The card's virtio block driver (drivers/block/virtio_blk.c, legacy virtio): one queue
// "requestq"; each request is a chain [16-byte virtio_blk_outhdr (device-readable), the data
// as one contiguous GDDR segment (device-writable for IN), 1 status byte (device-writable)].
// Requests go out through virtqueue_add + kick and complete in the device interrupt, which
// takes used buffers and wakes the waiters. Requests larger than seg_max · 4 KiB (the block
// layer's max_segments pages) are split, as the block layer would.
//
// Differences from Linux worth knowing: there is no page cache and no request merging, every
// read/write is its own chain; FLUSH is sent on `sync` although mpssd does not offer
// VIRTIO_BLK_F_FLUSH (Linux would then never flush; our back-end fsyncs the image).

import {
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_ID_BYTES,
} from '../virtio/virtioBlk.ts';
export * from '../virtio/virtioBlk.ts';
import { E } from '../errno.ts';
import { call, frame, nothing, type Routine, waitOn, WaitQueue } from '../sim/scheduler.ts';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_ID_BLOCK,
} from '../virtio/virtioIds.ts';
import type { CardOs } from './cardOs.ts';
import type { CardVdev, VirtioDriver } from './cardVirtio.ts';
import type { MicCardDriver } from './micCardDriver.ts';
import type { Sg } from './virtqueue.ts';

export const SECTOR_SIZE = 512;
/** One data segment: a page. */
export const BLK_SEGMENT_SIZE = 4096;

const { EIO, ENOMEM, ENODEV, EINVAL, EROFS, EOPNOTSUPP } = E;

/** One chain as the caller describes it (raw API; read/write/flush/getId build on it). */
export interface BlkRequest {
  type: number;
  sector: number;
  /** Data the device reads (OUT): device-readable segments. */
  out?: Uint8Array;
  /** Bytes the device writes (IN, GET_ID): device-writable segments. */
  inLen?: number;
  /** Where the caller wants the IN data (inLen bytes); a new array if absent. */
  into?: Uint8Array;
}

export interface BlkResult {
  /** The status byte the device wrote (0 OK, 1 IOERR, 2 UNSUPP; 0xff if it wrote none). */
  status: number;
  /** The device-writable data (IN, GET_ID). */
  data: Uint8Array;
  /** used.len the host reported (mpssd: every byte consumed, readable + writable). */
  usedLen: number;
}

interface Pending {
  done: boolean;
  usedLen: number;
  /** 0, or −errno when the device went away before completing the chain. */
  error: number;
}

/**
 * virtio_blk_outhdr {u32 type, u32 ioprio = 0, u64 sector}, stored byte-wise (a DataView would
 * move the small array off the V8 heap); the same bytes DataView setters give, BigInt included.
 */
function outhdr(type: number, sector: number): Uint8Array {
  const b = new Uint8Array(16);
  const s = Math.max(0, Math.floor(sector));
  if (!(s <= Number.MAX_SAFE_INTEGER)) {
    // Rare: let BigInt say what it says about huge or non-finite sectors (it throws for ∞).
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type >>> 0, true);
    dv.setBigUint64(8, BigInt(s), true);
    return b;
  }
  const t = type >>> 0;
  b[0] = t;
  b[1] = t >>> 8;
  b[2] = t >>> 16;
  b[3] = t >>> 24;
  const lo = s % 0x1_0000_0000;
  const hi = Math.floor(s / 0x1_0000_0000);
  b[8] = lo;
  b[9] = lo >>> 8;
  b[10] = lo >>> 16;
  b[11] = lo >>> 24;
  b[12] = hi;
  b[13] = hi >>> 8;
  b[14] = hi >>> 16;
  b[15] = hi >>> 24;
  return b;
}

/** Linux string_get_size(): 3 significant digits, "67.1 MB" / "64.0 MiB". */
export function stringGetSize(bytes: number, base: 1000 | 1024): string {
  const units =
    base === 1000
      ? ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB']
      : ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  let size = Math.floor(bytes);
  if (size === 0) return '0 B';
  let i = 0;
  let remainder = 0;
  while (size >= base) {
    remainder = size % base;
    size = Math.floor(size / base);
    i++;
  }
  let j = 0;
  for (let cap = size; cap * 10 < 1000; j++) cap *= 10;
  if (base === 1024) remainder = (remainder * 1000) >> 10;
  remainder += [500, 50, 5][j] ?? 0;
  if (remainder >= 1000) {
    remainder -= 1000;
    size += 1;
  }
  const tmp = j ? ('.' + String(remainder).padStart(3, '0')).slice(0, j + 1) : '';
  return `${size}${tmp} ${units[i] ?? 'UNK'}`;
}

const registry = new WeakMap<CardOs, VirtioBlock[]>();

/** The card's block devices that are up (vda, vdb …), in probe order. */
export function blockDevices(os: CardOs): VirtioBlock[] {
  return (registry.get(os) ?? []).filter((b) => b.ready && b.owner === os.driver);
}

/** The block device behind /dev/NAME, or undefined. */
export function blockDevice(os: CardOs, name: string): VirtioBlock | undefined {
  return blockDevices(os).find((b) => b.diskName === name);
}

export class VirtioBlock implements VirtioDriver {
  ready = false;
  /** Sectors of 512 bytes (config capacity). */
  capacity = 0;
  /** Data segments per request (config seg_max if SEG_MAX was negotiated, else 1). */
  segMax = 1;
  readOnly = false;
  /** "vda", "vdb" … chosen at probe. */
  diskName = 'vda';
  /** virtio bus index (virtio0 is the console). */
  busIndex = 0;
  /** The card driver instance this device belongs to (stale after a card reboot). */
  readonly owner: MicCardDriver | null;
  private readonly inflight = new Set<Pending>();
  private readonly doneQ: WaitQueue;
  private readonly roomQ: WaitQueue;

  constructor(
    readonly os: CardOs,
    readonly vdev: CardVdev,
  ) {
    this.owner = os.driver;
    this.doneQ = new WaitQueue(vdev.p.sched, `${vdev.p.cardName} virtio_blk requests`);
    this.roomQ = new WaitQueue(vdev.p.sched, `${vdev.p.cardName} virtio_blk queue room`);
  }

  private get sched() {
    return this.vdev.p.sched;
  }
  private get io() {
    return this.vdev.io;
  }
  private printk(text: string): void {
    this.vdev.p.printk(text);
  }

  /** Largest request in bytes (seg_max pages). */
  get maxRequestBytes(): number {
    return this.segMax * BLK_SEGMENT_SIZE;
  }

  get sizeBytes(): number {
    return this.capacity * SECTOR_SIZE;
  }

  *probe(): Routine<number> {
    return yield call(frame(this.sched, 'virtblk_probe', undefined, this.doProbe()));
  }

  private *doProbe(): Routine<number> {
    const v = this.vdev;
    const accepted: number = yield call(v.negotiate((1 << VIRTIO_BLK_F_SEG_MAX) | (1 << VIRTIO_BLK_F_RO)));
    const rc: number = yield call(v.findVqs());
    if (rc < 0) return rc;
    const cap: Uint8Array = yield call(v.readConfig(0, 8));
    this.capacity = Number(new DataView(cap.buffer, cap.byteOffset, 8).getBigUint64(0, true));
    if (accepted & (1 << VIRTIO_BLK_F_SEG_MAX)) {
      const sm: Uint8Array = yield call(v.readConfig(12, 4));
      const n = new DataView(sm.buffer, sm.byteOffset, 4).getUint32(0, true);
      // Two descriptors of every chain are the header and the status byte.
      this.segMax = Math.max(1, Math.min(n, v.vqs[0].num - 2));
    }
    this.readOnly = (accepted & (1 << VIRTIO_BLK_F_RO)) !== 0;
    const others = registry.get(this.os)?.filter((b) => b.ready && b.owner === this.owner) ?? [];
    this.diskName = `vd${String.fromCharCode(0x61 + others.length)}`;
    this.busIndex = Math.max(0, this.owner?.vdevs.indexOf(v) ?? 0);
    yield call(v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK));
    this.ready = true;
    this.register();
    const bytes = this.capacity * SECTOR_SIZE;
    this.printk(
      `virtio_blk virtio${this.busIndex}: [${this.diskName}] ${this.capacity} ${SECTOR_SIZE}-byte logical blocks (${stringGetSize(bytes, 1000)}/${stringGetSize(bytes, 1024)})`,
    );
    return 0;
  }

  /** virtblk_config_changed: the host changed the config space; re-read the capacity. */
  *configChanged(): Routine {
    const cap: Uint8Array = yield call(this.vdev.readConfig(0, 8));
    const next = Number(new DataView(cap.buffer, cap.byteOffset, 8).getBigUint64(0, true));
    if (next === this.capacity) return;
    const bytes = next * SECTOR_SIZE;
    this.printk(
      `virtio_blk virtio${this.busIndex}: new size: ${next} ${SECTOR_SIZE}-byte logical blocks (${stringGetSize(bytes, 1000)}/${stringGetSize(bytes, 1024)})`,
    );
    this.printk(`${this.diskName}: detected capacity change from ${this.capacity * SECTOR_SIZE} to ${bytes}`);
    this.capacity = next;
  }

  private register(): void {
    let list = registry.get(this.os);
    if (!list) {
      list = [];
      registry.set(this.os, list);
      const os = this.os;
      os.extraDevices.push(() => blockDevices(os).map((b) => b.diskName));
    }
    // Forget devices of an earlier boot of the card OS.
    const live = list.filter((b) => b.ready && b.owner === this.owner && b !== this);
    list.length = 0;
    list.push(...live, this);
  }

  /** virtblk_done: take every used chain, wake its waiter. */
  interrupt(): Routine {
    if (!this.ready) return nothing();
    return frame(this.sched, 'virtblk_done', undefined, this.doInterrupt());
  }

  private *doInterrupt(): Routine {
    const vq = this.vdev.vqs[0];
    if (!vq) return;
    let n = 0;
    for (;;) {
      const got: { token: Pending; len: number } | null = yield call(vq.getBuf());
      if (!got) break;
      got.token.done = true;
      got.token.usedLen = got.len;
      n++;
    }
    if (n > 0) {
      this.doneQ.signal();
      this.roomQ.signal();
    }
  }

  *remove(): Routine {
    yield call(frame(this.sched, 'virtblk_remove', undefined, this.doRemove()));
  }

  // A routine like every driver hook, though removal only fails the waiters.
  // eslint-disable-next-line require-yield
  private *doRemove(): Routine {
    this.ready = false;
    for (const p of this.inflight) {
      p.done = true;
      p.error = -ENODEV;
    }
    for (const q of this.vdev.vqs) q.detachUnused();
    this.doneQ.signal();
    this.roomQ.signal();
  }

  /**
   * Submit one chain and wait for it (virtio_queue_rq → virtblk_add_req → virtqueue_kick).
   * Returns the device's answer, or −errno if the chain could not be issued (−ENODEV device
   * gone, −EINVAL more data than seg_max pages, −ENOMEM no GDDR).
   */
  submit(r: BlkRequest): Routine<BlkResult | number> {
    // The frame routine itself, not a generator around it (one level less per step).
    return frame(this.sched, 'virtio_queue_rq', { type: r.type, sector: r.sector }, this.doSubmit(r));
  }

  private *doSubmit(r: BlkRequest): Routine<BlkResult | number> {
    if (!this.ready) return -ENODEV;
    const dataLen = r.out ? r.out.length : Math.max(0, r.inLen ?? 0);
    // Requests are split at maxRequestBytes (read/write), so only the raw API can exceed it.
    if (dataLen > this.maxRequestBytes) return -EINVAL;
    const segs = dataLen > 0 ? 1 : 0;
    const vq = this.vdev.vqs[0];
    while (vq.numFree < segs + 2) {
      yield waitOn(this.roomQ);
      if (!this.ready) return -ENODEV;
    }
    // One GDDR block: header at +0, status byte at +64, data pages from +4096.
    const gddr = this.vdev.p.gddr;
    const bytes = BLK_SEGMENT_SIZE + dataLen;
    const base = gddr.alloc(bytes);
    if (base < 0) return -ENOMEM;
    try {
      yield this.io.write(base, outhdr(r.type, r.sector));
      yield this.io.write8(base + 64, 0xff);
      if (r.out && dataLen > 0) yield this.io.write(base + BLK_SEGMENT_SIZE, r.out);
      // The data pages are one physically contiguous GDDR run, so blk_rq_map_sg merges them
      // into one segment: mpssd offers no SIZE_MAX, and virtio_blk then sets the queue's
      // max_segment_size to -1U. One data descriptor, however long the request.
      const sgs: Sg[] = [{ addr: base, len: 16, write: false }];
      if (dataLen > 0) sgs.push({ addr: base + BLK_SEGMENT_SIZE, len: dataLen, write: !r.out });
      sgs.push({ addr: base + 64, len: 1, write: true });
      const p: Pending = { done: false, usedLen: 0, error: 0 };
      const head: number = yield call(vq.add(sgs, p));
      if (head < 0) return -EIO; // the queue is broken
      this.inflight.add(p);
      try {
        yield call(frame(this.sched, 'virtqueue_kick', undefined, vq.kick()));
        while (!p.done) yield waitOn(this.doneQ);
      } finally {
        this.inflight.delete(p);
      }
      if (p.error) return p.error;
      const status: number = yield this.io.read8(base + 64);
      let data: Uint8Array;
      if (r.out || dataLen === 0) data = new Uint8Array(0);
      else if (r.into) {
        yield this.io.readInto(base + BLK_SEGMENT_SIZE, r.into, 0, dataLen);
        data = r.into.length === dataLen ? r.into : r.into.subarray(0, dataLen);
      } else data = yield this.io.read(base + BLK_SEGMENT_SIZE, dataLen);
      return { status, data, usedLen: p.usedLen };
    } finally {
      gddr.release(base, bytes);
    }
  }

  /** The errno a status byte stands for. */
  private statusErrno(status: number, what: string, sector: number): number {
    if (status === VIRTIO_BLK_S_OK) return 0;
    if (status === VIRTIO_BLK_S_UNSUPP) return -EOPNOTSUPP;
    this.printk(`end_request: I/O error, dev ${this.diskName}, sector ${sector}${what ? ` (${what})` : ''}`);
    return -EIO;
  }

  /** generic_make_request_checks: a request past the end never reaches the device. */
  private beyondEnd(rw: number, sector: number, count: number): boolean {
    if (sector >= 0 && sector + count <= this.capacity) return false;
    this.printk('attempt to access beyond end of device');
    this.printk(`${this.diskName}: rw=${rw}, want=${sector + count}, limit=${this.capacity}`);
    return true;
  }

  /**
   * Read `count` sectors from `sector` into `into` (at least count · 512 bytes; the caller's
   * buffer, as read(2) takes one), or into a new array. Returns the bytes or −errno.
   */
  read(sector: number, count: number, into?: Uint8Array): Routine<Uint8Array | number> {
    return frame(this.sched, 'virtblk_read', { sector, count }, this.doRead(sector, count, into));
  }

  private *doRead(sector: number, count: number, into?: Uint8Array): Routine<Uint8Array | number> {
    if (!this.ready) return -ENODEV;
    if (count <= 0) return new Uint8Array(0);
    if (into && into.length < count * SECTOR_SIZE) return -EINVAL;
    if (this.beyondEnd(0, sector, count)) return -EIO;
    const per = this.maxRequestBytes / SECTOR_SIZE;
    // A read of more than one request needs one buffer for all of them.
    const out = into ?? (count > per ? new Uint8Array(count * SECTOR_SIZE) : undefined);
    for (let done = 0; done < count;) {
      const n = Math.min(per, count - done);
      const res: BlkResult | number = yield call(
        this.submit({
          type: VIRTIO_BLK_T_IN,
          sector: sector + done,
          inLen: n * SECTOR_SIZE,
          into: out?.subarray(done * SECTOR_SIZE, (done + n) * SECTOR_SIZE),
        }),
      );
      if (typeof res === 'number') return res;
      const err = this.statusErrno(res.status, '', sector + done);
      if (err) return err;
      // One request for the whole read: its bytes are the answer.
      if (!out) return res.data;
      done += n;
    }
    return out!.length === count * SECTOR_SIZE ? out! : out!.subarray(0, count * SECTOR_SIZE);
  }

  /** Write whole sectors at `sector`. Returns 0 or −errno (−EROFS on a read-only disk). */
  *write(sector: number, data: Uint8Array): Routine<number> {
    return yield call(
      frame(
        this.sched,
        'virtblk_write',
        { sector, count: data.length / SECTOR_SIZE },
        this.doWrite(sector, data),
      ),
    );
  }

  private *doWrite(sector: number, data: Uint8Array): Routine<number> {
    if (!this.ready) return -ENODEV;
    if (data.length % SECTOR_SIZE !== 0) return -EINVAL;
    if (this.readOnly) return -EROFS;
    const count = data.length / SECTOR_SIZE;
    if (count === 0) return 0;
    if (this.beyondEnd(1, sector, count)) return -EIO;
    const per = this.maxRequestBytes / SECTOR_SIZE;
    for (let done = 0; done < count;) {
      const n = Math.min(per, count - done);
      const res: BlkResult | number = yield call(
        this.submit({
          type: VIRTIO_BLK_T_OUT,
          sector: sector + done,
          out: data.subarray(done * SECTOR_SIZE, (done + n) * SECTOR_SIZE),
        }),
      );
      if (typeof res === 'number') return res;
      const err = this.statusErrno(res.status, '', sector + done);
      if (err) return err;
      done += n;
    }
    return 0;
  }

  /** Cache flush (what `sync` and conv=fsync issue). 0 or −errno. */
  *flush(): Routine<number> {
    return yield call(frame(this.sched, 'virtblk_flush', undefined, this.doFlush()));
  }

  private *doFlush(): Routine<number> {
    const res: BlkResult | number = yield call(this.submit({ type: VIRTIO_BLK_T_FLUSH, sector: 0 }));
    if (typeof res === 'number') return res;
    return this.statusErrno(res.status, 'flush', 0);
  }

  /** The device serial (GET_ID, 20 bytes, up to the first NUL). Returns it or −errno. */
  *getId(): Routine<string | number> {
    return yield call(frame(this.sched, 'virtblk_get_id', undefined, this.doGetId()));
  }

  private *doGetId(): Routine<string | number> {
    const res: BlkResult | number = yield call(
      this.submit({
        type: VIRTIO_BLK_T_GET_ID,
        sector: 0,
        inLen: VIRTIO_BLK_ID_BYTES,
      }),
    );
    if (typeof res === 'number') return res;
    if (res.status === VIRTIO_BLK_S_UNSUPP) return -EOPNOTSUPP;
    if (res.status !== VIRTIO_BLK_S_OK) return -EIO;
    const nul = res.data.indexOf(0);
    return new TextDecoder().decode(res.data.subarray(0, nul < 0 ? res.data.length : nul));
  }
}

/** The driver factory cardModules registers for VIRTIO_ID_BLOCK. */
export function virtioBlockFactory(os: CardOs, vdev: CardVdev): VirtioDriver | null {
  return vdev.type === VIRTIO_ID_BLOCK ? new VirtioBlock(os, vdev) : null;
}
