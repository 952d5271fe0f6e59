// Issue 12, item by item, over a real connection to dist/debugAdapter.js: hostile requests,
// broken framing and bad files never end the process, never leak a stack or our install path,
// never leave a file open, and each is answered with a message naming what was wrong.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdapter, openFiles, removeAdapterCopy, startServer, stopProcess } from '../helpers/dap.ts';
import { leaksInternals, RawDap } from '../helpers/rawDap.ts';

const T = { timeout: 60_000 };
const HAVE_PROC = existsSync('/proc/self/fd');

let adapter: string;
let tmp: string;
let d: RawDap | null = null;

before(() => {
  adapter = buildAdapter();
  tmp = mkdtempSync(join(tmpdir(), 'mic-harden-'));
});
after(() => {
  removeAdapterCopy();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await d?.close();
  d = null;
});

/** A fresh folder under tmp (the workspace of one test). */
function folder(name: string): string {
  const p = join(tmp, name);
  mkdirSync(p, { recursive: true });
  return p;
}

function withHeader(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
}

/** No response anywhere in the session leaked a stack or an install path. */
function assertNoLeaks(dap: RawDap): void {
  for (const m of dap.messages) {
    if (m.type === 'response' && !m.success)
      assert.ok(!leaksInternals(String(m.message)), `leaked internals: ${m.message}`);
  }
}

// ---- 1. launch arguments that are not an object --------------------------------------------

test(
  '1. launch without arguments, with null, "str", 5 or [] is refused; the adapter lives and launches after',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    await dap.initialize();
    for (const args of [undefined, null, 'str', 5, []]) {
      const r = await dap.request('launch', args);
      assert.equal(r.success, false, `launch with ${JSON.stringify(args)}`);
      assert.match(r.message, /'launch' needs arguments|arguments must be an object/);
    }
    assert.ok(dap.alive);
    const ok = await dap.launch({ autoBoot: false, disk: join(folder('l1'), 'd.img'), diskSizeMiB: 1 });
    assert.equal(ok.success, true, ok.message);
    assertNoLeaks(dap);
  },
);

// ---- 2. requests while the machine is being built -------------------------------------------

test(
  '2. continue, next, readMemory, stackTrace and restart sent before the machine exists wait for it; one machine, one disk descriptor',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    const disk = join(folder('l2'), 'd.img');
    await dap.initialize();
    const launch = dap.send('launch', { autoBoot: false, disk, diskSizeMiB: 1, stopOnEntry: true });
    const early = [
      dap.send('continue', { threadId: 1 }),
      dap.send('next', { threadId: 1 }),
      dap.send('readMemory', { memoryReference: 'mic0.bar4+0', count: 4 }),
      dap.send('stackTrace', { threadId: 1 }),
      dap.send('restart', {}),
    ];
    await dap.request('configurationDone');
    assert.equal((await dap.response(launch)).success, true);
    for (const seq of early) {
      const r = await dap.response(seq);
      assert.equal(dap.responses(seq).length, 1, 'one response per request');
      if (!r.success) assert.ok(!/TypeError|undefined/.test(r.message), r.message);
    }
    assert.ok(dap.alive);
    if (HAVE_PROC)
      assert.equal(openFiles(dap.proc!.pid!).filter((f) => f === disk).length, 1, 'one image open');
    await dap.request('terminate');
    if (HAVE_PROC)
      assert.deepEqual(
        openFiles(dap.proc!.pid!).filter((f) => f === disk),
        [],
        'the image is closed',
      );
    assertNoLeaks(dap);
  },
);

// ---- 3. framing ----------------------------------------------------------------------------

test(
  '3. malformed messages are reported and skipped; the stdio session and its machine go on',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    await dap.launch({ autoBoot: false, disk: join(folder('l3'), 'd.img'), diskSizeMiB: 1 });
    const bad: [string, string | Buffer][] = [
      ['not JSON', 'Content-Length: 5\r\n\r\nhello'],
      ['JSON null', 'Content-Length: 4\r\n\r\nnull'],
      [
        'invalid UTF-8',
        withHeader(Buffer.from('{"seq":900,"type":"request","command":"threads","x":"\xff\xfe"}', 'latin1')),
      ],
      ['a body cut short', 'Content-Length: 40\r\n\r\n{"seq":901,"type":"req'],
    ];
    for (const [what, bytes] of bad) {
      const since = dap.messages.length;
      dap.write(bytes);
      const r = await dap.request('threads');
      assert.equal(r.success, true, `threads after ${what}`);
      assert.ok(r.body.threads.length > 0, `the machine is still there after ${what}`);
      assert.ok(
        dap.output(since).length > 0 || dap.responses(900).length > 0,
        `the client is told about ${what}`,
      );
    }
    assert.equal(
      dap.responses(900)[0]?.success,
      false,
      'the request with invalid UTF-8 is answered, not run',
    );
    assert.ok(dap.alive);
    assertNoLeaks(dap);
  },
);

for (const [what, head] of [
  ['lower-case content-length', (n: number) => `content-length: ${n}\r\n\r\n`],
  ['no space after the colon', (n: number) => `Content-Length:${n}\r\n\r\n`],
  ['LF-only header', (n: number) => `Content-Length: ${n}\n\n`],
  ['junk before the header', (n: number) => `garbage!!\r\nContent-Length: ${n}\r\n\r\n`],
] as const) {
  test(`3. framing with ${what} is understood`, T, async () => {
    const dap = (d = RawDap.stdio(adapter));
    const body = JSON.stringify({
      seq: 1,
      type: 'request',
      command: 'initialize',
      arguments: { adapterID: 'mic' },
    });
    dap.write(head(Buffer.byteLength(body)) + body);
    const r = await dap.response(1);
    assert.equal(r.success, true, r.message);
  });
}

test(
  '3. a Content-Length larger than what follows: the message is read, with or without a next one',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    const a = JSON.stringify({
      seq: 1,
      type: 'request',
      command: 'initialize',
      arguments: { adapterID: 'mic' },
    });
    const b = JSON.stringify({ seq: 2, type: 'request', command: 'threads' });
    dap.write(`Content-Length: ${a.length + 500}\r\n\r\n${a}Content-Length: ${b.length}\r\n\r\n${b}`);
    assert.equal((await dap.response(1)).success, true);
    assert.equal((await dap.response(2)).success, true);
    const c = JSON.stringify({ seq: 3, type: 'request', command: 'threads' });
    dap.write(`Content-Length: ${c.length + 50}\r\n\r\n${c}`); // nothing follows
    assert.equal((await dap.response(3, 5000)).success, true);
    assert.match(dap.output(), /Content-Length/);
  },
);

test('3. in server mode a malformed message keeps the session and its machine', T, async () => {
  const { proc, port } = await startServer(adapter);
  try {
    const dap = (d = await RawDap.server(port));
    await dap.launch({ autoBoot: false, disk: join(folder('l3s'), 'd.img'), diskSizeMiB: 1 });
    dap.write('Content-Length: 4\r\n\r\nnull');
    dap.write('Content-Length: 3\r\n\r\n{{{');
    const r = await dap.request('threads');
    assert.ok(r.body.threads.length > 0, 'the machine is still there');
  } finally {
    await stopProcess(proc);
  }
});

test('3. a 24 MiB writeMemory message is read whole', T, async () => {
  const dap = (d = RawDap.stdio(adapter));
  await dap.launch({
    autoBoot: false,
    disk: join(folder('l3b'), 'd.img'),
    diskSizeMiB: 1,
    cardMemoryMiB: 64,
  });
  const data = Buffer.alloc(18 * 2 ** 20, 0xa5).toString('base64');
  const r = await dap.request('writeMemory', { memoryReference: 'mic0.gddr+0', data }, 60_000);
  assert.equal(r.success, true, r.message);
  assert.equal(r.body.bytesWritten, 18 * 2 ** 20);
});

// ---- 4. readMemory cap -----------------------------------------------------------------------

test(
  '4. readMemory of 2^31 bytes answers 16 MiB and the rest as unreadable; Infinity is refused',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    await dap.launch({ autoBoot: false, disk: join(folder('l4'), 'd.img'), diskSizeMiB: 1 });
    const r = await dap.request('readMemory', { memoryReference: 'mic0.gddr+0', count: 2 ** 31 });
    assert.equal(r.success, true);
    assert.equal(Buffer.from(r.body.data, 'base64').length, 16 * 2 ** 20);
    assert.equal(r.body.unreadableBytes, 2 ** 31 - 16 * 2 ** 20);
    dap.frame(
      '{"seq":77,"type":"request","command":"readMemory","arguments":{"memoryReference":"mic0.gddr+0","count":1e999}}',
    );
    const inf = await dap.response(77);
    assert.equal(inf.success, false);
    assert.match(inf.message, /'count' must be a whole number ≥ 0/);
  },
);

// ---- 5. leaks ------------------------------------------------------------------------------

test(
  '5. 20 launches that fail on their trace open nothing; a second launch is refused and the first machine runs on',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    const ws = folder('l5');
    const disk = join(ws, 'd.img');
    await dap.initialize();
    const before = HAVE_PROC ? openFiles(dap.proc!.pid!).length : 0;
    for (let i = 0; i < 20; i++) {
      const r = await dap.request('launch', { autoBoot: false, disk, diskSizeMiB: 1, trace: ws });
      assert.equal(r.success, false);
      assert.match(r.message, /launch attribute 'trace': .* is a directory/);
    }
    if (HAVE_PROC)
      assert.ok(openFiles(dap.proc!.pid!).length <= before, 'no descriptor left by failed launches');
    const first = await dap.launch({ autoBoot: false, disk, diskSizeMiB: 1 });
    assert.equal(first.success, true);
    const second = await dap.request('launch', {
      autoBoot: false,
      disk: join(ws, 'other.img'),
      diskSizeMiB: 1,
    });
    assert.equal(second.success, false);
    assert.match(second.message, /already launched/);
    assert.ok(!existsSync(join(ws, 'other.img')), 'the second launch created nothing');
    if (HAVE_PROC) assert.equal(openFiles(dap.proc!.pid!).filter((f) => f === disk).length, 1);
    assert.ok((await dap.request('threads')).body.threads.length > 0);
  },
);

// ---- 6, 7, 8 and issue 14 item 4: files --------------------------------------------------------

async function launchError(args: Record<string, unknown>): Promise<string> {
  const dap = (d = RawDap.stdio(adapter));
  await dap.initialize();
  const r = await dap.request('launch', { autoBoot: false, diskSizeMiB: 1, ...args });
  assert.equal(r.success, false, `launch ${JSON.stringify(args)} should fail`);
  assert.ok(dap.alive);
  await d.close();
  d = null;
  return r.message as string;
}

test(
  '6. symbolic links out of the workspace, onto a file that is not ours, or dangling are refused, naming attribute and path',
  T,
  async () => {
    const ws = folder('ws6');
    const outside = join(folder('outside6'), 'secret.img');
    writeFileSync(outside, Buffer.alloc(4096));
    symlinkSync(outside, join(ws, 'link.img'));
    assert.match(
      await launchError({ cwd: ws, disk: 'link.img' }),
      new RegExp(
        `launch attribute 'disk': ${ws}/link.img is a symbolic link to .*secret.img, outside the workspace`,
      ),
    );
    symlinkSync(join(ws, 'nowhere.pcap'), join(ws, 'dangling.pcap'));
    assert.match(
      await launchError({ cwd: ws, disk: 'd.img', pcap: 'dangling.pcap' }),
      /'pcap': .*dangling.pcap is a symbolic link to a missing file/,
    );
    assert.ok(!existsSync(join(ws, 'nowhere.pcap')), 'nothing created through the link');
    writeFileSync(join(ws, 'settings.json'), '{"keep": true}\n');
    assert.match(
      await launchError({ cwd: ws, disk: 'd.img', trace: 'settings.json' }),
      /'trace': .*settings.json exists and is not a trace written by the emulator; set overwrite: true/,
    );
    assert.equal(
      readFileSync(join(ws, 'settings.json'), 'utf8'),
      '{"keep": true}\n',
      'the JSON file is untouched',
    );
    writeFileSync(join(ws, 'notes-mic1.img'), 'my notes\n');
    assert.match(
      await launchError({ cwd: ws, cards: 2, disk: 'notes.img' }),
      /launch attribute 'disk' \(mic1's file\): .*notes-mic1.img is 9 bytes, not a whole number of 512-byte sectors/,
    );
    // overwrite: true lets a trace replace a file that is not ours.
    const dap = (d = RawDap.stdio(adapter));
    const r = await dap.launch({
      cwd: ws,
      autoBoot: false,
      disk: 'd.img',
      diskSizeMiB: 1,
      trace: 'settings.json',
      overwrite: true,
    });
    assert.equal(r.success, true, r.message);
  },
);

test('6. files the adapter creates are 0644 under umask 000', T, async () => {
  const ws = folder('ws6m');
  const dap = (d = RawDap.stdio(adapter, [], { umask: '000' }));
  const r = await dap.launch({
    autoBoot: false,
    disk: join(ws, 'd.img'),
    diskSizeMiB: 1,
    pcap: join(ws, 'n.pcap'),
    trace: join(ws, 't.jsonl'),
  });
  assert.equal(r.success, true, r.message);
  for (const f of ['d.img', 'n.pcap', 't.jsonl']) assert.equal(statSync(join(ws, f)).mode & 0o777, 0o644, f);
});

test('7. trace or pcap naming a FIFO or /dev/stdout is refused at once', T, async () => {
  const ws = folder('ws7');
  const fifo = join(ws, 'fifo');
  spawnSync('mkfifo', [fifo]);
  assert.match(
    await launchError({ disk: join(ws, 'd.img'), trace: fifo }),
    /'trace': .*fifo is a FIFO \(named pipe\), not a regular file/,
  );
  assert.match(
    await launchError({ disk: join(ws, 'd.img'), pcap: '/dev/stdout' }),
    /'pcap': \/dev\/stdout is (a symbolic link to .*outside the workspace|.*not a regular file)/,
  );
});

test(
  '8 and issue 14.4. a missing folder, a directory, an empty disk, an unreadable pcap folder: the launch fails naming attribute and path',
  T,
  async () => {
    const ws = folder('ws8');
    assert.match(
      await launchError({ disk: join(ws, 'no/such/d.img') }),
      new RegExp(
        `launch attribute 'disk': ${ws}/no/such/d.img cannot be used: the folder ${ws}/no/such does not exist`,
      ),
    );
    assert.match(
      await launchError({ disk: ws }),
      new RegExp(`launch attribute 'disk': ${ws} is a directory`),
    );
    writeFileSync(join(ws, 'empty.img'), '');
    assert.match(
      await launchError({ disk: join(ws, 'empty.img') }),
      /'disk': .*empty.img is empty \(0 bytes\)/,
    );
    assert.match(
      await launchError({ disk: join(ws, 'd.img'), pcap: '/proc/mic.pcap' }),
      /launch attribute 'pcap': \/proc\/mic.pcap/,
    );
  },
);

// Root writes any file whatever its mode, so the "not writable" branch needs a file the kernel
// refuses to root: an immutable one (`chattr +i`, EPERM from access(W_OK) even with
// CAP_DAC_OVERRIDE). Skipped where chattr cannot set it (no CAP_LINUX_IMMUTABLE, or a file system
// without the flag), and as a plain user a mode-0444 file does the same.
test(
  '8. a disk the adapter cannot write is refused unless diskReadonly; read-only it launches',
  T,
  async (t) => {
    const ws = folder('ws8w');
    const img = join(ws, 'locked.img');
    writeFileSync(img, Buffer.alloc(1 << 20));
    let locked = false;
    if (process.getuid?.() === 0) {
      locked = spawnSync('chattr', ['+i', img]).status === 0;
    } else {
      chmodSync(img, 0o444);
      locked = true;
    }
    if (!locked) return t.skip('chattr +i is not available here');
    try {
      assert.match(
        await launchError({ disk: img }),
        new RegExp(`launch attribute 'disk': ${img} is not writable; use it read-only \\(diskReadonly: true`),
      );
      const dap = (d = RawDap.stdio(adapter));
      const r = await dap.launch({ autoBoot: false, disk: img, diskReadonly: true });
      assert.equal(r.success, true, r.message);
    } finally {
      if (process.getuid?.() === 0) spawnSync('chattr', ['-i', img]);
    }
  },
);

// ---- 9 and 10: protocol conformance -----------------------------------------------------------

test(
  '9. initialize without pathFormat is accepted; requests before it and attach are refused clearly',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    const early = await dap.request('threads');
    assert.equal(early.success, false);
    assert.match(early.message, /'threads' came before 'initialize'/);
    const init = await dap.request('initialize', { adapterID: 'mic' });
    assert.equal(init.success, true, init.message);
    const attach = await dap.request('attach', {});
    assert.equal(attach.success, false);
    assert.match(attach.message, /attach is not supported/);
    const back = await dap.request('stepBack', { threadId: 1 });
    assert.equal(back.success, false);
  },
);

test(
  '10. arguments are checked against DAP: no second response, no write at a wrong offset, no stack',
  T,
  async () => {
    const dap = (d = RawDap.stdio(adapter));
    await dap.launch({
      autoBoot: false,
      disk: join(folder('l10'), 'd.img'),
      diskSizeMiB: 1,
      stopOnEntry: true,
    });
    for (const cmd of ['next', 'stepIn', 'stepOut']) {
      const seq = dap.send(cmd);
      const r = await dap.response(seq);
      assert.equal(r.success, false);
      assert.match(r.message, new RegExp(`'${cmd}' needs arguments \\(threadId\\)`));
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(dap.responses(seq).length, 1, `one response to ${cmd}`);
    }
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { memoryReference: 'mic0.gddr+0', offset: '4', data: 'AAAAAA==' },
        /'offset' must be a whole number, not "4"/,
      ],
      [
        { memoryReference: 'mic0.gddr+0', offset: 0.5, data: 'AAAAAA==' },
        /'offset' must be a whole number, not 0.5/,
      ],
      [{ memoryReference: 'mic0.gddr+0', data: '!!notbase64' }, /'data' is not base64/],
    ];
    for (const [args, msg] of cases) {
      const r = await dap.request('writeMemory', args);
      assert.equal(r.success, false);
      assert.match(r.message, msg);
    }
    const none = await dap.request('readMemory', { memoryReference: 'mic0.gddr+0' });
    assert.match(none.message, /'count' is missing/);
    const neg = await dap.request('readMemory', { memoryReference: 'mic0.gddr+0', count: -1 });
    assert.match(neg.message, /'count' must be a whole number ≥ 0, not -1/);
    const mem = await dap.request('readMemory', { memoryReference: 'mic0.gddr+0', count: 16 });
    assert.deepEqual([...Buffer.from(mem.body.data, 'base64')], new Array(16).fill(0), 'nothing was written');
    const bp = await dap.request('setFunctionBreakpoints', { breakpoints: [{ name: 5 }] });
    assert.match(bp.message, /'breakpoints\[0\]\.name' must be a string, not 5/);
    assertNoLeaks(dap);
  },
);

// ---- 11: --server ---------------------------------------------------------------------------

test('11. --server refuses "", " 0", 0x10, 1e3 and 65536 with one line and exit 2', T, () => {
  for (const bad of ['', ' 0', '0x10', '1e3', '65536', '-1']) {
    const r = spawnSync(process.execPath, [adapter, `--server=${bad}`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 2, `--server=${bad}`);
    assert.equal(r.stderr, `mic debug adapter: --server=${bad} is not a port number (0–65535)\n`);
  }
});

test(
  '11. SIGTERM ends a server after disposing its sessions: exit 0, the trace complete and closed',
  T,
  async () => {
    const { proc, port } = await startServer(adapter);
    const ws = folder('l11');
    const trace = join(ws, 't.jsonl');
    const dap = (d = await RawDap.server(port));
    const r = await dap.launch({ autoBoot: false, disk: join(ws, 'd.img'), diskSizeMiB: 1, trace });
    assert.equal(r.success, true, r.message);
    await new Promise((res) => setTimeout(res, 300));
    const gone = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    proc.kill('SIGTERM');
    assert.equal(await gone, 0, 'the server ends by itself, with exit code 0');
    const text = readFileSync(trace, 'utf8');
    assert.ok(text.endsWith('\n'));
    assert.doesNotThrow(() => JSON.parse(text.trimEnd().split('\n').pop()!));
  },
);
