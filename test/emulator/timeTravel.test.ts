// Time travel by record and replay (src/emulator/timeTravel/): for random moments of sessions
// that boot, type on the console, write the disk and sync, ping, suspend and resume, swap and
// resize the disk, on one card and on two, going there by replay gives what a straight run to
// the same moment gives — the same event hash, the same inspected state, the same disk image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildMachine } from '../../src/emulator/buildMachine.ts';
import type { Machine } from '../../src/emulator/machine.ts';
import { Timeline } from '../../src/emulator/timeTravel/timeline.ts';
import { RunningHash } from '../../src/emulator/timeTravel/eventHash.ts';
import { DEBUGFS_FILES } from '../../src/emulator/inspect/debugfs.ts';
import { REGISTERS } from '../../src/emulator/card/sboxRegisters.ts';
import { prng } from '../../bench/lib/stats.ts';

interface Run {
  tl: Timeline;
  hash: RunningHash;
  out: string[];
  images: string[];
}

/** A timeline over images in `dir`; the hash and console text follow each machine it builds. */
function timeline(dir: string, cards: number): Run {
  const run = { hash: new RunningHash(), out: [] as string[], images: [] as string[] } as Run;
  const image = join(dir, 'disk.img');
  run.images = [
    ...Array.from({ length: cards }, (_, i) => (i === 0 ? image : join(dir, `disk-mic${i}.img`))),
    join(dir, 'swap.img'),
  ];
  run.tl = new Timeline({
    build: (journalFor) => {
      run.out = [];
      run.hash = new RunningHash();
      const m = buildMachine({
        cards,
        memoryBytes: 1 << 30,
        stepping: 'C0',
        disk: image,
        diskSizeBytes: 1 << 20,
        diskReadonly: false,
        pcap: null,
        terminal: (i) => ({
          write: (b) => void (run.out[i] = (run.out[i] ?? '') + Buffer.from(b).toString('latin1')),
        }),
        journalFor,
      }).machine;
      m.spine.observe((e) => {
        run.hash.add(e);
        run.tl.observe(e);
      });
      return m;
    },
  });
  return run;
}

/** Run until nothing is scheduled (through run(), which the test watches); the shells are up then. */
const idle = (m: Machine) => {
  while (m.run() !== 'idle');
  assert.ok(
    m.cardOs.every((o) => o.shell !== null),
    'every shell is up',
  );
};
const type = (m: Machine, line: string, card = 0) => {
  m.consoleInput(card, new TextEncoder().encode(line + '\r'));
  m.run();
};

/** What a person can inspect at a moment: debugfs of every card, every SBOX register, the consoles. */
function inspected(r: Run): string {
  const m = r.tl.machine;
  const parts: string[] = [];
  for (let c = 0; c < m.cards.length; c++) {
    for (const f of DEBUGFS_FILES) parts.push(`${f.name}:${f.read(m, c) ?? ''}`);
    parts.push(REGISTERS.map((x) => m.cards[c].mmioPeek(x.bar4).toString(16)).join(','));
  }
  parts.push(...r.out);
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

const imagesHash = (r: Run) =>
  createHash('sha256')
    .update(Buffer.concat(r.images.filter((p) => existsSync(p)).map((p) => readFileSync(p))))
    .digest('hex');

/** The session of the test: `script` drives the machine; `atMoments` are visited on the way. */
function straight(
  dir: string,
  cards: number,
  script: (m: Machine, swap: string) => void,
  atMoments: number[] = [],
): { r: Run; seen: Map<number, { hash: number; state: string; disk: string }> } {
  mkdirSync(dir, { recursive: true });
  const swap = join(dir, 'swap.img');
  writeFileSync(swap, Buffer.alloc(1 << 20, 0x5a));
  const r = timeline(dir, cards);
  const m = r.tl.machine;
  const seen = new Map<number, { hash: number; state: string; disk: string }>();
  const todo = [...atMoments].sort((a, b) => a - b);
  // Stop at each moment on the way (stopping changes nothing) and note what it looks like.
  m.spine.observe((e) => {
    if (todo.length && e.seq === todo[0]) m.spine.stopAtSeq = e.seq;
  });
  const origRun = m.run.bind(m);
  m.run = (max?: number, until?: number) => {
    for (;;) {
      m.spine.stopAtSeq = todo.length ? todo[0] : -1;
      const res = origRun(max, until);
      if (res === 'stopped' && m.spine.stopRequested === 'seek') {
        m.spine.stopRequested = null;
        // A moment inside an access lands at the access's end: nothing to compare there.
        const at = todo.shift()!;
        if (m.spine.seq === at)
          seen.set(at, { hash: r.hash.value, state: inspected(r), disk: imagesHash(r) });
        continue;
      }
      return res;
    }
  };
  m.start();
  script(m, swap);
  return { r, seen };
}

function session(m: Machine, swap: string): void {
  idle(m);
  type(m, 'echo one');
  type(m, 'dd if=pattern:deadbeef of=/dev/vda bs=4096 count=2 seek=1');
  type(m, 'sync');
  type(m, 'ping -c 2 172.31.0.254');
  m.hostCommand(0, 'suspend');
  m.run();
  m.hostCommand(0, 'resume');
  m.run();
  m.hostCommand(0, 'boot');
  m.run();
  idle(m);
  type(m, 'dd if=pattern:cafef00d of=/dev/vda bs=512 count=3 seek=2');
  m.resizeDisk(0, 2 << 20);
  m.run();
  type(m, 'dd if=pattern:0badf00d of=/dev/vda bs=512 count=1 seek=3000');
  m.swapDisk(0, { path: swap, sizeBytes: 1 << 20, readonly: false });
  m.run();
  type(m, 'dd if=/dev/vda of=/dev/null bs=512 count=4');
  type(m, 'dd if=pattern:11223344 of=/dev/vda bs=512 count=1');
  type(m, 'sync');
}

function equivalence(name: string, cards: number, script: (m: Machine, swap: string) => void): void {
  const base = mkdtempSync(join(tmpdir(), `mic-tt-${name}-`));
  try {
    // First: how long the session is.
    const probe = straight(join(base, 'probe'), cards, script);
    const head = probe.r.tl.head;
    probe.r.tl.dispose();
    assert.ok(head > 3000, `${head} events`);
    // Random moments across it, seen on a straight run.
    const rnd = prng(0x7e57 + cards);
    const moments = [...new Set(Array.from({ length: 12 }, () => 1 + Math.floor(rnd() * (head - 1))))];
    const s = straight(join(base, 'straight'), cards, script, moments);
    // The recorded session, sought to each moment (backward and forward, in random order).
    const rec = straight(join(base, 'recorded'), cards, script);
    assert.equal(rec.r.tl.head, head, 'deterministic');
    let checked = 0;
    for (const at of moments) {
      const want = s.seen.get(at);
      rec.r.tl.seekNow(at);
      if (!want || rec.r.tl.seq !== at) continue; // inside an access: no stop there on either run
      assert.equal(rec.r.hash.value, want.hash, `event hash at ${at}`);
      assert.equal(inspected(rec.r), want.state, `inspected state at ${at}`);
      assert.equal(imagesHash(rec.r), want.disk, `disk images at ${at}`);
      checked++;
    }
    assert.ok(checked >= 6, `${checked} of ${moments.length} moments compared`);
    assert.equal(rec.r.tl.divergence, null);
    // Back to the end: the images are those of the straight run's end.
    rec.r.tl.seekNow(head);
    assert.equal(imagesHash(rec.r), imagesHash(s.r));
    s.r.tl.dispose();
    rec.r.tl.dispose();
    assert.ok(!existsSync(join(base, 'recorded', 'disk.img.mic-journal')), 'the journal goes at the end');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

test('replay equivalence: boot, console, block writes and sync, ping, suspend/resume, disk resize and swap', () => {
  equivalence('one', 1, session);
});

test('replay equivalence: two cards, console and block on each', () => {
  equivalence('two', 2, (m) => {
    idle(m);
    type(m, 'echo zero', 0);
    type(m, 'echo one', 1);
    type(m, 'dd if=pattern:a0a0a0a0 of=/dev/vda bs=512 count=2', 0);
    type(m, 'dd if=pattern:b1b1b1b1 of=/dev/vda bs=512 count=2 seek=5', 1);
    type(m, 'sync', 1);
  });
});

test('keys typed while the machine is busy enter at the same place when replayed', () => {
  // A person types faster than the card answers: each key enters a few steps into the work the
  // last one set off, where a step may have gone on through several accesses after an event.
  // The replay stops at the event a key came after (ending a step there), so a place counted
  // in steps alone put the key a few accesses early and the replay went another way (the e2e
  // session's reverse continue, 2026-12). Every gap from 0 to 40 steps, on one timeline.
  const dir = mkdtempSync(join(tmpdir(), 'mic-tt-busy-'));
  try {
    const r = timeline(dir, 1);
    const m = r.tl.machine;
    m.start();
    idle(m);
    const keys = 'echo typed while busy\r';
    let gap = 0;
    for (let round = 0; round < 3; round++) {
      for (const ch of keys) {
        m.consoleInput(0, new TextEncoder().encode(ch));
        for (let i = 0; i < gap; i++) m.run(1);
        gap = (gap + 7) % 41;
      }
      idle(m);
    }
    const head = r.tl.head;
    const hash = r.hash.value;
    assert.ok(r.out[0].includes('typed while busy\r\n'), 'the shell echoed the line');
    const inputs = r.tl.inputs.map((i) => i.seq);
    assert.ok(new Set(inputs).size > 30, `${inputs.length} keys at ${new Set(inputs).size} places`);
    r.tl.seekNow(0);
    // To each key's place and back to the start, then to the end: the same way every time.
    for (const at of inputs.filter((_, i) => i % 9 === 4)) {
      r.tl.seekNow(at);
      assert.equal(r.tl.seq, at);
      r.tl.seekNow(0);
    }
    r.tl.seekNow(head);
    assert.equal(r.tl.divergence, null);
    assert.equal(r.tl.seq, head);
    assert.equal(r.hash.value, hash, 'the replay made the same events');
    r.tl.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('disk safety: seeking back and forth and ending anywhere leaves the image at that moment', () => {
  const base = mkdtempSync(join(tmpdir(), 'mic-tt-disk-'));
  try {
    const probe = straight(join(base, 'probe'), 1, session);
    const head = probe.r.tl.head;
    probe.r.tl.dispose();
    const rnd = prng(0xd15c);
    const moments = Array.from({ length: 6 }, () => 1 + Math.floor(rnd() * (head - 1)));
    const s = straight(join(base, 'straight'), 1, session, moments);
    for (const at of moments) {
      const rec = straight(join(base, `end-${at}`), 1, session);
      rec.r.tl.seekNow(Math.floor(head / 3));
      rec.r.tl.seekNow(head);
      rec.r.tl.seekNow(at);
      const landed = rec.r.tl.seq;
      const disk = imagesHash(rec.r);
      rec.r.tl.dispose();
      // After the session ends there, the files hold that moment's bytes.
      const want = s.seen.get(landed);
      if (want) assert.equal(disk, want.disk, `image after ending at ${landed}`);
      assert.equal(imagesHash(rec.r), disk, 'ending changes nothing');
    }
    s.r.tl.dispose();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a journal left by a session that did not end cleanly is removed; the image is used as it is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mic-tt-stale-'));
  try {
    const image = join(dir, 'disk.img');
    writeFileSync(image, Buffer.alloc(1 << 20, 7));
    writeFileSync(image + '.mic-journal', 'MICJRNL1 left over');
    const r = timeline(dir, 1);
    r.tl.machine.start();
    idle(r.tl.machine);
    assert.equal(readFileSync(image)[0], 7, 'the image is not touched');
    assert.equal(
      readFileSync(image + '.mic-journal')
        .subarray(0, 8)
        .toString(),
      'MICJRNL1',
    );
    assert.equal(readFileSync(image + '.mic-journal').length, 8, 'a fresh journal');
    r.tl.dispose();
    copyFileSync(image, image + '.copy');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
