// Virtio over PCIe, host half (host/mic_virtio.c of the DMA-era Gen-1 driver, 3.17–3.19):
// device entries in the device page, host-allocated ring blocks and bounce buffers, the
// COPY_DESC engine walking chains like vringh (INDIRECT tables included), used-ring relocation
// and device reset in the bottom half, and the poll wake-ups mpssd waits on.

import type { QueueRequests } from '../../sim/requests.ts';
import type { HostSpace } from '../../bus/hostSpace.ts';
import {
  call,
  enterFrame,
  frame,
  type Routine,
  type Scheduler,
  sleep,
  WaitQueue,
} from '../../sim/scheduler.ts';
import type { Spine } from '../../sim/spine.ts';
import { intern } from '../../sim/busEvent.ts';
import {
  BOOTPARAM,
  DEVICE_CTRL,
  DEVICE_DESC,
  MIC_DP_SIZE,
  MIC_MAX_DESC_BLK_SIZE,
  MIC_MAX_VRINGS,
  MIC_VIRTIO_PARAM_CONFIG_CHANGED,
  MIC_VIRTIO_PARAM_DEV_REMOVE,
  VQCONFIG,
  alignedDescSize,
  entryLayout,
  s8,
  totalSize,
} from '../../virtio/devicePage.ts';
import {
  MIC_VRING_ENTRIES,
  isPowerOfTwo,
  micRingBlockSize,
  fetchDesc,
  loadAvailFlags,
  loadAvailIdx,
  loadAvailRing,
  loadUsedEvent,
  vringAddrs,
  vringInfoMagic,
  vringInfoOffset,
  storeUsedElem,
  storeUsedIdx,
  type VringAddrs,
  type VringDesc,
} from '../../virtio/vring.ts';
import {
  VIRTIO_QUEUE_NAMES,
  VIRTIO_SHORT_NAMES,
  VRING_AVAIL_F_NO_INTERRUPT,
  VIRTIO_RING_F_EVENT_IDX,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  deviceName,
} from '../../virtio/virtioIds.ts';
import { E } from '../../errno.ts';
import type { CopyEngine, Bounce, UserBytes } from './copyEngine.ts';
import { VOP_BOUNCE_SIZE } from './copyEngine.ts';

/** Host-side handshake polls: 100 × 100 ms (Gen-1). */
export const HOST_POLLS = 100;
export const HOST_POLL_NS = 100_000_000;

/** What the back-end hands to ADD_DEVICE: the entry image fields that matter. */
export interface DeviceDescImage {
  type: number;
  numVq: number;
  featureLen: number;
  configLen: number;
  /** ring sizes per queue */
  num: number[];
  hostFeatures: Uint8Array;
  config: Uint8Array;
}

/** A descriptor as messages name it: `descriptor 5`, `indirect descriptor 1 of the table at 0x…`. */
function descAt(i: number, inTable: boolean, table: number): string {
  return inTable ? `indirect descriptor ${i} of the table at 0x${table.toString(16)}` : `descriptor ${i}`;
}

/** The first 32 bits of a feature bitmap (vringh_init_kern takes `*(u32 *)mic_vq_features`). */
function featureWord(f: Uint8Array): number {
  return ((f[0] ?? 0) | ((f[1] ?? 0) << 8) | ((f[2] ?? 0) << 16) | ((f[3] ?? 0) << 24)) >>> 0;
}

/** The host's view of one chain being consumed across COPY_DESC calls. */
interface ChainState {
  head: number;
  descs: VringDesc[];
  /** index into descs and offset inside it where the next readable / writable byte is */
  rIdx: number;
  rOff: number;
  wIdx: number;
  wOff: number;
  consumed: number;
}

/**
 * The host's vringh of one queue. Without VIRTIO_RING_F_EVENT_IDX (no back-end offers it)
 * vringh never folds `completed` into `last_used_idx`: last_used_idx stays 0 and completed
 * counts every chain since the last reset; the next used slot is last_used_idx + completed.
 */
export class HostVring {
  addrs: VringAddrs;
  lastAvailIdx = 0;
  lastUsedIdx = 0;
  /** vringh's u32 completed. */
  completed = 0;
  chain: ChainState | null = null;
  /** The queue's requests by ring position (sim/requests.ts), once Vop.requestsOf asked. */
  requests: QueueRequests | null = null;
  /** Where the used ring lives for the host: the block's own until the card relocates it. */
  usedRelocated = false;
  constructor(
    readonly index: number,
    readonly num: number,
    readonly blockHost: number,
    readonly blockMic: number,
    readonly bounce: Bounce,
    /** vringh_init_kern's event_indices: the host features offer VIRTIO_RING_F_EVENT_IDX. */
    readonly eventIndices = false,
  ) {
    this.addrs = vringAddrs(blockHost, num);
  }
  get infoHost(): number {
    return this.blockHost + vringInfoOffset(this.num);
  }
  /** The used.idx the host publishes next: last_used_idx + completed (u16). */
  get usedIdx(): number {
    return (this.lastUsedIdx + this.completed) & 0xffff;
  }
  /**
   * mic_virtio_device_reset: the indices go back to 0 and a half-consumed chain is dropped. The
   * used pointer stays where it is (a relocated one keeps pointing into GDDR) until the card
   * publishes a new used_address.
   */
  resetIndices(): void {
    this.lastAvailIdx = this.lastUsedIdx = this.completed = 0;
    this.chain = null;
  }
}

export class HostVdev {
  readonly vrings: HostVring[] = [];
  c2hDb = -1;
  removed = false;
  /** mpssd waits here; woken once per c2h_vdev_db interrupt (edge style). */
  readonly poll: WaitQueue;
  pollPending = false;
  /** The back-end's own wake-up (mpssd waits on its fd and its input at once). */
  onPoll: (() => void) | null = null;
  /** mic_vdev in_bytes / out_bytes: card→user and user→card bytes (copyEngine.ts counts them). */
  inBytes = 0;
  outBytes = 0;
  constructor(
    readonly cardName: string,
    readonly dpOffset: number,
    readonly desc: DeviceDescImage,
    sched: Scheduler,
  ) {
    this.poll = new WaitQueue(sched, `${cardName} ${deviceName(desc.type)} poll`);
  }
  // Made once: the descriptor's type and sizes never change for a device (a re-added device is
  // a new HostVdev), and these are read on every request (frames, the used-ring notify check).
  private names: { name: string; shortName: string } | null = null;
  private entry: ReturnType<typeof entryLayout> | null = null;
  get name(): string {
    return (this.names ??= this.makeNames()).name;
  }
  get layout(): ReturnType<typeof entryLayout> {
    return (this.entry ??= entryLayout(
      this.dpOffset,
      this.desc.numVq,
      this.desc.featureLen,
      this.desc.configLen,
    ));
  }
  /** Short device name as breakpoints write it: 'console', 'net', 'block'. */
  get shortName(): string {
    return (this.names ??= this.makeNames()).shortName;
  }
  private makeNames(): { name: string; shortName: string } {
    const t = this.desc.type;
    return { name: deviceName(t), shortName: VIRTIO_SHORT_NAMES[t] ?? String(t) };
  }
  /** 'console.tx', 'block.requestq' … (made once per queue: every event of the queue names it). */
  queueName(i: number): string {
    return (this.queueNames[i] ??= intern(
      `${this.shortName}.${VIRTIO_QUEUE_NAMES[this.desc.type]?.[i] ?? i}`,
    ));
  }
  private readonly queueNames: string[] = [];
}

/** Hooks VOP needs from its card's host driver. */
export interface VopPorts {
  readonly cardName: string;
  readonly cardIndex: number;
  readonly sched: Scheduler;
  readonly spine: Spine;
  readonly io: HostSpace;
  dpHost(): number;
  bar0(): number;
  gddrSize(): number;
  allocRing(bytes: number): { host: number; mic: number } | null;
  freeRing(host: number, mic: number, bytes: number): void;
  nextC2hDb(): number;
  requestDbIrq(name: string, db: number, handler: () => Routine): Routine<number>;
  freeDbIrq(name: string): Routine;
  ringCard(db: number): Routine;
  /** Write SMPT entries that mapping the rings reprogrammed. */
  syncSmpt(): Routine;
  printk(text: string): void;
  readonly copy: CopyEngine;
}

export interface CopyIov {
  buf: UserBytes;
  len: number;
}

export class Vop {
  readonly vdevs: HostVdev[] = [];
  constructor(private readonly p: VopPorts) {}

  private get io(): HostSpace {
    return this.p.io;
  }

  /** MIC_VIRTIO_ADD_DEVICE. Returns the device or −errno. */
  *addDevice(d: DeviceDescImage): Routine<HostVdev | number> {
    return yield call(
      frame(this.p.sched, 'mic_virtio_add_device', { type: d.type, num_vq: d.numVq }, this.doAdd(d)),
    );
  }

  private *doAdd(d: DeviceDescImage): Routine<HostVdev | number> {
    const p = this.p;
    const name = deviceName(d.type);
    if (
      alignedDescSize(d.numVq, d.featureLen, d.configLen) > MIC_MAX_DESC_BLK_SIZE ||
      d.numVq > MIC_MAX_VRINGS
    ) {
      p.printk(`${p.cardName}: ${name}: num_vq ${d.numVq} / desc size too large: -EINVAL`);
      return -E.EINVAL;
    }
    for (const n of d.num) {
      if (n > MIC_VRING_ENTRIES) {
        p.printk(`${p.cardName}: ${name}: vring num ${n} > ${MIC_VRING_ENTRIES}: -EINVAL`);
        return -E.EINVAL;
      }
    }
    const dp = p.dpHost();
    const size = totalSize(d.numVq, d.featureLen, d.configLen);
    // First slot with type 0 (end) or −1 (removed) that leaves room.
    let off: number = BOOTPARAM.SIZE;
    let found = -1;
    while (off < MIC_DP_SIZE) {
      const type = s8(yield this.io.read8(dp + off));
      if ((type === 0 || type === -1) && off < MIC_DP_SIZE - size) {
        found = off;
        if (type === -1) {
          // The driver reuses a removed slot without comparing sizes (§9 #6): a bigger entry
          // runs into the next one. We do the same, and say so.
          const nvq: number = yield this.io.read8(dp + off + 1);
          const fl: number = yield this.io.read8(dp + off + 2);
          const cl: number = yield this.io.read8(dp + off + 3);
          const oldSize = totalSize(nvq, fl, cl);
          const nextType = s8(yield this.io.read8(dp + off + oldSize));
          if (size > oldSize && nextType !== 0) {
            p.spine.protocolError(
              6,
              p.cardName,
              `${p.cardName}: ${name} (${size} bytes) reuses the removed slot at dp offset 0x${off.toString(16)}, which held only ${oldSize} bytes; the new entry overlaps the entry at 0x${(off + oldSize).toString(16)} and corrupts it. The Linux driver does not check this.`,
            );
          }
        }
        break;
      }
      if (type === 0) break;
      const nvq: number = yield this.io.read8(dp + off + 1);
      const fl: number = yield this.io.read8(dp + off + 2);
      const cl: number = yield this.io.read8(dp + off + 3);
      off += totalSize(nvq, fl, cl);
    }
    if (found < 0) {
      p.printk(`${p.cardName}: ${name}: no free slot in the device page: -EINVAL`);
      return -E.EINVAL;
    }
    const l = entryLayout(found, d.numVq, d.featureLen, d.configLen);
    // The whole entry with type 0 first; the real type is published last.
    const img = new Uint8Array(l.next - found);
    const dv = new DataView(img.buffer);
    dv.setInt8(DEVICE_DESC.type, 0);
    dv.setUint8(DEVICE_DESC.num_vq, d.numVq);
    dv.setUint8(DEVICE_DESC.feature_len, d.featureLen);
    dv.setUint8(DEVICE_DESC.config_len, d.configLen);
    for (let i = 0; i < d.numVq; i++)
      dv.setUint16(l.vq - found + i * VQCONFIG.SIZE + VQCONFIG.num, d.num[i], true);
    img.set(d.hostFeatures.subarray(0, d.featureLen), l.hostFeatures - found);
    img.set(d.config.subarray(0, d.configLen), l.config - found);
    dv.setInt8(l.ctrl - found + DEVICE_CTRL.c2h_vdev_db, -1);
    dv.setInt8(l.ctrl - found + DEVICE_CTRL.h2c_vdev_db, -1);
    yield this.io.write(dp + found, img);

    const vdev = new HostVdev(p.cardName, found, d, p.sched);
    const eventIndices = (featureWord(d.hostFeatures) & (1 << VIRTIO_RING_F_EVENT_IDX)) !== 0;
    // The error path of mic_virtio_add_device (label err) unmaps and frees the ring blocks of
    // the vrings before the failing one, and nothing else: their bounce buffers stay allocated
    // and mapped, and the entry stays in the page with type 0. We do the same.
    const fail = (rc: number): number => {
      for (const vr of vdev.vrings) this.p.freeRing(vr.blockHost, vr.blockMic, micRingBlockSize(vr.num));
      return rc;
    };
    for (let i = 0; i < d.numVq; i++) {
      const bytes = micRingBlockSize(d.num[i]);
      const ring = p.allocRing(bytes);
      if (!ring) {
        p.printk(`${p.cardName}: ${name}: cannot allocate or map ring ${i} (SMPT exhausted?): -ENOMEM`);
        return fail(-E.ENOMEM);
      }
      // __get_free_pages(__GFP_ZERO): the kernel clears its own pages (no bus transaction), so
      // a block reused after a hot remove starts with _mic_vring_info.avail_idx 0 again.
      this.io.ram.fill(ring.host, bytes, 0);
      const info = ring.host + vringInfoOffset(d.num[i]);
      yield this.io.write32(info + 4, vringInfoMagic(d.type, i));
      yield this.io.write64(dp + l.vq + i * VQCONFIG.SIZE + VQCONFIG.address, ring.mic);
      // vringh_init_kern: num must be a non-zero power of two. The ring just mapped is not
      // freed on this path (the driver leaks it).
      if (!isPowerOfTwo(d.num[i])) {
        p.printk(`${p.cardName}: ${name}: vringh: Bad ring size ${d.num[i]}: -EINVAL`);
        return fail(-E.EINVAL);
      }
      const bounce = p.allocRing(VOP_BOUNCE_SIZE);
      if (!bounce) {
        p.freeRing(ring.host, ring.mic, bytes);
        p.printk(`${p.cardName}: ${name}: cannot allocate or map the bounce buffer of ring ${i}: -ENOMEM`);
        return fail(-E.ENOMEM);
      }
      vdev.vrings.push(new HostVring(i, d.num[i], ring.host, ring.mic, bounce, eventIndices));
    }
    yield call(p.syncSmpt());
    vdev.c2hDb = p.nextC2hDb();
    const rc: number = yield call(
      p.requestDbIrq(`${name}-${found}`, vdev.c2hDb, () => this.bottomHalf(vdev)),
    );
    if (rc < 0) {
      p.printk(`${p.cardName}: ${name}: No MSIx vectors available for use: ${rc}`);
      return fail(rc);
    }
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.c2h_vdev_db, vdev.c2hDb & 0xff);
    // wmb(); then publish the type.
    yield this.io.write8(dp + found + DEVICE_DESC.type, d.type);
    this.vdevs.push(vdev);
    p.printk(`${p.cardName}: ${name} added at dp offset 0x${found.toString(16)}, c2h_vdev_db ${vdev.c2hDb}`);
    const configDb = s8(yield this.io.read8(dp + BOOTPARAM.h2c_config_db));
    if (configDb !== -1) yield call(p.ringCard(configDb));
    return vdev;
  }

  private freeVring(vr: HostVring): void {
    this.p.freeRing(vr.blockHost, vr.blockMic, micRingBlockSize(vr.num));
    this.p.freeRing(vr.bounce.host, vr.bounce.mic, VOP_BOUNCE_SIZE);
  }

  /** Poll a device_ctrl byte for the card's guest_ack: 100 × 100 ms (Gen-1). */
  private *waitGuestAck(vdev: HostVdev, what: string): Routine<boolean> {
    const a = this.p.dpHost() + vdev.layout.ctrl + DEVICE_CTRL.guest_ack;
    for (let i = 0; i < HOST_POLLS; i++) {
      const v: number = yield this.io.read8(a);
      if (v) return true;
      yield sleep(HOST_POLL_NS);
    }
    this.p.spine.protocolError(
      10,
      this.p.cardName,
      `${this.p.cardName} ${vdev.name}: the card never set guest_ack for ${what} (waited ${HOST_POLLS} × 100 ms); the host gives up and proceeds anyway.`,
    );
    return false;
  }

  /** MIC_VIRTIO_CONFIG_CHANGE: new config bytes, config_change = 2, ring, wait for guest_ack. */
  *configChange(vdev: HostVdev, config: Uint8Array): Routine<number> {
    return yield call(
      frame(this.p.sched, 'mic_virtio_config_change', { dev: vdev.name }, this.doConfigChange(vdev, config)),
    );
  }

  private *doConfigChange(vdev: HostVdev, config: Uint8Array): Routine<number> {
    const p = this.p;
    const dp = p.dpHost();
    const db = s8(yield this.io.read8(dp + BOOTPARAM.h2c_config_db));
    const type = s8(yield this.io.read8(dp + vdev.dpOffset + DEVICE_DESC.type));
    if (db === -1 || type === -1 || vdev.removed) return -E.EIO;
    const l = vdev.layout;
    const bytes = new Uint8Array(vdev.desc.configLen);
    bytes.set(config.subarray(0, vdev.desc.configLen));
    yield this.io.write(dp + l.config, bytes);
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.config_change, MIC_VIRTIO_PARAM_CONFIG_CHANGED);
    yield call(p.ringCard(db));
    yield call(this.waitGuestAck(vdev, 'a config change'));
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.config_change, 0);
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.guest_ack, 0);
    vdev.desc.config.set(bytes.subarray(0, Math.min(bytes.length, vdev.desc.config.length)));
    return 0;
  }

  /**
   * Hot remove (close of the mpssd fd): config_change = 1 and ring h2c_config_db if the card
   * listens, wait for guest_ack, clear; free the doorbell and rings; publish type = −1.
   */
  *removeDevice(vdev: HostVdev): Routine {
    yield call(frame(this.p.sched, 'mic_virtio_del_device', { dev: vdev.name }, this.doRemove(vdev)));
  }

  private *doRemove(vdev: HostVdev): Routine {
    if (vdev.removed) return;
    const p = this.p;
    const dp = p.dpHost();
    const l = vdev.layout;
    const db = s8(yield this.io.read8(dp + BOOTPARAM.h2c_config_db));
    if (db !== -1) {
      yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.config_change, MIC_VIRTIO_PARAM_DEV_REMOVE);
      yield call(p.ringCard(db));
      yield call(this.waitGuestAck(vdev, 'a hot remove'));
      yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.config_change, 0);
      yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.guest_ack, 0);
    }
    yield call(p.freeDbIrq(`${vdev.name}-${vdev.dpOffset}`));
    for (const vr of vdev.vrings) this.freeVring(vr);
    // wmb(); then the slot is free for reuse.
    yield this.io.write8(dp + vdev.dpOffset + DEVICE_DESC.type, 0xff);
    vdev.removed = true;
    this.vdevs.splice(this.vdevs.indexOf(vdev), 1);
    p.printk(`${p.cardName}: ${vdev.name} at dp offset 0x${vdev.dpOffset.toString(16)} removed`);
    // Pollers see POLLERR and end.
    vdev.poll.signal();
    vdev.onPoll?.();
  }

  /**
   * Host bottom half for a device's c2h_vdev_db (mic_bh_handler): switch relocated used rings,
   * then answer a device reset, then wake pollers (§5.5).
   */
  bottomHalf(vdev: HostVdev): Routine {
    return frame(this.p.sched, 'mic_virtio_bh', { dev: vdev.name }, this.doBottomHalf(vdev));
  }

  private *doBottomHalf(vdev: HostVdev): Routine {
    if (vdev.removed) return;
    const dp = this.p.dpHost();
    const l = vdev.layout;
    const updated: number = yield this.io.read8(dp + l.ctrl + DEVICE_CTRL.used_address_updated);
    if (updated) {
      for (const vr of vdev.vrings) {
        const used: number = yield this.io.read64(
          dp + l.vq + vr.index * VQCONFIG.SIZE + VQCONFIG.used_address,
        );
        if (used === 0) {
          this.p.printk(`${this.p.cardName}: ${vdev.name} vq ${vr.index}: used_address is 0, not switching`);
          continue;
        }
        vr.addrs = vringAddrs(vr.blockHost, vr.num, this.p.bar0() + used);
        vr.usedRelocated = true;
      }
      yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.used_address_updated, 0);
    }
    const reset: number = yield this.io.read8(dp + l.ctrl + DEVICE_CTRL.vdev_reset);
    if (reset) yield call(this.hostResetDevice(vdev));
    vdev.pollPending = true;
    vdev.poll.signal();
    vdev.onPoll?.();
  }

  /** The host half of a device reset (also run for every device when the card is reset). */
  *hostResetDevice(vdev: HostVdev): Routine {
    const dp = this.p.dpHost();
    const l = vdev.layout;
    yield this.io.write8(dp + vdev.dpOffset + DEVICE_DESC.status, 0);
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.vdev_reset, 0);
    yield this.io.write8(dp + l.ctrl + DEVICE_CTRL.host_ack, 1);
    for (const vr of vdev.vrings) {
      yield this.io.write16(vr.infoHost, 0);
      vr.resetIndices();
    }
  }

  *resetAll(): Routine {
    for (const v of this.vdevs) if (!v.removed) yield call(this.hostResetDevice(v));
  }

  /** The requests of vring `vr` of `vdev` by ring position (kept on the vring after the first ask). */
  requestsOf(vdev: HostVdev, vr: HostVring): QueueRequests {
    return (vr.requests ??= this.p.spine.requests.queue(this.p.cardIndex, vdev.desc.type, vr.index));
  }

  /** Fetch and validate the next available chain, vringh style. Returns null if none, or −errno. */
  private *getChain(vdev: HostVdev, vr: HostVring): Routine<ChainState | null | number> {
    const io = this.io;
    const p = this.p;
    // The request the card made available at this position, if any: looking for it is its
    // first step on the host (sim/requests.ts).
    p.sched.req = this.requestsOf(vdev, vr).atAvail(vr.lastAvailIdx);
    const availIdx: number = yield loadAvailIdx(io, vr.addrs);
    const pending = (availIdx - vr.lastAvailIdx) & 0xffff;
    if (pending === 0) return null;
    const where = `${this.p.cardName} ${vdev.name} queue ${vr.index}`;
    if (pending > vr.num) {
      this.p.spine.protocolError(
        14,
        this.p.cardName,
        `${where}: avail.idx jumped from ${vr.lastAvailIdx} to ${availIdx}, ${pending} entries at once but the ring has only ${vr.num}. vringh does not check this; the emulator flags it and goes on with the next head.`,
      );
    }
    const head: number = yield loadAvailRing(io, vr.addrs, vr.lastAvailIdx);
    if (head >= vr.num) {
      this.p.spine.protocolError(
        12,
        this.p.cardName,
        `${where}: avail.ring[${vr.lastAvailIdx % vr.num}] = head ${head} ≥ num ${vr.num} (vringh: -EINVAL). COPY_DESC fails.`,
      );
      return -E.EINVAL;
    }
    // __vringh_iov: walk the chain; an INDIRECT descriptor switches to its table (which lives in
    // card memory, reached through BAR0) and, if it has NEXT, comes back to the main table after
    // the table's last descriptor. Indirect descriptors themselves are not counted.
    const descs: VringDesc[] = [];
    let i = head;
    let sawWrite = false;
    let table: VringAddrs = vr.addrs;
    let max = vr.num;
    let upNext = -1;
    let indirectAt = 0;
    for (;;) {
      const d = fetchDesc(io, table, i);
      yield;
      // For the messages (built only on an error): which descriptor this is.
      const cur = i;
      const inTable = upNext !== -1;
      if (d.flags & VRING_DESC_F_INDIRECT) {
        if (upNext !== -1) {
          this.p.spine.protocolError(
            12,
            this.p.cardName,
            `${where}: ${descAt(cur, inTable, indirectAt)} is INDIRECT inside an indirect table (vringh: "Multilevel indirect", -EINVAL). COPY_DESC fails.`,
          );
          return -E.EINVAL;
        }
        if (d.len % 16 !== 0) {
          this.p.spine.protocolError(
            12,
            this.p.cardName,
            `${where}: ${descAt(cur, inTable, indirectAt)} is INDIRECT with length ${d.len}, not a multiple of 16 (vringh: "Strange indirect len", -EINVAL). COPY_DESC fails.`,
          );
          return -E.EINVAL;
        }
        if (d.addr + d.len > this.p.gddrSize()) {
          this.p.spine.protocolError(
            13,
            this.p.cardName,
            `${where}: ${descAt(cur, inTable, indirectAt)} points its indirect table at 0x${d.addr.toString(16)}+${d.len}, beyond the card's ${this.p.gddrSize() / 2 ** 20} MiB of GDDR. The emulator traps and fails the copy with -EFAULT.`,
          );
          return -E.EFAULT;
        }
        upNext = d.flags & VRING_DESC_F_NEXT ? d.next : -2;
        indirectAt = d.addr;
        table = { num: d.len / 16, desc: this.p.bar0() + d.addr, avail: 0, used: 0 };
        max = d.len / 16;
        i = 0;
        continue;
      }
      if (descs.length >= vr.num) {
        this.p.spine.protocolError(
          12,
          this.p.cardName,
          `${where}: descriptor chain from head ${head} has more than ${vr.num} links: a loop (vringh: -ELOOP). COPY_DESC fails.`,
        );
        return -E.ELOOP;
      }
      if (d.flags & VRING_DESC_F_WRITE) sawWrite = true;
      else if (sawWrite) {
        this.p.spine.protocolError(
          12,
          this.p.cardName,
          `${where}: ${descAt(cur, inTable, indirectAt)} is readable after a writable one in the chain from head ${head} (vringh: -EINVAL). COPY_DESC fails.`,
        );
        return -E.EINVAL;
      }
      if (d.addr + d.len > this.p.gddrSize()) {
        this.p.spine.protocolError(
          13,
          this.p.cardName,
          `${where}: ${descAt(cur, inTable, indirectAt)} points at 0x${d.addr.toString(16)}+${d.len}, beyond the card's ${this.p.gddrSize() / 2 ** 20} MiB of GDDR. The real host does not check this and would fault on BAR0; the emulator traps and fails the copy with -EFAULT.`,
        );
        return -E.EFAULT;
      }
      descs.push(d);
      if (d.flags & VRING_DESC_F_NEXT) i = d.next;
      else if (upNext > 0) {
        // return_from_indirect (vringh tests up_next > 0: a NEXT to descriptor 0 ends the chain)
        i = upNext;
        upNext = -1;
        table = vr.addrs;
        max = vr.num;
      } else break;
      if (i >= max) {
        this.p.spine.protocolError(
          12,
          this.p.cardName,
          `${where}: ${descAt(cur, inTable, indirectAt)} chains to ${i} ≥ ${upNext === -1 ? `num ${vr.num}` : `the indirect table's ${max} entries`} (vringh: -EINVAL). The host back-end stops this request.`,
        );
        return -E.EINVAL;
      }
    }
    this.requestsOf(vdev, vr).taken(vr.lastAvailIdx);
    vr.lastAvailIdx = (vr.lastAvailIdx + 1) & 0xffff;
    const firstWrite = descs.findIndex((d) => (d.flags & VRING_DESC_F_WRITE) !== 0);
    return {
      head,
      descs,
      rIdx: 0,
      rOff: 0,
      wIdx: firstWrite < 0 ? descs.length : firstWrite,
      wOff: 0,
      consumed: 0,
    };
  }

  /**
   * MIC_VIRTIO_COPY_DESC: move data between the back-end's iovecs and the current chain.
   * Returns out_len (≥ 0) or −errno. (Frame pushed in place: every step of a copy resumes
   * through here.)
   */
  *copyDesc(vdev: HostVdev, iov: CopyIov[], vrIdx: number, updateUsed: boolean): Routine<number> {
    const t = this.p.sched.current!;
    const saved = enterFrame(t, 'mic_virtio_copy_desc', {
      dev: vdev.name,
      vr_idx: vrIdx,
      update_used: updateUsed ? 1 : 0,
    });
    try {
      const p = this.p;
      if (vrIdx >= vdev.desc.numVq) return -E.EINVAL;
      if (vdev.removed) return -E.ENODEV;
      const status: number = yield this.io.read8(p.dpHost() + vdev.dpOffset + DEVICE_DESC.status);
      if (status === 0) return -E.ENODEV;
      const vr = vdev.vrings[vrIdx];
      if (!vr.chain) {
        const c: ChainState | null | number = yield call(this.getChain(vdev, vr));
        if (typeof c === 'number') return c;
        if (c === null) return 0;
        vr.chain = c;
        p.spine.vring(
          'vring.avail',
          'host',
          'host',
          vr.addrs.avail + 2,
          vdev.shortName,
          vdev.queueName(vrIdx),
          c.head,
          p.spine.observed ? c.descs.reduce((n, d) => n + d.len, 0) : 0,
          p.spine.observed ? `${p.cardName} ${vdev.queueName(vrIdx)} head ${c.head} taken by host` : '',
        );
      }
      const c = vr.chain;
      let out = 0;
      for (const v of iov) {
        let pos = 0;
        // card → user from the readable descriptors
        while (pos < v.len && c.rIdx < c.descs.length && !(c.descs[c.rIdx].flags & VRING_DESC_F_WRITE)) {
          const d = c.descs[c.rIdx];
          const n = Math.min(d.len - c.rOff, v.len - pos);
          if (n > 0) {
            const rc: number = yield call(p.copy.cardToUser(vr.bounce, d.addr + c.rOff, v.buf, pos, n, vdev));
            if (rc < 0) return rc;
          }
          pos += n;
          c.rOff += n;
          out += n;
          c.consumed += n;
          if (c.rOff >= d.len) {
            c.rIdx++;
            c.rOff = 0;
          }
        }
        // user → card into the writable descriptors
        while (pos < v.len && c.wIdx < c.descs.length) {
          const d = c.descs[c.wIdx];
          const n = Math.min(d.len - c.wOff, v.len - pos);
          if (n > 0) {
            // The whole iovec as it is (a status byte, a header): no view to make.
            const src = pos === 0 && n === v.buf.length ? v.buf : v.buf.subarray(pos, pos + n);
            const rc: number = yield call(
              p.copy.userToCard(vr.bounce, src, d.addr + c.wOff, d.len - c.wOff, vdev),
            );
            if (rc < 0) return rc;
          }
          pos += n;
          c.wOff += n;
          out += n;
          c.consumed += n;
          if (c.wOff >= d.len) {
            c.wIdx++;
            c.wOff = 0;
          }
        }
      }
      if (out > 0 && updateUsed) yield call(this.complete(vdev, vr));
      return out;
    } finally {
      t.frames = saved;
    }
  }

  /**
   * vringh_complete_kern, vringh_need_notify_kern, vringh_notify: write the used element
   * (len = everything consumed) at last_used_idx + completed, publish used.idx, notify the card
   * unless it asked not to be; then info.avail_idx = last_avail_idx for mpssd.
   */
  private *complete(vdev: HostVdev, vr: HostVring): Routine {
    const c = vr.chain!;
    const p = this.p;
    const old = vr.usedIdx;
    yield storeUsedElem(this.io, vr.addrs, old, c.head, c.consumed);
    this.requestsOf(vdev, vr).complete(old, p.sched.req);
    yield storeUsedIdx(this.io, vr.addrs, (old + 1) & 0xffff);
    vr.completed = (vr.completed + 1) >>> 0;
    p.spine.vring(
      'vring.used',
      'host',
      'host',
      vr.addrs.used + 2,
      vdev.shortName,
      vdev.queueName(vr.index),
      c.head,
      c.consumed,
      p.spine.observed
        ? `${p.cardName} ${vdev.queueName(vr.index)} head ${c.head} used, len ${c.consumed}`
        : '',
    );
    vr.chain = null;
    let notify: boolean;
    if (!vr.eventIndices) {
      // Old style: notify unless avail.flags has NO_INTERRUPT; completed is never folded.
      const flags: number = yield loadAvailFlags(this.io, vr.addrs);
      notify = !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    } else {
      const usedEvent: number = yield loadUsedEvent(this.io, vr.addrs);
      const now = vr.usedIdx;
      const before = vr.lastUsedIdx;
      notify = vr.completed > 0xffff || ((now - usedEvent - 1) & 0xffff) < ((now - before) & 0xffff);
      vr.lastUsedIdx = now;
      vr.completed = 0;
    }
    if (notify) {
      const db = s8(yield this.io.read8(p.dpHost() + vdev.layout.ctrl + DEVICE_CTRL.h2c_vdev_db));
      if (db !== -1) yield call(p.ringCard(db));
    }
    yield this.io.write16(vr.infoHost, vr.lastAvailIdx);
    // The request is handed back (and the card told): what this task does next is not its.
    p.sched.req = 0;
  }
}
