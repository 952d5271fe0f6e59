// The virtio console end to end (reference §5.4–§5.5, §6.2–§6.3): mpssd's pty input goes to
// queue 0 (receiveq) and the card's output comes back on queue 1 (transmitq); the host moves the
// payload with DMA channel 0 through a bounce buffer, falling back to CPU copies through BAR0
// where the Gen-2 copy engine rule says so. Checked on GDDR bytes, DMA descriptors and events.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootedMachine, newMachine, recordEvents, typeLine, type TestMachine } from '../helpers/machine.ts';
import { Machine } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { decodeDescriptor } from '../../src/emulator/card/dma/descriptors.ts';
import { cpuinfoText } from '../../src/emulator/cardSoftware/shell/cpuinfo.ts';
import { X100_DEFAULT_CPU } from '../../src/emulator/card/x100Cpu.ts';
import { decodeDesc } from '../../src/emulator/virtio/vring.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';

const PROMPT = (n = 0) => `[root@mic${n} ~]# `;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Run a host routine to completion as its own task and return its result. */
function runRoutine<T>(m: Machine, r: Routine<T>): T {
  let out: { v: T } | null = null;
  m.sched.spawn(
    'test routine',
    'host.driver',
    (function* () {
      out = { v: yield* r };
    })(),
  );
  m.run();
  assert.ok(out, 'routine finished');
  return (out as { v: T }).v;
}

/**
 * At every host `vring.used` of a console queue, the bytes of the completed chain as they are in
 * GDDR right then (the descriptor read from the host ring block, the buffer read from GDDR).
 */
function watchChains(m: Machine, card: number, queue: 0 | 1): Uint8Array[] {
  const chains: Uint8Array[] = [];
  const name = `mic${card} console.${queue === 0 ? 'rx' : 'tx'}`;
  m.spine.observe((e) => {
    if (e.kind !== 'vring.used' || !e.initiator.startsWith('host') || !e.detail.startsWith(name + ' '))
      return;
    const vr = m.mics[card].vop.vdevs[0].vrings[queue];
    const raw = new Uint8Array(16);
    m.hostRam.read(vr.addrs.desc + 16 * e.value, raw);
    const d = decodeDesc(raw);
    const len = Number(/len (\d+)/.exec(e.detail)![1]);
    const b = new Uint8Array(Math.min(len, d.len));
    m.cards[card].gddr.read(d.addr, b);
    chains.push(b);
  });
  return chains;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('typed bytes land in a receiveq buffer in GDDR and the answer comes back through the transmitq', () => {
  const t = bootedMachine();
  const rx = watchChains(t.m, 0, 0);
  const tx = watchChains(t.m, 0, 1);
  const out = typeLine(t, 'echo hello');
  assert.equal(out, `echo hello\r\nhello\r\n${PROMPT()}`);
  assert.deepEqual(
    rx.map((b) => dec(b)),
    ['echo hello\r'],
    'one chain on queue 0 holds exactly the typed bytes',
  );
  assert.equal(dec(concat(tx)), out, 'the transmitq buffers in GDDR hold exactly what the terminal got');
  assert.equal(t.m.mpssd[0].console.pendingInput, 0);
  assert.deepEqual(t.m.internalErrors, []);
  assert.deepEqual(t.m.spine.protocolErrors, []);
});

test('the shell echoes each key as it arrives (raw terminal)', () => {
  const t = bootedMachine();
  t.take();
  for (const ch of 'ech') {
    t.m.consoleInput(0, enc(ch));
    t.m.run();
  }
  assert.equal(t.take(), 'ech');
  t.m.consoleInput(0, enc('o 42\r'));
  t.m.run();
  assert.equal(t.take(), `o 42\r\n42\r\n${PROMPT()}`);
});

test('output larger than 4 KiB (cat /proc/cpuinfo) arrives complete and in order', () => {
  const t = bootedMachine();
  const tx = watchChains(t.m, 0, 1);
  const out = typeLine(t, 'cat /proc/cpuinfo');
  const body = cpuinfoText({ ...X100_DEFAULT_CPU }).replace(/\n/g, '\r\n');
  assert.ok(body.length > 100_000);
  assert.equal(out, `cat /proc/cpuinfo\r\n${body}${PROMPT()}`);
  const procs = [...out.matchAll(/processor\t: (\d+)\r\n/g)].map((m) => Number(m[1]));
  assert.equal(procs.length, 228, '57 cores × 4 threads');
  assert.deepEqual(
    procs,
    Array.from({ length: 228 }, (_, i) => i),
  );
  // Many put_chars of at most 4 KiB each, and the GDDR buffers held exactly that text.
  assert.ok(tx.length > 25, `${tx.length} transmit chains`);
  assert.ok(tx.every((b) => b.length <= 4096));
  assert.equal(dec(concat(tx)), out);
});

test('host copies go through DMA channel 0 (initiator mic0.dma0) and a bounce buffer', () => {
  const t = bootedMachine();
  const stats = t.m.mics[0].copy.stats;
  const dma0 = { ...stats };
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'dma.desc',
    () => typeLine(t, 'cat /proc/version'),
  );
  assert.ok(stats.dmaBytes > dma0.dmaBytes, 'DMA moved the bytes');
  assert.equal(stats.cpuBytes, dma0.cpuBytes, 'console buffers are aligned: no CPU fallback');
  assert.ok(ev.length > 0);
  assert.ok(
    ev.every((e) => e.initiator === 'mic0.dma0'),
    [...new Set(ev.map((e) => e.initiator))].join(),
  );
  // Every MEMCPY is 64-byte aligned and has one end in GDDR, the other in a host bounce buffer.
  const vrings = t.m.mics[0].vop.vdevs[0].vrings;
  const bounces = vrings.map((v) => v.bounce.mic);
  let memcpys = 0;
  for (const e of ev) {
    const raw = new Uint8Array(16);
    t.m.hostRam.read(e.address, raw);
    const d = decodeDescriptor(raw);
    if (d.type === 'status') continue;
    assert.equal(d.type, 'memcpy');
    memcpys++;
    assert.equal(d.src! % 64, 0);
    assert.equal(d.dst! % 64, 0);
    assert.equal(d.len! % 64, 0);
    const [gddr, host] = d.src! < 2 ** 39 ? [d.src!, d.dst!] : [d.dst!, d.src!];
    assert.ok(gddr < t.m.cards[0].gddr.size);
    assert.ok(bounces.includes(host), `0x${host.toString(16)} is a queue's bounce buffer`);
  }
  assert.ok(memcpys >= 2, 'one copy in (typed line), at least one out (the answer)');
});

test('user→card copies use DMA only for a 64-aligned destination whose rounded length fits; else CPU', () => {
  const t = bootedMachine();
  const { m } = t;
  const copy = m.mics[0].copy;
  const bounce = m.mics[0].vop.vdevs[0].vrings[0].bounce;
  const gddr = m.cards[0].gddr;
  const base = 0x1_0000_0000; // 4 GiB: GDDR nobody else uses
  const src = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 1) & 0xff);
  const fresh = () => {
    gddr.fill(base, 512, 0xaa);
    return { ...copy.stats };
  };
  const memcpyCount = (ev: BusEvent[]) =>
    ev.filter((e) => {
      const raw = new Uint8Array(16);
      m.hostRam.read(e.address, raw);
      return decodeDescriptor(raw).type === 'memcpy';
    }).length;
  const read = (a: number, n: number) => {
    const b = new Uint8Array(n);
    gddr.read(a, b);
    return b;
  };
  /** in_bytes / out_bytes of a device, counted as the DMA-era driver counts them (G23). */
  const count = { inBytes: 0, outBytes: 0 };

  // Aligned, room for the rounded 128 bytes: DMA.
  let s0 = fresh();
  let ev = recordEvents(
    m,
    (e) => e.kind === 'dma.desc',
    () => assert.equal(runRoutine(m, copy.userToCard(bounce, src, base, 4096, count)), 0),
  );
  assert.deepEqual(read(base, 100), src);
  assert.equal(copy.stats.dmaBytes - s0.dmaBytes, 100);
  assert.equal(copy.stats.cpuBytes, s0.cpuBytes);
  assert.equal(memcpyCount(ev), 1);

  // Unaligned destination: CPU through BAR0, neighbours untouched.
  s0 = fresh();
  ev = recordEvents(
    m,
    (e) => e.kind === 'dma.desc',
    () => assert.equal(runRoutine(m, copy.userToCard(bounce, src, base + 16, 4096, count)), 0),
  );
  assert.deepEqual(read(base + 16, 100), src);
  assert.deepEqual(read(base, 16), new Uint8Array(16).fill(0xaa));
  assert.deepEqual(read(base + 116, 64), new Uint8Array(64).fill(0xaa));
  assert.equal(copy.stats.cpuBytes - s0.cpuBytes, 100);
  assert.equal(copy.stats.dmaBytes, s0.dmaBytes);
  assert.equal(ev.length, 0, 'no DMA descriptor');

  // Aligned, but 100 rounds up to 128 and the descriptor has only 100: CPU, nothing past 100 written.
  s0 = fresh();
  ev = recordEvents(
    m,
    (e) => e.kind === 'dma.desc',
    () => assert.equal(runRoutine(m, copy.userToCard(bounce, src, base, 100, count)), 0),
  );
  assert.deepEqual(read(base, 100), src);
  assert.deepEqual(read(base + 100, 28), new Uint8Array(28).fill(0xaa), 'no overrun of the descriptor');
  assert.equal(copy.stats.cpuBytes - s0.cpuBytes, 100);
  assert.equal(ev.length, 0);

  // card→user from an unaligned source: DMA of the rounded-out range, the right bytes delivered.
  gddr.write(base + 5, src);
  s0 = { ...copy.stats };
  const dst = new Uint8Array(100);
  ev = recordEvents(
    m,
    (e) => e.kind === 'dma.desc',
    () => assert.equal(runRoutine(m, copy.cardToUser(bounce, base + 5, dst, 0, 100, count)), 0),
  );
  assert.deepEqual(dst, src);
  assert.equal(copy.stats.dmaBytes - s0.dmaBytes, 100);
  const mc = ev
    .map((e) => {
      const raw = new Uint8Array(16);
      m.hostRam.read(e.address, raw);
      return decodeDescriptor(raw);
    })
    .find((d) => d.type === 'memcpy')!;
  assert.equal(mc.src, base, 'source rounded down to 64');
  assert.equal(mc.len, 128, 'length rounded up to cover 5 + 100 bytes');
  assert.equal(mc.dst, bounce.mic);
  // G23: out_bytes counts user→card bytes (DMA or CPU alike); in_bytes counts card→user ones
  // from the rounded-down source: the 5-byte lead is in.
  assert.deepEqual(count, { outBytes: 300, inBytes: 105 });
  assert.deepEqual(m.internalErrors, []);
  assert.deepEqual(m.spine.protocolErrors, []);
});

test('input typed before the shell is up is delivered once it is', () => {
  const t = newMachine();
  t.m.start();
  // Typed at power-on: the card is not even reset yet.
  t.m.consoleInput(0, enc('uname -r\r'));
  assert.ok(t.m.runUntil(() => t.m.cards[0].inReset));
  assert.equal(t.m.cardOs[0].shell, null);
  assert.ok(t.m.mpssd[0].console.pendingInput > 0, 'held by mpssd until the card posts receive buffers');
  assert.ok(t.m.runUntil(() => t.m.cardOs[0].shell !== null && t.m.sched.idle));
  t.m.run();
  assert.equal(t.m.mpssd[0].console.pendingInput, 0);
  const out = t.take();
  assert.ok(out.endsWith(`${PROMPT()}uname -r\r\n3.13.0-mic\r\n${PROMPT()}`), JSON.stringify(out));
  // Typed while the card is online but its kernel still boots.
  const t2 = newMachine();
  t2.m.start();
  assert.ok(t2.m.runUntil(() => t2.m.state(0) === 'online'));
  assert.equal(t2.m.cardOs[0].shell, null);
  t2.m.consoleInput(0, enc('echo early\r'));
  assert.ok(t2.m.runUntil(() => t2.m.cardOs[0].shell !== null && t2.m.sched.idle));
  t2.m.run();
  assert.ok(t2.take().endsWith(`${PROMPT()}echo early\r\nearly\r\n${PROMPT()}`));
});

test('vring.avail and vring.used events name the queues: mic0 console.rx / console.tx', () => {
  const t = bootedMachine();
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'vring.avail' || e.kind === 'vring.used',
    () => typeLine(t, 'echo q'),
  );
  const names = (kind: string, who: 'host' | 'card') =>
    new Set(
      ev
        .filter(
          (e) =>
            e.kind === kind && (who === 'host' ? e.initiator.startsWith('host') : e.initiator === 'mic0.cpu'),
        )
        .map((e) => /^(mic0 console\.(rx|tx)) /.exec(e.detail)?.[1] ?? e.detail),
    );
  // Card: makes buffers available on both queues and collects the used ones.
  assert.deepEqual(names('vring.avail', 'card'), new Set(['mic0 console.rx', 'mic0 console.tx']));
  assert.deepEqual(names('vring.used', 'card'), new Set(['mic0 console.rx', 'mic0 console.tx']));
  // Host: takes heads and completes them on both queues.
  assert.deepEqual(names('vring.avail', 'host'), new Set(['mic0 console.rx', 'mic0 console.tx']));
  assert.deepEqual(names('vring.used', 'host'), new Set(['mic0 console.rx', 'mic0 console.tx']));
  // Order on the receiveq: host takes the head, completes it; the card then sees it used.
  const rx = ev.filter((e) => e.detail.startsWith('mic0 console.rx'));
  const taken = rx.findIndex((e) => e.kind === 'vring.avail' && e.initiator.startsWith('host'));
  const done = rx.findIndex((e) => e.kind === 'vring.used' && e.initiator.startsWith('host'));
  const seen = rx.findIndex((e) => e.kind === 'vring.used' && e.initiator === 'mic0.cpu');
  assert.ok(taken >= 0 && taken < done && done < seen);
  assert.equal(rx[taken].value, rx[done].value, 'same head');
  assert.equal(rx[done].value, rx[seen].value);
  assert.match(rx[done].detail, /len 7$/, 'len = bytes consumed: "echo q\\r"');
});

test('two cards: each has its own console, doorbells and device page', () => {
  const t = bootedMachine({ cards: 2 });
  const out0 = t.out[0];
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'doorbell' || e.kind === 'vring.used' || e.kind === 'dma.desc',
    () => {
      assert.equal(typeLine(t, 'uname -n', 1), `uname -n\r\nmic1\r\n${PROMPT(1)}`);
    },
  );
  assert.equal(t.out[0], out0, "card 0's console saw nothing");
  assert.ok(ev.length > 0);
  for (const e of ev) {
    if (e.kind === 'doorbell') assert.equal(e.space, 'mic1.bar4');
    if (e.kind === 'vring.used') assert.match(e.detail, /^mic1 console\./);
    if (e.kind === 'dma.desc') assert.equal(e.initiator, 'mic1.dma0');
  }
  assert.equal(typeLine(t, 'uname -n', 0), `uname -n\r\nmic0\r\n${PROMPT(0)}`);
  assert.ok(t.m.mics[0].copy.stats.dmaBytes > 0 && t.m.mics[1].copy.stats.dmaBytes > 0);
  assert.notEqual(t.m.mics[0].dpHost, t.m.mics[1].dpHost);
  assert.notEqual(t.m.mics[0].vop.vdevs[0], t.m.mics[1].vop.vdevs[0]);
  assert.deepEqual(t.m.internalErrors, []);
});

test('input larger than one 4 KiB receive buffer is split over two chains and arrives whole, in order', () => {
  const t: TestMachine = bootedMachine();
  const rx = watchChains(t.m, 0, 0);
  const a = 'a'.repeat(3000);
  const b = 'b'.repeat(3000);
  const typed = `echo ${a}\recho ${b}\r`;
  t.take();
  t.m.consoleInput(0, enc(typed));
  t.m.run();
  assert.equal(t.take(), `echo ${a}\r\n${a}\r\n${PROMPT()}echo ${b}\r\n${b}\r\n${PROMPT()}`);
  assert.deepEqual(
    rx.map((c) => c.length),
    [4096, typed.length - 4096],
  );
  assert.equal(dec(concat(rx)), typed);
  assert.deepEqual(t.m.spine.protocolErrors, []);
});

test("a bug the card shell catches reaches the machine's internal errors as a rule-0 error", () => {
  const t = bootedMachine();
  const os = t.m.cardOs[0];
  Object.defineProperty(os, 'identity', {
    get() {
      throw new Error('identity lost');
    },
  });
  const out = typeLine(t, 'true');
  assert.ok(out.endsWith('[root@mic0 ~]# '), out); // the prompt falls back and the shell goes on
  assert.equal(t.m.internalErrors.length, 1);
  assert.match(t.m.internalErrors[0], /^internal error in mic0 sh: Error: identity lost/);
  const p = t.m.spine.protocolErrors.at(-1);
  assert.equal(p?.rule, 0);
  assert.equal(p?.where, 'mic0.cpu');
});

test('console output chunks the terminal keeps stay as they were (the back-end never writes a chunk it handed out)', () => {
  // The terminal keeps the arrays it is given, uncopied, as a stream writer may; the back-end
  // reads output into a slab a chunk at a time, and a chunk must not change after it went out.
  const kept: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  const m = new Machine({
    terminal: () => ({
      write: (b) => {
        kept.push(b);
        copies.push(b.slice());
      },
    }),
  });
  m.start();
  assert.ok(
    m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle),
    'shell up',
  );
  m.run();
  // cat /proc/cpuinfo prints ~120 KB: a few runs turn the 64 KiB slab over several times.
  for (let i = 0; i < 4; i++) {
    m.consoleInput(0, enc('cat /proc/cpuinfo\r'));
    m.run();
  }
  const bytes = kept.reduce((n, b) => n + b.length, 0);
  assert.ok(bytes > 4 * 100_000, `printed ${bytes} bytes`);
  assert.equal(kept.length, copies.length);
  for (let i = 0; i < kept.length; i++)
    assert.deepEqual(kept[i], copies[i], `chunk ${i} changed after it was written`);
  // And what they say is the whole output: four copies of /proc/cpuinfo, as the tty wrote them.
  const text = dec(Buffer.concat(kept));
  const cpuinfo = cpuinfoText(X100_DEFAULT_CPU).replace(/\n/g, '\r\n');
  assert.equal(text.split(cpuinfo).length - 1, 4);
  m.dispose();
});
