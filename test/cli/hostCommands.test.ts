// Host-side commands of the runner (`~cmd` lines on a pipe, Ctrl-] on a terminal): first
// runHostCommand itself with a small fake context around a real machine, then `node dist/cli.js`
// with piped input mixing console lines and host commands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

import {
  HOST_HELP,
  cardStatus,
  runHostCommand,
  type HostCommandContext,
} from '../../src/cli/hostCommands.ts';
import { bootedMachine, typeLine, type TestMachine } from '../helpers/machine.ts';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const BANNER = (card: number) => `Intel(R) Xeon Phi(TM) coprocessor mic${card}`;
const PROMPT = (card: number) => `[root@mic${card} ~]# `;

// ---- runHostCommand with a fake context ---------------------------------------------------------

interface Fake extends HostCommandContext {
  printed: string[];
  quits: number;
  consoles: number[];
}

function fake(t: TestMachine, opts: { terminal?: boolean; consoleCard?: number } = {}): Fake {
  const f: Fake = {
    machine: t.m,
    consoleCard: opts.consoleCard ?? 0,
    printed: [],
    quits: 0,
    consoles: [],
    print: (line) => void f.printed.push(line),
    quit: () => void f.quits++,
  };
  if (opts.terminal) f.setConsole = (card) => void f.consoles.push(card);
  return f;
}

test('runHostCommand: help and ? print the help text, an empty line does nothing', () => {
  const t = bootedMachine();
  for (const word of ['help', '?']) {
    const f = fake(t);
    assert.equal(runHostCommand(f, word), true);
    assert.deepEqual(f.printed, HOST_HELP.split('\n'));
  }
  const f = fake(t);
  assert.equal(runHostCommand(f, ''), true);
  assert.equal(runHostCommand(f, '   '), true);
  assert.deepEqual(f.printed, []);
  assert.equal(f.quits, 0);
});

test('runHostCommand: status prints one line per card with state, shutdown_status, card OS and BARs', () => {
  const t = bootedMachine({ cards: 2 });
  const f = fake(t);
  assert.equal(runHostCommand(f, '  status  '), true);
  assert.deepEqual(f.printed, [cardStatus(t.m, 0), cardStatus(t.m, 1)]);
  assert.match(
    f.printed[0],
    /^mic0: online \(shutdown_status nop, card OS running, stepping C0, BAR0 0x[0-9a-f]+ 8192 MiB, BAR4 0x[0-9a-f]+\)$/,
  );
  assert.match(f.printed[1], /^mic1: online \(/);
  assert.notEqual(f.printed[0].match(/BAR0 (\S+)/)![1], f.printed[1].match(/BAR0 (\S+)/)![1]);
});

test('runHostCommand: quit and exit call the context’s quit', () => {
  const t = bootedMachine();
  const f = fake(t);
  assert.equal(runHostCommand(f, 'quit'), true);
  assert.equal(runHostCommand(f, 'exit'), true);
  assert.equal(f.quits, 2);
  assert.deepEqual(f.printed, []);
});

test('runHostCommand: console micN switches on a terminal; names a missing card; refused on a pipe', () => {
  const t = bootedMachine({ cards: 2 });
  const term = fake(t, { terminal: true });
  assert.equal(runHostCommand(term, 'console mic1'), true);
  assert.deepEqual(term.consoles, [1]);
  assert.equal(runHostCommand(term, 'console mic7'), false);
  assert.deepEqual(term.printed, ["no card 'mic7' (cards: mic0, mic1)"]);
  assert.equal(runHostCommand(term, 'console all'), false);
  assert.equal(term.printed[1], 'console: name one card, on a terminal');
  assert.deepEqual(term.consoles, [1]);
  const pipe = fake(t);
  assert.equal(runHostCommand(pipe, 'console mic1'), false);
  assert.deepEqual(pipe.printed, ['console: name one card, on a terminal']);
});

test('runHostCommand: suspend and resume act on the console’s card and print nothing on success', () => {
  const t = bootedMachine({ cards: 2 });
  const m = t.m;
  const f = fake(t, { consoleCard: 1 });
  assert.equal(runHostCommand(f, 'suspend'), true);
  m.run();
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['online', 'suspended'],
  );
  assert.equal(runHostCommand(f, 'resume'), true);
  m.run();
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['online', 'online'],
  );
  assert.deepEqual(f.printed, []);
  t.take(1);
  assert.equal(typeLine(t, 'echo one', 1), `echo one\r\none\r\n${PROMPT(1)}`);
  assert.deepEqual(m.internalErrors, []);
});

test('runHostCommand: a refused state write prints the card, the command, the errno and the state', () => {
  const t = bootedMachine();
  const f = fake(t);
  assert.equal(runHostCommand(f, 'boot'), true, 'the words were understood');
  assert.deepEqual(f.printed, [], 'the result comes when the command finishes');
  t.m.run();
  assert.deepEqual(f.printed, ['mic0: boot: -EINVAL (state online)']);
});

test('runHostCommand: shutdown all, then boot mic1: each card in turn', () => {
  const t = bootedMachine({ cards: 2 });
  const m = t.m;
  const f = fake(t);
  assert.equal(runHostCommand(f, 'shutdown all'), true);
  m.run();
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['offline', 'offline'],
  );
  assert.equal(runHostCommand(f, 'boot mic1'), true);
  m.run();
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['offline', 'online'],
  );
  assert.equal(runHostCommand(f, 'reset mic1'), true);
  m.run();
  assert.equal(m.state(1), 'offline');
  assert.deepEqual(f.printed, []);
  assert.deepEqual(m.internalErrors, []);
});

test('runHostCommand: an unknown card or an unknown command is one line and false; nothing runs', () => {
  const t = bootedMachine();
  const m = t.m;
  const tasks = m.sched.tasks.size;
  const f = fake(t);
  assert.equal(runHostCommand(f, 'reset mic9'), false);
  assert.equal(runHostCommand(f, 'suspend card0'), false);
  assert.equal(runHostCommand(f, 'bogus'), false);
  assert.deepEqual(f.printed, [
    "no card 'mic9' (cards: mic0)",
    "no card 'card0' (cards: mic0)",
    "unknown host command 'bogus' (try help)",
  ]);
  assert.equal(m.sched.tasks.size, tasks, 'no host command task was started');
  m.run();
  assert.equal(m.state(0), 'online');
});

// ---- the runner with piped input ----------------------------------------------------------------

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Build dist/cli.js once, the first time a runner test needs it (the unit tests above don't). */
let built = false;
function build(): void {
  if (built) return;
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
  built = true;
}

function cli(args: string[], input: string): Run {
  build();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const count = (s: string, sub: string) => s.split(sub).length - 1;

/** Assert that stderr has lines matching `want` in this order; returns their indexes. */
function inOrder(stderr: string, want: RegExp[]): number[] {
  const err = lines(stderr);
  const at: number[] = [];
  let from = -1;
  for (const re of want) {
    const i = err.findIndex((l, k) => k > from && re.test(l));
    assert.ok(i > from, `stderr has ${re} after line ${from}:\n${stderr}`);
    at.push(i);
    from = i;
  }
  return at;
}

test('piped ~status, ~suspend, ~resume, ~reset mic9, ~bogus between console lines: exit 0', () => {
  const r = cli(
    [],
    'echo one\n~status\n~suspend\n~status\n~resume\necho two\n~reset mic9\n~bogus\necho three\n',
  );
  assert.equal(r.status, 0, r.stderr);
  // Console lines are typed; host command lines are not.
  assert.ok(r.stdout.includes(`${PROMPT(0)}echo one\none\n${PROMPT(0)}`), r.stdout);
  assert.ok(
    r.stdout.includes(`${PROMPT(0)}echo two\ntwo\n${PROMPT(0)}echo three\nthree\n${PROMPT(0)}`),
    r.stdout,
  );
  assert.ok(!/status|suspend|resume|bogus|mic9/.test(r.stdout), 'no host command reached the card');
  // Suspend powers the card off in order; resume boots it again (a second banner).
  assert.equal(count(r.stdout, BANNER(0)), 2);
  assert.ok(r.stdout.indexOf('The system is going down NOW!') > r.stdout.indexOf('one\n'));
  inOrder(r.stderr, [
    /^\[\s*2\.000\] mic0: state online$/,
    /^mic0: online \(shutdown_status nop, card OS running, stepping C0, BAR0 0x[0-9a-f]+ 8192 MiB, BAR4 0x[0-9a-f]+\)$/,
    /^\[\s*\d+\.\d{3}\] mic0: state suspending$/,
    /^\[\s*\d+\.\d{3}\] mic0: state suspended$/,
    /^\[\s*\d+\.\d{3}\] mic0: reset \(RGCR\)$/,
    /^mic0: suspended \(shutdown_status nop, card OS firmware, /,
    /^\[\s*\d+\.\d{3}\] mic0: state offline$/,
    /^\[\s*\d+\.\d{3}\] mic0: state online$/,
    /^no card 'mic9' \(cards: mic0\)$/,
    /^unknown host command 'bogus' \(try help\)$/,
    // end of input: orderly shutdown
    /^\[\s*\d+\.\d{3}\] mic0: state shutting_down$/,
    /^\[\s*\d+\.\d{3}\] mic0: state offline$/,
  ]);
  assert.ok(!r.stderr.includes('protocol error'), r.stderr);
  assert.ok(!r.stderr.includes('internal error'), r.stderr);
});

test('piped ~shutdown then ~boot: the card goes offline and comes back with its console', () => {
  const r = cli([], '~shutdown\n~status\n~boot\necho back\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(count(r.stdout, BANNER(0)), 2);
  assert.ok(r.stdout.includes(`${PROMPT(0)}echo back\nback\n${PROMPT(0)}`), r.stdout);
  inOrder(r.stderr, [
    /mic0: state shutting_down$/,
    /mic0: state offline$/,
    /^mic0: offline \(shutdown_status nop, card OS firmware, /,
    /mic0: state online$/,
  ]);
});

test('piped `reboot` then `echo again`: the prompt comes twice and the card answers after the reboot', () => {
  const r = cli([], 'reboot\necho again\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(count(r.stdout, BANNER(0)), 2);
  const reboot = r.stdout.indexOf(`${PROMPT(0)}reboot\n`);
  assert.ok(reboot >= 0, r.stdout);
  const after = r.stdout.slice(reboot);
  assert.ok(after.includes('The system is going down NOW!'));
  assert.ok(after.includes(`${BANNER(0)}\n`));
  assert.ok(after.includes(`${PROMPT(0)}echo again\nagain\n${PROMPT(0)}`), r.stdout);
  assert.equal(count(r.stdout, PROMPT(0)), 3, 'boot, reboot and after `echo again`');
  inOrder(r.stderr, [
    /mic0: state online$/,
    /mic0: state shutting_down$/,
    /mic0: state offline$/,
    /mic0: state online$/,
    /mic0: state shutting_down$/,
    /mic0: state offline$/,
  ]);
});

test('piped `poweroff`: the card powers off, mpssd resets it to offline, the runner exits 0', () => {
  const r = cli([], 'poweroff\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    r.stdout.endsWith(`${PROMPT(0)}poweroff\n\nThe system is going down NOW!\n`),
    JSON.stringify(r.stdout),
  );
  assert.equal(count(r.stdout, BANNER(0)), 1);
  const states = lines(r.stderr).filter((l) => /mic0: state /.test(l));
  assert.deepEqual(
    states.map((l) => l.replace(/^\[\s*\d+\.\d{3}\] /, '')),
    ['mic0: state online', 'mic0: state shutting_down', 'mic0: state offline'],
  );
  assert.ok(!r.stderr.includes('stuck'), r.stderr);
});

test('--cards 2 --console mic1 with ~status lists both cards; ~suspend acts on mic1 only', () => {
  const r = cli(['--cards', '2', '--console', 'mic1'], '~status\n~suspend\n~status\n~resume\necho hi\n');
  assert.equal(r.status, 0, r.stderr);
  const st = lines(r.stderr).filter((l) => /^mic\d: \w+ \(/.test(l));
  assert.equal(st.length, 4, r.stderr);
  assert.match(st[0], /^mic0: online \(/);
  assert.match(st[1], /^mic1: online \(/);
  assert.match(st[2], /^mic0: online \(/);
  assert.match(st[3], /^mic1: suspended \(/);
  assert.ok(!/mic0: state suspend/.test(r.stderr), 'mic0 is not suspended');
  assert.ok(r.stdout.includes(`${PROMPT(1)}echo hi\nhi\n${PROMPT(1)}`), r.stdout);
  assert.ok(!r.stdout.includes('mic0'), "mic0's console is not on this terminal");
});

test('piped ~help prints the host command help on stderr', () => {
  const r = cli([], '~help\n');
  assert.equal(r.status, 0, r.stderr);
  for (const l of HOST_HELP.split('\n'))
    assert.ok(lines(r.stderr).includes(l), `stderr has ${JSON.stringify(l)}`);
  assert.ok(!r.stdout.includes('Host commands'));
});
