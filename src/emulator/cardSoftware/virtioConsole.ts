// The card's virtio console driver (virtio_console.c, single port, no MULTIPORT): queue 0
// receiveq filled with 4 KiB GDDR buffers, queue 1 transmitq for put_chars. Received bytes go to
// the tty (the shell); the tty writer calls putChars.

import { call, frame, type Routine, sleep } from '../sim/scheduler.ts';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
} from '../virtio/virtioIds.ts';
import type { CardVdev, VirtioDriver } from './cardVirtio.ts';

const BUF = 4096;

export interface TtyPort {
  /** Bytes that arrived from the host terminal. */
  receive(bytes: Uint8Array): void;
}

export class VirtioConsole implements VirtioDriver {
  private txFree: number[] = [];
  private rxCount = 0;
  ready = false;

  constructor(
    readonly vdev: CardVdev,
    readonly tty: TtyPort,
  ) {}

  private get sched() {
    return this.vdev.p.sched;
  }
  private get io() {
    return this.vdev.io;
  }

  *probe(): Routine<number> {
    return yield call(frame(this.sched, 'virtcons_probe', undefined, this.doProbe()));
  }

  private *doProbe(): Routine<number> {
    const v = this.vdev;
    // Single-port console: we use none of the offered features (mpssd offers none).
    yield call(v.negotiate(0));
    const rc: number = yield call(v.findVqs());
    if (rc < 0) return rc;
    yield call(frame(this.sched, 'fill_queue', undefined, this.fillRx()));
    yield call(v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK));
    this.ready = true;
    return 0;
  }

  private *fillRx(): Routine {
    const rx = this.vdev.vqs[0];
    while (rx.numFree > 0) {
      const buf = this.vdev.p.gddr.alloc(BUF);
      if (buf < 0) break;
      const head: number = yield call(rx.add([{ addr: buf, len: BUF, write: true }], buf));
      if (head < 0) {
        this.vdev.p.gddr.release(buf, BUF);
        break;
      }
      this.rxCount++;
    }
    yield call(rx.kick());
  }

  /** vring_interrupt for both queues. */
  *interrupt(): Routine {
    if (!this.ready) return;
    yield call(frame(this.sched, 'virtcons_intr', undefined, this.doInterrupt()));
  }

  private *doInterrupt(): Routine {
    const [rx] = this.vdev.vqs;
    let readded = false;
    for (;;) {
      const got: { token: number; len: number } | null = yield call(rx.getBuf());
      if (!got) break;
      if (got.len > 0) {
        const data: Uint8Array = yield this.io.read(got.token, Math.min(got.len, BUF));
        this.tty.receive(data);
      }
      yield call(rx.add([{ addr: got.token, len: BUF, write: true }], got.token));
      readded = true;
    }
    if (readded) yield call(rx.kick());
    yield call(this.reclaimTx());
  }

  private *reclaimTx(): Routine {
    const tx = this.vdev.vqs[1];
    for (;;) {
      const got: { token: number } | null = yield call(tx.getBuf());
      if (!got) return;
      this.txFree.push(got.token);
    }
  }

  /** Outstanding transmit buffers (the host has not consumed them yet). */
  get txInFlight(): number {
    const tx = this.vdev.vqs[1];
    return tx ? tx.num - tx.numFree : 0;
  }

  /** put_chars: copy into a GDDR buffer, add to transmitq, kick. */
  *putChars(bytes: Uint8Array): Routine<number> {
    return yield call(
      frame(this.sched, 'virtio_console.put_chars', { len: bytes.length }, this.doPut(bytes)),
    );
  }

  private *doPut(bytes: Uint8Array): Routine<number> {
    if (!this.ready) return -19;
    const tx = this.vdev.vqs[1];
    let done = 0;
    while (done < bytes.length) {
      if (tx.numFree === 0) {
        yield call(this.reclaimTx());
        if (tx.numFree === 0) {
          // Like __send_to_port, wait for the host to give buffers back.
          yield sleep(10_000);
          continue;
        }
      }
      let buf = this.txFree.pop();
      if (buf === undefined) buf = this.vdev.p.gddr.alloc(BUF);
      if (buf < 0) return -12;
      const n = Math.min(BUF, bytes.length - done);
      yield this.io.write(buf, bytes.subarray(done, done + n));
      yield call(tx.add([{ addr: buf, len: n, write: false }], buf));
      yield call(tx.kick());
      done += n;
    }
    return done;
  }

  // A routine like every driver hook, though the console frees only card-private memory.
  // eslint-disable-next-line require-yield
  *remove(): Routine {
    this.ready = false;
    for (const q of this.vdev.vqs)
      for (const b of q.detachUnused()) this.vdev.p.gddr.release(b as number, BUF);
    for (const b of this.txFree) this.vdev.p.gddr.release(b, BUF);
    this.txFree = [];
  }
}
