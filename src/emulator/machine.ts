// The machine: one host with 1–8 X100 cards, built from the rooms below. This facade is what
// the CLI and the debug adapter use (create, run/stop, observe, inject input, read state) —
// the role MockRuntime plays in vscode-mock-debug.

import { SparseMemory } from './mem/sparseMemory.ts';
import { HostSpace } from './bus/hostSpace.ts';
import { X100Card } from './card/x100Card.ts';
import { call, frame, type Routine, Scheduler, type Task } from './sim/scheduler.ts';
import { Spine } from './sim/spine.ts';
import { HostKernel } from './hostSoftware/hostKernel.ts';
import { MicDevice, type MicState } from './hostSoftware/micHost/micDevice.ts';
import { Mpssd } from './hostSoftware/mpssd/mpssd.ts';
import type { TerminalSink } from './hostSoftware/mpssd/consoleBackend.ts';
import { enumerate } from './hostSoftware/pciEnumeration.ts';
import { buildSystemMap, CardOs } from './cardSoftware/cardOs.ts';
import { installCardModules } from './cardSoftware/cardModules.ts';
import { buildUosImage } from './cardSoftware/uosImage.ts';
import { createBackends } from './hostSoftware/mpssd/backends.ts';
import { BlockBackend, type DiskConfig } from './hostSoftware/mpssd/blockBackend.ts';
import type { NetBackend } from './hostSoftware/mpssd/netBackend.ts';
import type { HostCommand, MachineInput } from './machineInput.ts';
import type { ImageJournal } from './hostSoftware/mpssd/fileBytes.ts';
import type { PcapCapture } from './hostSoftware/pcap.ts';
import {
  debugWrite,
  gddrTarget,
  hostTarget,
  mmioTarget,
  peek,
  resolveHostPhysical,
  type DebugPortParts,
  type MemoryTarget,
} from './debugPort.ts';

export type { DiskConfig };

export const MAX_CARDS = 8;

export interface MachineConfig {
  /** The undo journal of a disk image swapped in later (time travel), or none. */
  journalFor?: (path: string) => ImageJournal | null;
  cards: number;
  /** Bytes of GDDR per card (default 8 GiB). */
  cardMemoryBytes: number;
  /** Bytes of host RAM (default 16 GiB, sparse). */
  hostRamBytes: number;
  /** PCI revision ID (stepping): 0x20 = C0. */
  revision: number;
  /** Virtual time the card firmware takes from reset to SPAD2 ready. */
  firmwareReadyDelayNs: number;
  /** mpssd boots the cards when it starts. */
  autoBoot: boolean;
  /** Where each card's console output goes. */
  terminal: (card: number) => TerminalSink;
  /** Card N's disk image for virtio-block (null: no block device). */
  disk: (card: number) => DiskConfig | null;
  /**
   * Write every frame crossing each card's virtio-net link to this pcap file (null: none), or
   * through this capture (a Timeline's, shared by its machines: pcap.ts).
   */
  pcap: (card: number) => string | PcapCapture | null;
  /** Network fault injection: drop every Nth frame (0 = never). */
  netDropEvery: number;
}

export const DEFAULT_CONFIG: MachineConfig = {
  cards: 1,
  cardMemoryBytes: 8 * 2 ** 30,
  hostRamBytes: 16 * 2 ** 30,
  revision: 0x20,
  firmwareReadyDelayNs: 1_500_000_000,
  autoBoot: true,
  terminal: () => ({ write: () => {} }),
  disk: () => null,
  pcap: () => null,
  netDropEvery: 0,
};

export type RunResult = 'idle' | 'stopped' | 'limit';

export { HOST_COMMANDS, type HostCommand } from './machineInput.ts';

export class Machine {
  readonly cfg: MachineConfig;
  readonly sched = new Scheduler();
  readonly spine: Spine;
  readonly hostRam: SparseMemory;
  readonly cards: X100Card[] = [];
  readonly hostIo: HostSpace;
  readonly host: HostKernel;
  readonly mics: MicDevice[] = [];
  readonly mpssd: Mpssd[] = [];
  readonly cardOs: CardOs[] = [];
  readonly firmware = new Map<string, Uint8Array>();
  /** Errors thrown inside a routine (a model bug): reported, never thrown out of the loop. */
  readonly internalErrors: string[] = [];
  private started = false;

  constructor(partial: Partial<MachineConfig> = {}) {
    const cfg = { ...DEFAULT_CONFIG, ...partial };
    this.cfg = cfg;
    this.spine = new Spine(this.sched);
    this.sched.stopper = this.spine;
    this.hostRam = new SparseMemory('host', cfg.hostRamBytes);
    this.firmware.set('mic/uos.img', buildUosImage());
    this.firmware.set('mic/System.map', new TextEncoder().encode(buildSystemMap()));
    const sink = {
      msix: (card: X100Card, vector: number) => {
        const dev = this.mics[card.index];
        if (dev) this.sched.spawn(dev.isrTaskName(vector), 'host.driver', dev.isr(vector));
      },
    };
    for (let i = 0; i < cfg.cards; i++) {
      const c = new X100Card(
        { index: i, memoryBytes: cfg.cardMemoryBytes, revision: cfg.revision },
        this.sched,
        this.spine,
        this.hostRam,
        sink,
      );
      c.firmwareReadyDelayNs = cfg.firmwareReadyDelayNs;
      this.cards.push(c);
      const os = new CardOs(c);
      installCardModules(os);
      this.cardOs.push(os);
    }
    this.hostIo = new HostSpace(this.spine, this.hostRam, this.cards);
    this.host = new HostKernel(this.sched, this.spine, this.hostIo);
    for (const c of this.cards) {
      const dev = new MicDevice(c, this.host, this.firmware);
      this.mics.push(dev);
      this.mpssd.push(
        new Mpssd(dev, cfg.terminal(c.index), { autoBoot: cfg.autoBoot }, (m) => createBackends(m, cfg)),
      );
    }
    this.sched.onTaskError = (t, err) => {
      const msg = `internal error in ${t.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      this.internalErrors.push(msg);
      this.spine.protocolError(0, t.initiator, msg);
    };
  }

  /** Power on: card firmware starts, the host enumerates PCI, probes, and mpssd starts. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const os of this.cardOs) os.onPowerGood();
    this.sched.spawn('host boot', 'host.driver', this.hostBoot());
  }

  private *hostBoot(): Routine {
    yield call(enumerate(this.sched, this.hostIo, this.cards));
    for (const dev of this.mics) {
      const rc: number = yield call(dev.probe());
      if (rc < 0) this.host.printk(`${dev.name}: probe failed (${rc})`);
    }
    for (const m of this.mpssd) {
      this.sched.spawn(
        `mpssd ${m.name}`,
        'host.mpssd',
        frame(this.sched, 'mpssd', { card: m.name }, this.mpssdMain(m)),
      );
    }
  }

  private *mpssdMain(m: Mpssd): Routine {
    yield call(m.start());
    yield call(m.watch());
  }

  /** Run until nothing is scheduled, a stop is requested, or maxSteps steps passed. */
  run(maxSteps = Infinity, untilTime = Infinity): RunResult {
    const s = this.sched;
    const spine = this.spine;
    for (let n = 0; n < maxSteps; n++) {
      if (spine.stopRequested !== null) return 'stopped';
      if (!s.step(untilTime)) return 'idle';
      spine.quiet++;
    }
    return spine.stopRequested !== null ? 'stopped' : 'limit';
  }

  /**
   * Run until event number `seq` has happened — the step that made it ends there — or until
   * the machine is idle or stopped for another reason. True when it is exactly at `seq`.
   */
  runTo(seq: number): boolean {
    const spine = this.spine;
    if (spine.seq >= seq) return spine.seq === seq;
    spine.stopAtSeq = seq;
    try {
      while (this.run(1 << 20) === 'limit');
    } finally {
      spine.stopAtSeq = -1;
      if (spine.stopRequested === 'seek') spine.stopRequested = null;
    }
    return spine.seq === seq;
  }

  /** Run until pred() holds (checked after every step) or the machine goes idle. */
  runUntil(pred: () => boolean, maxSteps = 50_000_000): boolean {
    // One access per step, so pred sees the machine after every one.
    const inline = this.sched.maxInline;
    this.sched.maxInline = 0;
    try {
      for (let n = 0; n < maxSteps; n++) {
        if (pred()) return true;
        if (this.spine.stopRequested !== null) return pred();
        if (!this.sched.step()) return pred();
        this.spine.quiet++;
      }
      return pred();
    } finally {
      this.sched.maxInline = inline;
    }
  }

  /**
   * Told of every input from outside as it enters, with the event count at that moment (time
   * travel records them: machineInput.ts). Null: nobody records.
   */
  onInput: ((seq: number, input: MachineInput) => void) | null = null;

  /**
   * One place on (spine.quiet): a step of one access, none inlined — a replay's way to the
   * exact place an input came after. False if idle.
   */
  stepOnce(): boolean {
    const inline = this.sched.maxInline;
    this.sched.maxInline = 0;
    try {
      if (!this.sched.step()) return false;
    } finally {
      this.sched.maxInline = inline;
    }
    this.spine.quiet++;
    return true;
  }

  /** Enter a recorded input again (a replay): exactly what the original call did. */
  apply(i: MachineInput): void {
    switch (i.kind) {
      case 'console':
        return this.consoleInput(i.card, i.bytes);
      case 'host':
        return void this.hostCommand(i.card, i.command);
      case 'swapDisk':
        return void this.swapDisk(i.card, i.disk);
      case 'resizeDisk':
        return void this.resizeDisk(i.card, i.bytes);
      case 'debugWrite': {
        const t = this.target(i.region, i.card, i.address);
        if (t) this.debugWrite(t, i.data, i.side);
        return;
      }
    }
  }

  /** Keys typed at card N's console: an external input, recorded with its sequence number. */
  consoleInput(card: number, bytes: Uint8Array): void {
    this.onInput?.(this.spine.seq, { kind: 'console', card, bytes: bytes.slice() });
    this.input('input', `mic${card}.console`, bytes.length, bytes[0] ?? 0, new TextDecoder().decode(bytes));
    this.mpssd[card].console.input(bytes);
  }

  /**
   * An input from outside enters: it starts a causal chain of its own (no cause, no request),
   * and what it sets off follows from it.
   */
  private input(kind: 'input', space: string, size: number, value: number, text: string): void {
    this.sched.cause = 0;
    this.sched.req = 0;
    this.spine.text(kind, space, 0, size, value, text);
  }

  /**
   * A host-side command for card N: the sysfs state writes (boot via mpssd's `micctrl -b`,
   * reset, shutdown) and host power management (suspend, resume). The task's result is 0 or
   * −errno.
   */
  hostCommand(card: number, cmd: HostCommand): Task {
    this.onInput?.(this.spine.seq, { kind: 'host', card, command: cmd });
    const dev = this.mics[card];
    const m = this.mpssd[card];
    let r: Routine<unknown>;
    if (cmd === 'boot') r = m.boot();
    else if (cmd === 'suspend') r = dev.pmSuspend();
    else if (cmd === 'resume') r = dev.pmResume();
    else r = dev.writeState(cmd);
    this.input('input', dev.name, 0, 0, `host command: ${cmd}`);
    return this.sched.spawn(`${dev.name} host ${cmd}`, 'host.driver', r);
  }

  /** Swap card N's disk image while it runs: hot remove, close, open the new image, add. */
  swapDisk(card: number, disk: DiskConfig): Task {
    this.onInput?.(this.spine.seq, { kind: 'swapDisk', card, disk: { ...disk, journal: null } });
    // The swapped-in image follows the timeline too.
    if (!disk.journal && this.cfg.journalFor) disk = { ...disk, journal: this.cfg.journalFor(disk.path) };
    const m = this.mpssd[card];
    this.input('input', m.name, 0, 0, `host: swap disk to ${disk.path}`);
    return this.sched.spawn(
      `${m.name} disk swap`,
      'host.mpssd',
      m.replaceBackend('block', new BlockBackend(this.mics[card], disk)),
    );
  }

  /** Resize card N's disk image while it runs and announce it with a config change. */
  resizeDisk(card: number, bytes: number): Task | null {
    const m = this.mpssd[card];
    const b = m.backend<BlockBackend>('block');
    if (!b) return null;
    this.onInput?.(this.spine.seq, { kind: 'resizeDisk', card, bytes });
    this.input('input', m.name, 0, 0, `host: resize disk to ${bytes} bytes`);
    return this.sched.spawn(`${m.name} disk resize`, 'host.mpssd', b.resize(bytes));
  }

  state(card: number): MicState {
    return this.mics[card].state;
  }

  /**
   * The host files this machine could not open (a disk image, a pcap), one per file: launch and
   * the CLI refuse to start with any, so a bad path is never a silent 0-sector disk or a missing
   * capture.
   */
  fileErrors(): { card: number; role: 'disk' | 'pcap'; path: string; message: string }[] {
    const out: { card: number; role: 'disk' | 'pcap'; path: string; message: string }[] = [];
    this.mpssd.forEach((m, card) => {
      const blk = m.backend<BlockBackend>('block');
      if (blk?.openError) out.push({ card, role: 'disk', path: blk.disk.path, message: blk.openError });
      const net = m.backend<NetBackend>('net');
      if (net?.pcap?.error) out.push({ card, role: 'pcap', path: net.pcap.path, message: net.pcap.error });
    });
    return out;
  }

  // ---- the debugger's verbs (debugPort.ts) -------------------------------------------------

  private get port(): DebugPortParts {
    return (this.portParts ??= {
      spine: this.spine,
      hostRam: this.hostRam,
      hostIo: this.hostIo,
      cards: this.cards,
      cardIo: (i) => this.cardOs[i].io,
    });
  }
  private portParts: DebugPortParts | null = null;

  /** Where a host-physical address lands, as a debugger names it (see debugPort.ts), or null. */
  resolve(address: number): MemoryTarget | null {
    return resolveHostPhysical(this.port, address);
  }

  /** Host RAM, a card's GDDR or its registers (BAR4 offset) at `address`, or null beyond them. */
  target(region: 'host' | 'gddr' | 'mmio', card: number, address: number): MemoryTarget | null {
    if (region === 'host') return hostTarget(this.port, address);
    return region === 'gddr' ? gddrTarget(this.port, card, address) : mmioTarget(this.port, card, address);
  }

  /** Up to `count` bytes at a target, without events or read side effects. */
  peek(t: MemoryTarget, count: number): Uint8Array {
    return peek(this.port, t, count);
  }

  /** A write by the debugger, with register semantics, as events of initiator `debugger`. */
  debugWrite(t: MemoryTarget, data: Uint8Array, side: 'host' | 'card' = 'host'): number {
    this.onInput?.(this.spine.seq, {
      kind: 'debugWrite',
      region: t.region,
      card: t.card,
      address: t.address,
      data: data.slice(0, t.limit),
      side,
    });
    return debugWrite(this.port, t, data, side);
  }

  /** Every initiator a person thinks about: host driver, mpssd, back-ends, card OSes, DMA channels that ran. */
  initiators(): string[] {
    const out = ['host.driver', 'host.mpssd'];
    for (let i = 0; i < this.cards.length; i++) {
      out.push(this.cardOs[i].initiator);
      for (const b of this.mpssd[i].backends) out.push(b.initiator);
      out.push(...this.cards[i].dma.usedChannels());
    }
    return out;
  }

  /** Stop everything and release host resources (disk images flushed, pcap files closed). */
  dispose(): void {
    this.sched.clear();
    for (const m of this.mpssd) m.close();
  }
}
