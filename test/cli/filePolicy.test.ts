// The file policy in the headless runner (issue 12 items 6–8, issue 14 item 4): --disk, --pcap,
// --trace and the host command `~disk` refuse what launch refuses, with one line naming the
// option and the path (exit 2 for options), before anything boots.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
// MIC_TEST_DIST: another build's dist folder, used as is (see buildAdapter in ../helpers/dap.ts).
const DIST = process.env.MIC_TEST_DIST;
const CLI = join(DIST ?? join(ROOT, 'dist'), 'cli.js');
let tmp: string;

function cli(args: string[], input = '', cwd = ROOT) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, input, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

before(() => {
  const b = DIST
    ? { status: 0, stdout: '', stderr: '' }
    : spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
  tmp = mkdtempSync(join(tmpdir(), 'mic-cli-files-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a bad --disk, --pcap or --trace is one line naming the option and the path, exit 2, nothing booted', () => {
  const ws = join(tmp, 'opts');
  mkdirSync(ws);
  writeFileSync(join(ws, 'empty.img'), '');
  writeFileSync(join(ws, 'notes.json'), '{"a": 1}\n');
  spawnSync('mkfifo', [join(ws, 'fifo')]);
  const cases: [string[], RegExp][] = [
    [
      ['--disk', join(ws, 'no/d.img')],
      /^mic-emu: --disk: .*no\/d\.img cannot be used: the folder .*no does not exist\n$/,
    ],
    [['--disk', ws], /^mic-emu: --disk: .* is a directory, not a regular file\n$/],
    [['--disk', join(ws, 'empty.img')], /^mic-emu: --disk: .*empty\.img is empty \(0 bytes\)/],
    [['--disk', join(ws, 'd.img'), '--trace', join(ws, 'fifo')], /^mic-emu: --trace: .*fifo is a FIFO/],
    [
      ['--disk', join(ws, 'd.img'), '--pcap', join(ws, 'notes.json')],
      /^mic-emu: --pcap: .*notes\.json exists and is not a pcap capture/,
    ],
  ];
  for (const [args, want] of cases) {
    const r = cli(args, 'uname\n');
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
    assert.equal(r.stdout, '', 'nothing booted');
  }
  assert.equal(readFileSync(join(ws, 'notes.json'), 'utf8'), '{"a": 1}\n');
  const ok = cli(['--disk', join(ws, 'd.img'), '--pcap', join(ws, 'notes.json'), '--overwrite'], 'true\n');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(statSync(join(ws, 'd.img')).size, 64 * 2 ** 20);
});

test("~disk with a text file or a missing path says why and keeps the card's disk", () => {
  const ws = join(tmp, 'swap');
  mkdirSync(ws);
  writeFileSync(join(ws, 'notes.txt'), 'precious notes\n');
  const r = cli(
    ['--disk', join(ws, 'd.img'), '--disk-size', '1M'],
    `~disk mic0 ${join(ws, 'notes.txt')}\n~disk mic0 ${join(ws, 'nope/x.img')}\ndd if=/dev/vda of=/dev/null bs=512 count=2048\n`,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout + r.stderr,
    /mic0: disk: .*notes\.txt is 15 bytes, not a whole number of 512-byte sectors: not a disk image; the disk is not swapped/,
  );
  assert.match(
    r.stdout + r.stderr,
    /mic0: disk: .*nope\/x\.img cannot be used: the folder .*nope does not exist; the disk is not swapped/,
  );
  assert.equal(readFileSync(join(ws, 'notes.txt'), 'utf8'), 'precious notes\n');
  assert.match(r.stdout, /1048576 bytes .*copied/, 'the card keeps its 1 MiB disk');
});
