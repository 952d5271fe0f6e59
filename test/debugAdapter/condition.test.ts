// Breakpoint conditions: a small, safe expression language over an event's fields.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition, isTrue, MissingFieldError } from '../../src/debugAdapter/breakpoints/condition.ts';
import { eventFields } from '../../src/debugAdapter/breakpoints/eventFields.ts';
import type { BusEvent, EventKind } from '../../src/emulator/sim/busEvent.ts';
import { busEvent } from '../helpers/events.ts';

const ev = (kind: EventKind, over: Partial<BusEvent> = {}): BusEvent =>
  busEvent(kind, { seq: 7, time: 100, ...over });

const run = (text: string, fields: Record<string, number | string> = {}) => compileCondition(text)(fields);

test('numbers: decimal, hex, binary, underscores', () => {
  assert.equal(run('42'), 42);
  assert.equal(run('0x1cc90'), 0x1cc90);
  assert.equal(run('0X8000_0000'), 0x80000000);
  assert.equal(run('1_000_000'), 1000000);
  assert.equal(run('0b1010'), 10);
  assert.equal(run('0x80_0000_0000'), 0x80_0000_0000, '40-bit addresses stay exact');
});

test('C precedence: * before +, + before <<, << before <, < before ==, == before &, & before ^ before |, && before ||', () => {
  assert.equal(run('1 + 2 * 3'), 7);
  assert.equal(run('(1 + 2) * 3'), 9);
  assert.equal(run('1 << 2 + 1'), 8);
  assert.equal(run('1 + 2 < 4'), true);
  assert.equal(run('1 < 2 == 1'), true);
  assert.equal(run('6 & 3 == 3'), 0, '== binds tighter than &: 6 & (3 == 3) = 6 & 1');
  assert.equal(run('1 | 2 ^ 3'), 1, '^ before |: 1 | (2 ^ 3)');
  assert.equal(run('3 ^ 1 & 2'), 3, '& before ^');
  assert.equal(run('1 || 0 && 0'), true);
  assert.equal(run('(1 || 0) && 0'), false);
  assert.equal(run('10 - 4 - 3'), 3, 'left associative');
  assert.equal(run('7 % 4 * 2'), 6);
  assert.equal(run('-2 * -3'), 6);
  assert.equal(run('!0 + 1'), 2, 'true counts as 1');
  assert.equal(run('~0'), -1);
  assert.equal(run('0x80000000 >> 31'), 1);
});

test('bitwise operators are exact on 40-bit addresses', () => {
  assert.equal(run('0x80_1000_3000 & 0xfff'), 0);
  assert.equal(run('0x80_1000_3000 & 0xff_0000_0000'), 0x80_0000_0000);
  assert.equal(run('0x80_0000_0000 | 1'), 0x80_0000_0001);
  assert.equal(run('1 << 39'), 2 ** 39);
  assert.equal(run('(address >> 12) == 0x8010003', { address: 0x80_1000_3000 }), true);
});

test('strings: double quotes, escapes, comparison, contains', () => {
  assert.equal(run('queue == "console.tx"', { queue: 'console.tx' }), true);
  assert.equal(run('queue != "console.tx"', { queue: 'console.rx' }), true);
  assert.equal(run('"a\\"b"'), 'a"b');
  assert.equal(run('"x\\r\\n"'), 'x\r\n');
  assert.equal(run('contains(text, "login")', { text: 'mic0 login: ' }), true);
  assert.equal(run('startsWith(initiator, "mic0.")', { initiator: 'mic0.dma0' }), true);
  assert.equal(run('endsWith(space, ".bar4")', { space: 'mic0.bar4' }), true);
  assert.equal(run('lower("ABC") == "abc"'), true);
  assert.equal(run('hex(value)', { value: 255 }), '0xff');
  assert.equal(run('"ab" < "b"'), true);
  assert.equal(run('"a" + "b"'), 'ab');
  assert.equal(run('1 == "1"'), false, 'no coercion between strings and numbers');
});

test('fields: names read the record; && and || short-circuit', () => {
  assert.equal(run('len >= 4096 && channel == 0', { len: 8192, channel: 0 }), true);
  assert.equal(run('len >= 4096 && channel == 0', { len: 64, channel: 0 }), false);
  // The right side is not evaluated, so the unknown name does not throw.
  assert.equal(run('0 && nosuch', {}), false);
  assert.equal(run('1 || nosuch', {}), true);
  assert.equal(run('true && !false'), true);
});

test('syntax errors say what and where', () => {
  const bad: [string, RegExp][] = [
    ['', /empty condition/],
    ['len >=', /unexpected the end; expected a number/],
    ['len = 3', /'=' is assignment; compare with '=='/],
    ['(1 + 2', /expected '\)' to close the parenthesis/],
    ['1 2', /unexpected '2'; expected an operator or the end at column 3 of '1 2'/],
    ["queue == 'rx'", /double quotes/],
    ['"abc', /unterminated string/],
    ['0x', /bad number/],
    ['12abc', /bad number/],
    ['len @ 3', /unexpected character '@' at column 5/],
    ['eval("1")', /unknown function 'eval'; functions are contains/],
    ['contains(text)', /contains\(\) takes 2 arguments, got 1/],
    ['"\\q"', /unknown escape/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => compileCondition(text),
      (e: unknown) => e instanceof Error && /^condition/.test(e.message) && re.test(e.message),
      text,
    );
  }
  assert.throws(() => compileCondition('('.repeat(500) + '1' + ')'.repeat(500)), /nested too deeply/);
  assert.throws(() => compileCondition('1+'.repeat(1500) + '1'), /longer than/);
});

test('runtime errors name the problem', () => {
  assert.throws(
    () => run('nosuch == 1', { value: 1 }),
    (e: unknown) =>
      e instanceof MissingFieldError && /unknown name 'nosuch'; this event has value/.test(e.message),
  );
  assert.throws(() => run('text < 3', { text: 'x' }), /cannot compare "x" with 3/);
  assert.throws(() => run('1 / 0'), /division by zero/);
  assert.throws(() => run('1.5 & 1'), /whole numbers/);
  assert.throws(() => run('contains(1, "a")'), /contains\(\) needs a string/);
});

test('safety: no property access, no prototype escapes, no eval', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
    assert.throws(() => run(`${name} == 0`, { value: 1 }), /unknown name/, name);
  }
  assert.throws(() => compileCondition('value.constructor'), /unexpected character '\.'/);
  assert.throws(() => compileCondition('value["constructor"]'), /unexpected character '\['/);
  assert.throws(() => compileCondition('constructor("return 1")'), /unknown function 'constructor'/);
  assert.throws(() => compileCondition('process.exit(1)'), /unexpected character '\.'/);
  assert.throws(() => compileCondition('x => 1'), /'=' is assignment|unexpected/);
  // A field record with a poisoned prototype is still only read through own properties.
  const fields = Object.create({ inherited: 5 }) as Record<string, number>;
  assert.throws(() => compileCondition('inherited == 5')(fields), /unknown name 'inherited'/);
  assert.deepEqual([...compileCondition('len >= 4096 && queue == "x" || len < 2').names].sort(), [
    'len',
    'queue',
  ]);
});

test('isTrue: 0, "" and false are false', () => {
  assert.equal(isTrue(0), false);
  assert.equal(isTrue(''), false);
  assert.equal(isTrue(false), false);
  assert.equal(isTrue(1), true);
  assert.equal(isTrue('x'), true);
});

test('eventFields: doorbell', () => {
  const f = eventFields(
    null,
    ev('doorbell', {
      space: 'mic0.bar4',
      initiator: 'mic0.cpu',
      address: 0x1cc94,
      value: 1,
      detail: 'c2h 1',
      db: 1,
      dir: 'c2h',
    }),
  );
  assert.equal(f.db, 1);
  assert.equal(f.dir, 'c2h');
  assert.equal(f.card, 0);
  assert.equal(f.kind, 'doorbell');
  assert.equal(f.address, 0x1cc94);
  assert.equal(f.initiator, 'mic0.cpu');
  assert.equal(f.seq, 7);
  assert.equal(f.time, 100);
});

test('eventFields: DMA descriptor (channel, type, src, dst, len in bytes)', () => {
  const f = eventFields(
    null,
    ev('dma.desc', {
      space: 'host',
      initiator: 'mic1.dma2',
      value: 1,
      size: 16,
      address: 0x1000,
      detail: 'MEMCPY src=0x80_1000_3000 dst=0x1000_2000 len=8192',
      descType: 'memcpy',
      src: 0x80_1000_3000,
      dst: 0x1000_2000,
      len: 8192,
    }),
  );
  assert.equal(f.channel, 2);
  assert.equal(f.card, 1);
  assert.equal(f.type, 'memcpy');
  assert.equal(f.src, 0x80_1000_3000);
  assert.equal(f.dst, 0x1000_2000);
  assert.equal(f.len, 8192);
  assert.equal(f.size, 16, 'size stays the event size (the descriptor)');
  assert.equal(compileCondition('len >= 4096 && src >= 0x80_0000_0000')(f), true);
  const s = eventFields(
    null,
    ev('dma.desc', {
      initiator: 'mic0.dma0',
      value: 2,
      detail: 'STATUS data=0x0000_0000_0000_0001 dst=0x80_0000_0040 intr',
      descType: 'status',
      dst: 0x80_0000_0040,
      data: 1,
      len: 8,
    }),
  );
  assert.equal(s.type, 'status');
  assert.equal(s.len, 8);
  assert.equal(s.dst, 0x80_0000_0040);
});

test('eventFields: DHPR write names the channel and register', () => {
  const f = eventFields(
    null,
    ev('mmio.write', {
      space: 'mic0.bar4',
      address: 0x1a004 + 0x40 * 3,
      value: 9,
      register: 'DHPR3',
      channel: 3,
    }),
  );
  assert.equal(f.channel, 3);
  assert.equal(f.register, 'DHPR3');
  const g = eventFields(
    null,
    ev('mmio.write', { space: 'mic0.bar4', address: 0x1cc90, value: 0x80000000, register: 'SDBIC0' }),
  );
  assert.equal(g.register, 'SDBIC0');
  assert.equal(g.channel, undefined);
});

test('eventFields: virtqueue, irq, state, protocol, console', () => {
  const vq = eventFields(
    null,
    ev('vring.avail', {
      space: 'host',
      initiator: 'host.mic0.console',
      value: 5,
      detail: 'mic0 console.tx head 5 taken by host',
      device: 'console',
      queue: 'console.tx',
      head: 5,
    }),
  );
  assert.equal(vq.queue, 'console.tx');
  assert.equal(vq.device, 'console');
  assert.equal(vq.head, 5);
  assert.equal(vq.card, 0);
  const msix = eventFields(
    null,
    ev('irq', {
      space: 'mic0.msix',
      address: 2,
      value: 1,
      detail: 'MSI-X vector 2',
      vector: 2,
      side: 'host',
    }),
  );
  assert.equal(msix.vector, 2);
  const apic = eventFields(
    null,
    ev('irq', {
      space: 'mic0.apic',
      address: 3,
      value: 0x41,
      detail: 'card irq 29 (doorbell 3)',
      vector: 0x41,
      db: 3,
      side: 'card',
    }),
  );
  assert.equal(apic.vector, 0x41);
  assert.equal(apic.db, 3);
  assert.equal(eventFields(null, ev('state', { detail: 'online', state: 'online' })).state, 'online');
  const p = eventFields(
    null,
    ev('protocol', {
      space: 'mic0.dma1',
      value: 18,
      detail: 'mic0 DMA channel 1: DHPR written …',
      rule: 18,
      text: 'mic0 DMA channel 1: DHPR written …',
    }),
  );
  assert.equal(p.rule, 18);
  assert.equal(p.channel, 1);
  assert.match(String(p.text), /DHPR/);
  assert.equal(eventFields(null, ev('console', { detail: 'login: ', text: 'login: ' })).text, 'login: ');
});

test('FIELD op NUMBER is answered from the event itself exactly as from its fields record', () => {
  const events = [
    ev('irq', { space: 'mic0.msix', address: 2, value: 1, detail: 'MSI-X vector 2', vector: 2 }),
    ev('irq', {
      space: 'mic1.apic',
      address: 3,
      value: 0x41,
      detail: 'card irq 29 (doorbell 3)',
      vector: 0x41,
      db: 3,
    }),
    ev('vring.used', {
      space: 'host',
      value: 5,
      detail: 'mic0 console.rx head 5 used, len 18',
      head: 5,
      len: 18,
    }),
    ev('dma.desc', {
      initiator: 'mic0.dma1',
      value: 1,
      size: 16,
      detail: 'MEMCPY src=0x1000 dst=0x2000 len=8192',
      descType: 'memcpy',
      src: 0x1000,
      dst: 0x2000,
      len: 8192,
    }),
    ev('mem.write', { space: 'mic0.gddr', address: 0x80_1000_0000, size: 64, value: 0xffff_ffff }),
    ev('protocol', { space: 'mic0', value: 13, detail: 'misaligned', rule: 13, text: 'misaligned' }),
    ev('doorbell', { space: 'mic0.bar4', value: 2, detail: 'h2c 2', db: 2, dir: 'h2c' }),
  ];
  const fields = ['address', 'value', 'size', 'len', 'seq', 'time', 'card', 'head', 'vector', 'rule'];
  const numbers = [0, 1, 2, 5, 7, 16, 0x41, 8192, 0x80_1000_0000, 0xffff_ffff];
  let direct = 0;
  let keyed = 0;
  for (const name of fields)
    for (const op of ['==', '!=', '<', '<=', '>', '>='])
      for (const n of numbers)
        for (const text of [`${name} ${op} ${n}`, `${n} ${op} ${name}`]) {
          const c = compileCondition(text);
          assert.ok(c.direct, `'${text}' has a direct test`);
          for (const e of events) {
            let want: boolean;
            try {
              want = isTrue(c(eventFields(null, e)));
            } catch (err) {
              assert.ok(err instanceof MissingFieldError);
              want = false;
            }
            const got = c.direct(e);
            if (got !== undefined) {
              direct++;
              assert.equal(got, want, `'${text}' on ${e.kind}`);
            }
            if (c.fieldEquals) {
              keyed++;
              assert.equal(
                c.fieldEquals.of(e) === c.fieldEquals.key,
                want,
                `'${text}' filed by number on ${e.kind}`,
              );
            }
          }
        }
  assert.ok(direct > 5000 && keyed > 500);
  assert.notEqual(
    compileCondition('len == 8192').fieldEquals,
    null,
    "a descriptor's len is a field of the event",
  );
  assert.equal(compileCondition('dir == 1').direct, null, 'not a numeric field of the event');
  assert.equal(compileCondition('vector == 2 && head > 1').direct, null, 'one comparison only');
  assert.equal(
    compileCondition('vector == 2').fieldEquals?.of,
    compileCondition('vector == 9').fieldEquals?.of,
  );
});
