// The MIC Timeline's data (docs/timeline.md, "Timeline panel: data") on a known session: a real
// DebugRuntime on a real disk image, booted, then `dd if=/dev/vda of=/dev/null bs=512 count=1`.
// The lanes, the block request and its links, aggregation at several zoom levels, the hover
// card, the stats, no doubling after seeking back and forward, truncation on a fork.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { LAUNCH_DEFAULTS } from '../../src/debugAdapter/launchConfig.ts';
import type { EventStore } from '../../src/emulator/timeTravel/eventStore.ts';
import {
  timelineData,
  timelineLanes,
  type TimelineData,
} from '../../src/debugAdapter/timeline/timelineData.ts';
import { timelineEvent, type TimelineEvent } from '../../src/debugAdapter/timeline/timelineEvent.ts';
import { timelineStats } from '../../src/debugAdapter/timeline/timelineStats.ts';
import type { VirtioRequest } from '../../src/emulator/sim/requestTracker.ts';

let dir: string;
let rt: DebugRuntime;
let store: EventStore;
let req: VirtioRequest;
let ddHead: number;
let typedAt: number;

function type(line: string): void {
  rt.consoleInput(0, new TextEncoder().encode(line + '\r'));
  rt.machine.run();
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mic-tldata-'));
  rt = new DebugRuntime({ ...LAUNCH_DEFAULTS, disk: join(dir, 'd.img'), diskSizeMiB: 1 });
  rt.start();
  // Kept from power-on (a session that opens the timeline later fills it by a replay).
  rt.timeline.keepEvents();
  const m = rt.machine;
  assert.ok(m.runUntil(() => m.cardOs.every((o) => o.shell !== null) && m.sched.idle));
  m.run();
  typedAt = rt.timeline.seq;
  type('dd if=/dev/vda of=/dev/null bs=512 count=1');
  store = rt.timeline.events!;
  ddHead = store.head;
  const blk = store.requests.all.filter((r) => r.queue === 'block.requestq' && r.availSeq > typedAt);
  assert.equal(blk.length, 1, 'one block request for the dd');
  req = blk[0];
});
after(() => {
  rt.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const laneOf = (d: TimelineData, key: string) => d.lanes.find((l) => l.lane === key)!;
function eventsOf(d: TimelineData): number {
  let n = 0;
  for (const l of d.lanes) {
    const got = l.events ? l.events.seq.length : l.buckets!.count.reduce((a, b) => a + b, 0);
    assert.equal(got, l.count, `lane ${l.lane}: its events or buckets add up to its count`);
    n += l.count;
  }
  return n;
}

test('every event is stored once, 24 bytes of columns each', () => {
  assert.equal(store.head, rt.timeline.head);
  assert.equal(store.lo, 1);
  assert.equal(store.size, store.head);
  assert.ok(
    store.bytes <= 24 * Math.max(1 << 16, 2 * store.size),
    'columns grow by doubling: at most twice the events',
  );
});

test('the lanes: host driver, the block back-end, the card OS, a DMA channel, doorbells & interrupts, state, the queue', () => {
  const { lanes } = timelineLanes(store);
  const byId = new Map(lanes.map((l) => [l.id, l]));
  assert.deepEqual(byId.get('host.driver'), {
    id: 'host.driver',
    name: 'host.driver',
    group: 'host',
    kind: 'driver',
    card: -1,
  });
  assert.equal(byId.get('host.mic0.block')?.kind, 'backend');
  assert.equal(byId.get('host.mic0.block')?.group, 'host');
  assert.equal(byId.get('mic0.cpu')?.kind, 'os');
  assert.equal(byId.get('mic0.dma0')?.kind, 'dma');
  assert.equal(byId.get('mic0.hw')?.kind, 'irq');
  assert.equal(byId.get('mic0.hw')?.name, 'mic0 doorbells & interrupts');
  assert.equal(byId.get('mic0.state')?.kind, 'state');
  assert.deepEqual(byId.get('mic0.vq.block.requestq'), {
    id: 'mic0.vq.block.requestq',
    name: 'mic0 block.requestq',
    group: 'mic0',
    kind: 'queue',
    card: 0,
  });
});

test('zoomed out over the whole session: buckets add up to every event, and the frame is small', () => {
  const d = timelineData(store, { from: 0, to: store.timeOf(store.head) + 1, width: 1000 });
  assert.equal(eventsOf(d), store.head);
  assert.ok(laneOf(d, 'mic0.cpu').buckets, 'a busy lane is summarised');
  assert.ok(JSON.stringify(d).length < 200_000);
  // Each bucket's first seq lies in it, and its mask has the bit of that event's kind.
  const cpu = laneOf(d, 'mic0.cpu').buckets!;
  for (let k = 0; k < cpu.i.length; k++) {
    const s = cpu.first[k];
    const b = Math.min(249, Math.floor((store.timeOf(s) - d.from) / d.bucketNs));
    assert.equal(b, cpu.i[k]);
    const kindBit = 1 << timelineLanes(store).kinds.indexOf(store.kindOf(s));
    assert.ok(cpu.mask[k] & kindBit);
  }
});

test('zoom levels: any window’s counts are the events in it', () => {
  const end = store.timeOf(store.head);
  for (const [from, to, width] of [
    [0, end / 2, 300],
    [end / 2, end + 1, 2000],
    [req.availTime - 1000, req.doneTime + 1000, 800],
  ]) {
    const d = timelineData(store, { from, to, width });
    assert.equal(eventsOf(d), store.seqAtTime(to) - store.seqAtTime(from), `window ${from} … ${to}`);
  }
});

test('zoomed in on the block request: its bar, its events listed, its causal links across lanes', () => {
  const d = timelineData(store, { from: req.availTime - 100, to: req.doneTime + 100, width: 1200 });
  const bar = d.requests.find((r) => r.id === req.id)!;
  assert.equal(bar.queue, 'block.requestq');
  assert.equal(bar.lane, 'mic0.vq.block.requestq');
  assert.equal(bar.availSeq, req.availSeq);
  assert.ok(bar.usedSeq > bar.availSeq && bar.doneSeq > bar.usedSeq);
  assert.equal(bar.latency, req.usedTime - req.availTime);
  assert.ok(bar.bytes > 512);
  for (const key of ['mic0.hw', 'host.mic0.block', 'mic0.dma0']) {
    const l = laneOf(d, key);
    assert.ok(l.events && l.events.seq.length > 0, `${key} lists its events`);
    for (let k = 0; k < l.events.seq.length; k++)
      assert.equal(d.names[l.events.name[k]], store.names[store.nameOfSeq(l.events.seq[k])]);
  }
  const named = (seq: number) => store.names[store.nameOfSeq(seq)];
  const has = (from: RegExp, fromLane: string, to: RegExp, toLane: string) =>
    d.links.some(
      (k) =>
        k.fromLane === fromLane && k.toLane === toLane && from.test(named(k.from)) && to.test(named(k.to)),
    );
  assert.ok(
    has(/^doorbell /, 'mic0.cpu', /^irq → host/, 'mic0.hw') ||
      has(/SDBIC/, 'mic0.cpu', /^irq → host/, 'mic0.hw'),
    'doorbell → interrupt',
  );
  assert.ok(
    d.links.some(
      (k) => k.fromLane === 'mic0.hw' && named(k.from).startsWith('irq → host') && k.toLane === 'host.driver',
    ),
    'interrupt → handler',
  );
  assert.ok(
    has(/^mmio\.write DHPR/, 'host.mic0.block', /^dma\.desc/, 'mic0.dma0'),
    'DHPR write → descriptor',
  );
  assert.ok(
    d.links.some(
      (k) => k.fromLane === 'mic0.hw' && named(k.from).startsWith('irq → card') && k.toLane === 'mic0.cpu',
    ),
    'interrupt → completion',
  );
  for (const k of d.links) {
    assert.equal(store.causeOf(k.to), k.from);
    assert.equal(k.fromTime, store.timeOf(k.from));
  }
});

test('the hover card of the used entry: fields, words, causes to the root, effects', () => {
  const h = timelineEvent(store, req.usedSeq) as TimelineEvent;
  assert.equal(h.kind, 'vring.used');
  assert.equal(h.name, 'vring.used block.requestq (host)');
  assert.equal(h.lane, 'host.mic0.block');
  assert.equal(h.req, req.id);
  assert.equal(h.request?.id, req.id);
  assert.match(h.words, /^vring\.used block\.requestq \(host\) by host\.mic0\.block at \d+ ns \(event \d+\)/);
  assert.ok(h.causes.length > 1);
  for (let k = 0; k < h.causes.length - 1; k++) assert.equal(h.causes[k].cause, h.causes[k + 1].seq);
  assert.match(timelineEvent(store, store.head + 5) as string, /not held/);
  assert.match(timelineEvent(store, 'x') as string, /^seq:/);
});

test('stats: the block queue’s latency and occupancy, DMA bytes, doorbells', () => {
  const s = timelineStats(store, 0, 'block.requestq');
  assert.equal(s.queues.length, 1);
  const q = s.queues[0];
  assert.ok(q.completed >= 1);
  assert.ok(q.latency && q.latency.p50 > 0 && q.latency.p99 >= q.latency.p50);
  assert.equal(
    q.latency.histogram.count.reduce((a, b) => a + b, 0),
    q.completed,
  );
  assert.ok(q.occupancy.some(([, n]) => n >= 1) && q.occupancy[q.occupancy.length - 1][1] === 0);
  assert.ok(s.dma.find((x) => x.lane === 'mic0.dma0')!.memcpyBytes >= 512);
  assert.ok(s.doorbells[0].count > 0);
});

test('a seek back and forward again adds nothing; a new input in the past truncates the store', async () => {
  const before = JSON.stringify(
    timelineData(store, { from: 0, to: store.timeOf(store.head) + 1, width: 500 }),
  );
  await rt.goto(typedAt);
  assert.equal(rt.timeline.seq, typedAt);
  assert.equal(store.head, ddHead, 'the store keeps the recorded future');
  await rt.goto(ddHead);
  assert.equal(store.head, ddHead);
  assert.equal(
    JSON.stringify(timelineData(store, { from: 0, to: store.timeOf(store.head) + 1, width: 500 })),
    before,
  );

  await rt.goto(typedAt);
  rt.consoleInput(0, new TextEncoder().encode('\r'));
  // The input itself is the first event of the new timeline.
  assert.equal(store.head, typedAt + 1, 'the fork dropped the recorded future');
  assert.ok(!store.requests.all.some((r) => r.id === req.id), 'the dropped request is gone');
  rt.machine.run();
  assert.equal(store.head, rt.timeline.head);
  assert.equal(store.size, store.head);
  const d = timelineData(store, { from: 0, to: store.timeOf(store.head) + 1, width: 500 });
  assert.equal(eventsOf(d), store.head);
});
