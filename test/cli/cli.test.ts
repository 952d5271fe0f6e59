// The headless runner as a user meets it: `node dist/cli.js` with stdin from a pipe. Each line
// is typed into the console; at end of input the card is powered off in order and the process
// exits. Boot progress goes to stderr; a usage error is one line on stderr and exit code 2.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; `fileSizeLimitKiB` runs it under `ulimit -f` (a write past it fails: a full disk). */
function cli(args: string[], input = '', fileSizeLimitKiB?: number): Run {
  const argv = [CLI, ...args];
  const r =
    fileSizeLimitKiB === undefined
      ? spawnSync(process.execPath, argv, { cwd: ROOT, input, encoding: 'utf8', timeout: 120_000 })
      : spawnSync(
          'bash',
          ['-c', `ulimit -f ${fileSizeLimitKiB}; exec "$0" "$@"`, process.execPath, ...argv],
          {
            cwd: ROOT,
            input,
            encoding: 'utf8',
            timeout: 120_000,
          },
        );
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
});

test('piped `uname -a`: the card answers on stdout, boot progress on stderr, exit 0', () => {
  const r = cli([], 'uname -a\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    r.stdout.includes(
      '[root@mic0 ~]# uname -a\nLinux mic0 3.13.0-mic #1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015 k1om GNU/Linux\n[root@mic0 ~]# ',
    ),
    r.stdout,
  );
  assert.ok(!r.stdout.includes('\r'), 'CRLF from the card tty is cooked to LF on a pipe');
  assert.ok(r.stdout.includes('Intel(R) Xeon Phi(TM) coprocessor mic0'));
  // Progress lines, in boot order, stamped with virtual time.
  const err = lines(r.stderr);
  const want = [
    /^\[\s*\d+\.\d{3}\] mic0: reset \(RGCR\)$/,
    /^\[\s*\d+\.\d{3}\] mic0: firmware ready \(SPAD2=0x40001c1\)$/,
    /^\[\s*2\.000\] mic0: download mic\/uos\.img \(524288 bytes\) to 0x4000000$/,
    /^\[\s*2\.000\] mic0: bootstrap kick \(APICICR7 = 0x20e5\)$/,
    /^\[\s*2\.000\] mic0: state online$/,
    // end of input: orderly poweroff, mpssd resets the card to offline
    /^\[\s*\d+\.\d{3}\] mic0: state shutting_down$/,
    /^\[\s*\d+\.\d{3}\] mic0: reset \(RGCR\)$/,
    /^\[\s*\d+\.\d{3}\] mic0: state offline$/,
  ];
  let at = -1;
  for (const re of want) {
    const i = err.findIndex((l, k) => k > at && re.test(l));
    assert.ok(i > at, `stderr has ${re} after line ${at}:\n${r.stderr}`);
    at = i;
  }
  assert.ok(!r.stderr.includes('protocol error'), r.stderr);
});

test('several piped lines are typed one after the other', () => {
  const r = cli([], 'echo one\necho two\ncat /proc/cmdline\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    r.stdout.includes('echo one\none\n[root@mic0 ~]# echo two\ntwo\n[root@mic0 ~]# cat /proc/cmdline\n'),
  );
  assert.ok(r.stdout.includes('mem=8192M clocksource=tsc'));
  assert.ok(r.stdout.includes('ifcfg=static;address,172.31.0.1;netmask,255.255.255.0'));
});

test('--help lists the options and exits 0', () => {
  const r = cli(['--help']);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  for (const opt of ['--cards', '--memory', '--trace', '--console', '--stepping', '--help'])
    assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
  assert.match(r.stdout, /^Usage:/);
});

for (const [args, mentions] of [
  [['--cards', '9'], '--cards'],
  [['--cards', 'x'], '--cards'],
  [['--cards', '0'], '--cards'],
  [['--cards'], '--cards'],
  [['--memory', '3'], '--memory'],
  [['--memory', 'lots'], '--memory'],
  [['--bogus'], '--bogus'],
  [['--console', 'mic5'], 'mic5'],
  [['--console', 'host'], '--console'],
  [['--stepping', 'D0'], '--stepping'],
] as const) {
  test(`bad option ${args.join(' ')}: exit code 2 and exactly one line on stderr`, () => {
    const r = cli([...args], 'uname -a\n');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '', 'the machine never started');
    assert.ok(r.stderr.endsWith('\n'));
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    assert.ok(r.stderr.startsWith('mic-emu: '), r.stderr);
    assert.ok(r.stderr.includes(mentions), r.stderr);
  });
}

test('--trace FILE writes every event as a JSON line, the last one included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mic-emu-trace-'));
  try {
    const file = join(dir, 'trace.jsonl');
    const r = cli(['--trace', file], 'echo traced\n');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes('echo traced\ntraced\n'));
    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'));
    const objs = lines(text).map((l) => JSON.parse(l));
    assert.ok(objs.length > 500, `${objs.length} events`);
    objs.forEach((o, i) => {
      assert.equal(o.seq, i + 1, 'no event missing');
      for (const k of ['seq', 'time', 'initiator', 'kind', 'space', 'address', 'size', 'value', 'frames'])
        assert.ok(k in o, `${k} in line ${i + 1}`);
    });
    const st = objs.filter((o) => o.kind === 'state').map((o) => o.detail);
    assert.deepEqual(st, ['hardware reset', 'online', 'shutting_down', 'hardware reset', 'offline']);
    assert.ok(objs.some((o) => o.kind === 'input' && o.detail === 'echo traced\n'));
    assert.ok(objs.some((o) => o.kind === 'dma.desc' && o.initiator === 'mic0.dma0'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--trace to a path that cannot be written: one line on stderr, exit 2', () => {
  const r = cli(['--trace', join(tmpdir(), 'no-such-dir-mic-emu', 'x', 't.jsonl')], '');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /mic-emu: --trace: .*the folder .*no-such-dir-mic-emu\/x does not exist/);
});

test('--trace to a full disk: the write error is one line on stderr, exit 2', () => {
  // A full disk, as the file-size limit makes it: writes past 512 KiB fail (EFBIG). The trace of
  // two `cat /proc/cpuinfo` (1.3 MB) is more than that and than the writer's 1 MiB buffer, so the
  // error comes mid-run, not only at the end. The disk image is small and already there.
  const dir = mkdtempSync(join(tmpdir(), 'mic-cli-full-'));
  try {
    const disk = join(dir, 'd.img');
    writeFileSync(disk, Buffer.alloc(256 << 10));
    const r = cli(
      ['--trace', join(dir, 't.jsonl'), '--disk', disk],
      'cat /proc/cpuinfo\ncat /proc/cpuinfo\n',
      512,
    );
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stdout.includes('cache_alignment'), 'the card ran');
    const said = r.stderr.split('\n').filter((l) => l.startsWith('mic-emu: --trace:'));
    assert.deepEqual(said, ['mic-emu: --trace: EFBIG: file too large, write']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--cards 2 --console mic1 shows mic1 and both cards boot', () => {
  const r = cli(['--cards', '2', '--console', 'mic1'], 'uname -n\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('[root@mic1 ~]# uname -n\nmic1\n[root@mic1 ~]# '), r.stdout);
  assert.ok(r.stdout.includes('Intel(R) Xeon Phi(TM) coprocessor mic1'));
  assert.ok(!r.stdout.includes('mic0'), "mic0's console is not on this terminal");
  assert.match(r.stderr, /mic0: state online/);
  assert.match(r.stderr, /mic1: state online/);
  assert.match(r.stderr, /mic1: state offline/);
});

test('--memory 512M gives the card mem=512M', () => {
  const r = cli(['--memory', '512M'], 'cat /proc/cmdline\n');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /cat \/proc\/cmdline\nmem=512M clocksource=tsc/);
});
