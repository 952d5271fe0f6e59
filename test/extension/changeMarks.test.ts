// Changed-value marks: a row is marked when its value differs from the previous stop; looking
// again while stopped keeps the marks; while running, rows are compared with the latest stop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeMarks } from '../../src/extension/model/changeMarks.ts';
import type { NodeModel } from '../../src/extension/model/nodeModel.ts';

const rows = (values: Record<string, string>): NodeModel[] => [
  {
    id: 'mic0',
    kind: 'card',
    label: 'mic0',
    children: Object.entries(values).map(([id, value]) => ({
      id: `mic0/${id}`,
      kind: 'register',
      label: id,
      value,
    })),
  },
];
const marked = (r: NodeModel[]) =>
  Object.fromEntries(
    (r[0].children ?? []).filter((n) => n.changedFrom !== undefined).map((n) => [n.label, n.changedFrom]),
  );

test('nothing is marked before there is a stop to compare with', () => {
  const c = new ChangeMarks();
  assert.deepEqual(marked(mark(c, { SICR0: '0x0' }, 'running')), {});
  assert.deepEqual(marked(mark(c, { SICR0: '0x0' }, 'newStop')), {});
});

test('at a stop, the rows that changed since the previous stop are marked with the old value', () => {
  const c = new ChangeMarks();
  mark(c, { SICR0: '0x0', SPAD2: '0x1' }, 'newStop');
  assert.deepEqual(marked(mark(c, { SICR0: '0x1', SPAD2: '0x1' }, 'newStop')), { SICR0: '0x0' });
  // looking again at the same stop keeps the mark
  assert.deepEqual(marked(mark(c, { SICR0: '0x1', SPAD2: '0x1' }, 'stopped')), { SICR0: '0x0' });
  // the next stop compares with this one
  assert.deepEqual(marked(mark(c, { SICR0: '0x1', SPAD2: '0x2' }, 'newStop')), { SPAD2: '0x1' });
});

test('while running, rows are compared with the latest stop', () => {
  const c = new ChangeMarks();
  mark(c, { DHPR0: '0x2' }, 'newStop');
  mark(c, { DHPR0: '0x3' }, 'newStop');
  assert.deepEqual(marked(mark(c, { DHPR0: '0x3' }, 'running')), {});
  assert.deepEqual(marked(mark(c, { DHPR0: '0x4' }, 'running')), { DHPR0: '0x3' });
});

test('rows opened after a stop join its snapshot; rows not looked at keep their older values', () => {
  const c = new ChangeMarks();
  mark(c, { A: '0x1' }, 'newStop');
  mark(c, { A: '0x1', B: '0x5' }, 'stopped'); // B shown for the first time at this stop
  assert.deepEqual(marked(mark(c, { A: '0x1' }, 'newStop')), {}); // B not looked at
  assert.deepEqual(marked(mark(c, { A: '0x1', B: '0x6' }, 'stopped')), { B: '0x5' });
});

test('reset forgets: a new session marks nothing at first', () => {
  const c = new ChangeMarks();
  mark(c, { A: '0x1' }, 'newStop');
  c.reset();
  assert.deepEqual(marked(mark(c, { A: '0x2' }, 'newStop')), {});
});

function mark(c: ChangeMarks, values: Record<string, string>, moment: 'newStop' | 'stopped' | 'running') {
  const r = rows(values);
  c.mark(r, moment);
  return r;
}
