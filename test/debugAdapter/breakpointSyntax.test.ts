// The function-breakpoint syntax of docs/breakpoints.md: every form, the micN: prefix, and
// errors that say why and what is accepted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFunctionBreakpoint,
  BreakpointSyntaxError,
  SYNTAX_HELP,
} from '../../src/debugAdapter/breakpoints/syntax.ts';
import type { BusEvent, EventKind } from '../../src/emulator/sim/busEvent.ts';
import { busEvent } from '../helpers/events.ts';

const ev = (kind: EventKind, over: Partial<BusEvent> = {}): BusEvent => busEvent(kind, over);

/** As the manager files and tests it: an index key of the event's kind, value and refinement, then the matcher. */
function matches(text: string, e: BusEvent): boolean {
  const s = parseFunctionBreakpoint(text);
  const byKind = s.keys.filter((k) => k.kind === e.kind && (k.value === undefined || k.value === e.value));
  const keyed = byKind.some((k) => k.refine === undefined || k.refine.of(e) === k.refine.key);
  const matched = byKind.length > 0 && s.matcher()(e);
  // Where the keys suffice, they say exactly what the matcher says (the manager skips it).
  if (s.keysSuffice) assert.equal(keyed, matched, `keys of '${text}' disagree with its matcher`);
  return keyed && matched;
}

/** Keys without their refining functions, to compare. */
const keysOf = (text: string) =>
  parseFunctionBreakpoint(text).keys.map(({ refine, ...k }) => (refine ? { ...k, refine: refine.key } : k));

function syntaxError(text: string, re: RegExp): void {
  assert.throws(
    () => parseFunctionBreakpoint(text),
    (err: unknown) => err instanceof BreakpointSyntaxError && re.test(err.message),
    `'${text}' should fail with ${re}`,
  );
}

const h2c3 = ev('doorbell', { space: 'mic0.bar4', value: 3, detail: 'h2c 3', db: 3, dir: 'h2c' });
const c2h1 = ev('doorbell', {
  space: 'mic0.bar4',
  value: 1,
  detail: 'c2h 1',
  initiator: 'mic0.cpu',
  db: 1,
  dir: 'c2h',
});

test('doorbell, doorbell h2c, doorbell c2h N', () => {
  assert.ok(matches('doorbell', h2c3));
  assert.ok(matches('doorbell', c2h1));
  assert.ok(matches('doorbell h2c', h2c3));
  assert.ok(!matches('doorbell h2c', c2h1));
  assert.ok(matches('doorbell c2h', c2h1));
  assert.ok(matches('doorbell h2c 3', h2c3));
  assert.ok(!matches('doorbell h2c 4', h2c3));
  assert.ok(!matches('doorbell c2h 3', h2c3), 'same number, other direction');
  assert.ok(matches('doorbell c2h 1', c2h1));
  assert.deepEqual(keysOf('doorbell h2c 3'), [{ kind: 'doorbell', value: 3, refine: 'h2c' }]);
  assert.deepEqual(keysOf('DOORBELL  C2H  0x1'), [{ kind: 'doorbell', value: 1, refine: 'c2h' }]);
});

test('doorbell numbers are range-checked per direction (h2c 0–15, c2h 0–3)', () => {
  assert.equal(parseFunctionBreakpoint('doorbell h2c 15').keys[0].value, 15);
  syntaxError('doorbell h2c 16', /from 0 to 15/);
  syntaxError('doorbell c2h 4', /from 0 to 3/);
  syntaxError('doorbell up', /h2c .* or c2h/);
  syntaxError('doorbell h2c 1 2', /unexpected '2'/);
  syntaxError('doorbell h2c x', /number/);
});

test('micN: prefix picks a card; without it any card', () => {
  const s = parseFunctionBreakpoint('mic1: doorbell c2h 1');
  assert.equal(s.card, 1);
  assert.equal(s.text, 'mic1: doorbell c2h 1');
  assert.equal(parseFunctionBreakpoint('mic0:doorbell').card, 0);
  assert.equal(parseFunctionBreakpoint('MIC2 : irq').card, 2);
  assert.equal(parseFunctionBreakpoint('irq').card, -1);
  syntaxError('mic8: irq', /no card mic8/);
  syntaxError('mic0 irq', /prefix with a colon/);
  syntaxError('mic0:', /empty/);
});

test('dma, dma ch N, dma memcpy|status|general|nop', () => {
  const memcpy = ev('dma.desc', {
    space: 'host',
    initiator: 'mic0.dma0',
    value: 1,
    size: 16,
    detail: 'MEMCPY src=0x80_1000_3000 dst=0x1000_2000 len=64',
    descType: 'memcpy',
  });
  const status = ev('dma.desc', {
    space: 'host',
    initiator: 'mic0.dma2',
    value: 2,
    size: 16,
    detail: 'STATUS data=0x0 dst=0x80_0000_0000',
    descType: 'status',
  });
  assert.ok(matches('dma', memcpy));
  assert.ok(matches('dma', status));
  assert.ok(matches('dma ch 0', memcpy));
  assert.ok(!matches('dma ch 1', memcpy));
  assert.ok(matches('dma memcpy', memcpy));
  assert.ok(!matches('dma memcpy', status));
  assert.ok(matches('dma status', status));
  assert.ok(matches('dma ch 2 status', status));
  assert.ok(matches('dma status channel 2', status));
  assert.deepEqual(keysOf('dma general'), [{ kind: 'dma.desc', value: 3 }]);
  assert.deepEqual(keysOf('dma nop'), [{ kind: 'dma.desc', value: 0 }]);
  assert.deepEqual(keysOf('dma ch 2 status'), [{ kind: 'dma.desc', value: 2, refine: 2 }]);
  syntaxError('dma ch 8', /from 0 to 7/);
  syntaxError('dma ch', /missing/);
  syntaxError('dma copy', /unexpected 'copy' after dma: write dma \[ch N\] \[memcpy\|status\|general\|nop\]/);
  syntaxError('dma memcpy status', /given twice/);
});

test('vq DEVICE[.QUEUE]: a chain made available or used', () => {
  const cardAvail = ev('vring.avail', {
    space: 'mic0.cpu',
    initiator: 'mic0.cpu',
    value: 5,
    detail: 'mic0 console.tx head 5 made available (1 desc)',
    device: 'console',
    queue: 'console.tx',
    head: 5,
  });
  const hostUsed = ev('vring.used', {
    space: 'host',
    initiator: 'host.mic0.console',
    value: 0,
    detail: 'mic0 console.rx head 0 used, len 18',
    device: 'console',
    queue: 'console.rx',
    head: 0,
  });
  const blk = ev('vring.avail', {
    space: 'host',
    value: 2,
    detail: 'mic1 block.requestq head 2 taken by host',
    device: 'block',
    queue: 'block.requestq',
    head: 2,
  });
  assert.ok(matches('vq console.tx', cardAvail));
  assert.ok(!matches('vq console.rx', cardAvail));
  assert.ok(matches('vq console', cardAvail));
  assert.ok(matches('vq console', hostUsed));
  assert.ok(matches('vq', blk));
  assert.ok(matches('vq block', blk));
  assert.ok(matches('vq block.requestq', blk));
  assert.ok(matches('vq console.0', hostUsed), 'queue by index: console queue 0 is rx');
  assert.ok(!matches('vq net', blk));
  assert.ok(matches('vq console.rx used', hostUsed));
  assert.ok(!matches('vq console.tx used', cardAvail));
  assert.ok(matches('vq avail', blk));
  assert.deepEqual(keysOf('vq net.rx'), [
    { kind: 'vring.avail', refine: 'net.rx' },
    { kind: 'vring.used', refine: 'net.rx' },
  ]);
  assert.deepEqual(
    keysOf('vq console'),
    [{ kind: 'vring.avail' }, { kind: 'vring.used' }],
    'the matcher checks the device',
  );
  const noWord = ev('vring.used', { detail: 'mic0 console.tx', device: 'console' });
  assert.ok(!matches('vq console.tx', noWord), 'an event that names no queue: no queue');
  assert.ok(matches('vq console', noWord));
  syntaxError(
    'vq disk',
    /unknown virtio device 'disk'.*net \(rx, tx\), block \(requestq\), console \(rx, tx\)/,
  );
  syntaxError('vq console.foo', /console has no queue 'foo'; its queues are rx, tx/);
  syntaxError('vq net.tx sideways', /unexpected 'sideways'/);
});

test('irq, irq host, irq card', () => {
  const msix = ev('irq', {
    space: 'mic0.msix',
    address: 2,
    value: 0x2,
    detail: 'MSI-X vector 2',
    initiator: 'hw',
    vector: 2,
    side: 'host',
  });
  const apic = ev('irq', {
    space: 'mic0.apic',
    address: 1,
    value: 65,
    detail: 'card irq 27 (doorbell 1)',
    initiator: 'hw',
    vector: 65,
    db: 1,
    side: 'card',
  });
  assert.ok(matches('irq', msix));
  assert.ok(matches('irq', apic));
  assert.ok(matches('irq host', msix));
  assert.ok(!matches('irq host', apic));
  assert.ok(matches('irq card', apic));
  syntaxError('irq 3', /irq \[host\|card\]/);
});

test('state STATE, including crashed and hardware reset', () => {
  const online = ev('state', { value: 1, detail: 'online', state: 'online' });
  const reset = ev('state', { value: 1, detail: 'hardware reset', state: 'hardware reset' });
  assert.ok(matches('state online', online));
  assert.ok(!matches('state offline', online));
  assert.ok(matches('state', online));
  assert.ok(matches('state hardware reset', reset));
  assert.ok(matches('state reset', reset));
  assert.ok(!matches('state online', reset), 'same value, other state');
  for (const s of [
    'offline',
    'online',
    'shutting_down',
    'reset_failed',
    'suspending',
    'suspended',
    'crashed',
  ]) {
    assert.ok(matches(`state ${s}`, ev('state', { detail: s, state: s })), s);
  }
  assert.ok(matches('state shutting-down', ev('state', { detail: 'shutting_down', state: 'shutting_down' })));
  syntaxError('state sleeping', /unknown card state 'sleeping': states are offline, online/);
});

test('console "TEXT" matches across output chunks, once per occurrence', () => {
  const s = parseFunctionBreakpoint('console "login:"');
  const m = s.matcher();
  const out = (detail: string, space = 'mic0') => m(ev('console', { detail, text: detail, space }));
  assert.equal(out('mic0 lo'), false);
  assert.equal(out('gin: '), true, 'split across two chunks');
  assert.equal(out('x'), false, 'not again for the same text');
  assert.equal(out('login: and login:'), true);
  // Each card has its own buffer.
  assert.equal(out('lo', 'mic1'), false);
  assert.equal(out('gin', 'mic0'), false);
  assert.equal(out('gin:', 'mic1'), true);
  const q = parseFunctionBreakpoint('console "say \\"hi\\"\\r\\n"').matcher();
  assert.equal(q(ev('console', { detail: 'they say "hi"\r\n', text: 'they say "hi"\r\n' })), true);
  assert.equal(parseFunctionBreakpoint('mic0: console "[root@mic0"').card, 0);
  syntaxError('console login', /double quotes/);
  syntaxError('console ""', /empty/);
  syntaxError('console "abc', /no closing quote/);
  syntaxError('console "a" b', /unexpected 'b'/);
});

test('unknown syntax says why and lists what is accepted', () => {
  syntaxError(
    'breakpoint on doorbell',
    /unknown breakpoint 'breakpoint'; accepted: doorbell \[h2c\|c2h\] \[N\]; dma/,
  );
  syntaxError('', /empty/);
  for (const form of ['doorbell', 'dma', 'vq', 'irq', 'state', 'console', 'micN:'])
    assert.ok(SYNTAX_HELP.includes(form), form);
});
