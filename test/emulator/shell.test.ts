import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  Shell,
  splitWords,
  type ShellHost,
  type ShellCommand,
} from '../../src/emulator/cardSoftware/shell/shell.ts';
import { toCrlfParts } from '../../src/emulator/cardSoftware/shell/tty.ts';
import {
  cpuinfoText,
  knightsCornerCpu,
  steppingNumber,
} from '../../src/emulator/cardSoftware/shell/cpuinfo.ts';

const PROMPT = '[root@mic0 ~]# ';
const BANNER = '\r\nIntel(R) Xeon Phi(TM) coprocessor mic0\r\nKernel 3.13.0-mic on an k1om (hvc0)\r\n\r\n';

interface FakeHost extends ShellHost {
  out: string[];
  calls: string[];
  text(): string;
  take(): string;
  ns: number;
  nodename: string;
  extras: Record<string, ShellCommand>;
}

function fakeHost(): FakeHost {
  const h: FakeHost = {
    out: [],
    calls: [],
    ns: 12_345_000_000,
    nodename: 'mic0',
    extras: {},
    text() {
      return h.out.join('');
    },
    take() {
      const t = h.out.join('');
      h.out.length = 0;
      return t;
    },
    write(text) {
      h.out.push(text);
    },
    uname() {
      return {
        sysname: 'Linux',
        nodename: h.nodename,
        release: '3.13.0-mic',
        version: '#1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015',
        machine: 'k1om',
      };
    },
    dmesg() {
      return '[    0.000000] Linux version 3.13.0-mic\n[    0.000001] mic: device page found at 0x8000001000\n';
    },
    devices() {
      return ['console', 'hvc0', 'null', 'zero', 'vda', 'ttyS0'];
    },
    cpu() {
      return { cores: 57, threadsPerCore: 4, mhz: 1100, stepping: 'C0' };
    },
    memTotalKiB() {
      return 8 * 1024 * 1024;
    },
    uptimeNs() {
      return h.ns;
    },
    poweroff() {
      h.calls.push('poweroff');
    },
    reboot() {
      h.calls.push('reboot');
    },
    halt() {
      h.calls.push('halt');
    },
    extraCommands() {
      return h.extras;
    },
    cmdline() {
      return 'console=hvc0 mem=8G';
    },
  };
  return h;
}

const enc = new TextEncoder();
function type(sh: Shell, s: string): void {
  sh.input(enc.encode(s));
}

function started(): { h: FakeHost; sh: Shell } {
  const h = fakeHost();
  const sh = new Shell(h);
  sh.start();
  h.take();
  return { h, sh };
}

/** Output of one command run via run(): echo of the line, then the command output, then the prompt. */
function runOut(h: FakeHost, sh: Shell, line: string): string {
  h.take();
  sh.run(line);
  const t = h.take();
  const head = line + '\r\n';
  assert.ok(t.startsWith(head), `echo of ${JSON.stringify(line)} missing in ${JSON.stringify(t)}`);
  if (sh.stopped) return t.slice(head.length);
  assert.ok(t.endsWith(PROMPT), `no prompt after ${JSON.stringify(line)}: ${JSON.stringify(t)}`);
  return t.slice(head.length, t.length - PROMPT.length);
}

test('start prints the banner and the prompt with the node name', () => {
  const h = fakeHost();
  const sh = new Shell(h);
  sh.start();
  assert.equal(h.text(), BANNER + PROMPT);
  assert.equal(sh.stopped, false);

  const h1 = fakeHost();
  h1.nodename = 'mic1';
  new Shell(h1).start();
  assert.ok(h1.text().endsWith('[root@mic1 ~]# '));

  const h2 = fakeHost();
  new Shell(h2, { prompt: '$ ' }).start();
  assert.ok(h2.text().endsWith('\r\n$ '));
});

test('typed keys are echoed; Enter runs the line; output uses CRLF', () => {
  const { h, sh } = started();
  type(sh, 'whoami');
  assert.equal(h.take(), 'whoami');
  type(sh, '\r');
  assert.equal(h.take(), '\r\nroot\r\n' + PROMPT);
  type(sh, 'hostname\n');
  assert.equal(h.take(), 'hostname\r\nmic0\r\n' + PROMPT);
});

test('CRLF is one Enter; a lone LF and a lone CR are each one Enter', () => {
  const { h, sh } = started();
  type(sh, 'true\r\n');
  assert.equal(h.take(), 'true\r\n' + PROMPT);
  // CR at the end of one chunk, LF at the start of the next: still one Enter.
  type(sh, 'true\r');
  type(sh, '\n');
  assert.equal(h.take(), 'true\r\n' + PROMPT);
  type(sh, 'x\n\n');
  assert.equal(h.take(), 'x\r\n-sh: x: command not found\r\n' + PROMPT + '\r\n' + PROMPT);
  type(sh, '\r\r');
  assert.equal(h.take(), '\r\n' + PROMPT + '\r\n' + PROMPT);
  type(sh, '\n'); // right after a CR: part of CRLF
  assert.equal(h.take(), '');
});

test('backspace (0x7f and 0x08) erases one character, not past the start', () => {
  const { h, sh } = started();
  type(sh, 'whoam');
  type(sh, 'x\x7f');
  type(sh, 'i');
  assert.equal(h.take(), 'whoamx\b \bi');
  type(sh, '\r');
  assert.equal(h.take(), '\r\nroot\r\n' + PROMPT);
  type(sh, '\x7f\x08ab\x08\x08\x08');
  assert.equal(h.take(), 'ab\b \b\b \b');
  type(sh, '\r');
  assert.equal(h.take(), '\r\n' + PROMPT);
});

test('Ctrl-C drops the line, Ctrl-U erases it, Ctrl-L redraws', () => {
  const { h, sh } = started();
  type(sh, 'echo hi\x03');
  assert.equal(h.take(), 'echo hi^C\r\n' + PROMPT);
  type(sh, '\r');
  assert.equal(h.take(), '\r\n' + PROMPT);
  type(sh, 'abc\x15');
  assert.equal(h.take(), 'abc\b \b\b \b\b \b');
  type(sh, 'whoami\x0c');
  assert.equal(h.take(), 'whoami\x1b[H\x1b[2J' + PROMPT + 'whoami');
  type(sh, '\r');
  assert.equal(h.take(), '\r\nroot\r\n' + PROMPT);
});

test('Ctrl-D on an empty line logs out and a new login shell starts; ignored otherwise', () => {
  const { h, sh } = started();
  type(sh, 'ab\x04');
  assert.equal(h.take(), 'ab');
  type(sh, '\x15\x04');
  assert.equal(h.take(), '\b \b\b \blogout\r\n' + BANNER + PROMPT);
  assert.equal(sh.stopped, false);
  assert.equal(runOut(h, sh, 'exit'), 'logout\r\n' + BANNER);
});

test('escape sequences are swallowed; up/down arrows walk the history', () => {
  const { h, sh } = started();
  type(sh, 'who\x1b[D\x1b[Cami\x1bOD\x1b[3~\r');
  assert.equal(h.take(), 'whoami\r\nroot\r\n' + PROMPT);
  type(sh, 'hostname\r');
  h.take();
  type(sh, 'xy\x1b[A');
  assert.equal(h.take(), 'xy\b \b\b \bhostname');
  type(sh, '\x1b[A');
  assert.equal(h.take(), '\b \b'.repeat(8) + 'whoami');
  type(sh, '\x1b[A'); // no older entry
  assert.equal(h.take(), '');
  type(sh, '\x1b[B\x1b[B');
  assert.equal(h.take(), '\b \b'.repeat(6) + 'hostname' + '\b \b'.repeat(8) + 'xy');
  type(sh, '\x15\x1b[A\r');
  assert.equal(h.take(), '\b \b\b \bhostname\r\nmic0\r\n' + PROMPT);
});

test('UTF-8 passes through intact, even split across chunks; backspace erases a whole character', () => {
  const { h, sh } = started();
  const bytes = enc.encode('echo héllo 🙂');
  sh.input(bytes.subarray(0, 7)); // "echo h" + first byte of é
  sh.input(bytes.subarray(7));
  type(sh, '\r');
  assert.equal(h.take(), 'echo héllo 🙂\r\nhéllo 🙂\r\n' + PROMPT);
  type(sh, 'echo 🙂\x7f!\r');
  assert.equal(h.take(), 'echo 🙂\b \b!\r\n!\r\n' + PROMPT);
});

test('tab and other control characters are ignored', () => {
  const { h, sh } = started();
  type(sh, 'who\t\x00\x01ami\r');
  assert.equal(h.take(), 'whoami\r\nroot\r\n' + PROMPT);
});

test('quoting and $?', () => {
  const { h, sh } = started();
  assert.equal(runOut(h, sh, 'echo "a  b"'), 'a  b\r\n');
  assert.equal(runOut(h, sh, "echo 'x  $?'  y   z"), 'x  $? y z\r\n');
  assert.equal(runOut(h, sh, 'echo a\\ b "" c'), 'a b  c\r\n');
  assert.equal(runOut(h, sh, 'echo -n hi'), 'hi');
  assert.equal(runOut(h, sh, 'false'), '');
  assert.equal(runOut(h, sh, 'echo $?'), '1\r\n');
  assert.equal(runOut(h, sh, 'echo $?'), '0\r\n');
  assert.equal(runOut(h, sh, 'nosuch --x'), '-sh: nosuch: command not found\r\n');
  assert.equal(runOut(h, sh, 'echo "status=$?"'), 'status=127\r\n');
  assert.equal(runOut(h, sh, ''), '');
  assert.equal(runOut(h, sh, 'echo $?'), '0\r\n');
  assert.equal(runOut(h, sh, 'echo "open'), '-sh: syntax error: unterminated quoted string\r\n');
  assert.equal(runOut(h, sh, 'echo $?'), '2\r\n');
  assert.equal(runOut(h, sh, 'echo a # comment'), 'a\r\n');
  assert.deepEqual(splitWords(`a "b c" 'd' e"f"g`, 0), { ok: true, words: ['a', 'b c', 'd', 'efg'] });
});

test('Ctrl-C sets $? to 130', () => {
  const { h, sh } = started();
  type(sh, 'x\x03echo $?\r');
  assert.equal(h.take(), 'x^C\r\n' + PROMPT + 'echo $?\r\n130\r\n' + PROMPT);
});

test('uname', () => {
  const { h, sh } = started();
  assert.equal(
    runOut(h, sh, 'uname -a'),
    'Linux mic0 3.13.0-mic #1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015 k1om GNU/Linux\r\n',
  );
  assert.equal(runOut(h, sh, 'uname'), 'Linux\r\n');
  assert.equal(runOut(h, sh, 'uname -s'), 'Linux\r\n');
  assert.equal(runOut(h, sh, 'uname -n'), 'mic0\r\n');
  assert.equal(runOut(h, sh, 'uname -r'), '3.13.0-mic\r\n');
  assert.equal(runOut(h, sh, 'uname -v'), '#1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015\r\n');
  assert.equal(runOut(h, sh, 'uname -m'), 'k1om\r\n');
  assert.equal(runOut(h, sh, 'uname -m -r'), '3.13.0-mic k1om\r\n');
  assert.equal(runOut(h, sh, 'uname -mn'), 'mic0 k1om\r\n');
  assert.equal(
    runOut(h, sh, 'uname -x'),
    "uname: invalid option -- 'x'\r\nTry 'uname --help' for more information.\r\n",
  );
  assert.equal(runOut(h, sh, 'echo $?'), '1\r\n');
});

test('cat /proc/cpuinfo: 228 logical CPUs with the default 57-core SKU, Linux field order', () => {
  const { h, sh } = started();
  const out = runOut(h, sh, 'cat /proc/cpuinfo');
  assert.ok(!/[^\r]\n/.test(out), 'every line ends in CRLF');
  const text = out.replace(/\r\n/g, '\n');
  assert.equal(text, cpuinfoText(h.cpu()));
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('processor\t: ')).length, 228);
  const blocks = text.split('\n\n').filter((b) => b !== '');
  assert.equal(blocks.length, 228);
  const first = blocks[0].split('\n');
  assert.deepEqual(first, [
    'processor\t: 0',
    'vendor_id\t: GenuineIntel',
    'cpu family\t: 11',
    'model\t\t: 1',
    'model name\t: 0b/01',
    'stepping\t: 3',
    'cpu MHz\t\t: 1100.000',
    'cache size\t: 512 KB',
    'physical id\t: 0',
    'siblings\t: 228',
    'core id\t\t: 56',
    'cpu cores\t: 57',
    'apicid\t\t: 224',
    'initial apicid\t: 224',
    'fpu\t\t: yes',
    'fpu_exception\t: yes',
    'cpuid level\t: 4',
    'wp\t\t: yes',
    'flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic mtrr mca pat fxsr ht syscall nx lm nopl lahf_lm',
    'bogomips\t: 2200.00',
    'clflush size\t: 64',
    'cache_alignment\t: 64',
    'address sizes\t: 40 bits physical, 48 bits virtual',
    'power management:',
  ]);
  assert.ok(blocks[1].includes('core id\t\t: 0\n') && blocks[1].includes('apicid\t\t: 0\n'));
  assert.ok(blocks[227].startsWith('processor\t: 227\n'));
  assert.ok(blocks[227].includes('core id\t\t: 56\n') && blocks[227].includes('apicid\t\t: 227\n'));
  // Every (core, thread) pair appears exactly once.
  const apics = new Set(Array.from({ length: 228 }, (_, p) => knightsCornerCpu(p, 57, 4).apicid));
  assert.equal(apics.size, 228);
  assert.equal(Math.max(...apics), 227);
});

test('cpuinfo generator: other SKUs, stepping mapping, bogomips override', () => {
  const t = cpuinfoText({ cores: 61, threadsPerCore: 4, mhz: 1238.095, stepping: 'B1', bogomips: 2476.19 });
  assert.equal((t.match(/^processor\t: /gm) ?? []).length, 244);
  assert.ok(t.includes('stepping\t: 2\n'));
  assert.ok(t.includes('cpu MHz\t\t: 1238.095\n'));
  assert.ok(t.includes('bogomips\t: 2476.19\n'));
  assert.ok(t.includes('siblings\t: 244\ncore id\t\t: 60\ncpu cores\t: 61\n'));
  assert.equal(steppingNumber('C0'), 3);
  assert.equal(steppingNumber('b0'), 1);
  assert.equal(steppingNumber('A0'), 0);
  assert.equal(steppingNumber('7'), 7);
  assert.equal(steppingNumber('??'), 0);
});

test('cat other /proc files and missing files', () => {
  const { h, sh } = started();
  const mem = runOut(h, sh, 'cat /proc/meminfo');
  assert.ok(mem.startsWith('MemTotal:        8388608 kB\r\nMemFree:  '), mem);
  assert.match(mem, /\r\nSwapTotal:\s+0 kB\r\n/);
  assert.equal(
    runOut(h, sh, 'cat /proc/version'),
    'Linux version 3.13.0-mic (root@mic-build) (gcc version 4.7.0 (GCC) ) #1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015\r\n',
  );
  assert.equal(runOut(h, sh, 'cat /proc/uptime'), '12.34 2813.52\r\n'); // idle summed over 228 cpus
  assert.equal(runOut(h, sh, 'cat /proc/cmdline'), 'console=hvc0 mem=8G\r\n');
  assert.equal(runOut(h, sh, 'cat /etc/hostname'), 'mic0\r\n');
  assert.equal(runOut(h, sh, 'cat /nope'), 'cat: /nope: No such file or directory\r\n');
  assert.equal(runOut(h, sh, 'echo $?'), '1\r\n');
  assert.equal(runOut(h, sh, 'cat /proc'), 'cat: /proc: Is a directory\r\n');
  assert.equal(runOut(h, sh, 'cat /dev/null'), '');
});

test('dmesg prints the kernel log with CRLF line ends', () => {
  const { h, sh } = started();
  assert.equal(
    runOut(h, sh, 'dmesg'),
    '[    0.000000] Linux version 3.13.0-mic\r\n[    0.000001] mic: device page found at 0x8000001000\r\n',
  );
});

test('ls', () => {
  const { h, sh } = started();
  assert.equal(runOut(h, sh, 'ls /dev'), 'console\r\nhvc0\r\nnull\r\nttyS0\r\nvda\r\nzero\r\n');
  assert.equal(runOut(h, sh, 'ls /dev/'), 'console\r\nhvc0\r\nnull\r\nttyS0\r\nvda\r\nzero\r\n');
  assert.equal(runOut(h, sh, 'ls /'), 'bin\r\ndev\r\netc\r\nproc\r\nroot\r\nsys\r\ntmp\r\n');
  assert.equal(runOut(h, sh, 'ls /proc'), 'cmdline\r\ncpuinfo\r\nmeminfo\r\nuptime\r\nversion\r\n');
  assert.equal(runOut(h, sh, 'ls'), '');
  assert.equal(runOut(h, sh, 'ls /dev/vda'), '/dev/vda\r\n');
  assert.equal(runOut(h, sh, 'ls /foo'), "ls: cannot access '/foo': No such file or directory\r\n");
  assert.equal(runOut(h, sh, 'echo $?'), '2\r\n');
  assert.equal(runOut(h, sh, 'ls /tmp /etc'), '/tmp:\r\n\r\n/etc:\r\nhostname\r\npasswd\r\n');
});

test('poweroff, reboot and halt call the host and stop the shell', () => {
  for (const cmd of ['poweroff', 'reboot', 'halt'] as const) {
    const { h, sh } = started();
    type(sh, `${cmd}\rwhoami\r`);
    assert.deepEqual(h.calls, [cmd]);
    assert.equal(sh.stopped, true);
    assert.equal(h.take(), `${cmd}\r\n`);
    type(sh, 'whoami\r');
    sh.run('whoami');
    assert.equal(h.take(), '');
    assert.deepEqual(h.calls, [cmd]);
  }
});

test('uptime, date, whoami, hostname, true/false, clear', () => {
  const { h, sh } = started();
  assert.equal(runOut(h, sh, 'uptime'), ' 00:00:12 up 0 min,  load average: 0.00, 0.00, 0.00\r\n');
  assert.equal(runOut(h, sh, 'date'), 'Thu Jan  1 00:00:12 UTC 2015\r\n');
  h.ns = (2 * 86400 + 3 * 3600 + 5 * 60 + 7) * 1e9;
  assert.equal(runOut(h, sh, 'uptime'), ' 03:05:07 up 2 days,  3:05,  load average: 0.00, 0.00, 0.00\r\n');
  assert.equal(runOut(h, sh, 'date'), 'Sat Jan  3 03:05:07 UTC 2015\r\n');
  h.ns = 61 * 60 * 1e9;
  assert.equal(runOut(h, sh, 'uptime'), ' 01:01:00 up  1:01,  load average: 0.00, 0.00, 0.00\r\n');
  assert.equal(runOut(h, sh, 'whoami'), 'root\r\n');
  assert.equal(runOut(h, sh, 'hostname'), 'mic0\r\n');
  assert.equal(runOut(h, sh, 'true'), '');
  assert.equal(runOut(h, sh, 'clear'), '\x1b[H\x1b[2J');
});

test('extra commands are dispatched, listed in help, and may set the status', () => {
  const { h, sh } = started();
  const seen: string[][] = [];
  h.extras = {
    blk: {
      help: 'show block devices',
      run(args, s) {
        seen.push(args);
        h.write('vda 64M\r\n');
        s.print('done\n');
      },
    },
    fail: {
      help: 'always fails',
      run: () => 3,
    },
    boom: {
      help: 'throws',
      run() {
        throw new Error('kaput');
      },
    },
  };
  assert.equal(runOut(h, sh, 'blk -l "x y"'), 'vda 64M\r\ndone\r\n');
  assert.deepEqual(seen, [['-l', 'x y']]);
  assert.equal(runOut(h, sh, 'fail'), '');
  assert.equal(runOut(h, sh, 'echo $?'), '3\r\n');
  assert.equal(runOut(h, sh, 'boom'), '-sh: boom: kaput\r\n');
  const help = runOut(h, sh, 'help');
  for (const name of [
    'help',
    'uname',
    'echo',
    'cat',
    'dmesg',
    'ls',
    'poweroff',
    'reboot',
    'halt',
    'uptime',
  ]) {
    assert.match(help, new RegExp(`^  ${name} +\\S`, 'm'), name);
  }
  for (const name of ['true', 'false', 'clear', 'exit', 'hostname', 'whoami', 'date']) {
    assert.match(help, new RegExp(`^  ${name} +\\S`, 'm'), name);
  }
  assert.match(help, /^ {2}blk +show block devices\r$/m);
  assert.match(help, /^ {2}fail +always fails\r$/m);
});

test('run() executes several lines like a script', () => {
  const { h, sh } = started();
  sh.run('echo a\necho b');
  assert.equal(h.take(), 'echo a\r\na\r\n' + PROMPT + 'echo b\r\nb\r\n' + PROMPT);
});

test('random bytes never throw and the shell keeps working', () => {
  let seed = 0x12345678;
  const next = (): number => {
    // xorshift32: deterministic pseudo-random bytes
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let round = 0; round < 50; round++) {
    const h = fakeHost();
    // Never let the fuzz power the card off: that is a legitimate way to stop the shell.
    h.poweroff = h.reboot = h.halt = () => undefined;
    const sh = new Shell(h);
    sh.start();
    for (let chunk = 0; chunk < 40; chunk++) {
      const len = next() % 64;
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        const r = next();
        // Bias towards printable text and the interesting control keys.
        bytes[i] =
          r % 4 === 0 ? [0x0d, 0x0a, 0x7f, 0x03, 0x04, 0x15, 0x1b, 0x5b, 0x22, 0x27][r % 10] : r & 0xff;
      }
      assert.doesNotThrow(() => sh.input(bytes));
      assert.doesNotThrow(() => sh.run(String.fromCharCode(...bytes)));
    }
    if (!sh.stopped) {
      h.take();
      type(sh, '\x03');
      h.take();
      type(sh, 'whoami\r');
      assert.equal(h.take(), 'whoami\r\nroot\r\n' + PROMPT);
    }
  }
});

test('a throwing host does not make the shell throw', () => {
  const h = fakeHost();
  h.uname = () => {
    throw new Error('no uname');
  };
  h.cpu = () => {
    throw new Error('no cpu');
  };
  const sh = new Shell(h);
  assert.doesNotThrow(() => sh.start());
  assert.ok(h.take().endsWith(PROMPT)); // falls back to mic0
  sh.run('cat /proc/cpuinfo');
  assert.equal(h.take(), 'cat /proc/cpuinfo\r\n-sh: cat: no cpu\r\n' + PROMPT);
  h.write = () => {
    throw new Error('console gone');
  };
  assert.doesNotThrow(() => type(sh, 'whoami\r'));
});

test('a bug behind the shell is printed as -sh: internal error and reported, and the shell goes on', () => {
  const { h, sh } = started();
  const reported: unknown[] = [];
  h.internalError = (e) => reported.push(e);
  h.extraCommands = () => {
    throw new Error('no command table');
  };
  assert.equal(
    runOut(h, sh, 'vdinfo'),
    '-sh: internal error: no command table\r\n-sh: vdinfo: command not found\r\n',
  );
  assert.equal((reported[0] as Error).message, 'no command table');
  h.uname = () => {
    throw new Error('no uname');
  };
  reported.length = 0;
  sh.run('true');
  // uname is asked while the prompt is drawn: reported, not printed into the prompt.
  assert.ok(h.take().endsWith(PROMPT));
  assert.equal((reported[0] as Error).message, 'no uname');
});

test('ONLCR over the output between two flushes: parts joined then converted, the same long output given back as the same string', () => {
  assert.equal(toCrlfParts(['a\n', 'b\r\n', 'c']), 'a\r\nb\r\nc');
  // A CR at the end of one part and the LF at the start of the next are one line end.
  assert.equal(toCrlfParts(['x\r', '\ny\n']), 'x\r\ny\r\n');
  const long = 'processor\t: 0\n'.repeat(400);
  const first = toCrlfParts(['cat f\n', long, PROMPT]);
  assert.equal(first, ('cat f\n' + long).replace(/\n/g, '\r\n') + PROMPT);
  const again = toCrlfParts(['cat f\n', long, PROMPT]);
  assert.equal(again, first);
  // Other parts: converted afresh, not the remembered answer.
  assert.equal(toCrlfParts(['cat g\n', long, PROMPT]), ('cat g\n' + long).replace(/\n/g, '\r\n') + PROMPT);
  assert.equal(toCrlfParts(['cat f\n', long]), ('cat f\n' + long).replace(/\n/g, '\r\n'));
});
