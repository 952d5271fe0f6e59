// The event store's cap (timeTravel/eventStore.ts): past it the oldest events leave the ring as
// counts per lane, the newest stay in full; every event is still counted at any zoom.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankEvent } from '../../src/emulator/sim/busEvent.ts';
import { EventStore } from '../../src/emulator/timeTravel/eventStore.ts';
import { timelineData } from '../../src/debugAdapter/timeline/timelineData.ts';

test('past its cap the store keeps the newest events in full and counts the older ones', () => {
  const s = new EventStore(1 << 16);
  const e = blankEvent();
  const N = 300_000;
  for (let i = 1; i <= N; i++) {
    e.seq = i;
    e.time = i * 10;
    e.initiator = i % 3 === 0 ? 'host.driver' : 'mic0.cpu';
    e.kind = i % 3 === 0 ? 'mmio.read' : 'mem.write';
    e.space = 'mic0.gddr';
    e.cause = i - 1;
    s.add(e);
  }
  s.add(e); // the same seq again (a replay): ignored
  assert.equal(s.head, N);
  assert.ok(s.size <= 1 << 16 && s.size > (1 << 16) - (1 << 12));
  assert.equal(s.bytes, 24 << 16);
  assert.equal(s.coarse.reduce((a, c) => a + c.toSeq - c.fromSeq + 1, 0) + s.size, N);
  assert.equal(s.timeOf(N), N * 10);
  const d = timelineData(s, { from: 0, to: N * 10 + 1, width: 1000 });
  assert.equal(
    d.lanes.reduce((a, l) => a + l.count, 0),
    N,
  );
  s.truncate(N - 10);
  assert.equal(s.head, N - 10);
  assert.throws(() => new EventStore(1000), /power of two/);
});
