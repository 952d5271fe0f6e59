// mpssd's console back-end (reference §6.3): terminal input → COPY_DESC on queue 0 (the card's
// receiveq) with update_used; queue 1 (transmitq) → COPY_DESC into a 4 KiB buffer → terminal.
// Instead of mpssd's spin on avail.idx we sleep until the device's poll fires or input
// arrives, so an idle machine has nothing scheduled (documented choice).

import { call, frame, type Routine, type Scheduler } from '../../sim/scheduler.ts';
import type { Spine } from '../../sim/spine.ts';
import { VIRTIO_ID_CONSOLE } from '../../virtio/virtioIds.ts';
import type { MicDevice } from '../micHost/micDevice.ts';
import type { DeviceDescImage, HostVdev } from '../micHost/vop.ts';
import { BackendPoll, type VirtioBackend } from './backend.ts';

export interface TerminalSink {
  /** The card's console output. The bytes are never written again: a sink may keep them. */
  write(bytes: Uint8Array): void;
}

const CONSOLE_BUF = 4096;
/**
 * Console output is read into a zeroed slab, a chunk at a time, each chunk handed on as a view
 * of its own bytes (never written again: the terminal may keep what it is given). A fresh 4 KiB
 * buffer per chunk cost an off-heap allocation each (about 1 µs, ~8 % of console traffic).
 */
const SLAB_BYTES = 64 * 1024;

export function consoleDeviceImage(): DeviceDescImage {
  return {
    type: VIRTIO_ID_CONSOLE,
    numVq: 2,
    featureLen: 4,
    configLen: 12, // virtio_console_config {cols, rows, max_nr_ports, emerg_wr}, all zero
    num: [128, 128],
    hostFeatures: new Uint8Array(4),
    config: new Uint8Array(12),
  };
}

export class ConsoleBackend implements VirtioBackend {
  readonly kind = 'console';
  vdev: HostVdev | null = null;
  private readonly pending: Uint8Array[] = [];
  private readonly poll: BackendPoll;
  /** Where the next chunk of output is read (see SLAB_BYTES); `slabUsed` bytes are handed out. */
  private slab = new Uint8Array(SLAB_BYTES);
  private slabUsed = 0;
  /** Bytes the card wrote that reached the terminal. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(
    readonly dev: MicDevice,
    readonly sched: Scheduler,
    readonly spine: Spine,
    public terminal: TerminalSink,
  ) {
    this.poll = new BackendPoll(sched, `${dev.name} console back-end`);
  }

  get initiator(): string {
    return `host.${this.dev.name}.console`;
  }

  deviceImage(): DeviceDescImage {
    return consoleDeviceImage();
  }

  close(): void {}

  attach(vdev: HostVdev): void {
    this.vdev = vdev;
    this.poll.watch(vdev);
  }

  /** Bytes typed by the user (an external input: recorded as an event by the machine). */
  input(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.poll.kick();
  }

  get pendingInput(): number {
    return this.pending.reduce((n, b) => n + b.length, 0);
  }

  *run(): Routine {
    const v = this.vdev;
    for (;;) {
      // This thread serves the device it was started for; a re-added one gets a new thread.
      if (!v || v.removed || this.vdev !== v) return;
      const ready: boolean = yield call(this.poll.next(this.dev, v));
      if (!ready) continue;
      yield call(frame(this.sched, 'mpssd.virtio_console_tx', undefined, this.drainTransmit(v)));
      yield call(frame(this.sched, 'mpssd.virtio_console_rx', undefined, this.pushInput(v)));
    }
  }

  private *drainTransmit(v: HostVdev): Routine {
    for (;;) {
      // Bytes never handed out before (the copy writes the first n of them, which go out).
      if (this.slabUsed > SLAB_BYTES - CONSOLE_BUF) {
        this.slab = new Uint8Array(SLAB_BYTES);
        this.slabUsed = 0;
      }
      const at = this.slabUsed;
      const buf = this.slab.subarray(at, at + CONSOLE_BUF);
      const n: number = yield call(this.dev.vop.copyDesc(v, [{ buf, len: CONSOLE_BUF }], 1, true));
      if (n <= 0) return;
      this.slabUsed = at + n;
      this.bytesOut += n;
      this.terminal.write(buf.subarray(0, n));
    }
  }

  private *pushInput(v: HostVdev): Routine {
    while (this.pending.length > 0) {
      const head = this.pending[0];
      const chunk = head.subarray(0, Math.min(head.length, CONSOLE_BUF));
      const n: number = yield call(this.dev.vop.copyDesc(v, [{ buf: chunk, len: chunk.length }], 0, true));
      if (n <= 0) return; // no receive buffer yet: wait for the card to post some
      this.bytesIn += n;
      if (n >= head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
  }
}
