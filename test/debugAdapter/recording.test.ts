// Recordings over the real protocol (docs/time-travel.md, "Recordings"): mic/saveRecording
// writes the session; a new session with the launch attribute `replay` replays it to its end and
// stops there (the console as it was, the same head), with time travel over the recording.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildAdapter, Dap, removeAdapterCopy } from '../helpers/dap.ts';

let adapter = '';
let dir = '';
let dap: Dap | null = null;

// One adapter copy and one folder for both tests; the session of each closes after it.
before(() => void ((adapter = buildAdapter()), (dir = mkdtempSync(join(tmpdir(), 'mic-dap-rec-')))));
afterEach(() => dap?.close().then(() => void (dap = null)));
after(() => (removeAdapterCopy(), rmSync(dir, { recursive: true, force: true })));

test('mic/saveRecording, then launch with replay: the same head and console, and time travel', async () => {
  const image = join(dir, 'rec.img');
  let d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: image, diskSizeMiB: 1, cwd: dir });
  let since = d.mark();
  await d.type('dd if=pattern:c3c3c3c3 of=/dev/vda bs=512 count=1 seek=5\n');
  await d.waitConsole(/copied[^]*# $/, since);
  since = d.mark();
  await d.type('sync\n');
  await d.waitConsole(/# $/, since);
  since = d.mark();
  await d.type('echo saved\n');
  await d.waitConsole(/saved\r\n\[root@mic0 ~\]# $/, since);
  await d.pause();
  const console1 = d.console(0);
  const where = await d.custom('mic/timeline');
  const saved = await d.custom('mic/saveRecording', { path: 'session.micrec' });
  assert.equal(saved.path, join(dir, 'session.micrec'));
  assert.equal(saved.head, where.head);
  assert.ok(saved.inputs >= 2 && saved.bytes > 0, JSON.stringify(saved));
  // A file that is not a recording is not replaced.
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  await assert.rejects(
    d.custom('mic/saveRecording', { path: 'notes.txt' }),
    /notes\.txt exists and is not a recording written by the emulator/,
  );
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  await d.close();

  d = dap = Dap.stdio(adapter);
  since = d.mark();
  await d.launch({ replay: join(dir, 'session.micrec') });
  const stop = await d.stopped(since, 60_000);
  assert.equal(stop.reason, 'goto');
  const here = await d.custom('mic/timeline');
  assert.equal(here.head, where.head);
  assert.equal(here.seq, where.head, 'stopped at the end of the recording');
  const replayed = d
    .all('mic/consoleReplay', since)
    .map((e) => Buffer.from(e.body.data as string, 'base64').toString('latin1'))
    .join('');
  assert.equal(replayed, console1, 'the console as it was');
  assert.doesNotMatch(d.output(since), /went another way/);
  // Time travel over the whole recording.
  since = d.mark();
  await d.custom('mic/seek', { seq: Math.floor(where.head / 2) });
  await d.stopped(since, 60_000);
  assert.equal((await d.custom('mic/timeline')).seq, Math.floor(where.head / 2));
});

test('launch with replay of a foreign file: the launch fails naming the attribute, the file and the fault', async () => {
  writeFileSync(join(dir, 'foreign.json'), '{"hello":1}');
  const d = (dap = Dap.stdio(adapter));
  await assert.rejects(
    d.launch({ replay: join(dir, 'foreign.json') }),
    /launch attribute 'replay': .*foreign\.json is not a mic-emu recording/,
  );
});
