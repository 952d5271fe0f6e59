// The summarised frame (per-block summaries, the request index: docs/timeline.md, "Level of
// detail") equals the straightforward per-event answer, field for field (bucket counts, masks,
// first seqs, listed events, requests and what was omitted), on a known session at several zooms,
// after a truncation (a fork: the same seqs, other events) and after the store evicted its oldest.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankEvent } from '../../src/emulator/sim/busEvent.ts';
import { EventStore } from '../../src/emulator/timeTravel/eventStore.ts';
import { timelineData, type TimelineQuery } from '../../src/debugAdapter/timeline/timelineData.ts';

/**
 * Events `from` … `to`: a busy card OS and host driver, a DMA channel in bursts, interrupts, a
 * state change every 5000 events (a lane few enough to list), idle gaps every 20000, and a block
 * request every 50 events (avail, used, taken back; every 7th left open). `variant` changes the mix.
 */
function feed(s: EventStore, from: number, to: number, variant: number): void {
  const e = blankEvent();
  e.card = 0;
  e.device = 'block';
  e.queue = 'block.requestq';
  e.space = 'mic0.gddr';
  for (let i = from; i <= to; i++) {
    e.seq = i;
    e.time = i * 10 + Math.floor(i / 20_000) * 1_000_000 + variant * 3;
    e.cause = i > 1 && i % 3 === 0 ? i - 1 : 0;
    e.req = 0;
    const id = Math.floor(i / 50) + 1 + variant * 1_000_000;
    const open = Math.floor(i / 50) % 7 === 3;
    const h = ((i * 2654435761) >>> 0) % 97;
    if (i % 5000 === 0) {
      e.initiator = 'hw';
      e.kind = 'state';
      e.state = variant ? 'ready' : 'online';
    } else if (i % 50 === 10) {
      e.initiator = 'mic0.cpu';
      e.kind = 'vring.avail';
      e.side = 'card';
      e.req = id;
      e.len = 512;
    } else if (i % 50 === 30 && !open) {
      e.initiator = 'host.mic0.block';
      e.kind = 'vring.used';
      e.side = 'host';
      e.req = id;
    } else if (i % 50 === 40 && !open) {
      e.initiator = 'mic0.cpu';
      e.kind = 'vring.used';
      e.side = 'card';
      e.req = id;
    } else if ((i >> 9) % 4 === variant % 4 && h < 60) {
      e.initiator = 'mic0.dma0';
      e.kind = 'dma.desc';
      e.descType = 'memcpy';
    } else if (h < 40 + variant * 20) {
      e.initiator = 'mic0.cpu';
      e.kind = 'mem.write';
    } else if (h < 80) {
      e.initiator = 'host.driver';
      e.kind = h & 1 ? 'mmio.read' : 'mmio.write';
      e.register = h & 2 ? 'DSTAT' : 'DHPR0';
    } else {
      e.initiator = 'hw';
      e.kind = 'irq';
      e.vector = h & 3;
      e.side = h & 4 ? 'card' : 'host';
    }
    s.add(e);
  }
}

function windows(s: EventStore): TimelineQuery[] {
  const end = s.timeOf(s.head) + 1;
  const lo = s.timeOf(s.lo);
  return [
    { from: 0, to: end, width: 1600 },
    { from: 0, to: end, width: 97 },
    { from: 0, to: end, width: 20000 },
    { from: lo, to: end, width: 1 },
    { from: end * 0.3, to: end * 0.4, width: 1600 },
    { from: end * 0.55, to: end * 0.55 + end / 1000, width: 800 },
    { from: end * 0.7, to: end * 0.7 + end / 100_000, width: 1600 },
    { from: end * 0.2, to: end * 0.9, width: 5000 },
    { from: lo + 12_345, to: end - 777, width: 333 },
    { from: 0, to: end, width: 1600, lanes: ['mic0.state', 'mic0.vq.block.requestq'] },
    { from: end * 0.4, to: end, width: 1200, lanes: ['host.driver', 'mic0.dma0'] },
  ];
}

/** Every window twice (the second from summaries built by the first), against the plain answer. */
function same(s: EventStore, what: string): void {
  for (const q of windows(s))
    for (let r = 0; r < 2; r++)
      assert.deepEqual(
        timelineData(s, q),
        timelineData(s, q, { plain: true }),
        `${what}: window ${q.from} … ${q.to} at ${q.width} px${q.lanes ? ` lanes ${q.lanes.join(',')}` : ''}`,
      );
}

test('the summarised frame equals the per-event one at several zooms', () => {
  const s = new EventStore(1 << 18);
  feed(s, 1, 150_000, 0);
  same(s, 'known session');
  assert.ok(s.summaries.built > 2000, 'block summaries were read');
  const all = timelineData(s, { from: 0, to: s.timeOf(s.head) + 1, width: 1600 });
  assert.ok(all.requestsOmitted > 0 && all.requests.length === 200, 'requests capped, the rest counted');
  const state = all.lanes.find((l) => l.lane === 'mic0.state')!;
  assert.equal(state.events?.seq.length, 30, 'a sparse lane is listed from inside summarised blocks');
});

test('after a truncation (a fork) the summaries past the cut are rebuilt from the new events', () => {
  const s = new EventStore(1 << 18);
  feed(s, 1, 150_000, 0);
  same(s, 'before the fork');
  for (const cut of [100_000, 70_001]) {
    s.truncate(cut);
    feed(s, cut + 1, cut + 40_000 + (cut % 1000), 1);
    same(s, `after a fork at ${cut}`);
  }
  // The new timeline's own requests and events are in the frame.
  const d = timelineData(s, { from: 0, to: s.timeOf(s.head) + 1, width: 1600 });
  assert.ok(d.lanes.find((l) => l.lane === 'mic0.state')!.events!.seq.includes(75_000));
});

test('after the store evicts its oldest events the frame still equals the per-event one', () => {
  const s = new EventStore(1 << 16);
  feed(s, 1, 60_000, 0);
  same(s, 'before eviction');
  feed(s, 60_001, 200_000, 0);
  assert.ok(s.coarse.length > 0 && s.lo > 1, 'the oldest left the ring');
  same(s, 'after eviction');
  s.truncate(s.lo + 1000);
  feed(s, s.head + 1, s.head + 90_000, 2);
  assert.ok(s.lo > 1);
  same(s, 'after a fork inside the held part and more eviction');
});
