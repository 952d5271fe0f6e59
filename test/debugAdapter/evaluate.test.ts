// The Debug Console: the driver's debugfs files as commands, state, x, type, help, registers
// and register writes, and expressions over the stopped event — on a real DebugRuntime.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';

import { DebugRuntime } from '../../src/debugAdapter/runtime.ts';
import { stopAt } from '../helpers/runtime.ts';
import { parseLaunchConfig } from '../../src/debugAdapter/launchConfig.ts';
import { VariablesProvider } from '../../src/debugAdapter/inspection/variables.ts';
import { Evaluator, type EvaluateResult } from '../../src/debugAdapter/evaluate.ts';
import { hexdump } from '../../src/emulator/lib/hexdump.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { DEBUGFS_FILES, dp, logBuf, micDmaReg } from '../../src/emulator/inspect/debugfs.ts';

// ---- helpers -----------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bootedRuntime(cfg: Record<string, unknown> = {}): Promise<DebugRuntime> {
  const rt = new DebugRuntime(parseLaunchConfig(cfg));
  rt.start();
  rt.resume();
  const m = rt.machine;
  const deadline = Date.now() + 30_000;
  while (!m.cards.every((_, i) => m.state(i) === 'online' && m.cardOs[i].shell !== null)) {
    if (Date.now() > deadline)
      throw new Error(`cards did not boot: ${m.mics.map((d) => d.state).join(', ')}`);
    await sleep(20);
  }
  await sleep(20);
  const stopped = once(rt, 'stopped');
  rt.pause();
  await stopped;
  return rt;
}

function console_(rt: DebugRuntime) {
  const vars = new VariablesProvider(() => rt);
  const ev = new Evaluator(() => rt, vars);
  return {
    vars,
    ev,
    /** The result text; fails the test on an error. */
    ok(expr: string, context = 'repl') {
      const r = ev.evaluate(expr, context);
      assert.notEqual(typeof r, 'string', `${expr}: ${String(r)}`);
      return r as Exclude<EvaluateResult, string>;
    },
    err(expr: string, context = 'repl'): string {
      const r = ev.evaluate(expr, context);
      assert.equal(typeof r, 'string', `${expr} should fail`);
      return r as string;
    },
  };
}

// ---- debugfs commands ----------------------------------------------------------------------

test('dp prints exactly what the debugfs dp file holds; every debugfs file is a command', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const m = rt.machine;
    const c = console_(rt);
    c.vars.scopes('mic0.cpu'); // the client looks at mic0
    const seq = m.spine.seq;
    assert.equal(c.ok('dp').result, dp(m, 0).replace(/\n$/, ''));
    assert.match(c.ok('dp').result, /^Bootparam: magic 0xc0ffee00$/m);
    assert.equal(c.ok('dp mic1').result, dp(m, 1).replace(/\n$/, ''));
    for (const f of DEBUGFS_FILES) {
      if (f.name === 'log_buf') continue;
      const body = f.read(m, 1).replace(/\n$/, '');
      const result = c.ok(`${f.name} mic1`).result;
      // vdev_info says first how many lines follow (it is ~2,000 lines for three devices).
      if (f.name === 'vdev_info') assert.equal(result.slice(result.indexOf('\n') + 1), body);
      else assert.equal(result, body, f.name);
      assert.equal(c.ok(f.name).variablesReference, 0);
    }
    // M7: log_buf is all log_buf_len bytes; the console shows the text and counts the NUL fill.
    const raw = logBuf(m, 1);
    const text = raw.replace(/\0+$/, '');
    assert.equal(
      c.ok('log_buf mic1').result,
      `${text.replace(/\n$/, '')}\n(… ${raw.length - text.length} NUL bytes of log_buf not shown)`,
    );
    assert.match(c.ok('log_buf mic1').result, /^\[ {4}0\.000000\] Linux version /);
    assert.equal(c.ok('mic_dma_reg card').result, micDmaReg(m, 0, 'card').replace(/\n$/, ''));
    assert.match(c.err('dp mic5'), /no card 'mic5' \(cards: mic0, mic1\)/);
    const all = c.ok('vdev_info mic1').result;
    const n = all.split('\n').length - 1;
    assert.match(all, new RegExp(`^vdev_info mic1: ${n} lines follow \\(vdev_info mic1 `));
    const con = c.ok('vdev_info mic1 console').result;
    assert.match(con, /^vdev_info mic1 console: \d+ lines follow\nVDEV type 3 /);
    assert.doesNotMatch(con, /VDEV type [12] /, 'the console device only');
    assert.ok(con.split('\n').length < n / 2);
    assert.equal(m.spine.seq, seq, 'reading debugfs performs no bus transaction');
  } finally {
    rt.dispose();
  }
});

test('the selected card is the stopped thread’s (or the scopes’) card', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const c = console_(rt);
    c.vars.scopes('mic1.cpu');
    assert.equal(c.ok('dp').result, dp(rt.machine, 1).replace(/\n$/, ''));
    assert.equal(c.ok('SPAD14').memoryReference, 'mic1.bar4+0x1ab58');
    assert.equal(c.ok('mic0.SPAD14').memoryReference, 'mic0.bar4+0x1ab58');
    assert.match(c.ok('help').result, /selected card: mic1/);
    const r = c.ev.evaluate('SPAD14', 'watch', 'host.mic0.console');
    assert.equal(
      typeof r !== 'string' && r.memoryReference,
      'mic0.bar4+0x1ab58',
      'the frame’s thread picks the card',
    );
  } finally {
    rt.dispose();
  }
});

// ---- state, x, type, help ---------------------------------------------------------------------

test('state lists every card like sysfs; state CMD writes the state file through the runtime', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const c = console_(rt);
    const lines = c.ok('state').result.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^mic0: online \(shutdown_status nop, card OS running, stepping C0/);
    assert.match(lines[1], /^mic1: online/);
    assert.match(c.ok('state mic1').result, /^mic1: online/);
    assert.match(c.err('state explode'), /state takes a command \(boot, reset, shutdown, suspend, resume\)/);

    const states: string[] = [];
    rt.on('state', (card, st) => states.push(`mic${card} ${st}`));
    c.vars.scopes('mic0.cpu');
    const r = c.ok('state shutdown mic1').result;
    assert.match(r, /mic1: 'shutdown' written to \/sys\/class\/mic\/mic1\/state \(state was online\)/);
    assert.match(r, /paused: this takes effect when you continue/);
    rt.resume();
    for (let i = 0; i < 300 && !states.includes('mic1 shutting_down'); i++) await sleep(10);
    assert.ok(states.includes('mic1 shutting_down'), states.join(', '));
    assert.ok(!states.some((s) => s.startsWith('mic0')), 'mic0 untouched');
  } finally {
    rt.dispose();
  }
});

test('x mic0.bar4+0x1ab20 16 is a hexdump -C of SPAD0–3, read without side effects', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const c = console_(rt);
    const seq = m.spine.seq;
    const spad = [0, 1, 2, 3].map((i) => m.cards[0].reg(R.SPAD(i)));
    const bytes = spad.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
    const hx = bytes.map((b) => b.toString(16).padStart(2, '0'));
    const ascii = bytes.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    const r = c.ok('x mic0.bar4+0x1ab20 16');
    assert.equal(r.memoryReference, 'mic0.bar4+0x1ab20');
    assert.deepEqual(r.result.split('\n'), [
      'mic0.bar4+0x1ab20, 16 bytes',
      `0001ab20  ${hx.slice(0, 8).join(' ')}  ${hx.slice(8).join(' ')}  |${ascii}|`,
      '0001ab30',
    ]);
    assert.ok(spad[2] & 1, 'SPAD2 bit 0: firmware ready');

    // Default 64 bytes; register names and spaces around + work; the device page magic is there.
    const x = c.ok('x SPAD14').result.split('\n');
    assert.equal(x[0], 'mic0.bar4+0x1ab58, 64 bytes');
    assert.equal(x.at(-1), '0001ab98');
    assert.match(c.ok(`x host + 0x${m.mics[0].dpHost.toString(16)} 4`).result, /00 ee ff c0/);
    assert.match(c.err('x nowhere 16'), /not an address/);
    assert.match(c.err('x mic0.gddr+0x0 0x100000'), /at most 65536 bytes/);
    assert.match(c.ok('x mic0.bar4+0x1fff0 64').result, /only 16 bytes/);
    assert.equal(m.spine.seq, seq);
  } finally {
    rt.dispose();
  }
});

test('hexdump -C: 16 bytes a line, a gap after 8, * for repeated lines, the end offset last', () => {
  const data = new Uint8Array(50);
  data.set(new TextEncoder().encode('Hello, MIC!'), 0);
  assert.deepEqual(hexdump(0x1000, data).split('\n'), [
    '00001000  48 65 6c 6c 6f 2c 20 4d  49 43 21 00 00 00 00 00  |Hello, MIC!.....|',
    '00001010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
    '*',
    '00001030  00 00                                             |..|',
    '00001032',
  ]);
});

test('type TEXT types a line on the selected card’s console; help lists every command', async () => {
  const rt = await bootedRuntime();
  try {
    const c = console_(rt);
    let out = '';
    rt.on('console', (_card, b) => (out += new TextDecoder().decode(b)));
    const r = c.ok('type echo typed-from-dap').result;
    assert.match(r, /typed "echo typed-from-dap" \+ Enter on the mic0 console/);
    rt.resume();
    for (let i = 0; i < 300 && !/\r\ntyped-from-dap\r\n/.test(out); i++) await sleep(10);
    assert.match(out, /\r\ntyped-from-dap\r\n/);

    const help = c.ok('help').result;
    for (const w of [
      'dp',
      'vdev_info',
      'smpt',
      'mic_dma_reg',
      'post_code',
      'log_buf',
      'msi_irq_info',
      'state',
      'x ADDRESS [LEN]',
      'type TEXT',
      'help',
    ])
      assert.ok(help.includes(w), w);
  } finally {
    rt.dispose();
  }
});

// ---- registers --------------------------------------------------------------------------------

test('register names evaluate to their values with a memory reference and fields', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const m = rt.machine;
    const c = console_(rt);
    c.vars.scopes('mic0.cpu');
    const sice = c.ok('SICE0');
    assert.equal(sice.result, '0x0000ff0f');
    assert.equal(sice.memoryReference, 'mic0.bar4+0x1900c');
    const sicr = c.ok('SICR0', 'watch');
    assert.ok(sicr.variablesReference > 0, 'fields to expand');
    assert.deepEqual(
      c.vars.variables(sicr.variablesReference).map((v) => v.name),
      ['DBR', 'DMA', 'ERR'],
    );
    const spad = c.ok('mic1.SPAD14', 'hover');
    assert.equal(spad.result, '0x' + (m.mics[1].dpMic % 2 ** 32).toString(16));
    assert.equal(spad.memoryReference, 'mic1.bar4+0x1ab58');
    assert.equal(c.ok('sice0').result, '0x0000ff0f', 'names are case-insensitive');
  } finally {
    rt.dispose();
  }
});

test('REG = VALUE writes through the bus: SDBIC0 = 0x80000000 rings the doorbell and reports a memory event', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const c = console_(rt);
    c.ok('SIAC0 = 0');
    const seen: BusEvent[] = [];
    const off = m.spine.observe((e) => seen.push(cloneEvent(e)));
    const r = c.ok('SDBIC0 = 0x80000000');
    off();
    assert.deepEqual(r.memoryEvent, { ref: 'mic0.bar4+0x1cc90', offset: 0, count: 4 });
    assert.match(r.result, /wrote 0x80000000 to mic0\.SDBIC0/);
    assert.ok(seen.some((e) => e.kind === 'doorbell' && e.detail === 'c2h 0' && e.initiator === 'debugger'));
    assert.equal(m.cards[0].reg(R.SICR0) & 1, 1);
    assert.equal(c.ok('SICR0.DBR').result, '0x1');
    c.ok('SICR0.DBR = 1');
    assert.equal(m.cards[0].reg(R.SICR0) & 1, 0, 'write 1 to clear');
    assert.match(c.err('DSTAT0 = 0'), /DSTAT0 is read-only/);
    assert.match(c.err('value = 3'), /only registers can be assigned/);
  } finally {
    rt.dispose();
  }
});

// ---- expressions over the event -------------------------------------------------------------

test('expressions over the stopped doorbell: value, address & 0xfff, kind == "doorbell", registers inside', async () => {
  const rt = await bootedRuntime();
  try {
    const info = await stopAt(
      rt,
      (e) => e.kind === 'doorbell' && e.detail.startsWith('h2c'),
      () => rt.consoleInput(0, new TextEncoder().encode('x')),
    );
    const e = info.event!;
    const c = console_(rt);
    const fmt = (n: number) => (n >= 10 ? `0x${n.toString(16)} (${n})` : String(n));
    assert.equal(c.ok('value').result, fmt(e.value));
    assert.equal(c.ok('address & 0xfff').result, fmt(e.address & 0xfff));
    assert.equal(c.ok('kind == "doorbell"').result, 'true');
    assert.equal(c.ok('kind').result, '"doorbell"');
    assert.equal(c.ok('dir == "h2c" && db == value').result, 'true');
    assert.equal(c.ok('SICE0 & 0xf').result, fmt(0xf));
    assert.equal(c.ok('db', 'watch').result, fmt(e.value));
    assert.equal(c.ok('contains(initiator, "mic0")', 'hover').result, 'true');
    assert.equal(c.ok('x address 4').memoryReference, `mic0.bar4+0x${e.address.toString(16)}`);
    assert.match(c.err('channel'), /unknown name 'channel'.*fields: kind, space, address/);
  } finally {
    rt.dispose();
  }
});

test('unknown words are a clear error that points to help; hover and watch do not run commands', async () => {
  const rt = await bootedRuntime();
  try {
    const c = console_(rt);
    assert.equal(c.err('frobnicate'), "unknown command 'frobnicate'; type help");
    assert.equal(c.err('frobnicate 3 4'), "unknown command 'frobnicate'; type help");
    assert.match(c.err('mic7.SICR0'), /^no such card: mic7 \(this session has mic0\)/);
    for (const line of c.ok('help').result.split('\n'))
      assert.ok(line.length <= 72, `help line too long: ${line}`);
    assert.match(c.err('1 +'), /help/);
    assert.match(c.err('dp', 'hover'), /Debug Console command/);
    assert.match(c.err('x mic0.bar4+0x0', 'watch'), /Debug Console command/);
    assert.match(c.err(''), /help/);
    assert.match(c.err('type'), /type TEXT/);

    const none = new Evaluator(() => null, new VariablesProvider(() => null));
    assert.match(none.evaluate('dp', 'repl') as string, /launch first/);
  } finally {
    rt.dispose();
  }
});

test('with no event (stopped on entry) expressions say why; commands and registers still work', async () => {
  const rt = new DebugRuntime(parseLaunchConfig({ stopOnEntry: true }));
  try {
    rt.start();
    rt.stopOnEntry();
    const c = console_(rt);
    assert.match(c.err('value'), /no current event .*first bus transaction/);
    // a word that is no command, register or event field is an unknown command without an event too
    assert.equal(c.err('frobnicate'), "unknown command 'frobnicate'; type help");
    assert.equal(c.ok('SICE0').result, '0x00000000');
    assert.match(c.ok('state').result, /^mic0: offline/);
    assert.match(c.ok('dp').result, /empty/);
  } finally {
    rt.dispose();
  }
});
