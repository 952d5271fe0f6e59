// Recordings you can share (docs/time-travel.md, "Recordings"): a session with console input, a
// block read and write + sync and host commands is saved to a file, loaded into a fresh Timeline
// on fresh disk images, and replayed to its head: the same event hash, console text and disk
// bytes. A damaged or foreign file is refused with a message naming the file and the fault.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildMachine } from '../../src/emulator/buildMachine.ts';
import { Timeline, type RecordedTimeline } from '../../src/emulator/timeTravel/timeline.ts';
import {
  readRecording,
  writeRecording,
  RecordingError,
  type RecordedMachine,
} from '../../src/emulator/timeTravel/recordingFile.ts';
import { captureRecording, prepareReplay } from '../../src/emulator/timeTravel/recordingSession.ts';
import type { Machine } from '../../src/emulator/machine.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mic-rec-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const MACHINE: RecordedMachine = {
  cards: 1,
  memoryBytes: 8 * 2 ** 30,
  stepping: 'C0',
  autoBoot: true,
  diskSizeBytes: 2 ** 20,
  diskReadonly: false,
  diskEio: null,
  netDropEvery: 0,
};

function timeline(disk: string, out: { text: string }, recorded?: RecordedTimeline) {
  return new Timeline({
    observeSelf: true,
    recorded,
    build: (journalFor) =>
      buildMachine({
        ...MACHINE,
        disk,
        pcap: null,
        journalFor,
        terminal: () => ({ write: (b) => void (out.text += Buffer.from(b).toString('latin1')) }),
      }).machine,
  });
}

function type(m: Machine, line: string): void {
  m.consoleInput(0, new TextEncoder().encode(line + '\r'));
  m.run();
}

/** An image with bytes the session reads (offset 8192) and bytes it never touches (512 KiB). */
function originalImage(path: string): void {
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.alloc(2 ** 20));
  writeSync(fd, Buffer.from('HELLO, RECORDING'), 0, 16, 8192);
  writeSync(fd, Buffer.from('never read here'), 0, 15, 512 * 1024);
  closeSync(fd);
}

test('a recording replays to the same events, console text and disk bytes on fresh images', () => {
  const image = join(dir, 'orig.img');
  originalImage(image);
  const startSha = createHash('sha256').update(readFileSync(image)).digest('hex');
  const out = { text: '' };
  const tl = timeline(image, out);
  const m = tl.machine;
  m.start();
  assert.ok(
    m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle),
    'booted',
  );
  m.run();
  type(m, 'hexdump /dev/vda 8192 16');
  type(m, 'dd if=pattern:a5a5a5a5 of=/dev/vda bs=512 count=1 seek=3');
  type(m, 'sync');
  m.hostCommand(0, 'suspend');
  m.run();
  m.hostCommand(0, 'resume');
  assert.ok(
    m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle),
    'resumed',
  );
  m.run();
  type(m, 'echo after');
  assert.match(out.text, /HELLO, RECORDING/);
  assert.match(out.text, /after/);

  const file = join(dir, 'session.micrec');
  const rec = captureRecording(tl, MACHINE, [image]);
  assert.equal(rec.disks[0].sha256, startSha, 'the hash of the starting image');
  writeRecording(file, rec);
  const head = tl.head;
  const headHash = tl.headHash;
  const finalImage = readFileSync(image);
  tl.dispose();

  const loaded = readRecording(file);
  assert.equal(loaded.timeline.head, head);
  assert.ok(loaded.timeline.inputs.length >= 6, 'console lines and host commands');
  const replayDir = mkdtempSync(join(dir, 'replay-'));
  const opts = prepareReplay(loaded, replayDir);
  const out2 = { text: '' };
  const tl2 = timeline(opts.disk, out2, loaded.timeline);
  tl2.machine.start();
  tl2.seekNow(loaded.timeline.head);
  assert.equal(tl2.seq, head, 'at the head');
  assert.equal(tl2.headHash, headHash);
  assert.equal(tl2.divergence, null);
  assert.equal(out2.text, out.text, 'the console text as it was');
  const replayed = readFileSync(opts.disk);
  assert.equal(replayed.length, finalImage.length);
  // Every byte the session could observe is the same; the untouched bytes were not recorded.
  const never = 512 * 1024;
  assert.deepEqual(replayed.subarray(0, never), finalImage.subarray(0, never));
  assert.equal(replayed.subarray(never, never + 15).toString(), '\0'.repeat(15), 'not recorded');
  assert.equal(replayed.readUInt32LE(3 * 512), 0xa5a5a5a5, 'the dd');
  // Time travel over the whole recording: back to a moment, then to the head again.
  tl2.seekNow(Math.floor(head / 2));
  tl2.seekNow(head);
  assert.equal(tl2.divergence, null);
  tl2.dispose();
});

test('a damaged or foreign file is refused, naming the file and what is wrong', () => {
  const image = join(dir, 'small.img');
  const out = { text: '' };
  const tl = timeline(image, out);
  tl.machine.start();
  tl.machine.run(5000);
  const file = join(dir, 'ok.micrec');
  writeRecording(file, captureRecording(tl, MACHINE, [image]));
  tl.dispose();
  readRecording(file);

  const raw = readFileSync(file);
  const flipped = Buffer.from(raw);
  const at = raw.indexOf(0x0a) + 40;
  flipped[at] ^= 0x01;
  const damaged = join(dir, 'damaged.micrec');
  writeFileSync(damaged, flipped);
  assert.throws(
    () => readRecording(damaged),
    (e: Error) => e instanceof RecordingError && e.message.startsWith(`${damaged} is damaged: its SHA-256`),
  );
  const cut = join(dir, 'cut.micrec');
  writeFileSync(cut, raw.subarray(0, raw.length - 10));
  assert.throws(() => readRecording(cut), /cut\.micrec is damaged: the header says \d+ bytes follow it/);
  const foreign = join(dir, 'package.json');
  writeFileSync(foreign, JSON.stringify({ name: 'something', version: '1.0.0' }));
  assert.throws(() => readRecording(foreign), /package\.json is not a mic-emu recording/);
  assert.throws(() => readRecording(join(dir, 'missing.micrec')), /missing\.micrec does not exist/);
  const newer = join(dir, 'newer.micrec');
  writeFileSync(newer, raw.toString('latin1').replace('"version":2', '"version":9'), 'latin1');
  assert.throws(() => readRecording(newer), /is a recording of version 9; this mic-emu reads version 2/);
});
