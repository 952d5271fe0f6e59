// Disk safety under kill -9 (issue 16): a process seeking back and forth through a recorded
// session that wrote the disk is killed at random moments; the image must then hold the state
// of some moment of the timeline — the first j writes made, none of the later ones — never a mix.
// The next session on the image finds the journal the killed one left and uses the image as is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { patternOf } from '../helpers/seekLoop.ts';
import { DiskJournal } from '../../src/emulator/timeTravel/diskJournal.ts';
import { prng } from '../../bench/lib/stats.ts';

const N = 12;
const SECTOR = 512;
const HELPER = join(__dirname, '..', 'helpers', 'seekLoop.ts');

/** Which of the N writes the image holds: 'made', 'not made', or 'torn' (neither). */
function writesIn(image: Buffer): string[] {
  return Array.from({ length: N }, (_, i) => {
    const k = i + 1;
    const sector = image.subarray(8 * k * SECTOR, (8 * k + 1) * SECTOR);
    const want = Buffer.alloc(SECTOR, Buffer.from(patternOf(k), 'hex'));
    if (sector.equals(want)) return 'made';
    if (sector.every((b) => b === 0)) return 'not made';
    return 'torn';
  });
}

/** Start the seeking child; resolves once its session is recorded and it seeks. */
function seeker(dir: string, seed: number): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER, dir, String(N), String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b) => {
      if (String(b).includes('ready')) resolve(child);
    });
    child.on('exit', (code) =>
      reject(new Error(`the seeking child ended (${code}) before it was killed: ${err}`)),
    );
  });
}

test('kill -9 during seeks leaves the disk image at a moment of the timeline; the next start drops the journal', async () => {
  const rnd = prng(0x9111);
  const seen = new Set<number>();
  for (let trial = 0; trial < 6; trial++) {
    const dir = mkdtempSync(join(tmpdir(), 'mic-kill-seek-'));
    try {
      const image = join(dir, 'disk.img');
      writeFileSync(image, Buffer.alloc(1 << 20));
      const child = await seeker(dir, trial + 1);
      // Let it seek for a while (each seek back undoes writes and makes them again).
      await new Promise((r) => setTimeout(r, 50 + Math.floor(rnd() * 700)));
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;

      const writes = writesIn(readFileSync(image));
      assert.ok(!writes.includes('torn'), `trial ${trial}: a torn sector: ${writes.join(', ')}`);
      const made = writes.filter((w) => w === 'made').length;
      assert.deepEqual(
        writes,
        [...Array(made).fill('made'), ...Array(N - made).fill('not made')],
        `trial ${trial}: the image is not at a moment of the timeline (writes made: ${writes.join(', ')})`,
      );
      seen.add(made);
      if (process.env.MIC_TEST_VERBOSE) console.log(`trial ${trial}: ${made} of ${N} writes made`);
      // The killed session left its journal; the next session's start finds it and removes it,
      // using the image as it is.
      assert.ok(existsSync(image + '.mic-journal'), 'the killed session left its journal');
      const before = readFileSync(image);
      const rec = DiskJournal.recover(image);
      assert.equal(rec.stale, true);
      assert.ok(!existsSync(image + '.mic-journal'));
      assert.ok(readFileSync(image).equals(before), 'recovery does not touch the image');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // The kills landed at different moments (not all at the end of the session).
  assert.ok(seen.size >= 2, `the kills all found the same state (${[...seen].join(', ')} writes made)`);
});
