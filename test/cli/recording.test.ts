// The CLI's recordings (docs/time-travel.md, "Recordings"): `--record FILE` on a piped session
// then `--replay FILE` prints the same console output; a damaged, foreign or missing recording
// and machine options given with --replay are one line on stderr and exit code 2.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
let dir: string;

function cli(args: string[], input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') },
  });
  if (r.error) throw r.error;
  return r;
}

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'mic-cli-rec-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--record then --replay: the same console output, the replay folder removed', () => {
  const script = [
    'echo recorded',
    'hexdump /dev/vda 0 32',
    'dd if=pattern:5a5a5a5a of=/dev/vda bs=512 count=2 seek=8',
    'sync',
    '~suspend',
    '~resume',
    'hexdump /dev/vda 4096 16',
    '',
  ].join('\n');
  const rec = cli(['--disk', 'd.img', '--disk-size', '1M', '--record', 's.micrec'], script);
  assert.equal(rec.status, 0, rec.stderr);
  assert.match(rec.stdout, /5a 5a 5a 5a/);
  const rep = cli(['--replay', 's.micrec']);
  assert.equal(rep.status, 0, rep.stderr);
  assert.equal(rep.stdout, rec.stdout, 'the console output as it was');
  assert.equal(rep.stderr, '', 'nothing said: no divergence');
  const cache = join(dir, 'cache', 'mic-emu');
  assert.deepEqual(
    readdirSync(cache).filter((f) => f.startsWith('replay-')),
    [],
    'the replay images are gone',
  );
});

test('a damaged, foreign or missing recording, or machine options with --replay: one line, exit 2', () => {
  const raw = readFileSync(join(dir, 's.micrec'));
  const damaged = Buffer.from(raw);
  damaged[raw.length - 20] ^= 0x04;
  writeFileSync(join(dir, 'bad.micrec'), damaged);
  writeFileSync(join(dir, 'other.json'), '{"compilerOptions":{}}\n');
  for (const [args, want] of [
    [
      ['--replay', 'bad.micrec'],
      /^mic-emu: --replay: bad\.micrec is damaged: its SHA-256 is [0-9a-f]{64}, the header says [0-9a-f]{64}\n$/,
    ],
    [['--replay', 'other.json'], /^mic-emu: --replay: other\.json is not a mic-emu recording /],
    [['--replay', 'nope.micrec'], /^mic-emu: --replay: the recording nope\.micrec does not exist\n$/],
    [
      ['--replay', 's.micrec', '--cards', '2'],
      /^mic-emu: --replay: the recording has the machine and its disks; leave out --cards\n$/,
    ],
    [
      ['--record', 'other.json'],
      /^mic-emu: --record: other\.json exists and is not a recording written by the emulator/,
    ],
  ] as [string[], RegExp][]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  }
});
