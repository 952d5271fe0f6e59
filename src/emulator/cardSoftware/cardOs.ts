// The card OS ("its own Linux") as far as the protocol needs it: boot from the downloaded
// image, the kernel log in GDDR (what `dmesg` and the host's log_buf read), interrupt dispatch
// for host→card doorbells, the card driver, the virtio console as hvc0 with a shell on it, and
// orderly shutdown / panic. All card software runs as initiator `micN.cpu`.

import { CardSpace } from '../bus/cardSpace.ts';
import type { X100Card, CardCpu } from '../card/x100Card.ts';
import { steppingName } from '../card/pciConfig.ts';
import { MIC_MMIO_CARD_BASE, R } from '../card/sboxRegisters.ts';
import { call, frame, type Routine, sleep, type Task, waitOn, WaitQueue } from '../sim/scheduler.ts';
import { MIC_HALTED, MIC_RESTART } from '../virtio/devicePage.ts';
import { VIRTIO_ID_CONSOLE } from '../virtio/virtioIds.ts';
import { Bootstrap, MIC_DOWNLOAD_ADDR } from './bootstrap.ts';
import type { CardVdev, VirtioDriver } from './cardVirtio.ts';
import { GddrAllocator } from './gddrAllocator.ts';
import { MicCardDriver } from './micCardDriver.ts';
import { X100_DEFAULT_CPU } from '../card/x100Cpu.ts';
import { parseUosHeader, type UosIdentity } from './uosImage.ts';
import { VirtioConsole } from './virtioConsole.ts';
import { intern, KERN_EMERG, KERN_INFO } from '../sim/busEvent.ts';

const utf8 = new TextEncoder();
// The last long text and its bytes: the same output again (a file printed twice) is not
// encoded twice. The bytes are only read (the hvc writer takes views and put_chars copies).
let lastText = '';
let lastBytes = new Uint8Array(0);
function encodeText(text: string): Uint8Array {
  if (text === lastText) return lastBytes;
  const b = utf8.encode(text);
  if (text.length >= 4096) {
    lastText = text;
    lastBytes = b;
  }
  return b;
}

/** Kernel log buffer: physical 32 MiB, 128 KiB; the kernel maps it at 0xFFFFFFFF80000000 + phys. */
export const LOG_BUF_PHYS = 0x0200_0000;
export const LOG_BUF_LEN = 128 * 1024;
/** The kernel's `int log_buf_len` variable (= LOG_BUF_LEN), right after the buffer. */
export const LOG_BUF_LEN_VAR_PHYS = LOG_BUF_PHYS + LOG_BUF_LEN;
export const KERNEL_VIRT_BASE = 0xffff_ffff_8000_0000;

/**
 * The lines of the card kernel's System.map that mpssd looks for (/lib/firmware/mic/System.map:
 * `%016lx %c %s`): __log_buf and log_buf_len, at their kernel virtual addresses.
 */
export function buildSystemMap(): string {
  const line = (phys: number, type: string, name: string) =>
    `${(BigInt(KERNEL_VIRT_BASE) + BigInt(phys)).toString(16).padStart(16, '0')} ${type} ${name}\n`;
  return line(LOG_BUF_PHYS, 'b', '__log_buf') + line(LOG_BUF_LEN_VAR_PHYS, 'd', 'log_buf_len');
}
/** Card GDDR the kernel allocator hands out: from 256 MiB up. */
const GDDR_HEAP_BASE = 0x1000_0000;

export type CardOsState =
  'off' | 'firmware' | 'booting' | 'running' | 'stopping' | 'halted' | 'crashed' | 'hung';

export interface CardOsOptions {
  cores: number;
  threadsPerCore: number;
}

/** Per-card-OS hooks the composition root (cardModules.ts) uses to register drivers. */
export type DriverFactory = (os: CardOs, vdev: CardVdev) => VirtioDriver | null;

/**
 * What init starts on hvc0 once the console is up: the login shell (shell/shell.ts). The kernel
 * knows it only through this, as Linux's tty layer knows a session only as a line discipline's
 * reader; cardModules.ts supplies it.
 */
export interface ConsoleSession {
  start(): void;
  /** Bytes the host typed on the console. */
  input(bytes: Uint8Array): void;
  /** Text the kernel shows to the session's user (the shutdown wall message). */
  print(text: string): void;
  /** The OS is going away (panic): no more prompts, input ignored. */
  stop(): void;
}

export class CardOs implements CardCpu {
  state: CardOsState = 'off';
  readonly io: CardSpace;
  readonly bootstrap: Bootstrap;
  gddrAlloc = new GddrAllocator(GDDR_HEAP_BASE, 0);
  driver: MicCardDriver | null = null;
  console: VirtioConsole | null = null;
  /** The session on hvc0 (null until the console is up). */
  shell: ConsoleSession | null = null;
  /** init: what the OS starts on hvc0 (set by cardModules.ts; null: the console stays bare). */
  init: ((os: CardOs) => ConsoleSession) | null = null;
  identity: UosIdentity | null = null;
  cmdline = '';
  bootTime = 0;
  private logPos = 0;
  private readonly irqHandlers = new Map<number, { name: string; handler: () => Routine }[]>();
  private ttyOut: Uint8Array[] = [];
  private readonly ttyWake: WaitQueue;
  private ttyDirty = false;
  /** The hvc task holds a chunk it has taken off ttyOut but not yet put in the ring. */
  private ttyWriting = false;
  /** The hvc0 writer task: one for the OS's lifetime, however often the console is re-probed. */
  private hvcTask: Task | null = null;
  readonly extraDrivers = new Map<number, DriverFactory>();
  /** Names drivers add under /dev (virtio_blk: vda …), asked at every listing. */
  readonly extraDevices: (() => string[])[] = [];
  /** Console output seen by the tty layer, for `console "TEXT"` breakpoints and tests. */
  onConsoleText: ((text: string) => void) | null = null;

  constructor(
    readonly card: X100Card,
    readonly opts: CardOsOptions = {
      cores: X100_DEFAULT_CPU.cores,
      threadsPerCore: X100_DEFAULT_CPU.threadsPerCore,
    },
  ) {
    this.io = new CardSpace(card.spine, card);
    this.bootstrap = new Bootstrap(card, this.io, () => card.firmwareReadyDelayNs);
    this.ttyWake = new WaitQueue(card.sched, `${card.name} tty`);
    card.cpu = this;
  }

  get name(): string {
    return this.card.name;
  }
  get sched() {
    return this.card.sched;
  }
  get initiator(): string {
    return (this.cpuName ??= intern(`${this.name}.cpu`));
  }
  private cpuName: string | undefined;
  /** Task names per interrupt line (one interrupt per virtio notification). */
  private irqTaskNames = new Map<number, string>();

  spawn(name: string, r: Routine<unknown>): Task {
    const t = this.sched.spawn(`${this.name} ${name}`, this.initiator, r);
    this.track(t);
    return t;
  }

  private track(t: Task): void {
    t.owner = this;
  }

  /** This OS's live tasks (a snapshot: killing them does not disturb the walk). */
  private ownTasks(): Task[] {
    const out: Task[] = [];
    for (const t of this.sched.tasks) if (t.owner === this) out.push(t);
    return out;
  }

  // ---- CardCpu: what the hardware calls ------------------------------------------------

  onReset(): void {
    for (const t of this.ownTasks()) this.sched.kill(t);
    this.irqHandlers.clear();
    this.driver = null;
    this.console = null;
    this.ttyOut = [];
    this.bootstrap.state = 'off';
    this.state = 'off';
  }

  onPowerGood(): void {
    this.state = 'firmware';
    this.spawn('bootstrap', this.bootstrap.run());
  }

  onDoorbell(db: number, vector: number): void {
    if (this.bootstrap.isKick(db, vector)) {
      this.bootstrap.state = 'booted';
      this.spawn('start_kernel', this.boot());
      return;
    }
    if (this.state !== 'running' && this.state !== 'stopping') return;
    const hs = this.irqHandlers.get(db);
    if (!hs || hs.length === 0) return;
    const irq = db < 8 ? 26 + db : 17 + (db - 8);
    let name = this.irqTaskNames.get(irq);
    if (name === undefined) this.irqTaskNames.set(irq, (name = `${this.name} irq ${irq}`));
    const t = this.sched.spawn(
      name,
      this.initiator,
      frame(this.sched, 'do_IRQ', { irq, db }, this.runHandlers(hs.slice())),
    );
    this.track(t);
  }

  private *runHandlers(hs: { name: string; handler: () => Routine }[]): Routine {
    for (const h of hs) yield call(frame(this.sched, h.name, undefined, h.handler()));
  }

  onDmaInterrupt(_channel: number): void {
    // No card-side DMA client yet (the host moves virtio data with its own channels).
  }

  // ---- kernel log -------------------------------------------------------------------------

  get logBufAddr(): number {
    return KERNEL_VIRT_BASE + LOG_BUF_PHYS;
  }

  /** printk: the log lives in GDDR so the host can read it through BAR0 (debugfs log_buf). */
  printk(text: string, level = KERN_INFO): void {
    const t = Math.max(0, this.sched.now - this.bootTime) / 1e9;
    const secs = Math.floor(t);
    const micros = Math.floor((t - secs) * 1e6);
    const line = `[${String(secs).padStart(5)}.${String(micros).padStart(6, '0')}] ${text}\n`;
    const bytes = new TextEncoder().encode(line);
    // The ring keeps the newest text: wrap to the start when the line and its NUL don't fit.
    if (this.logPos + bytes.length + 1 > LOG_BUF_LEN) this.logPos = 0;
    // The kernel writes its own memory: no bus transaction, so no event.
    this.card.gddr.write(LOG_BUF_PHYS + this.logPos, bytes);
    this.logPos += bytes.length;
    this.card.gddr.write8(LOG_BUF_PHYS + this.logPos, 0);
    this.card.spine.log(
      `${this.name}.gddr`,
      LOG_BUF_PHYS,
      bytes.length,
      level,
      text,
      `${this.name}: ${text}`,
    );
  }

  dmesg(): string {
    const bytes = new Uint8Array(this.logPos);
    this.card.gddr.read(LOG_BUF_PHYS, bytes);
    return new TextDecoder().decode(bytes);
  }

  // ---- boot ------------------------------------------------------------------------------

  private *boot(): Routine {
    this.state = 'booting';
    this.bootTime = this.sched.now;
    this.logPos = 0;
    // The kernel image's data: log_buf_len = sizeof(__log_buf) (the host's debugfs log_buf reads it).
    this.card.gddr.write32(LOG_BUF_LEN_VAR_PHYS, LOG_BUF_LEN);
    const head: Uint8Array = yield this.io.read(MIC_DOWNLOAD_ADDR, 4096);
    const id = parseUosHeader(head);
    if (typeof id === 'string') {
      this.state = 'crashed';
      this.card.spine.protocolError(
        0,
        this.name,
        `${this.name}: the bootstrap jumped to 0x${MIC_DOWNLOAD_ADDR.toString(16)} but found no card OS there (${id}); the card hangs.`,
      );
      return;
    }
    this.identity = id;
    const size: number = yield this.io.read32(MIC_MMIO_CARD_BASE + R.SPAD(5));
    const cl: Uint8Array = yield this.io.read(MIC_DOWNLOAD_ADDR + size, 2048);
    const nul = cl.indexOf(0);
    this.cmdline = new TextDecoder().decode(cl.subarray(0, nul < 0 ? cl.length : nul)).trim();
    const memMatch = /mem=(\d+)M/.exec(this.cmdline);
    const memBytes = memMatch
      ? Math.min(Number(memMatch[1]) * 2 ** 20, this.card.gddr.size)
      : this.card.gddr.size;
    this.gddrAlloc = new GddrAllocator(GDDR_HEAP_BASE, Math.max(0, memBytes - GDDR_HEAP_BASE));
    this.printk(`Linux version ${id.release} (${id.builder}) ${id.version}`);
    this.printk(`Command line: ${this.cmdline}`);
    this.printk(
      `x100: Intel Xeon Phi coprocessor, stepping ${steppingName(this.card.config.revision)}, ${this.opts.cores} cores, ${memBytes / 2 ** 20} MiB GDDR`,
    );
    this.printk(
      `x100: image at 0x${MIC_DOWNLOAD_ADDR.toString(16)} (${size} bytes), log_buf at 0x${this.logBufAddr.toString(16)}`,
    );
    yield sleep(50_000_000);
    this.state = 'running';
    const drv = new MicCardDriver({
      cardName: this.name,
      cardIndex: this.card.index,
      sched: this.sched,
      spine: this.card.spine,
      io: this.io,
      gddr: this.gddrAlloc,
      printk: (t) => this.printk(t),
      makeDriver: (vdev) => this.makeDriver(vdev),
      requestIrq: (db, name, handler) => {
        const list = this.irqHandlers.get(db) ?? [];
        list.push({ name, handler });
        this.irqHandlers.set(db, list);
      },
      freeIrq: (db, name) => {
        const list = this.irqHandlers.get(db);
        if (list)
          this.irqHandlers.set(
            db,
            list.filter((h) => h.name !== name),
          );
      },
      orderlyShutdown: (status) => this.shutdown(status),
    });
    this.driver = drv;
    const rc: number = yield call(drv.init());
    if (rc < 0) return;
    this.printk('Freeing unused kernel memory: 1024K');
  }

  private makeDriver(vdev: CardVdev): VirtioDriver | null {
    if (vdev.type === VIRTIO_ID_CONSOLE) {
      const c = new VirtioConsole(vdev, { receive: (b) => this.ttyReceive(b) });
      this.console = c;
      const probe = c.probe.bind(c);
      // After the console is up, hvc0 gets a login shell.
      c.probe = () => this.afterConsoleProbe(probe());
      return c;
    }
    const f = this.extraDrivers.get(vdev.type);
    return f ? f(this, vdev) : null;
  }

  private *afterConsoleProbe(probe: Routine<number>): Routine<number> {
    const rc: number = yield call(probe);
    if (rc < 0) return rc;
    this.printk('virtio_console: hvc0 registered, console [hvc0] enabled');
    // A console re-added after a hot remove reuses the running writer: two writers would put
    // chunks into the same transmitq at once and hand out the same descriptor twice.
    if (!this.hvcTask || this.hvcTask.state === 'done')
      this.hvcTask = this.spawn('hvc_console', this.ttyWriter());
    this.shell = this.init?.(this) ?? null;
    this.shell?.start();
    return 0;
  }

  // ---- tty (hvc0) -------------------------------------------------------------------------

  private ttyReceive(bytes: Uint8Array): void {
    this.shell?.input(bytes);
  }

  /** Text for the console: queued, written by the hvc task through put_chars. */
  ttyWrite(text: string): void {
    if (text.length === 0) return;
    this.onConsoleText?.(text);
    this.card.spine.text('console', this.name, 0, text.length, 0, text);
    this.ttyOut.push(encodeText(text));
    this.ttyDirty = true;
    this.ttyWake.signal();
  }

  get ttyPending(): number {
    return this.ttyOut.reduce((n, b) => n + b.length, 0);
  }

  private *ttyWriter(): Routine {
    for (;;) {
      if (this.ttyOut.length === 0) {
        if (!this.ttyDirty) yield waitOn(this.ttyWake);
        this.ttyDirty = false;
        continue;
      }
      // Coalesce what is queued into one put_chars of at most 4 KiB.
      let total = 0;
      const parts: Uint8Array[] = [];
      while (this.ttyOut.length > 0 && total < 4096) {
        const b = this.ttyOut[0];
        const take = Math.min(b.length, 4096 - total);
        parts.push(b.subarray(0, take));
        total += take;
        if (take === b.length) this.ttyOut.shift();
        else this.ttyOut[0] = b.subarray(take);
      }
      // One piece (a long text goes out 4 KiB at a time) is passed as it is: put_chars copies it.
      let chunk = parts[0];
      if (parts.length > 1) {
        chunk = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          chunk.set(p, o);
          o += p.length;
        }
      }
      const c = this.console;
      if (!c || !c.ready) continue; // console gone: output is lost, as on a dead hvc
      this.ttyWriting = true;
      try {
        yield call(c.putChars(chunk));
      } finally {
        this.ttyWriting = false;
      }
    }
  }

  /** A bug in card software that caught it to go on (the shell): reported as a task's error is. */
  internalError(what: string, err: unknown): void {
    this.sched.onTaskError({ name: `${this.name} ${what}`, initiator: this.initiator }, err);
  }

  devices(): string[] {
    const d = ['console', 'null', 'zero', 'random', 'urandom', 'tty', 'ttyS0'];
    if (this.console) d.push('hvc0');
    for (const f of this.extraDevices) d.push(...f());
    return d;
  }

  // ---- shutdown and panic ----------------------------------------------------------------

  /** Orderly halt (2), power-off (3) or restart (4): flush the console, remove devices, report. */
  shutdown(status: number): void {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.spawn(
      'kernel_power_off',
      frame(this.sched, 'kernel_power_off', { status }, this.doShutdown(status)),
    );
  }

  private *doShutdown(status: number): Routine {
    const words =
      status === MIC_RESTART ? 'Restarting system' : status === MIC_HALTED ? 'System halted' : 'Power down';
    this.shell?.print('\nThe system is going down NOW!\n');
    this.printk(`reboot: ${words}`);
    yield call(this.flushConsole());
    const drv = this.driver;
    if (drv) {
      yield call(drv.removeAll());
      yield call(drv.reportShutdown(status));
    }
    this.halt();
  }

  /** Wait (up to 1 s) until queued console text has been taken by the host. */
  private *flushConsole(): Routine {
    for (let i = 0; i < 1000; i++) {
      const c = this.console;
      if (!c || !c.ready) return;
      if (this.ttyOut.length === 0 && !this.ttyWriting && c.txInFlight === 0) return;
      yield sleep(1_000_000);
      yield call(c.interrupt());
    }
  }

  /** Fault injection: the card stops answering (no interrupts served, no tasks run). */
  hang(): void {
    const me = this.sched.current;
    for (const t of this.ownTasks()) if (t !== me) this.sched.kill(t);
    this.irqHandlers.clear();
    this.state = 'hung';
    this.printk('(fault injection) card CPU stopped answering');
  }

  /** Simulated crash: the panic notifier, then the CPU stops. */
  panic(message: string): void {
    if (this.state !== 'running') return;
    this.state = 'crashed';
    this.shell?.stop();
    this.printk(`Kernel panic - not syncing: ${message}`, KERN_EMERG);
    this.ttyWrite(`\r\nKernel panic - not syncing: ${message}\r\n`);
    this.spawn('panic', frame(this.sched, 'panic', undefined, this.doPanic()));
  }

  private *doPanic(): Routine {
    yield call(this.flushConsole());
    if (this.driver) yield call(this.driver.panic());
    this.halt('crashed');
  }

  private halt(final: CardOsState = 'halted'): void {
    const me = this.sched.current;
    for (const t of this.ownTasks()) if (t !== me) this.sched.kill(t);
    this.irqHandlers.clear();
    this.console = null;
    this.state = final;
  }
}
