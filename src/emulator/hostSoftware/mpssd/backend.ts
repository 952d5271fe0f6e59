// What every mpssd back-end is: a virtio device image to add, a thread that serves it on real
// host resources (a terminal, a disk image file, a packet stream), and a close that releases
// those resources (flush the image, finish the pcap).

import { WaitQueue, waitOn, type Routine, type Scheduler } from '../../sim/scheduler.ts';
import { DEVICE_DESC } from '../../virtio/devicePage.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK } from '../../virtio/virtioIds.ts';
import type { MicDevice } from '../micHost/micDevice.ts';
import type { DeviceDescImage, HostVdev } from '../micHost/vop.ts';

export interface VirtioBackend {
  /** 'console' | 'block' | 'net' */
  readonly kind: string;
  /** Thread name for events: host.mic0.console … */
  readonly initiator: string;
  /** The device this back-end serves, once added. */
  readonly vdev: HostVdev | null;
  deviceImage(): DeviceDescImage;
  attach(vdev: HostVdev): void;
  /** The back-end thread; returns when the device is removed. */
  run(): Routine;
  /** Release host resources; called on machine teardown. Must not throw. */
  close(): void;
}

/**
 * A back-end thread's poll(2): woken by the device's c2h_vdev_db interrupt (the driver's poll
 * wake-up) or by host-side work (typed keys, a frame due). A wake-up that comes while the thread
 * is busy is remembered, so none is lost. mpssd spins on avail.idx instead; we sleep, so an idle
 * machine has nothing scheduled.
 */
export class BackendPoll {
  private readonly q: WaitQueue;
  private pending = true;

  constructor(sched: Scheduler, name: string) {
    this.q = new WaitQueue(sched, name);
  }

  kick(): void {
    this.pending = true;
    this.q.signal();
  }

  /** Hook the device's poll wake-ups. */
  watch(vdev: HostVdev): void {
    vdev.onPoll = () => this.kick();
  }

  /**
   * Sleep until kicked (at most timeoutNs when ≥ 0), then read the device status the way
   * mpssd checks it: true when the card's driver set DRIVER_OK and data may move.
   */
  *next(dev: MicDevice, vdev: HostVdev, timeoutNs = -1): Routine<boolean> {
    if (!this.pending) yield waitOn(this.q, timeoutNs);
    this.pending = false;
    const status: number = yield dev.io.read8(dev.dpHost + vdev.dpOffset + DEVICE_DESC.status);
    return (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
  }
}
