// The --trace writer encodes lines as bytes; the file must be exactly the eventToJson lines
// (JSON.stringify of each event), whatever the events carry: frames with arguments, 40-bit
// addresses, details that need escaping, fields the byte path hands to eventToJson. A failed
// write stops the trace and is reported once; it never reaches the emulator.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { bootedMachine, typeLine } from '../helpers/machine.ts';
import { busEvent } from '../helpers/events.ts';
import type { BusEvent, Frame } from '../../src/emulator/sim/busEvent.ts';
import { eventToJson } from '../../src/emulator/sim/trace/traceRecorder.ts';
import { createTraceWriter, type TraceSink } from '../../src/emulator/sim/trace/traceSink.ts';
import { TraceOffThread } from '../../src/emulator/sim/trace/traceOffThread.ts';
import { TraceWriter } from '../../src/emulator/sim/trace/traceWriter.ts';

const MiB = 2 ** 20;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-tracewriter-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let files = 0;

// Every test runs twice: with the worker thread formatting (what --trace uses) and in-thread
// (what it falls back to).
const MODES = ['worker', 'in-thread'] as const;
type Mode = (typeof MODES)[number];

function traceWriter(
  mode: Mode,
  fd: number,
  onError?: (err: Error) => void,
  bufferBytes?: number,
): TraceSink {
  const w = createTraceWriter(fd, onError, { mode, bufferBytes });
  assert.ok(w instanceof (mode === 'worker' ? TraceOffThread : TraceWriter), `${mode} writer`);
  return w;
}

/** A writer on a fresh file; `text` reads what it wrote. */
function writerOnFile(mode: Mode, bufferBytes?: number): { w: TraceSink; file: string; text: () => string } {
  const file = path.join(tmpRoot, `trace${files++}.jsonl`);
  const w = traceWriter(mode, fs.openSync(file, 'w'), undefined, bufferBytes);
  return { w, file, text: () => fs.readFileSync(file, 'utf8') };
}

/** The same events through the writer and through eventToJson: the same bytes. */
function assertSameAsEventToJson(mode: Mode, events: BusEvent[], bufferBytes?: number): void {
  const { w, file } = writerOnFile(mode, bufferBytes);
  let want = '';
  for (const e of events) {
    w.write(e);
    want += eventToJson(e) + '\n';
  }
  w.close();
  assert.equal(w.error, null);
  const got = fs.readFileSync(file);
  assert.equal(got.toString('utf8'), want);
  assert.ok(got.equals(Buffer.from(want, 'utf8')), 'byte for byte');
  assert.equal(w.bytesWritten, got.length);
  assert.equal(w.events, events.length);
}

const frame = (fn: string, args?: Record<string, string | number>, parent: Frame | null = null): Frame => ({
  fn,
  args,
  parent,
});

for (const mode of MODES)
  test(`a booted card typing, printing and reading its disk: the file is the eventToJson lines (${mode})`, () => {
    const image = path.join(tmpRoot, 'disk.img');
    fs.writeFileSync(image, Buffer.alloc(MiB, 0x5a));
    const t = bootedMachine({ disk: () => ({ path: image, sizeBytes: MiB, readonly: false }) });
    // A small buffer, so lines straddle many flushes.
    const { w, file } = writerOnFile(mode, 40_000);
    let want = '';
    let wide = 0;
    let withArgs = 0;
    let escaped = 0;
    const seq0 = t.m.spine.seq;
    t.m.spine.observe(w.observer);
    t.m.spine.observe((e) => {
      const line = eventToJson(e);
      want += line + '\n';
      if (e.address > 0xffff_ffff) wide++;
      for (let f = e.frames; f; f = f.parent) if (f.args && Object.keys(f.args).length) withArgs++;
      if (e.detail && JSON.stringify(e.detail) !== `"${e.detail}"`) escaped++;
    });
    // Quotes, a backslash and a non-ASCII letter typed: the input events' details need escaping.
    typeLine(t, 'echo "café \\ done"');
    typeLine(t, 'dd if=/dev/vda of=/dev/null bs=4096 count=4');
    w.close();
    assert.equal(w.error, null);
    assert.ok(wide > 0, 'addresses above 2^32 (the card reaching host memory)');
    assert.ok(withArgs > 0, 'frames with arguments');
    assert.ok(escaped > 0, 'details with characters JSON escapes');
    assert.ok(want.includes('virtio_blk_IN('), 'a block request');
    assert.equal(fs.readFileSync(file, 'utf8'), want);
    assert.equal(w.events, t.m.spine.seq - seq0);
  });

for (const mode of MODES)
  test(`details and arguments that need escaping, wide numbers, odd fields: the same text (${mode})`, () => {
    const root = frame('mpssd.virtio_block');
    const args = frame(
      'mic_dma_memcpy_sync',
      { ch: 0, src: 0x80_1002_7000, dst: 0x100a_7000, len: 0x10000 },
      root,
    );
    const text = frame('virtio_queue', { dev: 'virtio "block"\\\n', name: 'é', empty: '' }, args);
    const noArgs = frame('empty args', {}, text);
    const events = [
      busEvent('mem.read', { seq: 1, time: 1_500_000_000, address: 0x80_1002_5802, frames: text }),
      busEvent('doorbell', { seq: 2, detail: 'h2c 7', frames: noArgs }),
      busEvent('protocol', {
        seq: 3,
        detail: 'quote " backslash \\ tab \t nul \u0000 del \u007f',
        frames: args,
      }),
      busEvent('console', { seq: 4, detail: 'ünïcödé → 🚀 and a lone \ud800 surrogate', frames: root }),
      busEvent('mmio.write', {
        seq: 2 ** 40,
        time: 2 ** 53,
        address: 2 ** 48 - 1,
        size: 65536,
        value: 0xffff_ffff,
      }),
      busEvent('mmio.write', { seq: 1e9, time: 999_999_999, address: 0x1_0000_0000, value: 0 }),
      // Not plain numbers: the line goes as text, the next ones as bytes again.
      busEvent('mem.write', { seq: 7, time: 1.5, address: -1, frames: args }),
      busEvent('mem.write', { seq: 8, time: Number.NaN, size: Infinity, frames: args }),
      busEvent('mem.write', { seq: 9, frames: frame('odd', { big: -5, frac: 0.5 }, args) }),
      busEvent('mem.write', { seq: 10, frames: frame('odd', { flag: true as unknown as number }, args) }),
      busEvent('mem.write', { seq: 11, frames: args }),
      busEvent('irq', { seq: 12, initiator: 'hw "quoted"', space: 'space\\x', detail: 'x'.repeat(20_000) }),
      busEvent('irq', { seq: 13, detail: 'y'.repeat(3 * MiB) }),
      busEvent('irq', { seq: 14, frames: noArgs }),
    ];
    // One reason to escape per string, so none hides behind another.
    const lone = ['say "hi"', 'back\\slash', 'tab\tstop', 'bell\u0007', 'é', '\u2028', '~\u007f'];
    lone.forEach((s, i) => {
      const frames = frame('arg', { s }, i % 2 ? root : null);
      events.push(busEvent('log', { seq: 100 + i, detail: s, frames, initiator: s, space: s }));
    });
    assertSameAsEventToJson(mode, events);
    assertSameAsEventToJson(mode, events, 1);
  });

for (const mode of MODES)
  test(`chains that grow, shrink and branch from the last line copy only what they share (${mode})`, () => {
    const a = frame('a', { n: 1 });
    const b = frame('b', undefined, a);
    const c = frame('c', { s: 'x' }, b);
    const c2 = frame('c', { s: 'y' }, b);
    let deep: Frame | null = null;
    for (let i = 0; i < 80; i++) deep = frame(`level${i}`, { i }, deep);
    const chains = [a, b, c, c, b, c2, null, c2, a, deep, deep, c, frame('d', undefined, c2), b];
    const events = chains.map((frames, i) =>
      busEvent('mem.read', { seq: i + 1, address: 0x1000 * i, frames }),
    );
    assertSameAsEventToJson(mode, events);
    assertSameAsEventToJson(mode, events, 1);
  });

for (const mode of MODES)
  test(`a full disk stops the trace: reported once, later events dropped, the caller runs on (${mode})`, () => {
    const errors: Error[] = [];
    const w = traceWriter(mode, fs.openSync('/dev/full', 'w'), (e) => errors.push(e), 1);
    const e = busEvent('mem.read', { frames: frame('f', { x: 1 }) });
    for (let i = 1; i <= 20_000; i++) w.write({ ...e, seq: i });
    w.flush();
    w.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /ENOSPC/);
    assert.equal(w.error, errors[0]);
    assert.equal(w.bytesWritten, 0);
  });

for (const mode of MODES)
  test(`a descriptor that is not open: EBADF once, close() does not throw (${mode})`, () => {
    const errors: Error[] = [];
    // Not one closed under the writer: its number could be reused at once (the worker's own
    // event loop opens descriptors), and the writer's close() would then close someone else's.
    const fd = 1_000_000;
    const w = traceWriter(mode, fd, (e) => errors.push(e));
    w.write(busEvent('mem.read'));
    w.flush();
    w.write(busEvent('mem.read', { seq: 2 }));
    w.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /EBADF/);
  });
