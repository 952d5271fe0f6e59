// The card console's bytes in a VS Code terminal: UTF-8 split across events, CR LF kept, a bare
// LF made CR LF (also when the CR ended the previous event), and what state changes say.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleText, consoleName, stateLine } from '../../src/extension/model/consoleText.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('the shell prompt and CR LF lines pass through unchanged', () => {
  const c = new ConsoleText();
  assert.equal(
    c.decode(bytes('Linux mic0 2.6.38\r\n[root@mic0 ~]# ')),
    'Linux mic0 2.6.38\r\n[root@mic0 ~]# ',
  );
});

test('a bare LF becomes CR LF; a CR at the end of one event and LF at the start of the next stay one line end', () => {
  const c = new ConsoleText();
  assert.equal(c.decode(bytes('a\nb\n')), 'a\r\nb\r\n');
  assert.equal(c.decode(bytes('c\r')), 'c\r');
  assert.equal(c.decode(bytes('\nd')), '\nd');
  assert.equal(c.decode(bytes('\n')), '\r\n');
});

test('a UTF-8 character split across two events arrives whole', () => {
  const c = new ConsoleText();
  const b = bytes('µs → ok');
  assert.equal(c.decode(b.subarray(0, 1)) + c.decode(b.subarray(1, 5)) + c.decode(b.subarray(5)), 'µs → ok');
});

test('mic/console base64 data decodes', () => {
  const c = new ConsoleText();
  assert.equal(c.decodeBase64(Buffer.from('ls\r\n').toString('base64')), 'ls\r\n');
});

test('the terminal is named "mic0 console"; offline closes it with a message, online opens it', () => {
  assert.equal(consoleName(0), 'mic0 console');
  const off = stateLine(0, 'offline');
  assert.equal(off?.closes, true);
  assert.match(off?.text ?? '', /mic0 is offline/);
  assert.equal(stateLine(1, 'online')?.closes, false);
  assert.equal(stateLine(0, 'no such state'), null);
});
