// Events are data: every field a breakpoint, a condition, a stop name, a view or a trace consumer
// needs is typed on the event itself, and `detail` is for people only — nothing in src/ reads it
// back. The first test fails if code in src/ parses an event's detail.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { bootedMachine, recordEvents, typeLine } from '../helpers/machine.ts';
import { EVENT_KINDS, type BusEvent } from '../../src/emulator/sim/busEvent.ts';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Ways of reading meaning back out of a text: string methods, regular expressions, comparisons. */
const PARSES = [
  /\.detail\s*\??\.\s*(startsWith|endsWith|includes|split|match|matchAll|indexOf|lastIndexOf|slice|substring|substr|replace|replaceAll|search|charCodeAt|charAt|at|trim|localeCompare)\s*\(/,
  /\.(exec|test|match)\s*\([^)]*\.detail\b/,
  /\.detail\s*(===|!==|==|!=|<|>)/,
  /(===|!==|==|!=)\s*[\w.]*\.detail\b/,
  /\b(parseInt|Number|parseFloat)\s*\([^)]*\.detail\b/,
];

function parsesDetail(line: string): boolean {
  if (/^\s*(\/\/|\*)/.test(line)) return false;
  return PARSES.some((re) => re.test(line));
}

test("nothing in src/ reads an event's detail back (a regex, a string method or a comparison)", () => {
  // The check catches what it must (it would have caught the old parsers).
  for (const bad of [
    "const dir = e.detail.startsWith('c2h') ? 'c2h' : 'h2c';",
    'const q = /^mic\\d+ (\\w+)\\.(\\w+) head/.exec(e.detail);',
    "if (e.detail === 'crashed') return true;",
    'for (const m of detail.matchAll(re)) x(m); const n = e.detail.split(" ");',
    "return e.kind === 'log' && e.detail.includes('Kernel panic');",
  ])
    assert.ok(parsesDetail(bad), bad);
  for (const ok of ['description: `DMA error: ${e.detail}`', 'e.detail = detail;', 'text: e.detail,'])
    assert.ok(!parsesDetail(ok), ok);

  // Bus events live in the emulator, the adapter and the CLI (the extension's `detail` is a tree
  // row's description, a different thing).
  const found: string[] = [];
  const files = ['emulator', 'debugAdapter', 'cli'].flatMap((room) => sources(join(ROOT, 'src', room)));
  assert.ok(files.length > 100, `${files.length} files`);
  for (const file of files)
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (parsesDetail(line)) found.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
  assert.deepEqual(found, [], 'read the typed fields of the event instead');
});

test('the events of a session carry their typed fields', () => {
  const t = bootedMachine();
  try {
    const seen: BusEvent[] = recordEvents(
      t.m,
      () => true,
      () => {
        typeLine(t, 'echo hi');
        typeLine(t, 'ping -c 1 172.31.0.254');
        typeLine(t, 'panic');
      },
    );
    const of = (kind: string) => seen.filter((e) => e.kind === kind);
    for (const e of seen) {
      assert.ok((EVENT_KINDS as readonly string[]).includes(e.kind));
      assert.ok(
        e.card === 0 || (e.card === -1 && (e.space === 'host' || e.space.startsWith('host'))),
        `${e.kind} ${e.space} card ${e.card}`,
      );
      assert.ok(e.cause >= 0 && e.cause < e.seq, `cause ${e.cause} of ${e.seq}`);
    }
    for (const e of of('doorbell')) {
      assert.ok(e.dir === 'h2c' || e.dir === 'c2h');
      assert.equal(e.db, e.value);
    }
    for (const e of of('irq')) {
      assert.ok(e.side === 'host' || e.side === 'card');
      assert.ok(e.vector >= 0);
      if (e.side === 'card') assert.ok(e.db >= 0 || e.channel >= 0, 'a doorbell or a DMA channel');
    }
    const descs = of('dma.desc');
    assert.ok(descs.length > 0);
    for (const e of descs) {
      assert.ok(e.channel >= 0 && e.initiator === `mic0.dma${e.channel}`);
      assert.ok(['memcpy', 'status', 'general', 'nop'].includes(e.descType));
      // (mic_stop's drain after the panic is a MEMCPY of length 0: mic_dma_drain_chan.)
      if (e.descType === 'memcpy') assert.ok(e.src >= 0 && e.dst >= 0 && e.len >= 0 && e.len % 64 === 0);
      if (e.descType === 'status') assert.ok(e.dst >= 0 && e.data >= 0 && e.len === 8);
    }
    const vq = [...of('vring.avail'), ...of('vring.used')];
    assert.deepEqual(new Set(vq.map((e) => e.device)), new Set(['console', 'net']));
    for (const e of vq) {
      assert.ok(e.queue.startsWith(`${e.device}.`));
      assert.equal(e.head, e.value);
      assert.ok(e.side === 'host' || e.side === 'card');
      assert.ok(e.req > 0, 'a chain belongs to a request');
    }
    for (const e of [...of('mmio.read'), ...of('mmio.write')])
      if (e.address === 0x1cc90) assert.equal(e.register, 'SDBIC0');
    assert.ok(of('mmio.write').some((e) => e.register === 'DHPR0' && e.channel === 0));
    assert.ok(of('console').every((e) => e.text === e.detail && e.text.length > 0));
    assert.ok(of('input').every((e) => e.text.length > 0));
    const panic = of('log').find((e) => e.level === 0);
    assert.ok(panic && /Kernel panic/.test(panic.text), 'the panic is logged at KERN_EMERG');
    assert.ok(of('state').some((e) => e.state === 'crashed'));
  } finally {
    t.m.dispose();
  }
});

test('the host driver names its boot milestones; the card reset and online are among them', () => {
  const t = bootedMachine();
  try {
    const got = recordEvents(
      t.m,
      (e) => e.kind === 'milestone',
      () => {
        typeLine(t, 'reboot');
        t.m.run();
      },
    );
    assert.deepEqual(
      got.map((e) => e.milestone),
      ['reset', 'firmware ready', 'download', 'bootstrap kick', 'online'],
    );
    assert.ok(
      got.every((e) => (e.card === 0 && e.initiator === 'host.driver') || e.initiator.startsWith('host')),
    );
    assert.match(got[1].text, /^firmware ready \(SPAD2=0x[0-9a-f]+\)$/);
  } finally {
    t.m.dispose();
  }
});
