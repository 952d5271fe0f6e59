// Card commands are offered only where the card's state allows them (issue 14, item 3).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedCommands, refusal } from '../../src/extension/model/cardActions.ts';

test('boot is offered only for an offline card; an online card is answered in words', () => {
  assert.deepEqual(allowedCommands('offline'), ['boot']);
  assert.deepEqual(allowedCommands('online'), ['reset', 'shutdown', 'suspend']);
  assert.deepEqual(allowedCommands('suspended'), ['reset', 'resume']);
  assert.equal(refusal(0, 'offline', 'boot'), null);
  assert.equal(
    refusal(0, 'online', 'boot'),
    'mic0 is online: Boot needs an offline card (Shutdown or Reset it first).',
  );
  assert.match(
    refusal(1, 'offline', 'reset') ?? '',
    /^mic1 is offline: Reset needs a card that is not offline/,
  );
});
