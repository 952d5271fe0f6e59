// What the configuration provider does to a launch configuration: an empty one (F5 without
// launch.json) boots one card, consoles always go to the extension's terminals, relative file
// paths come from the workspace folder; and the rows' data-breakpoint list merges with VS Code's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  absolutePaths,
  cardCount,
  dynamicConfigurations,
  resolveConfiguration,
} from '../../src/extension/model/launchConfigurations.ts';
import { WatchList, watchText } from '../../src/extension/model/watchList.ts';

test('no launch.json: F5 boots one card, consoles in terminals', () => {
  assert.deepEqual(resolveConfiguration({}), {
    type: 'mic',
    request: 'launch',
    name: 'Boot one card',
    consoleTerminal: true,
    internalConsoleOptions: 'neverOpen',
  });
});

test('a launch.json configuration keeps its attributes and always gets consoleTerminal', () => {
  const c = resolveConfiguration({
    type: 'mic',
    request: 'launch',
    name: 'x',
    cards: 2,
    consoleTerminal: false,
  });
  assert.equal(c.cards, 2);
  assert.equal(c.consoleTerminal, true);
});

test('relative disk, pcap and trace paths are taken from the workspace folder, which is the launch cwd', () => {
  const c = absolutePaths(
    { disk: 'mic.img', pcap: '/tmp/a.pcap', trace: null },
    '/ws',
    path.join,
    path.isAbsolute,
  );
  assert.deepEqual(c, { disk: '/ws/mic.img', pcap: '/tmp/a.pcap', trace: null, cwd: '/ws' });
  assert.equal(absolutePaths({ cwd: '/elsewhere' }, '/ws', path.join, path.isAbsolute).cwd, '/elsewhere');
  assert.deepEqual(absolutePaths({ disk: 'x' }, undefined, path.join, path.isAbsolute), { disk: 'x' });
});

test('dynamic configurations: the two-card one only where there is a folder for its files', () => {
  assert.deepEqual(
    dynamicConfigurations(true).map((c) => c.name),
    ['Boot one card', 'Stop on entry', 'Two cards with disk and pcap'],
  );
  assert.ok(!dynamicConfigurations(false).some((c) => c.name.startsWith('Two')));
});

test('card count for the consoles opened at launch', () => {
  assert.equal(cardCount({}), 1);
  assert.equal(cardCount({ cards: 3 }), 3);
  assert.equal(cardCount({ cards: 99 }), 1);
});

test('Break on Write on a row is the function breakpoint `write ADDRESS [LEN]`, found again by the row', () => {
  const reg = { reference: 'mic0.bar4+0x1cc90', bytes: 4, name: 'mic0.SDBIC0', register: true };
  const ring = { reference: 'host+0x10001000', bytes: 2048, name: 'console.tx ring' };
  assert.equal(watchText('write', reg), 'write mic0.SDBIC0');
  assert.equal(watchText('access', ring), 'access host+0x10001000 2048');
  assert.equal(
    watchText('read', { reference: 'mic0.gddr+0x40', bytes: 4, name: 'x' }),
    'read mic0.gddr+0x40',
  );
  const w = new WatchList();
  w.set(['doorbell', '  write   mic0.SDBIC0 ', 'access host+0x10001000 2048']);
  assert.deepEqual(w.find(reg), { access: 'write', text: 'write mic0.SDBIC0' });
  assert.deepEqual(w.find(ring), { access: 'access', text: 'access host+0x10001000 2048' });
  assert.equal(w.find({ reference: 'host+0x0', bytes: 4, name: 'y' }), undefined);
});
