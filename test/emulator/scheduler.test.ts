// Virtual time, cooperative tasks and the event spine: the machinery that lets the machine stop
// between any two bus accesses and replay a run exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { blankEvent, cloneEvent, framePath, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import {
  Scheduler,
  WaitQueue,
  frame,
  nothing,
  sleep,
  waitOn,
  type Routine,
  type Task,
} from '../../src/emulator/sim/scheduler.ts';
import { EventHasher, Spine } from '../../src/emulator/sim/spine.ts';
import { newMachine, typeLine } from '../helpers/machine.ts';

function sim() {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const log: string[] = [];
  const errors: [string, unknown][] = [];
  sched.onTaskError = (t, err) => errors.push([t.name, err]);
  const run = () => {
    let steps = 0;
    while (sched.step()) steps++;
    return steps;
  };
  return { sched, spine, log, errors, run };
}
type Sim = ReturnType<typeof sim>;

function* sleeper(s: Sim, name: string, ns: number): Routine {
  s.log.push(`${name} sleeps ${ns} @${s.sched.now}`);
  yield sleep(ns);
  s.log.push(`${name} wakes @${s.sched.now}`);
}

// ---- time and ordering ----------------------------------------------------------------------

test('sleeping tasks wake in order of virtual time, and time jumps straight to each wake-up', () => {
  const s = sim();
  s.sched.spawn('c', 'host.driver', sleeper(s, 'c', 3000));
  s.sched.spawn('a', 'host.driver', sleeper(s, 'a', 1000));
  s.sched.spawn('b', 'host.driver', sleeper(s, 'b', 2000));
  s.run();
  assert.deepEqual(s.log, [
    'c sleeps 3000 @0',
    'a sleeps 1000 @0',
    'b sleeps 2000 @0',
    'a wakes @1000',
    'b wakes @2000',
    'c wakes @3000',
  ]);
  assert.equal(s.sched.now, 3000);
  assert.equal(s.sched.idle, true);
  assert.equal(s.sched.tasks.size, 0);
});

test('tasks waking at the same time resume in the order they went to sleep; hardware timers too', () => {
  const s = sim();
  for (const n of ['x', 'y', 'z']) s.sched.spawn(n, 'host.driver', sleeper(s, n, 500));
  while (s.sched.step(0)) {
    /* x, y, z go to sleep */
  }
  s.sched.at(500, () => s.log.push(`timer @${s.sched.now}`));
  s.sched.spawn('w', 'host.driver', sleeper(s, 'w', 500));
  s.run();
  assert.deepEqual(s.log.slice(4), [
    'x wakes @500',
    'y wakes @500',
    'z wakes @500',
    'timer @500',
    'w wakes @500',
  ]);
});

test('ready tasks take turns one bus access at a time, in spawn order', () => {
  const s = sim();
  function* worker(name: string): Routine {
    for (let i = 0; i < 3; i++) {
      s.log.push(`${name}${i}`);
      yield i;
    }
  }
  s.sched.spawn('a', 'host.driver', worker('a'));
  s.sched.spawn('b', 'mic0.cpu', worker('b'));
  s.run();
  assert.deepEqual(s.log, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  assert.equal(s.sched.now, 0, 'accesses take no virtual time');
});

test('a task alone goes on within one step, up to maxInline accesses; a stop request ends the step at once', () => {
  const s = sim();
  s.sched.stopper = s.spine;
  let made = 0;
  // A register poll that never sleeps: it must still hand control back to the run loop.
  function* poll(): Routine {
    for (;;) {
      made++;
      s.spine.emit('mmio.read', 'mic0.bar4', 0x1a020, 4, 0);
      yield 0;
    }
  }
  s.sched.spawn('poll', 'host.driver', poll());
  assert.equal(s.sched.step(), true);
  assert.equal(made, s.sched.maxInline + 1, 'one step: the first access and maxInline more');
  s.sched.maxInline = 0;
  s.sched.step();
  assert.equal(made, 34, 'maxInline 0: one access per step');
  s.sched.maxInline = 32;
  const off = s.spine.observe((e) => {
    if (e.seq === 40) s.spine.requestStop('break');
  });
  s.sched.step();
  assert.equal(s.spine.seq, 40, 'the step ended right after the access whose event asked to stop');
  off();
});

test('inline steps never change the order: with another task ready, they take turns as before', () => {
  const order = (maxInline: number) => {
    const s = sim();
    s.sched.maxInline = maxInline;
    function* worker(name: string, n: number, nap: number): Routine {
      for (let i = 0; i < n; i++) {
        s.log.push(`${name}${i}@${s.sched.now}`);
        if (i === nap) yield sleep(5);
        else yield i;
      }
    }
    s.sched.spawn('a', 'host.driver', worker('a', 6, 2));
    s.sched.spawn('b', 'mic0.cpu', worker('b', 4, -1));
    s.run();
    return s.log.join(' ');
  };
  assert.equal(order(32), order(0));
  assert.equal(order(0), 'a0@0 b0@0 a1@0 b1@0 a2@0 b2@0 b3@0 a3@5 a4@5 a5@5');
});

test('a routine gets back the value its access yielded', () => {
  const s = sim();
  const got: unknown[] = [];
  s.sched.spawn(
    't',
    'host.driver',
    (function* (): Routine {
      got.push(yield 0xdead_beef);
      got.push(yield new Uint8Array([1, 2]));
    })(),
  );
  s.run();
  assert.deepEqual(got, [0xdead_beef, new Uint8Array([1, 2])]);
});

test('sleep(0) lets every ready task run first; limitTime stops before later timers', () => {
  const s = sim();
  s.sched.spawn('z', 'host.driver', sleeper(s, 'z', 0));
  s.sched.spawn(
    'r',
    'host.driver',
    (function* (): Routine {
      s.log.push('r runs');
      yield 1;
      s.log.push('r again');
    })(),
  );
  s.sched.spawn('late', 'host.driver', sleeper(s, 'late', 10_000));
  while (s.sched.step(5000)) {
    /* up to 5 µs */
  }
  assert.deepEqual(s.log, ['z sleeps 0 @0', 'r runs', 'late sleeps 10000 @0', 'r again', 'z wakes @0']);
  assert.equal(s.sched.nextTimerTime, 10_000);
  assert.equal(s.sched.idle, false);
  s.run();
  assert.equal(s.sched.now, 10_000);
  assert.equal(s.sched.nextTimerTime, Infinity);
});

test('at() runs a hardware action at now + delay', () => {
  const s = sim();
  s.sched.at(250, () => {
    s.log.push(`first @${s.sched.now}`);
    s.sched.at(50, () => s.log.push(`second @${s.sched.now}`));
  });
  s.run();
  assert.deepEqual(s.log, ['first @250', 'second @300']);
});

// ---- wait queues ----------------------------------------------------------------------------

test('a signalled WaitQueue wakes every waiter with true', () => {
  const s = sim();
  const q = new WaitQueue(s.sched, 'config_db');
  function* waiter(name: string): Routine {
    const ok: boolean = yield waitOn(q);
    s.log.push(`${name} ${ok} @${s.sched.now}`);
  }
  s.sched.spawn('a', 'host.driver', waiter('a'));
  s.sched.spawn('b', 'host.driver', waiter('b'));
  s.run();
  assert.equal(q.length, 2);
  assert.equal(q.name, 'config_db');
  s.sched.at(700, () => s.log.push(`signal woke ${q.signal()}`));
  s.run();
  assert.deepEqual(s.log, ['signal woke 2', 'a true @700', 'b true @700']);
  assert.equal(q.length, 0);
  assert.equal(q.signal(), 0, 'nobody left to wake');
});

test('a wait that times out resumes with false at the time-out, and a later signal finds no one', () => {
  const s = sim();
  const q = new WaitQueue(s.sched, 'spad2');
  s.sched.spawn(
    't',
    'host.driver',
    (function* (): Routine {
      const ok: boolean = yield waitOn(q, 1_000_000_000);
      s.log.push(`${ok} @${s.sched.now}`);
    })(),
  );
  s.run();
  assert.deepEqual(s.log, ['false @1000000000']);
  assert.equal(q.length, 0);
  assert.equal(q.signal(), 0);
});

test('a wait signalled before its time-out resumes once, with true; the stale time-out does nothing', () => {
  const s = sim();
  const q = new WaitQueue(s.sched, 'used');
  const results: [boolean, number][] = [];
  let task: Task | null = null;
  task = s.sched.spawn(
    't',
    'host.driver',
    (function* (): Routine {
      results.push([yield waitOn(q, 10_000), s.sched.now]);
      results.push([yield waitOn(q, 50_000), s.sched.now]);
    })(),
  );
  s.sched.at(3_000, () => q.signal());
  s.run();
  // First wait: signalled at 3 µs. Second wait: times out at 3 + 50 µs, not at the stale 10 µs.
  assert.deepEqual(results, [
    [true, 3_000],
    [false, 53_000],
  ]);
  assert.equal(task.state, 'done');
});

// ---- kill, errors ---------------------------------------------------------------------------

test('a killed task never resumes, runs its finally block, and leaves its wait queue', () => {
  const s = sim();
  const q = new WaitQueue(s.sched, 'q');
  function* victim(name: string, wait: boolean): Routine {
    try {
      if (wait) yield waitOn(q);
      else yield sleep(1000);
      s.log.push(`${name} resumed`);
    } finally {
      s.log.push(`${name} finally @${s.sched.now}`);
    }
  }
  const a = s.sched.spawn('a', 'host.driver', victim('a', false));
  const b = s.sched.spawn('b', 'host.driver', victim('b', true));
  while (s.sched.step(0)) {
    /* a sleeps, b waits */
  }
  assert.equal(a.state, 'sleeping');
  assert.equal(b.state, 'waiting');
  assert.equal(q.length, 1);
  s.sched.kill(a);
  s.sched.kill(b);
  s.sched.kill(b); // twice is harmless
  assert.equal(q.length, 0);
  assert.equal(q.signal(), 0);
  s.run();
  assert.deepEqual(s.log, ['a finally @0', 'b finally @0']);
  assert.equal(a.state, 'done');
  assert.equal(b.state, 'done');
  assert.equal(s.sched.tasks.size, 0);
});

test('a killed ready task is skipped', () => {
  const s = sim();
  const t = s.sched.spawn(
    't',
    'host.driver',
    (function* (): Routine {
      s.log.push('ran');
      yield 0;
    })(),
  );
  s.sched.kill(t);
  s.run();
  assert.deepEqual(s.log, []);
});

test('a routine that throws is reported through onTaskError and the loop goes on', () => {
  const s = sim();
  const done: [string, unknown][] = [];
  const bad = s.sched.spawn(
    'bad',
    'mic0.cpu',
    (function* (): Routine {
      yield sleep(10);
      throw new Error('model bug');
    })(),
  );
  bad.onDone = (t, err) => done.push([t.name, err]);
  const good = s.sched.spawn('good', 'host.driver', sleeper(s, 'good', 20));
  good.onDone = (t, err) => done.push([t.name, err]);
  s.run();
  assert.equal(s.errors.length, 1);
  assert.equal(s.errors[0][0], 'bad');
  assert.match(String(s.errors[0][1]), /model bug/);
  assert.deepEqual(s.log, ['good sleeps 20 @0', 'good wakes @20']);
  assert.equal(bad.state, 'done');
  assert.equal(done.length, 2);
  assert.equal(done[0][0], 'bad');
  assert.ok(done[0][1] instanceof Error);
  assert.deepEqual(done[1], ['good', undefined]);
  assert.equal(s.sched.current, null);
});

test('clear kills every task and drops pending timers', () => {
  const s = sim();
  s.sched.spawn('a', 'host.driver', sleeper(s, 'a', 100));
  s.sched.spawn('b', 'host.driver', sleeper(s, 'b', 100));
  s.sched.at(5, () => s.log.push('timer'));
  s.sched.step();
  s.sched.clear();
  assert.equal(s.sched.idle, true);
  assert.equal(s.run(), 0);
  assert.deepEqual(s.log, ['a sleeps 100 @0']);
});

// ---- frames and the spine -------------------------------------------------------------------

test('frame() pushes a logical frame that events carry, and pops it when the body returns or throws', () => {
  const s = sim();
  const seen: BusEvent[] = [];
  s.spine.observe((e) => seen.push(cloneEvent(e)));
  const emit = (n: number) => s.spine.emit('mmio.write', 'mic0.bar4', n, 4, n);
  function* inner(): Routine<number> {
    emit(2);
    yield 2;
    return 7;
  }
  function* failing(): Routine {
    emit(4);
    yield 4;
    throw new Error('inner failure');
  }
  function* outer(): Routine {
    emit(1);
    const r: number = yield* frame(s.sched, 'vop_virtio_add_device', { type: 3 }, inner());
    s.log.push(`returned ${r}`);
    emit(3);
    try {
      yield* frame(s.sched, 'mic_dma_memcpy', undefined, failing());
    } catch (e) {
      s.log.push(`caught ${(e as Error).message}`);
    }
    emit(5);
  }
  s.sched.spawn('ioctl', 'host.mpssd', frame(s.sched, 'mic_ioctl', { card: 'mic0' }, outer()));
  s.run();
  assert.deepEqual(
    seen.map((e) => [e.address, framePath(e.frames)]),
    [
      [1, 'mic_ioctl'],
      [2, 'mic_ioctl → vop_virtio_add_device'],
      [3, 'mic_ioctl'],
      [4, 'mic_ioctl → mic_dma_memcpy'],
      [5, 'mic_ioctl'],
    ],
  );
  assert.deepEqual(s.log, ['returned 7', 'caught inner failure']);
  assert.deepEqual(seen[1].frames?.args, { type: 3 });
  assert.deepEqual(seen[1].frames?.parent?.args, { card: 'mic0' });
  assert.ok(seen.every((e) => e.initiator === 'host.mpssd'));
});

test('a task spawned with frames starts with them; events outside any task are the hardware’s', () => {
  const s = sim();
  const seen: BusEvent[] = [];
  s.spine.observe((e) => seen.push(cloneEvent(e)));
  const root = { fn: 'mpssd', args: undefined, parent: null };
  s.sched.spawn(
    't',
    'host.mpssd',
    (function* (): Routine {
      s.spine.emit('log', 'host', 0, 0, 0, 'in task');
      yield sleep(40);
    })(),
    root,
  );
  s.sched.at(30, () => s.spine.emit('irq', 'mic0.msix', 2, 4, 1, 'MSI-X vector 2'));
  s.run();
  assert.deepEqual(
    seen.map((e) => [e.initiator, framePath(e.frames), e.time, e.detail]),
    [
      ['host.mpssd', 'mpssd', 0, 'in task'],
      ['hw', '', 30, 'MSI-X vector 2'],
    ],
  );
});

test('with no observer the spine only counts; protocol errors are still kept', () => {
  const s = sim();
  assert.equal(s.spine.observed, false);
  assert.equal(s.spine.emit('mem.read', 'host', 0, 4, 0), 1);
  assert.equal(s.spine.emit('mem.read', 'host', 4, 4, 0), 2);
  s.spine.protocolError(3, 'mic0', 'mic0: card wrote SDBIC4');
  assert.equal(s.spine.seq, 3);
  assert.deepEqual(s.spine.protocolErrors, [
    { seq: 3, time: 0, rule: 3, where: 'mic0', message: 'mic0: card wrote SDBIC4' },
  ]);
});

test('observers see every event in sequence until they unsubscribe; the record carries the value unsigned', () => {
  const s = sim();
  const a: number[] = [];
  const b: number[] = [];
  const offA = s.spine.observe((e) => a.push(e.seq));
  s.spine.observe((e) => b.push(e.value));
  assert.equal(s.spine.observed, true);
  s.spine.emit('mem.write', 'host', 0, 4, -1);
  offA();
  offA(); // twice is harmless
  s.spine.emit('mem.write', 'host', 0, 4, 5);
  s.spine.protocolError(13, 'host', 'master abort');
  assert.deepEqual(a, [1]);
  assert.deepEqual(b, [0xffff_ffff, 5, 13], 'a protocol event carries its rule as value');
});

test('requestStop is visible to the run loop, and the first reason wins', () => {
  const s = sim();
  assert.equal(s.spine.stopRequested, null);
  s.spine.requestStop('breakpoint: doorbell h2c 9');
  s.spine.requestStop('pause');
  assert.equal(s.spine.stopRequested, 'breakpoint: doorbell h2c 9');

  // A machine stops right after the step whose event asked for it.
  const t = newMachine();
  const seen: string[] = [];
  t.m.spine.observe((e) => {
    seen.push(e.kind);
    if (e.kind === 'cfg.read') t.m.spine.requestStop('break on config read');
  });
  t.m.start();
  assert.equal(t.m.run(), 'stopped');
  assert.equal(seen.at(-1), 'cfg.read');
  assert.equal(t.m.spine.stopRequested, 'break on config read');
  assert.equal(t.m.sched.idle, false, 'work is left for the next run');
  t.m.spine.stopRequested = null;
  assert.equal(t.m.run(1), 'limit');
  t.m.dispose();
});

test('EventHasher gives equal hashes for two identical runs and a different one for different input', () => {
  const hashRun = (line: string) => {
    const t = newMachine();
    const h = new EventHasher();
    t.m.spine.observe(h.observer);
    t.m.start();
    const ok = t.m.runUntil(() => t.m.cardOs.every((os) => os.shell !== null) && t.m.sched.idle);
    assert.ok(ok, 'booted');
    typeLine(t, line);
    t.m.dispose();
    return { hash: h.hash, count: h.count };
  };
  const a = hashRun('echo hello');
  const b = hashRun('echo hello');
  const c = hashRun('echo hellp');
  assert.ok(a.count > 100);
  assert.deepEqual(a, b);
  assert.notEqual(a.hash, c.hash);
});

test('EventHasher mixes every field: seq, time, initiator, kind, space, address, size, value, detail, frames', () => {
  const base = (): BusEvent => ({
    ...blankEvent(),
    seq: 1,
    time: 2,
    initiator: 'host.driver',
    kind: 'mmio.write',
    space: 'mic0.bar4',
    address: 0x1b184,
    size: 4,
    value: 0,
    frames: null,
    detail: '',
  });
  const hashOf = (e: BusEvent) => {
    const h = new EventHasher();
    h.observer(e);
    return h.hash;
  };
  const ref = hashOf(base());
  assert.equal(hashOf(base()), ref);
  const variants: Partial<BusEvent>[] = [
    { seq: 2 },
    { time: 2 + 2 ** 32 },
    { initiator: 'mic0.cpu' },
    { kind: 'mmio.read' },
    { space: 'mic1.bar4' },
    { address: 0x1b184 + 2 ** 32 },
    { size: 2 },
    { value: 1 },
    { detail: 'h2c 9' },
    { frames: { fn: 'mic_send_intr', args: undefined, parent: null } },
  ];
  for (const v of variants) assert.notEqual(hashOf({ ...base(), ...v }), ref, JSON.stringify(v));
});

test('the live-task list: tasks come and go in any order, each listed once, a finished task gone', () => {
  const { sched, run } = sim();
  const ends: Task[] = [];
  const names = (): string[] => [...sched.tasks].map((t) => t.name).sort();
  const tasks = ['a', 'b', 'c', 'd'].map((n, i) =>
    sched.spawn(
      n,
      'x',
      (function* (): Routine {
        yield sleep(10 * (4 - i)); // d ends first, a last: deletes from the middle and the end
      })(),
    ),
  );
  for (const t of tasks) t.onDone = (x) => ends.push(x);
  assert.deepEqual(names(), ['a', 'b', 'c', 'd']);
  assert.equal(sched.tasks.size, 4);
  sched.tasks.add(tasks[1]);
  assert.equal(sched.tasks.size, 4, 'adding a listed task again lists it once');
  sched.kill(tasks[1]);
  assert.equal(sched.tasks.has(tasks[1]), false);
  assert.equal(sched.tasks.delete(tasks[1]), false, 'a task leaves once');
  assert.deepEqual(names(), ['a', 'c', 'd']);
  // Killing every task while walking a snapshot of the list (as a card reset does).
  const more = sched.spawn('e', 'x', nothing());
  for (const t of [...sched.tasks]) if (t === more) sched.kill(t);
  assert.deepEqual(names(), ['a', 'c', 'd']);
  run();
  assert.deepEqual(
    ends.map((t) => t.name),
    ['d', 'c', 'a'],
  );
  assert.equal(sched.tasks.size, 0);
  for (const t of tasks) assert.equal(sched.tasks.has(t), false);
});
