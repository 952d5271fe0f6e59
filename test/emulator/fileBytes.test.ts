// FileBytes: a range of the disk image used as a user buffer by VOP's copy engine.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FileBytes } from '../../src/emulator/hostSoftware/mpssd/fileBytes.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-filebytes-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('reads a range at any offset, zeros past the end of the file; writes land at the right place', () => {
  const p = path.join(dir, 'a.img');
  fs.writeFileSync(
    p,
    Uint8Array.from({ length: 100 }, (_, i) => i),
  );
  const fd = fs.openSync(p, 'r+');
  const f = FileBytes.of(fd, 90, 20);
  const dst = new Uint8Array(24).fill(0xee);
  f.fill(dst, 2, 0, 20);
  assert.deepEqual([...dst.subarray(0, 2)], [0xee, 0xee]);
  assert.deepEqual([...dst.subarray(2, 12)], [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  assert.ok(
    dst.subarray(12, 22).every((x) => x === 0),
    'past the end: zeros',
  );
  assert.equal(dst[22], 0xee);
  assert.equal(f.bytesRead, 10);
  const sub = f.subarray(4, 8);
  assert.equal(sub.length, 4);
  sub.drain(Uint8Array.of(1, 2, 3, 4, 5, 6), 1, 1, 3);
  const back = fs.readFileSync(p);
  assert.deepEqual([...back.subarray(94, 99)], [94, 2, 3, 4, 98]);
  assert.equal(f.bytesWritten, 3, 'sub-ranges share the counters');
  assert.equal(f.error, null);
  fs.closeSync(fd);
});

test('a file error is kept (the first one), reads give zeros, and later writes are skipped', () => {
  const fullFd = fs.openSync('/dev/full', 'w');
  const full = FileBytes.of(fullFd, 0, 8);
  full.drain(new Uint8Array(8).fill(1), 0, 0, 8);
  assert.equal((full.error as NodeJS.ErrnoException).code, 'ENOSPC');
  fs.closeSync(fullFd);
  const bad = FileBytes.of(1_000_000, 0, 8);
  const dst = new Uint8Array(8).fill(0xee);
  bad.subarray(0, 8).fill(dst, 0, 0, 8);
  assert.equal((bad.error as NodeJS.ErrnoException).code, 'EBADF');
  assert.ok(dst.every((x) => x === 0));
});
