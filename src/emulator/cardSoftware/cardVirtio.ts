// Card half of virtio over PCIe for one device (card/mic_virtio.c): doorbell choice, feature
// negotiation, status, queue setup with used-ring relocation into GDDR, notify through SDBIC,
// device reset and removal handshakes (§5.5). Addresses are MIC addresses; the device page and
// the host ring blocks are reached through the SMPT window.

import type { CardSpace } from '../bus/cardSpace.ts';
import { MIC_MMIO_CARD_BASE, R } from '../card/sboxRegisters.ts';
import { call, enterFrame, frame, type Routine, type Scheduler, sleep } from '../sim/scheduler.ts';
import type { Spine } from '../sim/spine.ts';
import { intern } from '../sim/busEvent.ts';
import { DEVICE_CTRL, DEVICE_DESC, VQCONFIG, entryLayout } from '../virtio/devicePage.ts';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_QUEUE_NAMES,
  VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_SHORT_NAMES,
  deviceName,
} from '../virtio/virtioIds.ts';
import { usedRingBytes, vringAddrs, vringInfoMagic, vringInfoOffset, vringSize } from '../virtio/vring.ts';
import type { GddrAllocator } from './gddrAllocator.ts';
import { CardVirtqueue, type IndirectTables } from './virtqueue.ts';

/** SDBIC0 as the card addresses it. */
const SDBIC0_CARD = MIC_MMIO_CARD_BASE + R.SDBIC(0);

/** Polls in the handshakes: 100 × 100 ms (§5.5). */
export const HANDSHAKE_POLLS = 100;
export const HANDSHAKE_STEP_NS = 100_000_000;

export interface CardVirtioPorts {
  readonly cardName: string;
  readonly cardIndex: number;
  readonly sched: Scheduler;
  readonly spine: Spine;
  readonly io: CardSpace;
  readonly gddr: GddrAllocator;
  printk(text: string): void;
}

/** What a virtio driver (console, block, net) implements on top of the transport. */
export interface VirtioDriver {
  probe(): Routine<number>;
  /** Service every queue of the device (the card services all queues on any h2c_vdev_db). */
  interrupt(): Routine;
  configChanged?(): Routine;
  remove(): Routine;
}

export class CardVdev {
  h2cDb = -1;
  c2hDb = -1;
  vqs: CardVirtqueue<any>[] = [];
  usedRings: number[] = [];
  driver: VirtioDriver | null = null;
  status = 0;
  features = 0;
  /** What the host offered, as read by readHostFeatures (the first 32 bits). */
  hostFeatures = 0;
  up = false;

  constructor(
    readonly p: CardVirtioPorts,
    /** MIC address of the device page */
    readonly dpMic: number,
    readonly offset: number,
    readonly type: number,
    readonly numVq: number,
    readonly featureLen: number,
    readonly configLen: number,
  ) {}

  get name(): string {
    return `${this.p.cardName} ${deviceName(this.type)}`;
  }
  get io(): CardSpace {
    return this.p.io;
  }
  /** Made once (its inputs are the constructor's): read on every interrupt's doorbell check. */
  get layout(): ReturnType<typeof entryLayout> {
    return (this.entry ??= entryLayout(this.offset, this.numVq, this.featureLen, this.configLen));
  }
  private entry: ReturnType<typeof entryLayout> | null = null;
  private a(rel: number): number {
    return this.dpMic + rel;
  }

  /** The card→host doorbell of this device: write DBREQ into SDBIC[c2h_vdev_db]. */
  *notify(): Routine {
    if (this.c2hDb < 0) return; // never ring a −1 doorbell (§2.4)
    const db = this.c2hDb;
    // The 'mic_notify' frame pushed in place (as `yield* frame(…)` would, one level less).
    const t = this.p.sched.current!;
    const saved = enterFrame(t, 'mic_notify', { db });
    try {
      yield this.io.write32(SDBIC0_CARD + 4 * db, 0x8000_0000);
    } finally {
      t.frames = saved;
    }
    // The host has been told: what this task does next is not the request's.
    this.p.sched.req = 0;
  }

  /**
   * The core's half of probing, as Linux's virtio_dev_probe does it before the driver's probe:
   * ACKNOWLEDGE, DRIVER, read the host's features and accept those of `wanted` it offers
   * (finalize_features). Returns the accepted bits (also in `features`). No frame of its own:
   * the accesses stay in the driver's probe frame, as before the core took them over.
   */
  *negotiate(wanted: number): Routine<number> {
    yield call(this.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE));
    yield call(this.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
    const host: number = yield call(this.readHostFeatures());
    const accepted = host & wanted;
    yield call(this.writeGuestFeatures(accepted));
    return accepted;
  }

  *readHostFeatures(): Routine<number> {
    const n = Math.min(this.featureLen, 4);
    let f = 0;
    for (let i = 0; i < n; i++)
      f |= ((yield this.io.read8(this.a(this.layout.hostFeatures + i))) as number) << (8 * i);
    this.hostFeatures = f >>> 0;
    return f >>> 0;
  }

  /**
   * finalize_features: zero the guest bitmap, then set the accepted bits. The driver's bits
   * come in `f`; as vring_transport_features does, the ring feature INDIRECT_DESC is kept when
   * the host offered it (EVENT_IDX too in Linux, but no back-end offers it and the card's
   * rings do not implement it).
   */
  *writeGuestFeatures(f: number): Routine {
    f = (f | (this.hostFeatures & (1 << VIRTIO_RING_F_INDIRECT_DESC))) >>> 0;
    const l = this.layout;
    yield this.io.write(this.a(l.guestFeatures), new Uint8Array(this.featureLen));
    for (let i = 0; i < Math.min(this.featureLen, 4); i++) {
      const b = (f >>> (8 * i)) & 0xff;
      if (b) yield this.io.write8(this.a(l.guestFeatures + i), b);
    }
    this.features = f;
  }

  *readConfig(off: number, len: number): Routine<Uint8Array> {
    return yield this.io.read(this.a(this.layout.config + off), len);
  }

  /** set_status: write desc.status, ring c2h_vdev_db (zero never goes this way). */
  *setStatus(s: number): Routine {
    this.status = s;
    yield this.io.write8(this.a(this.offset + DEVICE_DESC.status), s);
    if (s !== 0) yield call(this.notify());
  }

  /**
   * find_vqs: per queue map the host ring, zero the ring part, check the info magic, give it a
   * zeroed used ring in GDDR; then used_address_updated = 1, ring, and wait for the host.
   */
  *findVqs(): Routine<number> {
    return yield call(
      frame(this.p.sched, 'mic_find_vqs', { dev: deviceName(this.type), nvqs: this.numVq }, this.doFindVqs()),
    );
  }

  private *doFindVqs(): Routine<number> {
    const l = this.layout;
    const qnames = VIRTIO_QUEUE_NAMES[this.type] ?? [];
    for (let i = 0; i < this.numVq; i++) {
      const vq = l.vq + i * VQCONFIG.SIZE;
      const ring: number = yield this.io.read64(this.a(vq + VQCONFIG.address));
      const num: number = yield this.io.read16(this.a(vq + VQCONFIG.num));
      yield this.io.write(ring, new Uint8Array(vringSize(num)));
      const magic: number = yield this.io.read32(ring + vringInfoOffset(num) + 4);
      const want = vringInfoMagic(this.type, i);
      if (magic !== want) {
        this.p.spine.protocolError(
          7,
          this.p.cardName,
          `${this.name} queue ${i}: _mic_vring_info.magic is 0x${magic.toString(16)}, expected 0x${want.toString(16)} (0xC0FFEE00 + type ${this.type} + index ${i}). The card driver warns and the queue fails with -EIO.`,
        );
        this.p.printk(
          `mic_virtio: ${deviceName(this.type)} vq ${i}: magic mismatch 0x${magic.toString(16)}: -EIO`,
        );
        return -5;
      }
      const usedBytes = usedRingBytes(num);
      const used = this.p.gddr.alloc(usedBytes);
      if (used < 0) return -12;
      yield this.io.write(used, new Uint8Array(usedBytes));
      yield this.io.write64(this.a(vq + VQCONFIG.used_address), used);
      this.usedRings.push(used);
      const device = VIRTIO_SHORT_NAMES[this.type] ?? String(this.type);
      const queue = intern(`${device}.${qnames[i] ?? i}`);
      const indirect = this.features & (1 << VIRTIO_RING_F_INDIRECT_DESC) ? this.indirectTables() : null;
      this.vqs.push(
        new CardVirtqueue(
          `${this.p.cardName} ${queue}`,
          i,
          vringAddrs(ring, num, used),
          this.io,
          this.p.spine,
          () => this.notify(),
          { card: this.p.cardIndex, type: this.type, device, queue },
          indirect,
        ),
      );
    }
    yield this.io.write8(this.a(l.ctrl + DEVICE_CTRL.used_address_updated), 1);
    yield call(this.notify());
    for (let k = 0; k < HANDSHAKE_POLLS; k++) {
      const v: number = yield this.io.read8(this.a(l.ctrl + DEVICE_CTRL.used_address_updated));
      if (v === 0) return 0;
      yield sleep(HANDSHAKE_STEP_NS);
    }
    this.p.spine.protocolError(
      8,
      this.p.cardName,
      `${this.name}: the host never cleared used_address_updated (waited ${HANDSHAKE_POLLS} × 100 ms); the card gives up with -ENODEV and the device is unusable.`,
    );
    return -19;
  }

  /** Indirect tables come from the card kernel's allocator (kmalloc in vring_add_indirect). */
  private indirectTables(): IndirectTables {
    const gddr = this.p.gddr;
    return { alloc: (bytes) => gddr.alloc(bytes, 64), release: (addr, bytes) => gddr.release(addr, bytes) };
  }

  /** The card's device reset: host_ack = 0, vdev_reset = 1, ring, wait for host_ack, status = 0. */
  *reset(): Routine {
    yield call(frame(this.p.sched, 'mic_reset_inform_host', { dev: deviceName(this.type) }, this.doReset()));
  }

  private *doReset(): Routine {
    const l = this.layout;
    yield this.io.write8(this.a(l.ctrl + DEVICE_CTRL.host_ack), 0);
    yield this.io.write8(this.a(l.ctrl + DEVICE_CTRL.vdev_reset), 1);
    yield call(this.notify());
    let acked = false;
    for (let k = 0; k < HANDSHAKE_POLLS; k++) {
      const v: number = yield this.io.read8(this.a(l.ctrl + DEVICE_CTRL.host_ack));
      if (v) {
        acked = true;
        break;
      }
      yield sleep(HANDSHAKE_STEP_NS);
    }
    if (!acked) {
      this.p.spine.protocolError(
        9,
        this.p.cardName,
        `${this.name}: the host never set host_ack after vdev_reset (waited ${HANDSHAKE_POLLS} × 100 ms); the card proceeds and forces status = 0.`,
      );
    }
    yield this.io.write8(this.a(this.offset + DEVICE_DESC.status), 0);
    this.status = 0;
  }

  /** Release card-side memory of the queues (after removal). */
  freeQueues(): void {
    for (const u of this.usedRings) this.p.gddr.release(u, 4096);
    this.usedRings = [];
    this.vqs = [];
  }
}
