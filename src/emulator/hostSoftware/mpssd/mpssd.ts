// The mpssd daemon for one card, as the Gen-1 Documentation/mic/mpssd/mpssd.c of the DMA-era
// kernels (3.17–3.19) runs it. Its per-card child (init_mic) sets log_buf_addr/log_buf_len
// from the card's System.map and the card's command line, and adds the virtio devices in the
// order console, net (init_mic), block (the block thread). On shutting_down the parent waits
// for shutdown_status, kills the child — its device fds close, so every device is hot-removed
// (type −1) —, writes reset and waits for offline, then starts a new child, which adds the
// devices again (same slots, new doorbells), and boots the card after a restart (§4.8).
//
// Differences, on purpose (docs/faithfulness.md): the child's adds finish before the parent
// writes boot (in Gen-1 they race, ordered by mic_mutex either way); the back-ends keep their
// host resources (disk image, pcap file) across the child's restart; `autoBoot` boots the card
// when the daemon starts, which Gen-1 mpssd leaves to `micctrl -b`.

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
    yield call(this.initMic());
    if (this.opts.autoBoot) yield call(this.boot());
  }

  /** init_mic's child: log_buf info, command line, then the devices (console, net, block). */
  *initMic(): Routine {
    yield call(frame(this.dev.sched, 'mpssd.init_mic', { card: this.name }, this.doInitMic()));
  }

  private *doInitMic(): Routine {
    this.setLogBufInfo();
    // set_cmdline: the card's address is 172.31.<id>.1 (mic->id, the N of micN).
    const id = this.dev.card.index;
    this.dev.sysfs.cmdline = `clocksource=tsc highres=off nohz=off cpufreq_on;corec6_off;pc3_off;pc6_off ifcfg=static;address,172.31.${id}.1;netmask,255.255.255.0`;
    for (const b of this.backends) yield call(this.addBackend(b));
  }

  /**
   * set_log_buf_info: find `__log_buf` and `log_buf_len` in /lib/firmware/mic/System.map and
   * write their addresses (the 16 hex digits 19 characters before each name) to sysfs.
   */
  private setLogBufInfo(): void {
    const map = this.dev.firmware.get('mic/System.map');
    if (!map) {
      this.log('Opening System.map failed: no mic/System.map');
      return;
    }
    const text = new TextDecoder().decode(map);
    const field = (name: string): number | null => {
      const at = text.indexOf(name);
      if (at < 19) return null;
      const v = Number.parseInt(text.slice(at - 19, at - 3), 16);
      return Number.isFinite(v) ? v : null;
    };
    const addr = field('__log_buf');
    if (addr === null) {
      this.log('__log_buf not found');
      return;
    }
    this.dev.sysfs.log_buf_addr = addr;
    const len = field('log_buf_len');
    if (len === null) {
      this.log('log_buf_len not found');
      return;
    }
    this.dev.sysfs.log_buf_len = len;
  }

  /**
   * The child is killed: its device fds close and the driver hot-removes every device it
   * added (mic_virtio_del_device), in the order they were added.
   */
  private *killChild(): Routine {
    for (const b of this.backends) {
      const v = b.vdev;
      if (v && !v.removed && this.dev.vop.vdevs.includes(v)) yield call(this.dev.vop.removeDevice(v));
    }
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
    yield call(frame(this.dev.sched, 'mpssd.kill_child', undefined, this.killChild()));
    yield call(this.dev.writeState('reset'));
    // The reset runs as the driver's queued work; wait (up to 120 s) for it to finish.
    const done = () => ['offline', 'reset_failed', 'suspended'].includes(this.dev.state);
    for (let i = 0; i < 1200 && !done(); i++) yield sleep(100_000_000);
    // init_mic: a new child adds the devices again.
    yield call(this.initMic());
    if (this.dev.state === 'suspended') return;
    if (status === MIC_RESTART && this.dev.state === 'offline') {
      this.log('restarting the card');
      yield call(this.boot());
    } else {
      this.stoppedOnPurpose = true;
    }
  }
}
