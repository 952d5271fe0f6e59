// The Perfetto export (sim/trace/perfetto.ts) of a known session: boot, then
// `dd if=/dev/vda of=/dev/null bs=512 count=1`. The file is read by JSON.parse and by a reader
// that is not ours — Chrome DevTools' trace engine (@paulirish/trace_engine, the Performance
// panel's model as Lighthouse uses it) — and the block request is found in it: its slice from
// its avail to its used event, its flows (doorbell → interrupt → handler, DHPR → descriptor),
// and its counters rising and falling.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bootedMachine, typeLine } from '../helpers/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { blankEvent, cloneEvent } from '../../src/emulator/sim/busEvent.ts';
import { PerfettoExporter, PERFETTO_MAGIC, usText } from '../../src/emulator/sim/trace/perfetto.ts';
import { PerfettoFile } from '../../src/emulator/sim/trace/perfettoFile.ts';
import { openOutputFile, checkFile } from '../../src/emulator/hostSoftware/filePolicy.ts';
import { RequestTracker } from '../../src/emulator/sim/requestTracker.ts';

interface TraceEvent {
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  id?: number;
  bp?: string;
  cat?: string;
  name: string;
  args?: Record<string, unknown>;
}

interface Exported {
  text: string;
  json: TraceEvent[];
  events: Map<number, BusEvent>;
  requests: RequestTracker;
}

/** Boot, then export the dd (every event of it) to a file through PerfettoFile. */
function exportDd(): Exported {
  const dir = mkdtempSync(join(tmpdir(), 'mic-perfetto-'));
  try {
    const t = bootedMachine({
      disk: () => ({ path: join(dir, 'd.img'), sizeBytes: 1 << 20, readonly: false }),
    });
    const path = join(dir, 'session.json');
    const file = new PerfettoFile(openOutputFile(path));
    const requests = new RequestTracker();
    const events = new Map<number, BusEvent>();
    const offs = [
      t.m.spine.observe(file.observer),
      t.m.spine.observe(requests.observer),
      t.m.spine.observe((e) => void events.set(e.seq, cloneEvent(e))),
    ];
    typeLine(t, 'dd if=/dev/vda of=/dev/null bs=512 count=1');
    for (const off of offs) off();
    file.close();
    t.m.dispose();
    assert.equal(file.error, null);
    const text = readFileSync(path, 'utf8');
    assert.equal(checkFile(path, 'perfetto', { workspace: dir }), null, 'an export of ours may be replaced');
    return { text, json: JSON.parse(text) as TraceEvent[], events, requests };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (ns: number) => Number(usText(ns));

test('virtual ns become µs with ns precision', () => {
  assert.equal(usText(2350000116), '2350000.116');
  assert.equal(usText(2350000120), '2350000.12');
  assert.equal(usText(2350000000), '2350000');
  assert.equal(usText(7), '0.007');
});

test('the export of boot + dd: one JSON array, one object a line, read by DevTools’ trace engine', async () => {
  const x = exportDd();
  assert.ok(x.text.startsWith(PERFETTO_MAGIC));
  const lines = x.text.trimEnd().split('\n');
  assert.equal(lines.at(-1), ']');
  assert.equal(lines.length - 1, x.json.length, 'one object a line');
  for (const e of x.json) {
    assert.equal(typeof e.ph, 'string');
    assert.equal(typeof e.name, 'string', `every event has a name (${JSON.stringify(e)})`);
  }

  // The reader that is not ours.
  const TE = await import('@paulirish/trace_engine');
  const model = TE.TraceModel.Model.createWithAllHandlers();
  const errors: unknown[] = [];
  const consoleError = console.error;
  console.error = (...a: unknown[]) => void errors.push(a);
  try {
    await model.parse(x.json as never);
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(errors, [], 'the reader complains of nothing (no unbalanced slices)');
  const parsed = model.parsedTrace(0)!;
  const data = parsed.data as unknown as {
    Meta: { threadsInProcess: Map<number, Map<number, unknown>> };
    Renderer: {
      processes: Map<number, { threads: Map<number, { name: string | null; entries: TraceEvent[] }> }>;
    };
    Flows: { flows: TraceEvent[][] };
  };
  // Processes host and mic0, a thread per initiator, named.
  const threads = new Map<string, TraceEvent[]>();
  for (const p of data.Renderer.processes.values())
    for (const th of p.threads.values()) if (th.name) threads.set(th.name, th.entries);
  for (const name of ['host.driver', 'host.mic0.block', 'mic0.cpu', 'mic0.dma0'])
    assert.ok(threads.has(name), `thread ${name} (${[...threads.keys()].join(', ')})`);
  // The host's interrupt handler is a slice that holds its register accesses.
  const driver = threads.get('host.driver')!;
  const handler = driver.find((e) => e.name === 'mic_interrupt' && e.cat === 'handler');
  assert.ok(handler, 'mic_interrupt is a slice');
  assert.ok(
    driver.some(
      (e) => e.name === 'mmio.read SICE0' && e.ts >= handler.ts && e.ts <= handler.ts + handler.dur!,
    ),
  );
  // The reader pairs flows whose ends have different times (it keys a flow's events by time).
  assert.ok(data.Flows.flows.length > 0, 'the reader found flows');
  for (const f of data.Flows.flows) assert.ok(f.length >= 2);
});

test("the block request: its slice, its flows and its counters, at its events' virtual times", () => {
  const x = exportDd();
  const rs = x.requests.all.filter((r) => r.queue === 'block.requestq' && r.doneSeq !== 0);
  assert.equal(rs.length, 1);
  const r = rs[0];

  // The slice: from the card's avail to the host's used, on the queue's track in mic0.
  const mic0 = x.json.find((e) => e.ph === 'M' && e.name === 'process_name' && e.args?.name === 'mic0')!.pid;
  const begin = x.json.find((e) => e.ph === 'b' && e.id === r.id)!;
  const end = x.json.find((e) => e.ph === 'e' && e.id === r.id)!;
  assert.ok(begin && end, 'async slice begin and end');
  assert.equal(begin.name, 'block.requestq');
  assert.equal(end.name, 'block.requestq');
  assert.equal(begin.pid, mic0);
  assert.equal(begin.ts, us(r.availTime));
  assert.equal(end.ts, us(r.usedTime));
  assert.equal(begin.args!.avail, r.availSeq);
  assert.equal(end.args!.used, r.usedSeq);
  assert.equal(end.args!.usedLen, 529);

  // Every bus event of the request is a slice on its initiator's thread at its time.
  const threadName = new Map<string, string>();
  for (const e of x.json)
    if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}/${e.tid}`, e.args!.name as string);
  const slices = new Map<number, TraceEvent>();
  for (const e of x.json) if (e.ph === 'X' && e.cat === 'bus') slices.set(e.args!.seq as number, e);
  for (const seq of r.events) {
    const ev = x.events.get(seq)!;
    const s = slices.get(seq)!;
    assert.ok(s, `event ${seq} exported`);
    assert.equal(s.ts, us(ev.time));
    const name = threadName.get(`${s.pid}/${s.tid}`)!;
    assert.equal(name.startsWith('hw') ? 'hw' : name, ev.initiator);
  }

  // Flows: each s/f pair joins a cause and its effect on another thread, at their times.
  const starts = new Map<number, TraceEvent>();
  const ends = new Map<number, TraceEvent>();
  for (const e of x.json) {
    if (e.ph === 's') starts.set(e.id!, e);
    if (e.ph === 'f') ends.set(e.id!, e);
  }
  const flowInto = (seq: number): [BusEvent, BusEvent] | null => {
    const ev = x.events.get(seq)!;
    const f = ends.get(ev.cause);
    // The flow of this cause ends at this event's thread, or it went to another of its effects.
    const to = f && threadName.get(`${f.pid}/${f.tid}`)!;
    if (!f || (to!.startsWith('hw') ? 'hw' : to) !== ev.initiator) return null;
    const s = starts.get(ev.cause)!;
    const cause = x.events.get(ev.cause)!;
    assert.equal(f.bp, 'e');
    assert.equal(f.ts, us(ev.time));
    assert.equal(s.ts, us(cause.time));
    assert.notEqual(`${s.pid}/${s.tid}`, `${f.pid}/${f.tid}`, 'flows cross threads');
    return [cause, ev];
  };
  const flows = r.events.map(flowInto).filter((p) => p !== null);
  const said = flows.map(
    ([c, e]) => `${c.initiator} ${c.kind} ${c.register} → ${e.initiator} ${e.kind} ${e.register}`,
  );
  assert.deepEqual(said, [
    'mic0.cpu doorbell SDBIC3 → hw irq ',
    'hw irq  → host.driver mmio.read SICE0',
    'host.mic0.block mmio.write DHPR0 → mic0.dma0 dma.desc ',
    'mic0.dma0 mem.write  → host.mic0.block mmio.read DSTAT0',
    'host.mic0.block mmio.write DHPR0 → mic0.dma0 dma.desc ',
    'mic0.dma0 mem.write  → host.mic0.block mmio.read DSTAT0',
    'host.mic0.block doorbell APICICR3 → hw irq ',
    'hw irq  → mic0.cpu mem.read ',
  ]);
  // Program order on one thread is no flow.
  for (const f of ends.values()) {
    const s = starts.get(f.id!)!;
    assert.notEqual(`${s.pid}/${s.tid}`, `${f.pid}/${f.tid}`);
  }

  // Counters: the queue's occupancy goes 0 → 1 at avail and back to 0 at used.
  const occ = x.json.filter((e) => e.ph === 'C' && e.name === 'block.requestq occupancy');
  assert.deepEqual(
    occ.map((e) => [e.ts, e.args!.chains]),
    [
      [us(r.availTime), 1],
      [us(r.usedTime), 0],
    ],
  );
  // DMA bytes in flight on dma0 during the request: each MEMCPY's bytes rise and fall back.
  const dma = x.json.filter(
    (e) => e.ph === 'C' && e.name === 'dma0 bytes in flight' && e.ts >= begin.ts && e.ts <= end.ts,
  );
  const values = dma.map((e) => e.args!.bytes);
  assert.ok(values.includes(64) && values.includes(512), `header and data in flight: ${values.join(' ')}`);
  assert.equal(values.at(-1), 0, 'nothing in flight at the end');
  assert.ok(values.every((v) => (v as number) >= 0));
});

test('the exporter keeps no session: open state stays bounded over many requests', () => {
  // Feed a synthetic stream of 200 000 events: requests that complete, flows that close.
  const chunks: number[] = [];
  const x = new PerfettoExporter((s) => void chunks.push(s.length));
  const e = blankEvent();
  let seq = 0;
  const emit = (patch: Partial<BusEvent>) =>
    x.event(Object.assign(e, blankEvent(), { seq: ++seq, space: 'host', size: 4 }, patch));
  for (let i = 0; i < 25_000; i++) {
    const time = i * 1000;
    const req = i + 1;
    emit({
      time,
      initiator: 'mic0.cpu',
      kind: 'vring.avail',
      side: 'card',
      queue: 'block.requestq',
      req,
      card: 0,
    });
    emit({ time, initiator: 'mic0.cpu', kind: 'doorbell', dir: 'c2h', db: 2, req, card: 0 });
    const db = seq;
    emit({ time, initiator: 'hw', kind: 'irq', side: 'host', cause: db, req, card: 0 });
    const irq = seq;
    emit({ time, initiator: 'host.driver', kind: 'mmio.read', register: 'SICE0', cause: irq, req, card: 0 });
    emit({
      time,
      initiator: 'host.mic0.block',
      kind: 'mmio.write',
      register: 'DHPR0',
      req,
      card: 0,
      channel: 0,
    });
    const dhpr = seq;
    emit({
      time,
      initiator: 'mic0.dma0',
      kind: 'dma.desc',
      descType: 'memcpy',
      len: 512,
      cause: dhpr,
      channel: 0,
      req,
    });
    emit({ time: time + 50, initiator: 'mic0.dma0', kind: 'mem.write', len: 512, channel: 0, req, card: 0 });
    emit({
      time: time + 60,
      initiator: 'host.mic0.block',
      kind: 'vring.used',
      side: 'host',
      queue: 'block.requestq',
      req,
    });
  }
  x.finish();
  assert.equal(x.stats.requests, 25_000);
  assert.equal(x.stats.flows, 75_000);
  const inner = x as unknown as { openRequests: Map<number, unknown>; flowSources: Map<number, unknown> };
  assert.equal(inner.openRequests.size, 0);
  assert.ok(inner.flowSources.size <= 4096);
});
