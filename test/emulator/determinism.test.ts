// Virtual time and one event spine make a run a pure function of its inputs: the same inputs
// give the same events (EventHasher), and observing a run does not change it. The trace
// writer puts each event in its file as one JSON line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { newMachine, recordEvents, type TestMachine } from '../helpers/machine.ts';
import type { MachineConfig } from '../../src/emulator/machine.ts';
import { EventHasher } from '../../src/emulator/sim/spine.ts';
import { eventToJson } from '../../src/emulator/sim/traceRecorder.ts';
import { createTraceWriter } from '../../src/emulator/sim/traceSink.ts';
import { EVENT_KINDS, framePath } from '../../src/emulator/sim/busEvent.ts';

const enc = (s: string) => new TextEncoder().encode(s);

/** A fixed script: boot, type in pieces, a big output, a reboot, one more command. */
function script(t: TestMachine, card = 0): void {
  const m = t.m;
  m.start();
  m.consoleInput(card, enc('ech')); // typed before the card is up
  assert.ok(m.runUntil(() => m.cardOs[card].shell !== null && m.sched.idle));
  m.run();
  m.consoleInput(card, enc('o one\r'));
  m.run();
  m.consoleInput(card, enc('cat /proc/cpuinfo\r'));
  m.run();
  m.consoleInput(card, enc('reboot\r'));
  m.run();
  m.consoleInput(card, enc('uname -a\r'));
  m.run();
}

function hashedRun(cfg: Partial<MachineConfig> = {}, card = 0) {
  const t = newMachine(cfg);
  const h = new EventHasher();
  t.m.spine.observe(h.observer);
  script(t, card);
  return { t, hash: h.hash, count: h.count };
}

test('two machines with the same inputs produce the same event hash and count', () => {
  const a = hashedRun();
  const b = hashedRun();
  assert.ok(a.count > 2_000, `${a.count} events`);
  assert.equal((a.t.out[0].match(/processor\t: /g) ?? []).length, 228);
  assert.equal(a.t.out[0].split('Intel(R) Xeon Phi(TM) coprocessor mic0').length, 3, 'booted twice');
  assert.equal(a.count, b.count);
  assert.equal(a.hash, b.hash);
  assert.equal(a.count, a.t.m.spine.seq, 'the hasher saw every event');
  assert.equal(a.t.out[0], b.t.out[0]);
  assert.equal(a.t.m.sched.now, b.t.m.sched.now, 'same virtual time at the end');
  assert.match(a.t.out[0], /uname -a\r\nLinux mic0 3\.13\.0-mic .*\r\n\[root@mic0 ~\]# $/);
  assert.deepEqual(a.t.m.internalErrors, []);
});

test('two-card machines are deterministic too', () => {
  const a = hashedRun({ cards: 2 }, 1);
  const b = hashedRun({ cards: 2 }, 1);
  assert.equal(a.count, b.count);
  assert.equal(a.hash, b.hash);
  assert.equal(a.t.out[1], b.t.out[1]);
  assert.equal(a.t.out[0], b.t.out[0]);
});

test('different inputs give a different hash', () => {
  const a = hashedRun();
  const t = newMachine();
  const h = new EventHasher();
  t.m.spine.observe(h.observer);
  t.m.start();
  assert.ok(t.m.runUntil(() => t.m.cardOs[0].shell !== null && t.m.sched.idle));
  t.m.consoleInput(0, enc('echo two\r'));
  t.m.run();
  assert.notEqual(h.hash, a.hash);
});

test('observing a run does not change it: same console output and event count with or without observers', () => {
  const plain = newMachine();
  assert.equal(plain.m.spine.observed, false);
  script(plain);
  const watched = newMachine();
  let seen = 0;
  watched.m.spine.observe(() => {
    seen++;
  });
  const h = new EventHasher();
  watched.m.spine.observe(h.observer);
  script(watched);
  assert.equal(watched.out[0], plain.out[0]);
  assert.equal(watched.m.spine.seq, plain.m.spine.seq);
  assert.equal(seen, watched.m.spine.seq);
  assert.equal(watched.m.sched.now, plain.m.sched.now);
  assert.equal(watched.m.mics[0].copy.stats.dmaBytes, plain.m.mics[0].copy.stats.dmaBytes);
  assert.equal(watched.m.state(0), plain.m.state(0));
});

test('trace writer: one JSON line per event with seq, time, initiator, kind, space, address, size, value, frames', () => {
  const t = newMachine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-trace-'));
  const file = path.join(dir, 'trace.jsonl');
  const w = createTraceWriter(fs.openSync(file, 'w'));
  t.m.spine.observe(w.observer);
  t.m.start();
  assert.ok(t.m.runUntil(() => t.m.cardOs[0].shell !== null && t.m.sched.idle));
  t.m.consoleInput(0, enc('echo traced\r'));
  t.m.run();
  w.close();
  const text = fs.readFileSync(file, 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });
  assert.ok(text.endsWith('\n'));
  const lines = text
    .slice(0, -1)
    .split('\n')
    .map((l) => l + '\n');
  assert.equal(lines.length, t.m.spine.seq, 'every event, nothing else');
  let prevSeq = 0;
  let prevTime = 0;
  const kinds = new Set<string>();
  for (const l of lines) {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line each');
    const o = JSON.parse(l);
    for (const k of ['seq', 'time', 'initiator', 'kind', 'space', 'address', 'size', 'value', 'frames'])
      assert.ok(k in o, `${k} in ${l}`);
    assert.equal(o.seq, prevSeq + 1, 'seq counts up by one');
    assert.ok(o.time >= prevTime, 'virtual time never goes back');
    prevSeq = o.seq;
    prevTime = o.time;
    assert.equal(typeof o.initiator, 'string');
    assert.ok((EVENT_KINDS as readonly string[]).includes(o.kind), o.kind);
    assert.match(o.address, /^0x[0-9a-f]+$/);
    assert.match(o.value, /^0x[0-9a-f]+$/);
    assert.equal(typeof o.size, 'number');
    assert.ok(Array.isArray(o.frames) && o.frames.every((f: unknown) => typeof f === 'string'));
    kinds.add(o.kind);
  }
  for (const k of [
    'mmio.write',
    'mem.write',
    'doorbell',
    'irq',
    'dma.desc',
    'vring.avail',
    'vring.used',
    'state',
  ])
    assert.ok(kinds.has(k), `trace has ${k} events`);
  // The bootstrap kick as a trace line, frames outermost first.
  const kick = lines
    .map((l) => JSON.parse(l))
    .find((o) => o.kind === 'mmio.write' && o.address === '0x1aa08' && o.initiator.startsWith('host'));
  assert.ok(kick);
  assert.equal(kick.value, '0x20e5');
  assert.equal(kick.space, 'mic0.bar4');
  assert.equal(kick.size, 4);
  assert.match(kick.frames.join(' > '), /mpssd.*mic_sysfs_state_store.*mic_start/);
  // The doorbell detail travels in the line.
  assert.ok(lines.some((l) => JSON.parse(l).detail === 'h2c 7'));
});

test('eventToJson matches the event it encodes, frames with their arguments', () => {
  const t = newMachine();
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'dma.desc',
    () => {
      t.m.start();
      t.m.runUntil(() => t.m.cardOs[0].shell !== null && t.m.sched.idle);
      t.m.run();
    },
  );
  assert.ok(ev.length > 0);
  const e = ev[0];
  const o = JSON.parse(eventToJson(e));
  assert.equal(o.seq, e.seq);
  assert.equal(o.time, e.time);
  assert.equal(o.initiator, 'mic0.dma0');
  assert.equal(o.kind, 'dma.desc');
  assert.equal(o.address, '0x' + e.address.toString(16));
  assert.equal(o.size, 16);
  assert.equal(o.value, '0x' + e.value.toString(16));
  assert.match(o.detail, /^MEMCPY src=/);
  assert.equal(o.frames.length, framePath(e.frames).split(' → ').filter(Boolean).length);
});
