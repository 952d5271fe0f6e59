// What every mpssd back-end is: a virtio device image to add, a thread that serves it on real
// host resources (a terminal, a disk image file, a packet stream), and a close that releases
// those resources (flush the image, finish the pcap).

import type { Routine } from '../../sim/scheduler.ts';
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
