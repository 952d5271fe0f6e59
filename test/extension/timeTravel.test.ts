// The words and inputs of time travel in VS Code (model/timeTravel.ts): the status bar's position,
// the Go to Event input checked as you type, when typing in the past asks first, and the rows of
// "Who last wrote this?".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  forkQuestion,
  formatTime,
  lastWriteRows,
  lastWriteTitle,
  parseGoto,
  positionText,
  type TimelinePosition,
} from '../../src/extension/model/timeTravel.ts';

const at = (seq: number, head: number, events = head - seq, inputs = 0): TimelinePosition => ({
  seq,
  head,
  time: 1_500_000,
  inputs: 3,
  future: { events, inputs },
});

test('the status bar says the event and the head, and "past" when not at the head', () => {
  assert.equal(positionText(at(56789, 56789)), 'event 56,789 of 56,789');
  assert.equal(positionText(at(1234, 56789)), 'event 1,234 of 56,789 · past');
});

test('Go to Event reads a number, -N, +N and a time with its unit', () => {
  assert.deepEqual(parseGoto('1234'), { seq: 1234 });
  assert.deepEqual(parseGoto(' 1,234 '), { seq: 1234 });
  assert.deepEqual(parseGoto('-10'), { delta: -10 });
  assert.deepEqual(parseGoto('+3'), { delta: 3 });
  assert.deepEqual(parseGoto('1.5ms'), { time: '1.5ms' });
  assert.deepEqual(parseGoto('time 200 us'), { time: '200us' });
});

test('Go to Event says what is wrong as you type', () => {
  assert.match(parseGoto('') as string, /Type an event number/);
  assert.match(parseGoto('abc') as string, /"abc" is not an event or a time/);
  assert.match(parseGoto('1.5') as string, /not an event or a time/);
  assert.match(parseGoto('1.5 parsecs') as string, /not an event or a time/);
  const p = at(100, 500);
  assert.match(
    parseGoto('600', p) as string,
    /event 600 is not recorded yet: the timeline runs from 0 to 500/,
  );
  assert.match(parseGoto('-101', p) as string, /goes before the start: you are at event 100/);
  assert.match(parseGoto('+401', p) as string, /past the end of the recording/);
  assert.deepEqual(parseGoto('+400', p), { delta: 400 });
  assert.deepEqual(parseGoto('500', p), { seq: 500 });
});

test('typing in the past asks only when the dropped future is not trivial', () => {
  assert.equal(forkQuestion(at(500, 500)), null, 'at the head: nothing to drop');
  assert.equal(forkQuestion(at(0, 1000)), null, '1000 events and no input: trivial');
  assert.equal(
    forkQuestion(at(10, 2011)),
    'This starts a new timeline from event 10 and drops the 2,001 events (0 inputs) recorded after it.',
  );
  assert.equal(
    forkQuestion(at(10, 20, 10, 1)),
    'This starts a new timeline from event 10 and drops the 10 events (1 input) recorded after it.',
  );
});

test('who last wrote: rows with event, time, initiator, value and text; a title that counts', () => {
  const r = {
    target: 'mic0.gddr+0x1002',
    length: 2,
    truncated: true,
    writes: [
      {
        seq: 4321,
        time: 12_345,
        initiator: 'host.blk',
        initiatorName: 'virtio-blk back-end',
        kind: 'write',
        space: 'mic0.gddr',
        address: '0x1002',
        size: 2,
        value: '0x0003',
        text: 'virtio-blk back-end writes used.idx = 3',
      },
    ],
  };
  assert.deepEqual(lastWriteRows(r), [
    {
      label: 'event 4,321',
      description: '12.345 µs · virtio-blk back-end · 2 B = 0x0003',
      detail: 'virtio-blk back-end writes used.idx = 3',
      seq: 4321,
    },
  ]);
  assert.equal(
    lastWriteTitle(r, 'rx used.idx'),
    'Who last wrote rx used.idx (mic0.gddr+0x1002), 2 bytes: 1+ write, newest first',
  );
  assert.equal(lastWriteTitle({ ...r, writes: [] }), 'No write to mic0.gddr+0x1002 before this moment');
  assert.equal(formatTime(800), '800 ns');
  assert.equal(formatTime(1_500_000), '1.500 ms');
});
