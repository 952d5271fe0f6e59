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

/** After an access a routine yields its result (a number or the bytes read), else a command. */
export type Yielded = number | void | undefined | Uint8Array | Sleep | Wait;
/** A software routine. `yield` gives back the value of the access just made (or a wait result). */
export type Routine<T = void> = Generator<Yielded, T, any>;

// Single-threaded: the yielded command is consumed before the next one is built, so one
// object of each kind is enough (no allocation per sleep on the hot path).
const SLEEP = new Sleep();
const WAIT = new Wait();

export function sleep(ns: number): Sleep {
  SLEEP.ns = ns;
  return SLEEP;
}

/** Block until the queue is signalled (resumes with true) or the time-out passes (false). */
export function waitOn(queue: WaitQueue, timeoutNs = -1): Wait {
  WAIT.queue = queue;
  WAIT.timeoutNs = timeoutNs;
  return WAIT;
}

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
  constructor(
    readonly id: number,
    readonly name: string,
    readonly initiator: string,
    readonly gen: Routine<unknown>,
  ) {}
}

export class WaitQueue {
  private waiters: Task[] = [];
  constructor(
    private readonly sched: Scheduler,
    readonly name: string,
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
    for (const t of w) this.sched.wake(t, true);
    return w.length;
  }
}

interface Timer {
  time: number;
  order: number;
  task: Task | null;
  token: number;
  fn: (() => void) | null;
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
      if (!less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Timer | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
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
  private order = 0;
  private nextId = 1;
  readonly tasks = new Set<Task>();
  /** Called when a task's generator throws: the machine reports it, the loop goes on. */
  onTaskError: (t: Task, err: unknown) => void = () => {};

  spawn(name: string, initiator: string, gen: Routine<unknown>, frames: Frame | null = null): Task {
    const t = new Task(this.nextId++, name, initiator, gen);
    t.frames = frames;
    this.tasks.add(t);
    this.ready.push(t);
    return t;
  }

  /** Run `fn` (a hardware action, not a task) at now + delay. */
  at(delayNs: number, fn: () => void): void {
    this.timers.push({ time: this.now + delayNs, order: this.order++, task: null, token: 0, fn });
  }

  wake(t: Task, value: unknown): void {
    if (t.state !== 'waiting' && t.state !== 'sleeping') return;
    if (t.waitingOn) t.waitingOn.remove(t);
    t.waitingOn = null;
    t.waitToken++;
    t.state = 'ready';
    t.resume = value;
    this.ready.push(t);
  }

  kill(t: Task): void {
    if (t.state === 'done') return;
    if (t.waitingOn) t.waitingOn.remove(t);
    t.waitingOn = null;
    t.state = 'done';
    t.waitToken++;
    this.tasks.delete(t);
    try {
      t.gen.return(undefined);
    } catch {
      // a finally block that fails while being cancelled has nothing left to report to
    }
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
      this.timers.pop();
      next = this.timers.peek();
    }
    if (!next || next.time > limitTime) return false;
    this.timers.pop();
    if (next.time > this.now) this.now = next.time;
    if (next.fn) {
      next.fn();
    } else if (next.task && next.task.waitToken === next.token) {
      this.wake(next.task, false);
    }
    return true;
  }

  private resumeTask(t: Task): void {
    this.current = t;
    let r: IteratorResult<Yielded, unknown>;
    const v = t.resume;
    t.resume = undefined;
    try {
      r = t.gen.next(v);
    } catch (err) {
      this.current = null;
      this.finish(t, err);
      return;
    }
    this.current = null;
    if (r.done) {
      t.result = r.value;
      this.finish(t);
      return;
    }
    const y = r.value;
    if (y instanceof Sleep) {
      t.state = 'sleeping';
      this.timers.push({
        time: this.now + Math.max(0, y.ns),
        order: this.order++,
        task: t,
        token: t.waitToken,
        fn: null,
      });
    } else if (y instanceof Wait) {
      t.state = 'waiting';
      t.waitingOn = y.queue;
      y.queue!.add(t);
      if (y.timeoutNs >= 0) {
        this.timers.push({
          time: this.now + y.timeoutNs,
          order: this.order++,
          task: t,
          token: t.waitToken,
          fn: null,
        });
      }
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
  }
}

/** Run `body` with a logical frame pushed on the running task's frame chain. */
export function* frame<T>(
  sched: Scheduler,
  fn: string,
  args: Record<string, string | number> | undefined,
  body: Routine<T>,
): Routine<T> {
  const t = sched.current!;
  const saved = t.frames;
  t.frames = { fn, args, parent: saved };
  try {
    return yield* body;
  } finally {
    t.frames = saved;
  }
}
