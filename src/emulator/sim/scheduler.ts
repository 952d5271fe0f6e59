// Virtual time and cooperative tasks. Software models are generators: they yield after every
// bus access (a number or undefined), or yield a Sleep / Wait command. The scheduler resumes
// them one step at a time, so the machine can stop between any two steps, deterministically.

import type { Frame } from './busEvent.ts';

export class Sleep {
  ns = 0;
}
export class Wait {
  queue: WaitQueue | null = null;
  timeoutNs = -1;
}
export class Call {
  routine: Routine<unknown> | null = null;
}

/** After an access a routine yields its result (a number or the bytes read), else a command. */
export type Yielded = number | void | undefined | Uint8Array | Sleep | Wait | Call;
/** A software routine. `yield` gives back the value of the access just made (or a wait result). */
export type Routine<T = void> = Generator<Yielded, T, any>;

// Single-threaded: the yielded command is consumed before the next one is built, so one
// object of each kind is enough (no allocation per sleep on the hot path).
const SLEEP = new Sleep();
const WAIT = new Wait();
const CALL = new Call();

export function sleep(ns: number): Sleep {
  SLEEP.ns = ns;
  return SLEEP;
}

/**
 * `const v = yield call(r)` runs routine r as part of the calling task, exactly as
 * `const v = yield* r` does: in the same step, with the same values, exceptions and returns
 * passing between them. The difference is speed: with `yield*` every step of r resumes each
 * generator between the task's root and r; with call() the scheduler keeps the task's routines
 * on a stack and resumes only the innermost.
 */
export function call(routine: Routine<unknown>): Call {
  CALL.routine = routine;
  return CALL;
}

/** A routine that does nothing (for a routine-returning function with nothing to do). */
export function* nothing(): Routine {}

/** Block until the queue is signalled (resumes with true) or the time-out passes (false). */
export function waitOn(queue: WaitQueue, timeoutNs = -1): Wait {
  WAIT.queue = queue;
  WAIT.timeoutNs = timeoutNs;
  return WAIT;
}

// Every generator function has a prototype of its own, so `g.next` over the machine's many
// routines is a megamorphic property load on each step. The builtins behind it are shared:
// call them directly (FrameRoutine, the one routine that is not a generator, keeps its own).
const GENERATOR_PROTOTYPE = Object.getPrototypeOf(function* () {}).prototype as Routine<unknown>;
const genNext = GENERATOR_PROTOTYPE.next;
const genThrow = GENERATOR_PROTOTYPE.throw;

export type TaskState = 'ready' | 'sleeping' | 'waiting' | 'done';

export class Task {
  state: TaskState = 'ready';
  frames: Frame | null = null;
  resume: any = undefined;
  /** Bumped on every wake so a stale time-out timer is ignored. */
  waitToken = 0;
  waitingOn: WaitQueue | null = null;
  onDone: ((t: Task, error?: unknown) => void) | null = null;
  /** What the routine returned. */
  result: unknown = undefined;
  /** Routines entered with `yield call(…)` above `gen`, innermost last. */
  readonly stack: Routine<unknown>[] = [];
  /** Who started it (a card OS), so that it can find and stop its own tasks. */
  owner: object | null = null;
  /** Place in the scheduler's TaskList, −1 once gone. */
  slot = -1;
  /** The task's causal context between steps (see Scheduler.cause and Scheduler.req). */
  cause = 0;
  req = 0;
  /** The card and DMA channel its initiator's name says, as the spine reads them (null: not yet). */
  names: { readonly card: number; readonly channel: number } | null = null;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly initiator: string,
    readonly gen: Routine<unknown>,
  ) {}
}

/**
 * The live tasks. A few tasks start and end with every virtio request (interrupt threads, DMA
 * channel runs); a Set hashes each new Task and rehashes as deleted entries pile up, which cost
 * 3 % of a 512-byte read. Here a task knows its slot: add and delete are an array store and a
 * swap with the last. Iteration order is not insertion order after a delete.
 */
export class TaskList implements Iterable<Task> {
  private a: Task[] = [];
  get size(): number {
    return this.a.length;
  }
  has(t: Task): boolean {
    return t.slot >= 0 && this.a[t.slot] === t;
  }
  add(t: Task): void {
    if (this.has(t)) return;
    t.slot = this.a.length;
    this.a.push(t);
  }
  delete(t: Task): boolean {
    if (!this.has(t)) return false;
    const last = this.a.pop()!;
    if (last !== t) {
      this.a[t.slot] = last;
      last.slot = t.slot;
    }
    t.slot = -1;
    return true;
  }
  [Symbol.iterator](): Iterator<Task> {
    return this.a[Symbol.iterator]();
  }
}

export class WaitQueue {
  private waiters: Task[] = [];
  constructor(
    private readonly sched: Scheduler,
    readonly name: string,
    /**
     * A lock's queue (a busy DMA channel, mic_mutex): a waiter woken goes on with what it was
     * doing, so its next event follows from its own last one, not from whoever let go of the lock.
     */
    readonly lock = false,
  ) {}
  add(t: Task): void {
    this.waiters.push(t);
  }
  remove(t: Task): void {
    const i = this.waiters.indexOf(t);
    if (i >= 0) this.waiters.splice(i, 1);
  }
  get length(): number {
    return this.waiters.length;
  }
  /** Wake every waiter. Returns how many were woken. */
  signal(): number {
    const w = this.waiters;
    if (w.length === 0) return 0;
    this.waiters = [];
    for (const t of w) {
      const own = t.cause;
      this.sched.wake(t, true);
      if (this.lock) t.cause = own;
    }
    return w.length;
  }
}

interface Timer {
  time: number;
  order: number;
  task: Task | null;
  token: number;
  fn: (() => void) | null;
  /** The causal context when it was set: what fires it was caused by that. */
  cause: number;
  req: number;
}

/** Min-heap of timers ordered by (time, insertion order) so equal times stay FIFO. */
class TimerHeap {
  private a: Timer[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Timer | undefined {
    return this.a[0];
  }
  push(t: Timer): void {
    const a = this.a;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ap = a[p];
      if (!less(t, ap)) break;
      a[i] = ap;
      i = p;
    }
    a[i] = t;
  }
  pop(): Timer | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      // Sift `last` down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && less(a[r], a[l]) ? r : l;
        if (!less(a[m], last)) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
  clear(): void {
    this.a = [];
  }
}
function less(x: Timer, y: Timer): boolean {
  return x.time < y.time || (x.time === y.time && x.order < y.order);
}

export class Scheduler {
  /** Virtual nanoseconds. */
  now = 0;
  /** The task whose step is running (its initiator and frames stamp the events it causes). */
  current: Task | null = null;
  private ready: Task[] = [];
  private readyHead = 0;
  private timers = new TimerHeap();
  /** Timers that fired or went stale, reused by the next sleep (no allocation per sleep). */
  private spare: Timer[] = [];
  private order = 0;
  private nextId = 1;
  readonly tasks = new TaskList();
  /**
   * Called when a task's generator throws, or when software catches a bug of its own so as to
   * go on (the card shell): the machine reports it, the loop goes on.
   */
  onTaskError: (t: Pick<Task, 'name' | 'initiator'>, err: unknown) => void = () => {};
  /**
   * Accesses a task may go on making within one step while no other task is ready (see
   * resumeTask). 0 makes every access its own step (runUntil, which tests its predicate
   * after each one).
   */
  maxInline = 32;
  /**
   * Whoever may ask the run loop to stop (the spine): an inline run ends at once when asked.
   * Its `quiet` counts the places since the last event where a step could have ended (see
   * resumeTask), so a place in the run is the same whether or not a stop cut the step there.
   */
  stopper: { readonly stopRequested: string | null; quiet: number } | null = null;
  /**
   * The causal context of what runs now: the seq of the last event it made (the next event's
   * cause, see BusEvent.cause) and the virtio request it works on (BusEvent.req). A task keeps
   * its own between steps; a task spawned, a task woken and a timer set take the context of
   * whoever did it, so an interrupt's handler follows from the interrupt, a DMA descriptor from
   * the DHPR write, and a woken back-end from whatever woke it. Software that knows which
   * request it serves sets `req` itself (the virtqueues, VOP). Two stores per step: kept even
   * when nobody observes, so the numbers do not depend on being watched.
   */
  cause = 0;
  req = 0;
  /** Nothing has happened since the machine last could stop: the next event opens an access. */
  boundary = true;

  spawn(name: string, initiator: string, gen: Routine<unknown>, frames: Frame | null = null): Task {
    const t = new Task(this.nextId++, name, initiator, gen);
    t.frames = frames;
    t.cause = this.cause;
    t.req = this.req;
    this.tasks.add(t);
    this.ready.push(t);
    return t;
  }

  /** Run `fn` (a hardware action, not a task) at now + delay. */
  at(delayNs: number, fn: () => void): void {
    this.timers.push(this.timer(this.now + delayNs, null, 0, fn));
  }

  private timer(time: number, task: Task | null, token: number, fn: (() => void) | null): Timer {
    const t = this.spare.pop();
    if (t === undefined)
      return { time, order: this.order++, task, token, fn, cause: this.cause, req: this.req };
    t.time = time;
    t.order = this.order++;
    t.task = task;
    t.token = token;
    t.fn = fn;
    t.cause = this.cause;
    t.req = this.req;
    return t;
  }

  private release(t: Timer): void {
    t.task = null;
    t.fn = null;
    this.spare.push(t);
  }

  wake(t: Task, value: unknown): void {
    if (t.state !== 'waiting' && t.state !== 'sleeping') return;
    if (t.waitingOn) t.waitingOn.remove(t);
    t.waitingOn = null;
    t.waitToken++;
    t.state = 'ready';
    t.resume = value;
    // Woken by whoever runs now (a signal, or the timer of its own sleep): that caused its next
    // step. The request stays the task's own (a woken task says itself what it serves next).
    t.cause = this.cause;
    this.ready.push(t);
  }

  kill(t: Task): void {
    if (t.state === 'done') return;
    if (t.waitingOn) t.waitingOn.remove(t);
    t.waitingOn = null;
    t.state = 'done';
    t.waitToken++;
    this.tasks.delete(t);
    // A task that kills itself is in the middle of its step: as with `yield*`, where the root
    // generator is then still running and refuses return(), nothing is unwound now.
    if (this.current === t) return;
    // Unwind innermost first, as return() on the root would through `yield*`: a routine's
    // finally runs, then its caller's; an exception from one goes to the caller as a throw.
    const stack = t.stack;
    let failed = false;
    let error: unknown;
    for (let i = stack.length; i >= 0; i--) {
      const g = i > 0 ? stack[i - 1] : t.gen;
      try {
        if (failed) {
          failed = false;
          g.throw(error);
        } else g.return(undefined);
      } catch (e) {
        failed = true;
        error = e;
      }
    }
    stack.length = 0;
    // An error left over had nothing left to report to (a finally that failed while cancelled).
  }

  get idle(): boolean {
    return this.readyHead >= this.ready.length && this.timers.size === 0;
  }

  /** Time of the next timer, or Infinity. */
  get nextTimerTime(): number {
    return this.timers.peek()?.time ?? Infinity;
  }

  get hasReady(): boolean {
    return this.readyHead < this.ready.length;
  }

  /**
   * Perform one step: one task resumption, or one timer. Returns false when there is nothing
   * to do at all, or when the next timer lies beyond `limitTime`.
   */
  step(limitTime = Infinity): boolean {
    if (this.readyHead < this.ready.length) {
      const t = this.ready[this.readyHead++];
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      if (t.state === 'ready') this.resumeTask(t);
      return true;
    }
    let next = this.timers.peek();
    // A time-out whose waiter was already woken is dropped without moving the clock.
    while (next && next.task && next.task.waitToken !== next.token) {
      this.release(this.timers.pop()!);
      next = this.timers.peek();
    }
    if (!next || next.time > limitTime) return false;
    this.timers.pop();
    const { time, fn, task, token } = next;
    this.cause = next.cause;
    this.req = next.req;
    this.boundary = true;
    this.release(next);
    if (time > this.now) this.now = time;
    if (fn) {
      fn();
    } else if (task && task.waitToken === token) {
      this.wake(task, false);
    }
    this.boundary = true;
    return true;
  }

  private resumeTask(t: Task): void {
    this.current = t;
    this.boundary = true;
    this.cause = t.cause;
    this.req = t.req;
    let r: IteratorResult<Yielded, unknown>;
    let v = t.resume;
    t.resume = undefined;
    const stack = t.stack;
    let g = stack.length > 0 ? stack[stack.length - 1] : t.gen;
    let throwing = false;
    let error: unknown = undefined;
    let inline = this.maxInline;
    // One step: resume the innermost routine; a routine that returns or throws hands over to its
    // caller, and a call() starts the callee, all within this step (as `yield*` would).
    for (;;) {
      try {
        if (g instanceof FrameRoutine) {
          if (throwing) {
            throwing = false;
            r = g.throw(error);
          } else r = g.next(v);
        } else if (throwing) {
          throwing = false;
          r = genThrow.call(g, error);
        } else r = genNext.call(g, v);
      } catch (err) {
        if (stack.length === 0) {
          this.current = null;
          this.boundary = true;
          this.finish(t, err);
          return;
        }
        stack.pop();
        g = stack.length > 0 ? stack[stack.length - 1] : t.gen;
        throwing = true;
        error = err;
        continue;
      }
      if (r.done) {
        if (stack.length === 0) break;
        stack.pop();
        g = stack.length > 0 ? stack[stack.length - 1] : t.gen;
        v = r.value;
        continue;
      }
      if (r.value === CALL) {
        g = CALL.routine!;
        CALL.routine = null;
        stack.push(g);
        v = undefined;
        continue;
      }
      // An access (not a Sleep or Wait). With no other task ready, the next step() would pop
      // this task again and nothing else would happen in between: the run loop only checks for
      // a stop request, and timers fire only when no task is ready. So go on right here, with
      // the same result, events and order, minus a trip through the ready queue. Bounded, so
      // that a task polling a register without sleeping still returns to the run loop.
      const y = r.value;
      if (
        inline > 0 &&
        (typeof y !== 'object' || y instanceof Uint8Array) &&
        this.readyHead >= this.ready.length &&
        t.state === 'ready' &&
        (this.stopper === null || this.stopper.stopRequested === null)
      ) {
        inline--;
        // A place where the step could have ended (and does, in a replay that stopped at the
        // event just made): counted like a step's end, so (seq, quiet) names it either way.
        if (this.stopper !== null) this.stopper.quiet++;
        v = y;
        this.boundary = true;
        continue;
      }
      break;
    }
    this.current = null;
    this.boundary = true;
    t.cause = this.cause;
    t.req = this.req;
    if (r.done) {
      t.result = r.value;
      this.finish(t);
      return;
    }
    const y = r.value;
    if (y === SLEEP || y instanceof Sleep) {
      t.state = 'sleeping';
      this.timers.push(this.timer(this.now + Math.max(0, (y as Sleep).ns), t, t.waitToken, null));
    } else if (y === WAIT || y instanceof Wait) {
      const w = y as Wait;
      t.state = 'waiting';
      t.waitingOn = w.queue;
      w.queue!.add(t);
      if (w.timeoutNs >= 0) this.timers.push(this.timer(this.now + w.timeoutNs, t, t.waitToken, null));
    } else {
      // An access happened; hand its value back on the next resume.
      t.resume = y;
      this.ready.push(t);
    }
  }

  private finish(t: Task, err?: unknown): void {
    t.state = 'done';
    this.tasks.delete(t);
    if (err !== undefined) this.onTaskError(t, err);
    t.onDone?.(t, err);
  }

  /** Forget everything (machine teardown). */
  clear(): void {
    for (const t of [...this.tasks]) this.kill(t);
    this.ready = [];
    this.readyHead = 0;
    this.timers.clear();
    this.spare = [];
  }
}

/**
 * `frame()` as an iterator rather than a generator: the same protocol (a routine the caller
 * delegates to with `yield*`), one plain method call per step instead of one more generator to
 * resume. The frame is pushed when the routine first runs and popped when it returns, throws or
 * is cancelled, exactly as `try { return yield* body } finally { restore }` would.
 */
class FrameRoutine<T> implements Generator<Yielded, T, any> {
  /** 0 not started, 1 running (frame pushed), 2 finished (frame popped). */
  private phase = 0;
  private task: Task | null = null;
  private saved: Frame | null = null;

  constructor(
    private readonly sched: Scheduler,
    private readonly fn: string,
    private readonly args: Record<string, string | number> | undefined,
    private readonly body: Routine<T>,
  ) {}

  private enter(): void {
    const t = this.sched.current!;
    this.task = t;
    this.saved = t.frames;
    t.frames = { fn: this.fn, args: this.args, parent: this.saved };
    this.phase = 1;
  }

  private leave(): void {
    this.phase = 2;
    this.task!.frames = this.saved;
  }

  next(v?: any): IteratorResult<Yielded, T> {
    if (this.phase !== 1) {
      if (this.phase === 2) return { value: undefined as T, done: true };
      this.enter();
    }
    let r: IteratorResult<Yielded, T>;
    try {
      r = this.body.next(v);
    } catch (e) {
      this.leave();
      throw e;
    }
    if (r.done) this.leave();
    return r;
  }

  return(value?: any): IteratorResult<Yielded, T> {
    if (this.phase !== 1) {
      this.phase = 2;
      return { value, done: true };
    }
    let r: IteratorResult<Yielded, T>;
    try {
      r = this.body.return(value);
    } catch (e) {
      this.leave();
      throw e;
    }
    if (r.done) this.leave();
    return r;
  }

  throw(e: any): IteratorResult<Yielded, T> {
    if (this.phase !== 1) {
      this.phase = 2;
      throw e;
    }
    let r: IteratorResult<Yielded, T>;
    try {
      r = this.body.throw(e);
    } catch (err) {
      this.leave();
      throw err;
    }
    if (r.done) this.leave();
    return r;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/**
 * Push a logical frame on task t's chain and return the chain to restore. Hot routines use it
 * in place of `yield* frame(…)` to save a level of delegation per step:
 *
 *   const t = sched.current!;
 *   const saved = enterFrame(t, 'mic_dma_memcpy_sync', { ch });
 *   try { … } finally { t.frames = saved; }
 *
 * which pushes and pops at the same moments as `yield* frame(sched, 'mic_dma_memcpy_sync', …)`.
 */
export function enterFrame(
  t: Task,
  fn: string,
  args: Record<string, string | number> | undefined,
): Frame | null {
  const saved = t.frames;
  t.frames = { fn, args, parent: saved };
  return saved;
}

/** Run `body` with a logical frame pushed on the running task's frame chain. */
export function frame<T>(
  sched: Scheduler,
  fn: string,
  args: Record<string, string | number> | undefined,
  body: Routine<T>,
): Routine<T> {
  return new FrameRoutine(sched, fn, args, body);
}
