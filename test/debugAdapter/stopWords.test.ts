// The Call Stack badge is a few words; the sentence is the stop's text (issue 14, item 2), and
// data breakpoints can be set by name as `write ADDRESS [LEN]` (item 7).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopBadge } from '../../src/debugAdapter/stopWords.ts';
import { blankEvent } from '../../src/emulator/sim/busEvent.ts';
import {
  parseWatchBreakpoint,
  WatchSyntaxError,
} from '../../src/debugAdapter/breakpoints/dataBreakpoints.ts';
import { checkAddress } from '../../src/extension/breakpoints/checkAddress.ts';

const ev = (kind: string, detail: string, initiator = 'host.driver', fields: object = {}) =>
  Object.assign(blankEvent(), { kind, detail, initiator, space: 'mic0.bar4' }, fields);

test('badges: doorbell h2c 1, data breakpoint, §9 rule 23, DMA ch 0', () => {
  const badge = (reason: string, e: ReturnType<typeof ev> | null, text?: string) =>
    stopBadge({ reason, description: 'a long sentence', text, event: e, initiator: 'x' } as never);
  assert.equal(
    badge('function breakpoint', ev('doorbell', 'h2c 1', 'host.driver', { dir: 'h2c', db: 1 })),
    'doorbell h2c 1',
  );
  assert.equal(badge('data breakpoint', ev('mmio.write', '')), 'data breakpoint');
  assert.equal(
    badge('exception', ev('protocol', '', 'host.driver', { rule: 23 }), '§9 rule 23: mic0: boot written …'),
    '§9 rule 23',
  );
  assert.equal(
    badge('exception', ev('protocol', '', 'host.driver', { rule: 18, channel: 0 }), 'DCHERR=0x10 …'),
    'DMA error',
  );
  assert.equal(
    badge('function breakpoint', ev('dma.desc', 'MEMCPY', 'mic0.dma0', { channel: 0 })),
    'DMA ch 0',
  );
  assert.equal(
    badge('function breakpoint', ev('vring.used', '', 'mic0.cpu', { queue: 'block.requestq' })),
    'block.requestq used',
  );
  for (const b of ['entry', 'pause', 'step']) assert.ok(badge(b, null).length <= 24);
});

test('write|read|access ADDRESS [LEN] is a data breakpoint set by name', () => {
  assert.deepEqual(parseWatchBreakpoint('write mic0.SDBIC0'), {
    range: { space: 'mic0.bar4', address: 0x1cc90, length: 4 },
    access: 'write',
    text: 'write mic0.SDBIC0',
  });
  assert.deepEqual(parseWatchBreakpoint('mic1: access  SPAD0')?.range.space, 'mic1.bar4');
  assert.deepEqual(parseWatchBreakpoint('read mic0.gddr+0x1000 64')?.range, {
    space: 'mic0.gddr',
    address: 0x1000,
    length: 64,
  });
  assert.equal(parseWatchBreakpoint('write mic0.mmio+0x1cc90')?.range.space, 'mic0.bar4', 'old name');
  assert.equal(parseWatchBreakpoint('doorbell h2c 1'), null, 'another form');
  assert.throws(() => parseWatchBreakpoint('write 0x1234'), WatchSyntaxError);
  assert.throws(() => parseWatchBreakpoint('write mic0.bar4+0xzz'), /not an offset/);
  assert.throws(() => parseWatchBreakpoint('write mic0.bar4+0x30000'), /past its end/);
});

test('MIC: Add Data Breakpoint checks the address as you type', () => {
  assert.deepEqual(checkAddress('mic0.bar4+0x1cc90'), { name: 'SDBIC0 (mic0.bar4+0x1cc90)' });
  assert.deepEqual(checkAddress('mic0.gddr+0x1000 64'), { name: 'mic0.gddr+0x1000 (64 bytes)' });
  assert.match(checkAddress('mic0.bar4+0xzz').error ?? '', /not an offset/);
  assert.match(checkAddress('').error ?? '', /Type an address/);
});
