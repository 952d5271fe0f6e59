// The card driver (card/mic_device.c + card/mic_virtio.c, Gen-1): find the device page through
// SPAD14/15, check its magic, choose doorbells (smallest usage count, lowest index), publish
// h2c_shutdown_db and h2c_config_db, discover devices, and report shutdown or panic (§4.4).

import type { CardSpace } from '../bus/cardSpace.ts';
import { MIC_MMIO_CARD_BASE, R } from '../card/sboxRegisters.ts';
import { call, frame, type Routine } from '../sim/scheduler.ts';
import {
  BOOTPARAM,
  DEVICE_CTRL,
  DEVICE_DESC,
  MIC_CRASHED,
  MIC_DP_SIZE,
  MIC_MAGIC,
  MIC_VIRTIO_PARAM_CONFIG_CHANGED,
  MIC_VIRTIO_PARAM_DEV_REMOVE,
  SHUTDOWN_STATUS,
  entryLayout,
  s8,
  totalSize,
} from '../virtio/devicePage.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_ID_CONSOLE, deviceName } from '../virtio/virtioIds.ts';
import { CardVdev, type CardVirtioPorts, type VirtioDriver } from './cardVirtio.ts';

export const MIC_NUM_H2C_DB = 16;

export interface CardDriverHost extends CardVirtioPorts {
  /** Create the virtio driver for a discovered device type, or null if the card has none. */
  makeDriver(vdev: CardVdev): VirtioDriver | null;
  /** Interrupt handler registration for a host→card doorbell. */
  requestIrq(db: number, name: string, handler: () => Routine): void;
  freeIrq(db: number, name: string): void;
  /** The card OS's orderly shutdown (shutdown_card request from the host). */
  orderlyShutdown(status: number): void;
}

export class MicCardDriver {
  dpMic = 0;
  up = false;
  readonly dbUsage = new Int32Array(MIC_NUM_H2C_DB);
  h2cShutdownDb = -1;
  h2cConfigDb = -1;
  readonly vdevs: CardVdev[] = [];
  private nextCookie = 1;

  constructor(readonly h: CardDriverHost) {}

  private get io(): CardSpace {
    return this.h.io;
  }
  private get sched() {
    return this.h.sched;
  }

  /** Doorbell with the smallest usage count; ties go to the lowest index (§2.4). */
  allocDb(): number {
    let best = 0;
    for (let i = 1; i < MIC_NUM_H2C_DB; i++) if (this.dbUsage[i] < this.dbUsage[best]) best = i;
    this.dbUsage[best]++;
    return best;
  }
  freeDb(db: number): void {
    if (db >= 0 && this.dbUsage[db] > 0) this.dbUsage[db]--;
  }

  /** The card OS programs the APIC vector of an SBOX doorbell (0–7); RDMASR ones need nothing. */
  *programDb(db: number): Routine {
    if (db < 8) yield this.io.write32(MIC_MMIO_CARD_BASE + R.APICICR(db), 0x40 + db);
  }

  *init(): Routine<number> {
    return yield call(frame(this.sched, 'mic_driver_init', undefined, this.doInit()));
  }

  private *doInit(): Routine<number> {
    const lo: number = yield this.io.read32(MIC_MMIO_CARD_BASE + R.SPAD(14));
    const hi: number = yield this.io.read32(MIC_MMIO_CARD_BASE + R.SPAD(15));
    this.dpMic = hi * 2 ** 32 + lo;
    const magic: number = yield this.io.read32(this.dpMic + BOOTPARAM.magic);
    if (magic !== MIC_MAGIC) {
      this.h.printk(
        `mic: device page at 0x${this.dpMic.toString(16)} has magic 0x${magic.toString(16)}, expected 0x${MIC_MAGIC.toString(16)}: mic_driver_init failed with -EIO`,
      );
      this.h.spine.protocolError(
        1,
        this.h.cardName,
        `${this.h.cardName}: device page magic is 0x${magic.toString(16)}, not 0xc0ffee00; the card driver fails to initialise (-EIO): no devices, no doorbells published.`,
      );
      return -5;
    }
    this.h.printk(
      `mic: device page found at MIC 0x${this.dpMic.toString(16)} (SPAD14/15), magic 0x${magic.toString(16)}`,
    );
    this.h2cShutdownDb = this.allocDb();
    yield call(this.programDb(this.h2cShutdownDb));
    this.h.requestIrq(this.h2cShutdownDb, 'mic_shutdown_isr', () => this.shutdownIsr());
    yield this.io.write8(this.dpMic + BOOTPARAM.h2c_shutdown_db, this.h2cShutdownDb);
    this.h.printk(
      `mic: shutdown doorbell h2c ${this.h2cShutdownDb} (card irq ${this.h2cShutdownDb < 8 ? 26 + this.h2cShutdownDb : 17 + this.h2cShutdownDb - 8})`,
    );
    this.up = true;
    yield call(this.scan());
    this.h2cConfigDb = this.allocDb();
    yield call(this.programDb(this.h2cConfigDb));
    this.h.requestIrq(this.h2cConfigDb, 'mic_config_isr', () => this.scan());
    yield this.io.write8(this.dpMic + BOOTPARAM.h2c_config_db, this.h2cConfigDb);
    this.h.printk(`mic: config doorbell h2c ${this.h2cConfigDb}`);
    return 0;
  }

  /** Walk the device page: add new devices, answer hot-remove and config-change requests. */
  *scan(): Routine {
    yield call(frame(this.sched, 'mic_scan_devices', undefined, this.doScan()));
  }

  private *doScan(): Routine {
    let off: number = BOOTPARAM.SIZE;
    while (off < MIC_DP_SIZE) {
      const type = s8(yield this.io.read8(this.dpMic + off + DEVICE_DESC.type));
      if (type === 0) break;
      const numVq: number = yield this.io.read8(this.dpMic + off + DEVICE_DESC.num_vq);
      const featureLen: number = yield this.io.read8(this.dpMic + off + DEVICE_DESC.feature_len);
      const configLen: number = yield this.io.read8(this.dpMic + off + DEVICE_DESC.config_len);
      const l = entryLayout(off, numVq, featureLen, configLen);
      const existing = this.vdevs.find((v) => v.offset === off);
      if (type !== -1) {
        if (existing) {
          const cc: number = yield this.io.read8(this.dpMic + l.ctrl + DEVICE_CTRL.config_change);
          if (cc === MIC_VIRTIO_PARAM_DEV_REMOVE) yield call(this.removeDevice(existing, true));
          else if (cc === MIC_VIRTIO_PARAM_CONFIG_CHANGED) {
            if (existing.driver?.configChanged) yield call(existing.driver.configChanged());
            yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.guest_ack, 1);
          }
        } else {
          yield call(this.addDevice(off, type, numVq, featureLen, configLen));
        }
      }
      off += totalSize(numVq, featureLen, configLen);
    }
  }

  private *addDevice(
    off: number,
    type: number,
    numVq: number,
    featureLen: number,
    configLen: number,
  ): Routine {
    const vdev = new CardVdev(this.h, this.dpMic, off, type, numVq, featureLen, configLen);
    const driver = this.h.makeDriver(vdev);
    if (!driver) {
      this.h.printk(`mic_virtio: no driver for device type ${type} at offset 0x${off.toString(16)}`);
      return;
    }
    vdev.driver = driver;
    const l = vdev.layout;
    vdev.h2cDb = this.allocDb();
    yield call(this.programDb(vdev.h2cDb));
    this.h.requestIrq(vdev.h2cDb, `mic_virtio_intr ${deviceName(type)}`, () => driver.interrupt());
    yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.h2c_vdev_db, vdev.h2cDb);
    vdev.c2hDb = s8(yield this.io.read8(this.dpMic + l.ctrl + DEVICE_CTRL.c2h_vdev_db));
    // An opaque card pointer; the host never reads it.
    yield this.io.write64(
      this.dpMic + l.ctrl + DEVICE_CTRL.vdev,
      0xffff_8800_0000 + this.nextCookie++ * 0x1000,
    );
    this.vdevs.push(vdev);
    this.h.printk(
      `mic_virtio: ${deviceName(type)} (type ${type}) at dp offset 0x${off.toString(16)}: ${numVq} queues, h2c_vdev_db ${vdev.h2cDb}, c2h_vdev_db ${vdev.c2hDb}`,
    );
    const rc: number = yield call(driver.probe());
    if (rc < 0) {
      this.h.printk(`mic_virtio: ${deviceName(type)} probe failed: ${rc}`);
      return;
    }
    vdev.up = true;
  }

  /**
   * mic_remove_device: unregister, reset if DRIVER_OK, guest_ack = 1; a host-requested hot
   * remove also publishes type −1 (mic_scan_devices without REMOVE_DEVICES).
   */
  *removeDevice(vdev: CardVdev, hostRequested: boolean): Routine {
    yield call(
      frame(
        this.sched,
        'mic_remove_device',
        { dev: deviceName(vdev.type) },
        this.doRemove(vdev, hostRequested),
      ),
    );
  }

  private *doRemove(vdev: CardVdev, hostRequested: boolean): Routine {
    const l = vdev.layout;
    const status: number = yield this.io.read8(this.dpMic + vdev.offset + DEVICE_DESC.status);
    if (vdev.driver) yield call(vdev.driver.remove());
    this.h.freeIrq(vdev.h2cDb, `mic_virtio_intr ${deviceName(vdev.type)}`);
    this.freeDb(vdev.h2cDb);
    if (status & VIRTIO_CONFIG_S_DRIVER_OK) yield call(vdev.reset());
    vdev.freeQueues();
    vdev.up = false;
    this.vdevs.splice(this.vdevs.indexOf(vdev), 1);
    yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.guest_ack, 1);
    if (hostRequested) yield this.io.write8(this.dpMic + vdev.offset + DEVICE_DESC.type, 0xff);
  }

  /**
   * mic_devices_uninit at an orderly shutdown: h2c_config_db = −1 first (the host must not ring
   * it any more, and skips the hot-remove handshake from now on), free the config doorbell, then
   * per device config_change = 1, remove, and clear config_change and guest_ack again. The
   * entries keep their type.
   */
  *removeAll(): Routine {
    if (this.h2cConfigDb >= 0) {
      yield this.io.write8(this.dpMic + BOOTPARAM.h2c_config_db, 0xff);
      this.h.freeIrq(this.h2cConfigDb, 'mic_config_isr');
      this.freeDb(this.h2cConfigDb);
      this.h2cConfigDb = -1;
    }
    for (const v of [...this.vdevs]) {
      const l = v.layout;
      yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.config_change, MIC_VIRTIO_PARAM_DEV_REMOVE);
      yield call(this.removeDevice(v, false));
      yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.config_change, 0);
      yield this.io.write8(this.dpMic + l.ctrl + DEVICE_CTRL.guest_ack, 0);
    }
  }

  private *ringHost(db: number): Routine {
    if (db < 0) return;
    yield this.io.write32(MIC_MMIO_CARD_BASE + R.SDBIC(0) + 4 * db, 0x8000_0000);
  }

  /** Orderly halt/poweroff/restart report (§4.4 step 6). */
  *reportShutdown(status: number): Routine {
    yield call(
      frame(
        this.sched,
        'mic_shutdown_host',
        { status: SHUTDOWN_STATUS[status] ?? status },
        this.doReport(status),
      ),
    );
  }
  private *doReport(status: number): Routine {
    if (!this.up) return;
    yield this.io.write8(this.dpMic + BOOTPARAM.shutdown_status, status);
    const db = s8(yield this.io.read8(this.dpMic + BOOTPARAM.c2h_shutdown_db));
    yield call(this.ringHost(db));
    yield this.io.write8(this.dpMic + BOOTPARAM.h2c_shutdown_db, 0xff);
  }

  /** Panic notifier (§4.4 step 5): doorbells to −1, status crashed, ring c2h_shutdown_db. */
  *panic(): Routine {
    yield call(frame(this.sched, 'mic_panic_event', undefined, this.doPanic()));
  }
  private *doPanic(): Routine {
    if (!this.up) return;
    yield this.io.write8(this.dpMic + BOOTPARAM.h2c_config_db, 0xff);
    yield this.io.write8(this.dpMic + BOOTPARAM.h2c_shutdown_db, 0xff);
    yield this.io.write8(this.dpMic + BOOTPARAM.shutdown_status, MIC_CRASHED);
    const db = s8(yield this.io.read8(this.dpMic + BOOTPARAM.c2h_shutdown_db));
    yield call(this.ringHost(db));
  }

  /** h2c_shutdown_db: if the host set shutdown_card, power off in order. */
  private *shutdownIsr(): Routine {
    const req: number = yield this.io.read8(this.dpMic + BOOTPARAM.shutdown_card);
    if (req === 1) this.h.orderlyShutdown(3);
  }

  consoleDevice(): CardVdev | undefined {
    return this.vdevs.find((v) => v.type === VIRTIO_ID_CONSOLE);
  }
}
