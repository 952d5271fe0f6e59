// The MIC Timeline panel's pure logic: the scale and its zoom/pan, lane order and filters, bar
// stacking, hit-testing of events, buckets and bars, keyboard selection, search, the throttle.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  LANE_H,
  Throttle,
  barRows,
  clampView,
  followView,
  histogramBars,
  hitTest,
  kindMask,
  layoutLanes,
  noFilters,
  panBy,
  requestView,
  search,
  selectables,
  step,
  ticks,
  timeAt,
  timeLabel,
  visibleLanes,
  xOf,
  zoomAt,
  type LaneInfo,
  type RequestBar,
  type TimelineData,
} from '../../src/extension/timeline/timelineModel.ts';

const lane = (
  id: string,
  kind: LaneInfo['kind'],
  card: number,
  group = card >= 0 ? `mic${card}` : 'host',
): LaneInfo => ({
  id,
  name: id,
  group,
  kind,
  card,
});
const LANES: LaneInfo[] = [
  lane('mic0.vq.block.requestq', 'queue', 0),
  lane('mic0.cpu', 'os', 0),
  lane('host.mic0.block', 'backend', 0, 'host'),
  lane('mic0.hw', 'irq', 0),
  lane('host.driver', 'driver', -1),
  lane('mic0.dma0', 'dma', 0),
  lane('mic0.state', 'state', 0),
  lane('mic1.cpu', 'os', 1),
  lane('mic0.vq.console.rx', 'queue', 0),
];

const bar = (id: number, a: number, d: number, l = 'mic0.vq.block.requestq'): RequestBar => ({
  id,
  queue: l.replace(/^mic\d+\.vq\./, ''),
  lane: l,
  card: 0,
  availTime: a,
  availSeq: id * 10,
  usedTime: d - 1,
  usedSeq: id * 10 + 5,
  doneTime: d,
  doneSeq: id * 10 + 6,
  bytes: 529,
  usedLen: 513,
  latency: d - 1 - a,
});

test('scale: x and time are inverse; zoom keeps the time under the pointer; pan and clamp stay inside the session', () => {
  const v = { from: 1000, to: 2000 };
  assert.equal(xOf(v, 500, 1500), 250);
  assert.equal(timeAt(v, 500, 250), 1500);
  const z = zoomAt(v, 500, 100, 0.5, 10_000);
  assert.equal(z.to - z.from, 500);
  assert.equal(timeAt(z, 500, 100), timeAt(v, 500, 100));
  // Zooming out past the session shows the whole session, not more.
  assert.deepEqual(zoomAt(v, 500, 0, 1000, 10_000), { from: 0, to: 10_000 });
  // Zoom in stops at MIN_SPAN.
  assert.equal(zoomAt(v, 500, 250, 1e-9, 10_000).to - zoomAt(v, 500, 250, 1e-9, 10_000).from, 20);
  assert.deepEqual(panBy(v, 500, 250, 10_000), { from: 1500, to: 2500 });
  assert.deepEqual(panBy(v, 500, -5000, 10_000), { from: 0, to: 1000 });
  assert.deepEqual(clampView({ from: 9500, to: 10_500 }, 10_000), { from: 9000, to: 10_000 });
  const f = followView({ from: 0, to: 1000 }, 50_000);
  assert.ok(f.from < 50_000 && f.to > 50_000 && f.to - f.from === 1000);
});

test('zoom to request: the bar with a quarter of its length each side', () => {
  assert.deepEqual(requestView(bar(1, 1000, 1400), 1e6), { from: 900, to: 1500 });
  // An open request runs to the session's end; the window keeps its width inside the session.
  const open = { ...bar(2, 1000, 0), doneTime: -1, usedTime: -1, latency: -1 };
  assert.deepEqual(requestView(open, 2000), { from: 500, to: 2000 });
});

test('axis ticks are round and every ~100 px; labels carry the scale’s precision', () => {
  const t = ticks({ from: 2_350_000_000, to: 2_350_001_000 }, 1000, 100);
  assert.deepEqual(t.slice(0, 3), [2_350_000_000, 2_350_000_100, 2_350_000_200]);
  assert.equal(t.length, 10);
  assert.equal(timeLabel(2_350_000_116, 100), '2.350000116 s');
  assert.equal(timeLabel(2_350_000_116, 1000), '2.35000012 s');
  assert.equal(timeLabel(1500, 2000), '1.50 µs');
  assert.equal(timeLabel(800, 800), '800 ns');
});

test('lanes: the host first (driver, back-ends), then per card OS, DMA, doorbells, state, queues; filters hide cards, devices, queues', () => {
  const ids = (f = noFilters()) => visibleLanes(LANES, f).map((l) => l.id);
  assert.deepEqual(ids(), [
    'host.driver',
    'host.mic0.block',
    'mic0.cpu',
    'mic0.dma0',
    'mic0.hw',
    'mic0.state',
    'mic0.vq.block.requestq',
    'mic0.vq.console.rx',
    'mic1.cpu',
  ]);
  const f = noFilters();
  f.cards.add(1);
  f.devices.add('block');
  f.queues.add('mic0.vq.console.rx');
  assert.deepEqual(ids(f), ['host.driver', 'mic0.cpu', 'mic0.dma0', 'mic0.hw', 'mic0.state']);
  const k = noFilters();
  k.kinds.add('mmio.read');
  assert.equal(kindMask(['mmio.read', 'mmio.write', 'doorbell'], k), 0b110);
});

test('layout: lanes stack from the top; a queue lane grows with its overlapping bars', () => {
  const rows = layoutLanes(
    visibleLanes(LANES, noFilters()).slice(5, 8),
    22,
    new Map([['mic0.vq.block.requestq', 3]]),
  );
  assert.equal(rows[0].y, 22);
  assert.equal(rows[0].h, LANE_H);
  assert.equal(rows[1].rows, 3);
  assert.ok(rows[1].h > LANE_H);
  assert.equal(rows[2].y, rows[1].y + rows[1].h);
  // Overlapping bars take rows; one that starts after a row's end reuses it.
  const stack = barRows([bar(1, 0, 100), bar(2, 50, 150), bar(3, 120, 200), bar(4, 60, 70)], 1000, 3);
  assert.deepEqual(
    [...stack.entries()].sort((a, b) => a[0] - b[0]),
    [
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 2],
    ],
  );
});

/** A frame of 1000 ns over 1000 px: host.driver lists 3 events, mic0.cpu is bucketed, one block request. */
function frame(): TimelineData {
  return {
    from: 0,
    to: 1000,
    width: 1000,
    bucketNs: 4,
    firstSeq: 1,
    lastSeq: 400,
    kept: { lo: 1, head: 400 },
    names: { 7: 'irq → host vector 1', 8: 'mmio.read SICR0', 9: 'doorbell SDBIC2' },
    lanes: [
      {
        lane: 'host.driver',
        count: 3,
        events: { seq: [100, 101, 150], time: [100, 102, 500], kind: [7, 0, 6], name: [7, 8, 9] },
      },
      {
        lane: 'mic0.cpu',
        count: 300,
        buckets: { i: [10, 11, 200], count: [120, 80, 100], first: [20, 140, 300], mask: [1, 3, 64] },
      },
    ],
    requests: [bar(19, 300, 700)],
    requestsOmitted: 0,
    links: [],
    linksOmitted: 0,
  };
}

test('hit-testing: the nearest listed event within 4 px, a bucket by its span, a request bar by its rectangle', () => {
  const f = frame();
  const lanes = visibleLanes(LANES, noFilters()).filter((l) =>
    ['host.driver', 'mic0.cpu', 'mic0.vq.block.requestq'].includes(l.id),
  );
  const rows = layoutLanes(lanes, 0);
  const [drv, cpu, vq] = rows;
  const stacks = barRows(f.requests, f.to);
  const at = (x: number, r: typeof drv, shown = -1) =>
    hitTest(f, rows, stacks, 1000, x, r.y + r.h / 2, shown);
  assert.deepEqual(at(101.4, drv), {
    type: 'event',
    seq: 101,
    lane: 'host.driver',
    time: 102,
    name: 'mmio.read SICR0',
  });
  assert.equal(at(99, drv)?.seq, 100);
  assert.equal(at(300, drv), null);
  // A kind filtered away cannot be hit.
  assert.equal(at(101.4, drv, ~1)?.seq, 100);
  const b = at(45, cpu);
  assert.deepEqual(b, { type: 'bucket', seq: 140, lane: 'mic0.cpu', time: 44, count: 80 });
  assert.equal(at(600, cpu), null);
  const r = at(500, vq);
  assert.equal(r?.type, 'request');
  assert.equal(r?.seq, 190, "a bar's seq is its avail event");
  assert.equal(at(800, vq), null);
  assert.equal(hitTest(f, rows, stacks, 1000, 500, 10_000), null);
});

test('keyboard selection walks a lane’s events, buckets or bars in time order', () => {
  const f = frame();
  const drv = lane('host.driver', 'driver', -1);
  const list = selectables(f, drv);
  assert.deepEqual(
    list.map((h) => h.seq),
    [100, 101, 150],
  );
  assert.equal(step(list, undefined, 1)?.seq, 100);
  assert.equal(step(list, undefined, -1)?.seq, 150);
  assert.equal(step(list, 101, 1)?.seq, 150);
  assert.equal(step(list, 150, 1)?.seq, 150);
  assert.deepEqual(
    selectables(f, lane('mic0.cpu', 'os', 0), 64).map((h) => h.seq),
    [300],
  );
  assert.deepEqual(
    selectables(f, lane('mic0.vq.block.requestq', 'queue', 0)).map((h) => h.seq),
    [190],
  );
});

test('search reads the loaded frame: event names, lanes, seqs and request fields; every word must match', () => {
  const f = frame();
  assert.deepEqual(
    search(f, 'doorbell').map((h) => h.seq),
    [150],
  );
  assert.deepEqual(
    search(f, 'block.requestq').map((h) => h.type),
    ['request'],
  );
  assert.deepEqual(
    search(f, 'host.driver SICR0').map((h) => h.seq),
    [101],
  );
  assert.deepEqual(
    search(f, '#100').map((h) => h.seq),
    [100],
  );
  assert.deepEqual(search(f, '   '), []);
});

test('latency histogram bars: the tallest full height, p50/p99 placed on the log axis', () => {
  const b = histogramBars({ log2From: 8, count: [1, 4, 0, 2] }, 200, 50);
  assert.equal(b.length, 4);
  assert.equal(b[1].h, 50);
  assert.equal(b[2].h, 0);
  assert.equal(b.xOf(256), 0);
  assert.equal(b.xOf(512), 50);
  assert.equal(b.xOf(1e12), 199);
});

test('throttle: one request in flight, at most one per interval, the latest wish wins', () => {
  const t = new Throttle(50);
  assert.equal(t.next(0), null, 'nothing wanted');
  t.want();
  assert.equal(t.next(0), 1);
  t.want();
  t.want();
  assert.equal(t.wait(10), Infinity, 'one in flight');
  t.done();
  assert.equal(t.wait(10), 40);
  assert.equal(t.next(10), null);
  assert.equal(t.next(60), 2);
  t.done();
  assert.equal(t.next(200), null, 'the two wishes were one');
});
