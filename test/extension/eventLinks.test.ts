// The event numbers of the MIC stop document that become "go there" links.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventMentions } from '../../src/extension/model/eventLinks.ts';

test("the stop's seq and its cause are links; other numbers are not", () => {
  const text = [
    '// doorbell h2c 1 (h2c_vdev_db of virtio-console on mic0) written by mic0 console back-end',
    '',
    'seq        1609',
    'time       2.350000580 s (virtual)',
    'size       4',
    'cause      1598 (the event that made this one happen)',
    'request    3 (the virtio request this event belongs to)',
    '',
    'call path (innermost first):',
    '→ #0 doorbell h2c 1',
  ].join('\n');
  const m = eventMentions(text);
  assert.deepEqual(
    m.map(({ line, start, end, seq }) => ({ line, start, end, seq })),
    [
      { line: 2, start: 11, end: 15, seq: 1609 },
      { line: 5, start: 11, end: 15, seq: 1598 },
    ],
  );
  assert.match(m[1].tooltip, /caused this one/);
  assert.equal(text.split('\n')[2].slice(m[0].start, m[0].end), '1609');
});

test('a frame without an event (a routine of the call path) has no links', () => {
  assert.deepEqual(eventMentions('// mic_send_intr(db=0x1)\n\ndb         0x1\n'), []);
});
