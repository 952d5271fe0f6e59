// The debug adapter over the real protocol: DebugClient (@vscode/debugadapter-testsupport)
// against the built dist/debugAdapter.js on stdio. Launch, stop on entry, function breakpoints
// (doorbells, DMA with a condition), data breakpoints on SDBIC0, stepping through a DMA copy,
// and exception filters on protocol misuse a DAP client provokes.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';

import { buildAdapter, Dap, le32, removeAdapterCopy, resultNumber } from '../helpers/dap.ts';

const T = { timeout: 60_000 };
const PROMPT = /\[root@mic0 ~\]# $/;

let adapter: string;
let d: Dap | null = null;

before(() => {
  adapter = buildAdapter();
});
after(() => removeAdapterCopy());
afterEach(async () => {
  await d?.close();
  d = null;
});

function open(): Dap {
  d = Dap.stdio(adapter);
  return d;
}

/** Breakpoints answered by a set…Breakpoints request. */
type Bps = DebugProtocol.Breakpoint[];

async function fnBreakpoints(dap: Dap, bps: DebugProtocol.FunctionBreakpoint[]): Promise<Bps> {
  return (await dap.dc.setFunctionBreakpointsRequest({ breakpoints: bps })).body.breakpoints;
}

/** The Debug Console value of an event field in the top frame of the stopped thread. */
async function field(dap: Dap, threadId: number, name: string): Promise<number> {
  const [top] = await dap.frames(threadId);
  return resultNumber((await dap.evaluate(name, top.id)).result);
}

// ---- launch and entry ---------------------------------------------------------------------

test(
  'launch with defaults ({}) boots one card: progress, boot log, mic/state online, threads',
  T,
  async () => {
    const dap = open();
    await dap.launchBooted({});

    const start = dap.all('progressStart');
    assert.equal(start.length, 1, 'one card, one boot progress');
    assert.equal(start[0].body.title, 'mic0');
    const id = start[0].body.progressId;
    assert.ok(
      dap
        .all('progressUpdate')
        .some((e) => e.body.progressId === id && /bootstrap kick/.test(e.body.message)),
      'progress goes through the bootstrap kick',
    );
    const end = await dap.waitFor('progressEnd', (b) => b.progressId === id);
    assert.match(end.body.message, /mic0 online/);

    // The card's boot log (its printk) arrives as output.
    const log = dap.output(0, 'stdout');
    assert.match(log, /mic0: Linux version 3\.13\.0-mic/);
    assert.match(log, /device page found at MIC 0x8010000000/);
    assert.match(dap.output(0, 'console'), /mic0: downloading mic\/uos\.img/, 'host driver log');

    const states = dap.all('mic/state').map((e) => `${e.body.card}:${e.body.state}`);
    assert.ok(states.includes('0:online'), `mic/state events: ${states.join(', ')}`);
    assert.ok(states.indexOf('0:hardware reset') < states.indexOf('0:online'), 'reset comes before online');

    const names = (await dap.threads()).map((t) => t.name);
    for (const want of ['host driver', 'mpssd', 'mic0 console back-end', 'mic0 net back-end', 'mic0 card OS'])
      assert.ok(names.includes(want), `thread ${want} among ${names.join(', ')}`);
    assert.equal(dap.all('stopped').length, 0, 'nothing stops a launch without breakpoints');
  },
);

test(
  'stopOnEntry: reason entry, threads listed, stackTrace and scopes answer; continue boots',
  T,
  async () => {
    const dap = open();
    await dap.launchStopped({});
    const stop = dap.all('stopped')[0].body;
    assert.equal(stop.reason, 'entry');
    assert.equal(stop.allThreadsStopped, true);
    assert.equal(dap.all('mic/state').length, 0, 'nothing ran before the entry stop');

    const threads = await dap.threads();
    const names = threads.map((t) => t.name);
    for (const want of ['host driver', 'mpssd', 'mic0 card OS'])
      assert.ok(names.includes(want), `thread ${want} among ${names.join(', ')}`);
    assert.equal(stop.threadId, threads.find((t) => t.name === 'host driver')!.id);

    const st = await dap.dc.stackTraceRequest({ threadId: stop.threadId! });
    assert.ok(st.body.stackFrames.length >= 1);
    assert.equal(st.body.totalFrames, st.body.stackFrames.length);
    const event = await dap.scope(st.body.stackFrames[0].id, 'Event');
    const eventVar = event.vars.find((v) => v.name === 'event');
    assert.match(eventVar?.value ?? '', /before the first bus transaction/);

    const since = dap.mark();
    await dap.dc.continueRequest({ threadId: stop.threadId! });
    await dap.waitFor('mic/state', (b) => b.state === 'online', since);
    await dap.waitConsole(PROMPT);
  },
);

// ---- function breakpoints -----------------------------------------------------------------

test(
  'doorbell h2c 7 stops on the bootstrap kick: stop text, hitBreakpointIds, logical frames with args',
  T,
  async () => {
    const dap = open();
    let bps: Bps = [];
    await dap.launch({}, async () => {
      bps = await fnBreakpoints(dap, [{ name: 'doorbell h2c 7' }, { name: 'dma copy' }]);
      const lines = await dap.dc.setBreakpointsRequest({
        source: { path: '/x.c' },
        breakpoints: [{ line: 3 }],
      });
      assert.equal(lines.body.breakpoints[0].verified, false);
      assert.match(lines.body.breakpoints[0].message ?? '', /no source lines/);
    });
    assert.equal(bps[0].verified, true);
    assert.equal(bps[1].verified, false, 'unknown syntax is unverified');
    assert.match(bps[1].message ?? '', /'dma copy': .*memcpy\|status\|general\|nop/);

    const stop = await dap.stopped(0);
    assert.equal(stop.reason, 'function breakpoint');
    assert.equal(stop.text, 'doorbell h2c 7 (bootstrap kick on mic0) written by mpssd');
    assert.equal(
      stop.description,
      'doorbell h2c 7',
      'the Call Stack badge is short; the sentence is the text',
    );
    assert.deepEqual(stop.hitBreakpointIds, [bps[0].id]);
    const thread = (await dap.threads()).find((t) => t.id === stop.threadId);
    assert.equal(thread?.name, 'mpssd');

    const frames = (await dap.frames(stop.threadId!)).map((f) => f.name);
    assert.equal(frames[0], stop.text, 'the top frame is the event');
    assert.ok(frames.includes('mic_sysfs_state_store(cmd=boot)'), frames.join(' | '));
    assert.ok(frames.includes('mic_start(card=mic0)'), frames.join(' | '));
    // Outermost last: the mpssd thread's own loop.
    assert.equal(frames.at(-1), 'mpssd(card=mic0)');

    // The card is not online yet: the kick is what boots it.
    assert.ok(!dap.all('mic/state').some((e) => e.body.state === 'online'));
    await fnBreakpoints(dap, []);
    await dap.dc.continueRequest({ threadId: stop.threadId! });
    await dap.waitConsole(PROMPT);
  },
);

test("the console's h2c_vdev_db breakpoint stops when typed input reaches the card", T, async () => {
  const dap = open();
  await dap.launchBooted({});
  const dp = await dap.custom('mic/devicePage', { card: 0 });
  const console_ = dp.devices.find((x: { name: string }) => x.name === 'virtio-console');
  const db: number = console_.ctrl.h2c_vdev_db;
  assert.ok(db >= 0 && db < 16);

  const [bp] = await fnBreakpoints(dap, [{ name: `mic0: doorbell h2c ${db}` }]);
  assert.equal(bp.verified, true);
  const since = dap.mark();
  const typed = await dap.type('uname -a\n');
  assert.equal(typed.bytes, 9);
  const stop = await dap.stopped(since);
  assert.equal(stop.reason, 'function breakpoint');
  assert.equal(
    stop.text,
    `doorbell h2c ${db} (h2c_vdev_db of virtio-console on mic0) written by mic0 console back-end`,
  );
  assert.deepEqual(stop.hitBreakpointIds, [bp.id]);
  const frames = (await dap.frames(stop.threadId!)).map((f) => f.name);
  assert.equal(frames[0], stop.text);
  assert.ok(frames.includes(`mic_send_intr(db=0x${db.toString(16)})`), frames.join(' | '));
  assert.ok(
    frames.some((f) => f.startsWith('mic_virtio_copy_desc(dev=virtio-console')),
    frames.join(' | '),
  );
  assert.equal(await field(dap, stop.threadId!, 'db'), db);

  // Without the breakpoint, the line runs to its answer.
  await fnBreakpoints(dap, []);
  const after = dap.mark();
  await dap.dc.continueRequest({ threadId: stop.threadId! });
  await dap.waitConsole(/Linux mic0 3\.13\.0-mic[^]*# $/, after);
});

// ---- data breakpoints on SDBIC0 -----------------------------------------------------------

/** Continue, type poweroff, and return the stop the SDBIC0 watch gives. */
async function poweroffStop(dap: Dap): Promise<DebugProtocol.StoppedEvent['body']> {
  const since = dap.mark();
  await dap.dc.continueRequest({ threadId: 1 });
  await dap.type('poweroff\n');
  return dap.stopped(since);
}

function assertSdbic0Stop(stop: DebugProtocol.StoppedEvent['body'], id: number | undefined): void {
  assert.equal(stop.reason, 'data breakpoint');
  assert.equal(stop.text, 'SDBIC0 (mic0.bar4+0x1cc90) written with 0x80000000 by mic0 card OS');
  assert.deepEqual(stop.hitBreakpointIds, [id]);
}

test(
  'a data breakpoint at mic0.bar4+0x1cc90 (asAddress) hits when the card rings c2h doorbell 0 at poweroff',
  T,
  async () => {
    const dap = open();
    await dap.launchBooted({});
    const info = await dap.dc.dataBreakpointInfoRequest({
      name: 'mic0.bar4+0x1cc90',
      asAddress: true,
      bytes: 4,
    } as DebugProtocol.DataBreakpointInfoArguments);
    assert.equal(info.body.dataId, 'mic0.bar4+0x1cc90/4');
    assert.equal(info.body.description, 'SDBIC0 (mic0.bar4+0x1cc90)');
    assert.deepEqual(info.body.accessTypes, ['write', 'read', 'readWrite']);
    const [bp] = (
      await dap.dc.setDataBreakpointsRequest({
        breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }],
      })
    ).body.breakpoints;
    assert.equal(bp.verified, true);

    // Typing and its echo use doorbell 1: the watch stays quiet until poweroff.
    const stop = await poweroffStop(dap);
    assertSdbic0Stop(stop, bp.id);
    assert.equal((await dap.threads()).find((t) => t.id === stop.threadId)?.name, 'mic0 card OS');
    const frames = (await dap.frames(stop.threadId!)).map((f) => f.name);
    assert.ok(frames.includes('mic_shutdown_host(status=poweroff)'), frames.join(' | '));
    assert.match(dap.console(), /The system is going down NOW!/);
    // The device page says why doorbell 0: it is the c2h_shutdown_db.
    const dp = await dap.custom('mic/devicePage', { card: 0 });
    assert.equal(dp.bootparam.c2h_shutdown_db, 0);
  },
);

test('a data breakpoint on the SDBIC0 variable of the Registers scope hits the same way', T, async () => {
  const dap = open();
  await dap.launchBooted({});
  const paused = await dap.pause();
  const [top] = await dap.frames(paused.threadId!);
  const regs = await dap.scope(top.id, 'Registers');
  const found = await dap.find(regs.ref, 'SDBIC0');
  assert.ok(found, 'SDBIC0 in the Registers scope');
  assert.equal(found.variable.memoryReference, 'mic0.bar4+0x1cc90');
  const info = await dap.dc.dataBreakpointInfoRequest({
    variablesReference: found.container,
    name: 'SDBIC0',
  });
  assert.equal(info.body.dataId, 'mic0.bar4+0x1cc90/4', 'the same bytes as the address form');
  assert.match(info.body.description, /SDBIC0/);
  const [bp] = (await dap.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId! }] })).body
    .breakpoints;
  assert.equal(bp.verified, true);

  const stop = await poweroffStop(dap);
  assertSdbic0Stop(stop, bp.id);
});

// ---- DMA: a conditional breakpoint and stepping --------------------------------------------

test(
  'dma memcpy with condition len >= 4096 stops on a big copy of cat /proc/cpuinfo; len in the Debug Console',
  T,
  async () => {
    const dap = open();
    await dap.launchBooted({});
    const [bad] = await fnBreakpoints(dap, [{ name: 'dma memcpy', condition: 'lenght >= 4096' }]);
    assert.equal(bad.verified, false, 'a typo in a condition is unverified');
    assert.match(bad.message ?? '', /unknown name 'lenght'/);
    const [bp] = await fnBreakpoints(dap, [{ name: 'dma memcpy', condition: 'len >= 4096' }]);
    assert.equal(bp.verified, true);

    const since = dap.mark();
    await dap.type('cat /proc/cpuinfo\n');
    const stop = await dap.stopped(since);
    assert.equal(stop.reason, 'function breakpoint');
    assert.deepEqual(stop.hitBreakpointIds, [bp.id]);
    assert.match(stop.text ?? '', /^DMA descriptor on mic0 DMA channel \d: MEMCPY .* len=\d+$/);
    const len = await field(dap, stop.threadId!, 'len');
    assert.ok(len >= 4096, `len ${len}`);
    assert.equal(Number(/len=(\d+)$/.exec(stop.text!)![1]), len);
    const [top] = await dap.frames(stop.threadId!);
    assert.equal((await dap.evaluate('kind', top.id)).result, '"dma.desc"');
    assert.equal((await dap.evaluate('type == "memcpy" && len >= 4096', top.id)).result, 'true');
    assert.match((await dap.threads()).find((t) => t.id === stop.threadId)!.name, /^mic0 DMA channel \d$/);

    // Every later stop honours the condition too.
    const next = await dap.resumeUntilStop(() => dap.dc.continueRequest({ threadId: stop.threadId! }));
    assert.ok((await field(dap, next.threadId!, 'len')) >= 4096);
  },
);

test(
  'stepIn from a DHPR write goes into the DMA descriptors, stepOut returns to the end of the copy, next steps one transaction',
  T,
  async () => {
    const dap = open();
    await dap.launchBooted({});
    // Watch the doorbell register of host DMA channel 0 by name.
    const info = await dap.dc.dataBreakpointInfoRequest({ name: 'DHPR0' });
    assert.equal(info.body.description, 'DHPR0 (mic0.bar4+0x1a004)');
    await dap.dc.setDataBreakpointsRequest({
      breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }],
    });

    let since = dap.mark();
    await dap.type('cat /proc/cpuinfo\n');
    const dhpr = await dap.stopped(since);
    assert.equal(dhpr.reason, 'data breakpoint');
    assert.match(
      dhpr.text ?? '',
      /^DHPR0 \(mic0\.bar4\+0x1a004\) written with 0x[0-9a-f]+ by mic0 console back-end$/,
    );
    const writer = dhpr.threadId!;
    const copyFrames = (await dap.frames(writer)).map((f) => f.name);
    const copy = copyFrames.find((f) => f.startsWith('mic_dma_memcpy_sync('));
    assert.ok(copy, `the DHPR write is inside mic_dma_memcpy_sync: ${copyFrames.join(' | ')}`);
    const dhprSeq = await field(dap, writer, 'seq');
    await dap.dc.setDataBreakpointsRequest({ breakpoints: [] });

    // stepIn: into the descriptors the write handed over.
    const into = await dap.resumeUntilStop(() => dap.dc.stepInRequest({ threadId: writer }));
    assert.equal(into.reason, 'step');
    assert.match(into.text ?? '', /^DMA descriptor on mic0 DMA channel 0: MEMCPY /);
    assert.equal((await dap.threads()).find((t) => t.id === into.threadId)?.name, 'mic0 DMA channel 0');
    const [descTop] = await dap.frames(into.threadId!);
    assert.equal((await dap.evaluate('kind', descTop.id)).result, '"dma.desc"');
    const descSeq = await field(dap, into.threadId!, 'seq');
    assert.ok(descSeq > dhprSeq);

    // stepOut: back in the back-end, after mic_dma_memcpy_sync has returned (the copy is done).
    const out = await dap.resumeUntilStop(() => dap.dc.stepOutRequest({ threadId: into.threadId! }));
    assert.equal(out.reason, 'step');
    assert.equal(out.threadId, writer, 'back on the thread that started the copy');
    const outFrames = (await dap.frames(out.threadId!)).map((f) => f.name);
    assert.ok(!outFrames.some((f) => f.startsWith('mic_dma_memcpy_sync(')), outFrames.join(' | '));
    assert.ok(
      outFrames.some((f) => f.startsWith('mic_virtio_copy_desc(dev=virtio-console')),
      `still in the same virtio copy: ${outFrames.join(' | ')}`,
    );
    const outSeq = await field(dap, out.threadId!, 'seq');
    assert.ok(outSeq > descSeq + 1, 'the descriptor ran (its read and write) before step out stopped');

    // next: exactly one more bus transaction.
    const n1 = await dap.resumeUntilStop(() => dap.dc.nextRequest({ threadId: out.threadId! }));
    assert.equal(n1.reason, 'step');
    assert.equal(await field(dap, n1.threadId!, 'seq'), outSeq + 1);
    const n2 = await dap.resumeUntilStop(() => dap.dc.nextRequest({ threadId: n1.threadId! }));
    assert.equal(await field(dap, n2.threadId!, 'seq'), outSeq + 2);

    since = dap.mark();
    await dap.dc.continueRequest({ threadId: n2.threadId! });
    await dap.waitConsole(/processor\t: 0[^]*# $/, 0);
    assert.equal(dap.all('stopped', since).length, 0);
  },
);

// ---- exception filters --------------------------------------------------------------------

test(
  'the protocol filter stops on a corrupted avail ring a client wrote with writeMemory (§9 rule 12)',
  T,
  async () => {
    // How a DAP client provokes a §9 misuse: while paused, write an out-of-range head (≥ num)
    // into the next avail.ring slot of console.tx in host RAM, publish it by bumping avail.idx,
    // then ring the console's card→host doorbell (SDBIC[c2h_vdev_db]) through BAR4 — all with
    // writeMemory. On continue the console back-end fetches the chain and vringh's check fails.
    const dap = open();
    let filters: Bps = [];
    await dap.launchBooted({}, async () => {
      const r = await dap.dc.setExceptionBreakpointsRequest({ filters: ['protocol', 'nonsense'] });
      filters = r.body?.breakpoints ?? [];
    });
    assert.equal(filters[0].verified, true);
    assert.equal(filters[1].verified, false);
    assert.match(filters[1].message ?? '', /unknown exception filter 'nonsense'/);

    await dap.pause();
    const vq = await dap.custom('mic/virtqueues', { card: 0 });
    const dev = vq.cards[0].devices.find((x: { short: string }) => x.short === 'console');
    const q = dev.queues.find((x: { id: string }) => x.id === 'console.tx');
    assert.equal(q.ringMemoryReference, `host+0x${q.ringHost.toString(16)}`);
    const avail = `host+0x${(q.ringHost + 16 * q.num).toString(16)}`; // after num 16-byte descriptors
    const idx = (await dap.readMemory(avail, 4)).readUInt16LE(2);
    assert.equal(idx, q.availIdx, 'avail.idx as mic/virtqueues reports it');
    const slot = idx % q.num;
    const bad = q.num + 72;
    const u16 = (v: number) => {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v & 0xffff);
      return b;
    };
    assert.equal((await dap.writeMemory(avail, u16(bad), 4 + 2 * slot)).bytesWritten, 2);
    await dap.writeMemory(avail, u16(idx + 1), 2);
    const sdbic = `mic0.bar4+0x${(0x1cc90 + 4 * dev.c2hDb).toString(16)}`;
    await dap.writeMemory(sdbic, le32(0x8000_0000));

    const since = dap.mark();
    const stop = await dap.resumeUntilStop(() => dap.dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.reason, 'exception');
    const rule = `§9 rule 12: mic0 virtio-console queue 1: avail.ring[${slot}] = head ${bad} ≥ num ${q.num} (vringh: -EINVAL). COPY_DESC fails.`;
    assert.equal(stop.description, '§9 rule 12', 'the badge');
    assert.match(stop.text ?? '', /^protocol error \(§9 rule 12\): /);
    assert.equal(stop.hitBreakpointIds, undefined, 'exception stops name no breakpoint ids');
    assert.equal((await dap.threads()).find((t) => t.id === stop.threadId)?.name, 'mic0 console back-end');
    const ex = await dap.dc.exceptionInfoRequest({ threadId: stop.threadId! });
    assert.equal(ex.body.exceptionId, '§9 rule 12');
    assert.equal(ex.body.breakMode, 'always');
    assert.equal(ex.body.description, rule);
    const [top] = await dap.frames(stop.threadId!);
    assert.equal(await field(dap, stop.threadId!, 'rule'), 12);
    assert.match(top.name, /^protocol error: /);
    assert.match(dap.output(since, 'important'), /protocol error: mic0 virtio-console queue 1: avail\.ring/);
  },
);

test(
  'the protocol filter stops on a refused state command from the Debug Console (§9 rule 23); off, it only reports',
  T,
  async () => {
    const dap = open();
    await dap.launchBooted({}, async () => {
      await dap.dc.setExceptionBreakpointsRequest({ filters: [] });
    });
    // Filter off: the misuse is reported as output, the machine runs on.
    let since = dap.mark();
    const r = await dap.evaluate('state boot');
    assert.match(r.result, /mic0: 'boot' written to \/sys\/class\/mic\/mic0\/state \(state was online\)/);
    await dap.waitFor(
      'output',
      (b) => /protocol error: mic0: boot written while the card is online/.test(b.output),
      since,
    );
    assert.equal(dap.all('stopped', since).length, 0);

    // Filter on, with a condition over the rule.
    const set = await dap.dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [{ filterId: 'protocol', condition: 'rule == 23 && card == 0' }],
    });
    const [f] = set.body?.breakpoints ?? [];
    assert.equal(f.verified, true);
    since = dap.mark();
    await dap.evaluate('state boot');
    const stop = await dap.stopped(since);
    assert.equal(stop.reason, 'exception');
    assert.equal(stop.description, '§9 rule 23');
    assert.equal(
      stop.text,
      'protocol error (§9 rule 23): mic0: boot written while the card is online, not offline; the host refuses it (-EINVAL).',
    );
    assert.equal((await dap.threads()).find((t) => t.id === stop.threadId)?.name, 'host driver');
    const frames = (await dap.frames(stop.threadId!)).map((x) => x.name);
    assert.ok(frames.includes('mic_sysfs_state_store(cmd=boot)'), frames.join(' | '));
    // The card was not touched.
    assert.equal((await dap.custom('mic/cards')).cards[0].state, 'online');
  },
);
