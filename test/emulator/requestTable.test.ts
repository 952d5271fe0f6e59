// The virtio request table (sim/requests.ts): ids by queue position, kept per queue in typed
// arrays behind a handle per queue. What it answers must be what a map keyed by (card, type, queue, position) answers for
// every position a live request can hold — including positions that wrap at 2¹⁶ — and a card
// reset must forget only that card.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RequestTable } from '../../src/emulator/sim/requests.ts';

const CONSOLE = 3;
const BLOCK = 2;

test('a request is found at its avail position until taken, at its used position until collected', () => {
  const t = new RequestTable();
  const id = t.queue(0, BLOCK, 0).publish(7);
  assert.equal(id, 1);
  assert.equal(t.queue(0, BLOCK, 0).atAvail(7), id);
  assert.equal(t.queue(0, BLOCK, 0).atAvail(8), 0, 'nothing at the next position');
  assert.equal(t.queue(0, CONSOLE, 0).atAvail(7), 0, 'another device');
  assert.equal(t.queue(1, BLOCK, 0).atAvail(7), 0, 'another card');
  assert.equal(t.queue(0, BLOCK, 1).atAvail(7), 0, 'another queue');
  t.queue(0, BLOCK, 0).taken(7);
  assert.equal(t.queue(0, BLOCK, 0).atAvail(7), 0);
  assert.equal(t.queue(0, BLOCK, 0).atUsed(3), 0);
  t.queue(0, BLOCK, 0).complete(3, id);
  assert.equal(t.queue(0, BLOCK, 0).atUsed(3), id);
  t.queue(0, BLOCK, 0).complete(4, 0);
  assert.equal(t.queue(0, BLOCK, 0).atUsed(4), 0, 'a completion of no request is not kept');
  t.queue(0, BLOCK, 0).collected(3);
  assert.equal(t.queue(0, BLOCK, 0).atUsed(3), 0);
  assert.equal(t.count, 1);
});

test('positions wrap at 2^16 and a full ring of requests in flight keeps every one', () => {
  const t = new RequestTable();
  const ids = new Map<number, number>();
  // 256 in flight from 65,500: across the wrap, more than any queue (128 entries) holds.
  for (let k = 0; k < 256; k++) {
    const pos = (65_500 + k) & 0xffff;
    ids.set(pos, t.queue(2, CONSOLE, 1).publish(pos));
  }
  for (const [pos, id] of ids) assert.equal(t.queue(2, CONSOLE, 1).atAvail(pos), id, `position ${pos}`);
  // The same position written as 65,536 + p names the same slot, as the ring's u16 does.
  assert.equal(t.queue(2, CONSOLE, 1).atAvail(65_536 + 3), ids.get(3));
  for (const [pos, id] of ids) {
    t.queue(2, CONSOLE, 1).taken(pos);
    t.queue(2, CONSOLE, 1).complete(pos, id);
  }
  for (const [pos, id] of ids) {
    assert.equal(t.queue(2, CONSOLE, 1).atAvail(pos), 0);
    assert.equal(t.queue(2, CONSOLE, 1).atUsed(pos), id);
  }
});

test('a position 1,024 later replaces a stale entry, and the stale position then finds nothing', () => {
  // Chains in flight are never 1,024 positions apart; an entry left behind (a device reset
  // without a card reset) is dropped rather than found at the wrong position.
  const t = new RequestTable();
  const stale = t.queue(0, CONSOLE, 0).publish(10);
  const fresh = t.queue(0, CONSOLE, 0).publish(10 + 1024);
  assert.notEqual(stale, fresh);
  assert.equal(t.queue(0, CONSOLE, 0).atAvail(10 + 1024), fresh);
  assert.equal(t.queue(0, CONSOLE, 0).atAvail(10), 0);
  t.queue(0, CONSOLE, 0).taken(10); // the stale position: must not drop the fresh request
  assert.equal(t.queue(0, CONSOLE, 0).atAvail(10 + 1024), fresh);
});

test('forgetCard drops that card’s requests only', () => {
  const t = new RequestTable();
  const a = t.queue(0, BLOCK, 0).publish(1);
  const b = t.queue(1, BLOCK, 0).publish(1);
  t.queue(1, CONSOLE, 1).complete(5, b);
  t.queue(0, CONSOLE, 1).complete(5, a);
  t.forgetCard(1);
  assert.equal(t.queue(1, BLOCK, 0).atAvail(1), 0);
  assert.equal(t.queue(1, CONSOLE, 1).atUsed(5), 0);
  assert.equal(t.queue(0, BLOCK, 0).atAvail(1), a);
  assert.equal(t.queue(0, CONSOLE, 1).atUsed(5), a);
  t.forgetCard(7); // a card that never had a queue
  assert.equal(t.queue(0, BLOCK, 0).atAvail(1), a);
  assert.equal(t.count, 2);
});

test('a queue handle is the same object for good, and a reset clears it in place', () => {
  const t = new RequestTable();
  const q = t.queue(0, BLOCK, 0);
  assert.equal(t.queue(0, BLOCK, 0), q);
  const id = q.publish(3);
  t.forgetCard(0);
  assert.equal(q.atAvail(3), 0, 'the handle a driver kept sees the reset');
  assert.equal(q.publish(3), id + 1, 'ids go on counting');
});
