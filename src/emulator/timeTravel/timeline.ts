// Time travel, by record and replay. Software state lives in generator routines, so a machine
// cannot be copied; but it is deterministic, so a fresh machine given the same configuration
// and the same inputs at the same event numbers goes through the same events. A Timeline keeps
// those inputs (machineInput.ts), a running hash of the events to check each replay against,
// and the undo journals that make the disk images follow (diskJournal.ts). Going to event N:
// the images go back to the start, a fresh machine boots and runs to N, the recorded inputs
// entering where they entered. Going on from a past moment replays the recorded future as long
// as nothing new happens; the first new input starts a new timeline (the old future is dropped).

import type { Machine } from '../machine.ts';
import type { MachineInput, TimedInput } from '../machineInput.ts';
import type { BusEvent } from '../sim/busEvent.ts';
import type { ImageJournal } from '../hostSoftware/mpssd/fileBytes.ts';
import { PcapCapture } from '../hostSoftware/pcap.ts';
import { RunningHash } from './eventHash.ts';
import { DiskJournal } from './diskJournal.ts';
import { WriteIndex } from './writeIndex.ts';
import { EventStore } from './eventStore.ts';

/** Hash checkpoints are kept every this many events (and at every input). */
export const CHECKPOINT = 1 << 16;
/** The virtual time is kept every this many events (for `goto time`). */
const TIME_STEP = 1 << 12;
/** A replay gives the event loop a turn (and reports progress) every this many events. */
const CHUNK = 1 << 18;

export interface TimelineOptions {
  /**
   * Build a fresh machine (not started), the same each time; disk image N gets the journal
   * `journalFor(path)` hands out (the timeline keeps one per image across machines), and a pcap
   * file the capture `pcapFor(path)` hands out (kept across machines, cut back by a seek).
   */
  build(journalFor: (path: string) => ImageJournal, pcapFor: (path: string) => PcapCapture): Machine;
  /**
   * Watch each machine's events itself (a spine observer). Off, the owner calls observe() for
   * every event from its own observer (one observer less on the bus: the debug adapter does).
   */
  observeSelf?: boolean;
  /**
   * A timeline recorded before (a recording file: recordingFile.ts): its inputs, hash
   * checkpoints and head. The machine starts at power-on; seek(head) replays it, checked.
   */
  recorded?: RecordedTimeline;
  /** Keep the session's events in an EventStore (the MIC Timeline's data) with this cap. */
  events?: { cap?: number };
}

/** What a timeline is, apart from its machine: what a recording file keeps. */
export interface RecordedTimeline {
  inputs: TimedInput[];
  /** [event number, running hash after it], ascending. */
  checkpoints: [number, number][];
  head: number;
  /** The running hash after event `head`. */
  headHash: number;
}

/** Where a replay is: events done of events to do. */
export interface ReplayProgress {
  at: number;
  target: number;
}

export class ReplayDivergence extends Error {}

export class Timeline {
  /** The inputs of this timeline, in order of entry. */
  readonly inputs: TimedInput[] = [];
  /** The hash of the event stream after event seq, at checkpoints and inputs. */
  private readonly hashes = new Map<number, number>();
  /** Virtual time of every TIME_STEP-th event. */
  private times = new Float64Array(1024);
  /** Bit per event: it opens an access (the machine can stop just before it). */
  private opens = new Uint8Array(1 << 16);
  /** The furthest event this timeline has reached (its recorded future ends there). */
  head = 0;
  /** Every write of this timeline, for "who last wrote this?" (writeIndex.ts). */
  readonly writes = new WriteIndex();
  /** The running hash after event `head` (a replay that reaches the head is checked against it). */
  headHash = new RunningHash().value;
  /** The machine that runs now. */
  machine: Machine;
  /** The session's events (new ones only: a replay does not add them again), if asked for. */
  events: EventStore | null;
  /** The first replay that went another way, in words (null: none so far). */
  divergence: string | null = null;
  private hash = new RunningHash();
  private readonly journals = new Map<string, DiskJournal>();
  /** The pcap files: they follow the timeline (cut back to the moment after a seek). */
  private readonly captures = new Map<string, PcapCapture>();
  /** Entering a recorded input again: not a new one. */
  private replaying = false;
  /** Index of the next recorded input to enter while going forward through the recorded future. */
  private next = 0;

  constructor(private readonly opts: TimelineOptions) {
    this.events = opts.events ? new EventStore(opts.events.cap) : null;
    const r = opts.recorded;
    if (r) {
      this.inputs.push(...r.inputs);
      for (const [seq, hash] of r.checkpoints) this.hashes.set(seq, hash);
      this.head = r.head;
      this.headHash = r.headHash;
    }
    this.machine = this.fresh();
  }

  /** This timeline as a recording keeps it (the inputs are shared, not copied). */
  recorded(): RecordedTimeline {
    // The regular checkpoints only (not those at every input): a session typed by a script has
    // an input every few hundred events, and 4 random bytes each would dominate the file.
    const checkpoints = [...this.hashes]
      .filter(([seq]) => seq <= this.head && (seq & (CHECKPOINT - 1)) === 0)
      .sort((a, b) => a[0] - b[0]);
    return { inputs: this.inputs, checkpoints, head: this.head, headHash: this.headHash };
  }

  /** A new machine, not started: the owner attaches its observers, then calls start(). */
  private fresh(): Machine {
    const m = this.opts.build(
      (path) => this.journal(path),
      (path) => this.capture(path),
    );
    m.onInput = (seq, input) => this.onInput(seq, input);
    if (this.opts.observeSelf) m.spine.observe((e) => this.observe(e));
    this.hash = new RunningHash();
    this.next = 0;
    return m;
  }

  private journal(path: string): DiskJournal {
    let j = this.journals.get(path);
    if (!j) {
      DiskJournal.recover(path);
      this.journals.set(path, (j = new DiskJournal(path, () => this.machine.spine.seq)));
    }
    return j;
  }

  private capture(path: string): PcapCapture {
    let c = this.captures.get(path);
    if (!c) this.captures.set(path, (c = new PcapCapture(path)));
    return c;
  }

  /** Where the machine is now. */
  get seq(): number {
    return this.machine.spine.seq;
  }

  /** Every event of the machine, in order (the owner's observer calls this for each). */
  observe(e: BusEvent): void {
    this.hash.add(e);
    const seq = e.seq;
    if (seq > this.head) {
      this.head = seq;
      this.headHash = this.hash.value;
    }
    // The store keeps its own head (new events only): a replay's events are had already.
    this.events?.add(e);
    const k = e.kind;
    if (k === 'mem.write' || k === 'mmio.write' || k === 'cfg.write') this.writes.add(e);
    if (e.opens) {
      const byte = seq >>> 3;
      if (byte >= this.opens.length) {
        const b = new Uint8Array(Math.max(this.opens.length * 2, byte + 1));
        b.set(this.opens);
        this.opens = b;
      }
      this.opens[byte] |= 1 << (seq & 7);
    }
    if ((seq & (TIME_STEP - 1)) === 0) {
      const i = seq / TIME_STEP;
      if (i >= this.times.length) {
        const t = new Float64Array(this.times.length * 2);
        t.set(this.times);
        this.times = t;
      }
      this.times[i] = e.time;
    }
    if ((seq & (CHECKPOINT - 1)) === 0) this.check(seq);
  }

  /** At a checkpoint: the same hash as recorded, or record it. */
  private check(seq: number): void {
    const want = this.hashes.get(seq);
    const got = this.hash.value;
    if (want === undefined) this.hashes.set(seq, got);
    else if (want !== got && this.divergence === null)
      this.divergence = `the replay went another way: at event ${seq} its hash is 0x${got.toString(16)}, the recording's 0x${want.toString(16)}`;
  }

  private onInput(seq: number, input: MachineInput): void {
    if (this.replaying) return;
    // A new input: if the recorded future goes on past here, this is a new timeline.
    if (seq < this.head || this.next < this.inputs.length) this.fork(seq);
    this.check(seq);
    this.inputs.push({ seq, quiet: this.machine.spine.quiet, input, time: this.machine.sched.now });
    this.next = this.inputs.length;
  }

  /** Told when a new input drops the recorded future (how much of it went). */
  onFork: ((seq: number, dropped: { events: number; inputs: number }) => void) | null = null;

  /** The recorded future after moment `seq` is dropped: inputs, hashes, disk changes. */
  private fork(seq: number): void {
    const dropped = { events: Math.max(0, this.head - seq), inputs: this.inputs.length - this.next };
    this.inputs.length = this.next;
    for (const k of [...this.hashes.keys()]) if (k > seq) this.hashes.delete(k);
    for (const j of this.journals.values()) {
      j.dropFuture();
      j.reads.dropFrom(seq);
    }
    this.writes.truncate(seq);
    this.head = seq;
    this.headHash = this.hash.value;
    this.events?.truncate(seq);
    this.onFork?.(seq, dropped);
  }

  /** What a new input now would drop: the events and inputs of the recorded future. */
  future(): { events: number; inputs: number } {
    return { events: Math.max(0, this.head - this.seq), inputs: this.inputs.length - this.next };
  }

  /** The event number of the next recorded input ahead, or −1 (the owner stops the machine there). */
  nextInputSeq(): number {
    return this.next < this.inputs.length ? this.inputs[this.next].seq : -1;
  }

  /**
   * Enter the recorded inputs due at this moment (the machine stopped at their event number):
   * first the quiet steps each came after, then the input.
   */
  enterDueInputs(): void {
    const m = this.machine;
    while (this.next < this.inputs.length && this.inputs[this.next].seq === m.spine.seq) {
      const due = this.inputs[this.next];
      while (m.spine.quiet < due.quiet && m.spine.seq === due.seq && m.stepOnce());
      if (m.spine.seq !== due.seq || m.spine.quiet !== due.quiet) {
        this.divergence ??= `the replay went another way: the input at event ${due.seq} came after ${due.quiet} quiet steps, the replay is at event ${m.spine.seq} after ${m.spine.quiet}`;
        return;
      }
      this.check(m.spine.seq);
      this.replaying = true;
      try {
        m.apply(this.inputs[this.next].input);
      } finally {
        this.replaying = false;
      }
      this.next++;
    }
  }

  /**
   * The moment the machine could last stop at before moment `seq` (after event `seq`): the
   * event before the latest access that began at or before `seq`. −1 at the very beginning.
   */
  momentBefore(seq: number): number {
    for (let f = Math.min(seq, this.head); f >= 1; f--)
      if (this.opens[f >>> 3] & (1 << (f & 7))) return f - 1;
    return -1;
  }

  /** The next moment the machine can stop at after moment `seq`, or −1 past the recorded head. */
  momentAfter(seq: number): number {
    for (let f = seq + 2; f <= this.head; f++) if (this.opens[f >>> 3] & (1 << (f & 7))) return f - 1;
    return seq < this.head ? this.head : -1;
  }

  /** The first event at or after virtual time `ns` (a TIME_STEP-wide window; the owner refines). */
  seqNearTime(ns: number): number {
    const n = Math.floor(this.head / TIME_STEP);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.times[mid] <= ns) lo = mid;
      else hi = mid - 1;
    }
    return lo * TIME_STEP;
  }

  /**
   * Go to the moment just after event `target` (0: power-on, nothing run yet). Forward within
   * the recorded future runs on; backward starts a fresh machine from power-on with the disk
   * images back at the start. A generator: it yields progress every CHUNK events, so the owner
   * can report it, give the event loop a turn, or give up (return()); it returns the machine,
   * which may be a new one (re-attach observers to it). Throws ReplayDivergence if the replay
   * goes another way than the recording.
   */
  *seek(target: number, onFresh?: (m: Machine) => void): Generator<ReplayProgress, Machine> {
    if (!Number.isInteger(target) || target < 0)
      throw new RangeError(`event ${target} is not an event number`);
    if (target > this.head) target = this.head;
    if (target < this.seq) {
      this.machine.dispose();
      for (const j of this.journals.values()) j.undoAfter(0);
      this.machine = this.fresh();
      onFresh?.(this.machine);
      this.machine.start();
    }
    const m = this.machine;
    try {
      yield* this.runOn(m, target);
    } finally {
      // Done, cancelled or gone another way: the pcap files hold what the machine wrote by now.
      for (const c of this.captures.values()) c.cutHere();
    }
    return m;
  }

  private *runOn(m: Machine, target: number): Generator<ReplayProgress, void> {
    for (;;) {
      this.enterDueInputs();
      const stop = this.nextInputSeq();
      const to = Math.min(target, stop >= 0 ? stop : target, m.spine.seq + CHUNK);
      if (m.spine.seq < to && !m.runTo(to) && m.spine.seq < to) {
        // Idle before `to`: the recording went further, so this replay went another way.
        throw new ReplayDivergence(
          `the replay went another way: the machine went idle at event ${m.spine.seq}, the recording goes on to ${this.head}`,
        );
      }
      if (m.spine.seq === this.head && this.hash.value !== this.headHash && this.divergence === null)
        this.divergence = `the replay went another way: at event ${this.head} (the end of the recording) its hash is 0x${this.hash.value.toString(16)}, the recording's 0x${this.headHash.toString(16)}`;
      if (this.divergence) throw new ReplayDivergence(this.divergence);
      for (const j of this.journals.values()) if (j.divergence) throw new ReplayDivergence(j.divergence);
      if (m.spine.seq >= target) break;
      yield { at: m.spine.seq, target };
    }
  }

  /** Run a seek to the end without yielding (tests, the CLI). */
  seekNow(target: number, onFresh?: (m: Machine) => void): Machine {
    const g = this.seek(target, onFresh);
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
    }
  }

  /**
   * Keep the session's events from now on (the MIC Timeline's data). The events before now are
   * the owner's to feed, by a replay from power-on (the store takes each seq once, in order).
   */
  keepEvents(cap?: number): EventStore {
    return (this.events ??= new EventStore(cap));
  }

  /** The disk journals (one per image this timeline opened). */
  diskJournals(): DiskJournal[] {
    return [...this.journals.values()];
  }

  /** The session ends where it is: the images keep this moment, the journals go. */
  dispose(): void {
    this.machine.dispose();
    for (const j of this.journals.values()) j.close();
    this.journals.clear();
    for (const c of this.captures.values()) c.close();
    this.captures.clear();
  }
}
