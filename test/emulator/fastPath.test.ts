// The fast path is the same machine (issue 6): a workload run with no observer (the spine only
// counts) and the same workload run under every kind of observer — the event hasher, the
// --trace writer, an indexed matcher with kind and range entries, an observer that comes
// and goes halfway — ends with the same disk image bytes, the same console output, the same
// event count and the same virtual time. Observed runs also agree with each other event for event.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { newMachine, type TestMachine } from '../helpers/machine.ts';
import { EventHasher } from '../../src/emulator/sim/spine.ts';
import { createTraceWriter, type TraceSink } from '../../src/emulator/sim/trace/traceSink.ts';
import { EventIndex } from '../../src/emulator/sim/eventIndex.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { blockDevice } from '../../src/emulator/cardSoftware/virtioBlock.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';

const MiB = 2 ** 20;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-fastpath-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/**
 * An 8 MiB image with recognisable bytes in its first MiB, the same for every run. Runs follow
 * each other on the same path (the path is in the kernel log, so in the events).
 */
function freshImage(): string {
  const p = path.join(tmpRoot, 'disk.img');
  const b = Buffer.alloc(MiB);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >>> 9)) & 0xff;
  fs.writeFileSync(p, b);
  fs.truncateSync(p, 8 * MiB);
  return p;
}

const enc = (s: string) => new TextEncoder().encode(s);

type Observe = (t: TestMachine, phase: 'boot' | 'half') => void;

interface RunResult {
  image: Buffer;
  console: string;
  seq: number;
  now: number;
  dmaBytes: number;
  internalErrors: string[];
}

/**
 * The workload: boot, console commands, dd to and from the real image (64 KiB blocks and a
 * flush), card-side driver reads of 64 KiB and 512 B, hexdump, ping over virtio-net.
 */
function workload(observe: Observe): RunResult {
  const image = freshImage();
  const t = newMachine({ disk: () => ({ path: image, sizeBytes: 8 * MiB, readonly: false }) });
  const m = t.m;
  observe(t, 'boot');
  m.start();
  assert.ok(
    m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle),
    'the card booted',
  );
  m.run();
  const type = (line: string) => {
    m.consoleInput(0, enc(line + '\r'));
    m.run();
  };
  type('uname -a');
  type('cat /proc/cpuinfo');
  type('dd if=pattern:c0ffee of=/dev/vda bs=64K count=16 seek=20 conv=fsync');
  observe(t, 'half');
  type('dd if=/dev/vda of=/dev/null bs=64K count=32');
  type('hexdump /dev/vda 0x140000 64');
  type('sync');
  // The driver API itself: sequential 64 KiB reads and random 512 B reads.
  const blk = blockDevice(m.cardOs[0], 'vda');
  assert.ok(blk, '/dev/vda is up');
  let sum = 0;
  let done = false;
  m.cardOs[0].spawn(
    'fastpath',
    (function* (): Routine {
      for (let i = 0; i < 8; i++) {
        const r: Uint8Array | number = yield* blk.read(i * 128, 128);
        assert.ok(typeof r !== 'number', `read ${i}: ${String(r)}`);
        sum = (sum + r[i * 7]) | 0;
      }
      for (const s of [7, 4093, 1, 16000, 333]) {
        const r: Uint8Array | number = yield* blk.read(s, 1);
        assert.ok(typeof r !== 'number');
        sum = (sum + r[0]) | 0;
      }
      const rc: number = yield* blk.write(40, new Uint8Array(4096).fill(0x5a));
      assert.equal(rc, 0);
      done = true;
    })(),
  );
  m.run();
  assert.ok(done, 'the card task finished');
  type(`echo ${sum}`);
  type('ping -c 2 172.31.0.254');
  m.dispose();
  const dmaBytes = m.mics[0].copy.stats.dmaBytes;
  return {
    image: fs.readFileSync(image),
    console: t.out[0],
    seq: m.spine.seq,
    now: m.sched.now,
    dmaBytes,
    internalErrors: [...m.internalErrors],
  };
}

function assertSame(a: RunResult, b: RunResult, what: string): void {
  assert.deepEqual(b.internalErrors, [], `${what}: no internal errors`);
  assert.equal(b.seq, a.seq, `${what}: same event count`);
  assert.equal(b.now, a.now, `${what}: same virtual time`);
  assert.equal(b.console, a.console, `${what}: same console output`);
  assert.ok(b.image.equals(a.image), `${what}: same disk image bytes`);
  assert.equal(b.dmaBytes, a.dmaBytes, `${what}: same bytes moved by DMA`);
}

/** Observers of every kind, attached at boot. Returns the hasher so runs can be compared. */
interface Sink {
  hash: number;
  count: number;
  /** The --trace writer's file (closed after the run). */
  trace: { writer: TraceSink; file: string } | null;
  hits: number;
}

const newSink = (): Sink => ({ hash: 0, count: 0, trace: null, hits: 0 });
let traces = 0;

/** The bytes the run's --trace writer put in its file. */
function traceOf(sink: Sink): Buffer {
  assert.ok(sink.trace);
  sink.trace.writer.close();
  assert.equal(sink.trace.writer.error, null);
  return fs.readFileSync(sink.trace.file);
}

function everything(sink: Sink): Observe {
  return (t, phase) => {
    if (phase !== 'boot') return;
    const spine = t.m.spine;
    const h = new EventHasher();
    spine.observe(h.observer);
    const file = path.join(tmpRoot, `trace${traces++}.jsonl`);
    sink.trace = { writer: createTraceWriter(fs.openSync(file, 'w')), file };
    spine.observe(sink.trace.writer.observer);
    // An index like the breakpoint manager's: kinds the workload raises, ranges it touches.
    const ix = new EventIndex<string>();
    ix.addKind({ kind: 'doorbell' }, 'any doorbell');
    ix.addKind({ kind: 'dma.desc', value: 1 }, 'memcpy');
    ix.addRange(['mem.write', 'mem.read'], 'host', 0x1000_0000, 0x10_0000, 'host window');
    ix.addRange(['mem.write'], 'mic0.gddr', 0x1000_0000, 64 * MiB, 'gddr heap');
    spine.observe((e: BusEvent) => (sink.hits += ix.candidates(e).length));
    spine.observe(() => {
      sink.hash = h.hash;
      sink.count = h.count;
    });
  };
}

test('with and without observers: same disk image, console output, event count and time', () => {
  const plain = workload(() => {});
  assert.ok(plain.seq > 8_000, `${plain.seq} events`);
  assert.ok(plain.dmaBytes > MiB, 'virtio data went through the DMA engine');
  assert.match(plain.console, /16\+0 records out\r\n1048576 bytes \(1\.0 MB, 1\.0 MiB\) copied/);
  assert.match(plain.console, /32\+0 records in\r\n/);
  assert.match(plain.console, /00140000 {2}c0 ff ee c0 ff ee/);
  assert.match(plain.console, /2 packets transmitted, 2 received/);
  const img = plain.image;
  assert.equal(img.subarray(20 * 65536, 20 * 65536 + 3).toString('hex'), 'c0ffee');
  assert.ok(
    img.subarray(40 * 512, 48 * 512).every((b) => b === 0x5a),
    'the driver write landed',
  );
  assert.equal(img[3], (3 * 31) & 0xff, 'untouched bytes stay');

  const s1 = newSink();
  const observed = workload(everything(s1));
  assertSame(plain, observed, 'every observer from boot');
  assert.equal(s1.count, observed.seq, 'the hasher saw every event');
  const trace1 = traceOf(s1);
  assert.ok(trace1.length > 100 * observed.seq, 'the trace writer wrote every event');
  assert.ok(s1.hits > 0, 'the index found candidates');

  // Observed twice: event for event the same (the hash covers every field and frame).
  const s2 = newSink();
  const again = workload(everything(s2));
  assertSame(plain, again, 'second observed run');
  assert.equal(s2.hash, s1.hash, 'same event hash');
  assert.ok(traceOf(s2).equals(trace1), 'the same trace, byte for byte');
  assert.equal(s2.hits, s1.hits, 'same index candidates');

  // An observer that arrives halfway (a breakpoint set while running) and leaves again.
  let seen = 0;
  const late = workload((t, phase) => {
    if (phase !== 'half') return;
    const off = t.m.spine.observe(() => {
      if (++seen === 2_000) off();
    });
  });
  assert.equal(seen, 2_000);
  assertSame(plain, late, 'an observer for part of the run');
});
