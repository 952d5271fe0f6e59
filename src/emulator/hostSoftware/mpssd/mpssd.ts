// The mpssd daemon for one card (samples/mic/mpssd, Gen-1 flavour): adds the virtio devices at
// start, sets the card's command line, boots it (`micctrl -b`), and reacts to state changes:
// on shutting_down it waits for shutdown_status, resets the card, and boots it again after a
// restart (§4.8).

import { call, frame, type Routine, sleep, waitOn } from '../../sim/scheduler.ts';
import type { MicDevice } from '../micHost/micDevice.ts';
import { errName } from '../../errno.ts';
import { SHUTDOWN_STATUS, MIC_RESTART } from '../../virtio/devicePage.ts';
import { ConsoleBackend, type TerminalSink } from './consoleBackend.ts';
import type { VirtioBackend } from './backend.ts';
import type { HostVdev } from '../micHost/vop.ts';
import { intern } from '../../sim/busEvent.ts';

export interface MpssdOptions {
  autoBoot: boolean;
}

/** Builds the other back-ends of a card (block, net) from the machine's configuration. */
export type BackendFactory = (m: Mpssd) => VirtioBackend[];

export class Mpssd {
  readonly console: ConsoleBackend;
  /** Every back-end of this card, console first, in the order their devices are added. */
  readonly backends: VirtioBackend[];
  /** Set when the card powered off or halted on purpose: nothing to restart. */
  stoppedOnPurpose = false;
  /** The card went down for a host suspend: boot it again when the host resumes. */
  bootOnResume = false;

  constructor(
    readonly dev: MicDevice,
    terminal: TerminalSink,
    readonly opts: MpssdOptions,
    more: BackendFactory = () => [],
  ) {
    this.console = new ConsoleBackend(dev, dev.sched, dev.spine, terminal);
    this.backends = [this.console, ...more(this)];
  }

  backend<T extends VirtioBackend>(kind: string): T | undefined {
    return this.backends.find((b) => b.kind === kind) as T | undefined;
  }

  get name(): string {
    return this.dev.name;
  }

  private log(text: string): void {
    this.dev.kernel.printk(`mpssd: ${this.name}: ${text}`);
  }

  /** Daemon start: devices, command line, boot. */
  *start(): Routine {
    yield call(frame(this.dev.sched, 'mpssd.start', { card: this.name }, this.doStart()));
  }

  private *doStart(): Routine {
    const n = this.dev.card.index + 1;
    this.dev.sysfs.cmdline = `clocksource=tsc highres=off nohz=off cpufreq_on;corec6_off;pc3_off;pc6_off ifcfg=static;address,172.31.${n}.1;netmask,255.255.255.0`;
    for (const b of this.backends) yield call(this.addBackend(b));
    if (this.opts.autoBoot) yield call(this.boot());
  }

  /** open() + MIC_VIRTIO_ADD_DEVICE, then the back-end's thread. Returns 0 or −errno. */
  *addBackend(b: VirtioBackend): Routine<number> {
    const vdev: HostVdev | number = yield call(this.dev.vop.addDevice(b.deviceImage()));
    if (typeof vdev === 'number') {
      this.log(`adding virtio-${b.kind} failed: ${errName(vdev)}`);
      return vdev;
    }
    b.attach(vdev);
    this.dev.sched.spawn(`${this.name} ${b.kind} back-end`, intern(b.initiator), b.run());
    return 0;
  }

  /**
   * Replace a back-end while the card runs (e.g. swap the disk image): hot-remove its device
   * with the §5.5 handshake, release its host resources, then add the new one.
   */
  *replaceBackend(kind: string, next: VirtioBackend): Routine<number> {
    const i = this.backends.findIndex((b) => b.kind === kind);
    const old = i >= 0 ? this.backends[i] : undefined;
    const vdev = old?.vdev && this.dev.vop.vdevs.includes(old.vdev) ? old.vdev : undefined;
    if (vdev) yield call(this.dev.vop.removeDevice(vdev));
    old?.close();
    if (i >= 0) this.backends.splice(i, 1, next);
    else this.backends.push(next);
    this.log(`${kind}: ${old ? 'replaced' : 'added'} back-end`);
    return yield call(this.addBackend(next));
  }

  close(): void {
    for (const b of this.backends) {
      try {
        b.close();
      } catch {
        // closing is best effort; a back-end reports its own errors
      }
    }
  }

  /** `micctrl -b`: bootmode linux, firmware mic/uos.img, then state boot. */
  *boot(): Routine<number> {
    this.dev.sysfs.bootmode = 'linux';
    this.dev.sysfs.firmware = 'mic/uos.img';
    this.stoppedOnPurpose = false;
    const rc: number = yield call(this.dev.writeState('boot'));
    if (rc < 0) this.log(`boot failed: ${errName(rc)}`);
    return rc;
  }

  /** The per-card state watcher thread. */
  *watch(): Routine {
    let last = this.dev.state;
    for (;;) {
      const st = this.dev.state;
      if (st === 'shutting_down') {
        yield call(frame(this.dev.sched, 'mpssd.mic_handle_shutdown', undefined, this.handleShutdown()));
      } else if (st === 'suspending') {
        // Gen-1: write "suspend", then handle it like a shutdown; boot again on resume.
        this.bootOnResume = true;
        yield call(this.dev.writeState('suspend'));
        if (this.dev.state === 'suspended') {
          yield call(frame(this.dev.sched, 'mpssd.mic_handle_shutdown', undefined, this.handleShutdown()));
        }
      } else if (st === 'offline' && last === 'suspended' && this.bootOnResume) {
        this.bootOnResume = false;
        this.log('host resumed: booting the card again');
        yield call(this.boot());
      }
      last = st;
      if (this.dev.state === st) yield waitOn(this.dev.stateChanged);
    }
  }

  private *handleShutdown(): Routine {
    // Poll shutdown_status for up to 60 s.
    let status = 0;
    for (let i = 0; i < 600; i++) {
      status = this.dev.shutdownStatus;
      if (status >= 1 && status <= 4) break;
      yield sleep(100_000_000);
    }
    this.log(`shutdown status ${SHUTDOWN_STATUS[status] ?? status}`);
    yield call(this.dev.writeState('reset'));
    // The reset completes inside the state write; wait (up to 120 s) in case it was queued.
    const done = () => ['offline', 'reset_failed', 'suspended'].includes(this.dev.state);
    for (let i = 0; i < 1200 && !done(); i++) yield sleep(100_000_000);
    if (this.dev.state === 'suspended') return;
    if (status === MIC_RESTART && this.dev.state === 'offline') {
      this.log('restarting the card');
      yield call(this.boot());
    } else {
      this.stoppedOnPurpose = true;
    }
  }
}
