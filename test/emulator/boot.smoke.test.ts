import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedMachine, typeLine } from '../helpers/machine.ts';

test('a booted card answers uname -a on its virtio console', () => {
  const t = bootedMachine();
  assert.equal(t.m.state(0), 'online');
  const out = typeLine(t, 'uname -a');
  assert.match(out, /Linux mic0 3\.13\.0-mic #1 SMP PREEMPT .* k1om GNU\/Linux\r\n/);
  assert.deepEqual(t.m.internalErrors, []);
});
