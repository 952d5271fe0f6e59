// Time travel over the real protocol (docs/time-travel.md): Step Back, Reverse Continue with
// breakpoints set after the fact, goto (mic/seek and the Debug Console), the disk image at each
// moment, and a new input in the past starting a new timeline.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildAdapter, Dap, removeAdapterCopy, resultNumber, type Body } from '../helpers/dap.ts';

let adapter: string;
let dir: string;
let dap: Dap | null = null;

before(() => {
  adapter = buildAdapter();
  dir = mkdtempSync(join(tmpdir(), 'mic-tt-'));
});
afterEach(async () => {
  await dap?.close();
  dap = null;
});
after(() => {
  removeAdapterCopy();
  rmSync(dir, { recursive: true, force: true });
});

/** The event number of the stop (its top frame's `seq`). */
async function seqOf(d: Dap, threadId: number): Promise<number> {
  const [top] = await d.frames(threadId);
  return resultNumber((await d.evaluate('seq', top.id)).result);
}

/** A booted session on its own disk image, a line typed, then a block write; paused at the end. */
async function session(name: string): Promise<{ d: Dap; image: string; end: number; threadId: number }> {
  const image = join(dir, `${name}.img`);
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: image, diskSizeMiB: 1 });
  let since = d.mark();
  await d.type('echo one\n');
  await d.waitConsole(/one\r\n\[root@mic0 ~\]# $/, since);
  since = d.mark();
  await d.type('dd if=pattern:a5a5a5a5 of=/dev/vda bs=512 count=1 seek=3\n');
  await d.waitConsole(/copied[^]*# $/, since);
  const stop = await d.pause();
  return { d, image, end: await seqOf(d, stop.threadId!), threadId: stop.threadId! };
}

const sector3 = (image: string) => readFileSync(image).subarray(3 * 512, 4 * 512);

test('the adapter offers Step Back and Reverse Continue', async () => {
  const d = (dap = Dap.stdio(adapter));
  const init = await d.dc.initializeRequest();
  assert.equal(init.body?.supportsStepBack, true);
  assert.equal(init.body?.supportsCancelRequest, true);
});

test('step back goes to the previous bus access; a second step back goes further', async () => {
  const { d, end, threadId } = await session('back');
  const one = await d.resumeUntilStop(() => d.dc.stepBackRequest({ threadId }));
  assert.equal(one.reason, 'step');
  const s1 = await seqOf(d, one.threadId!);
  assert.ok(s1 < end && s1 >= end - 3, `one access back: ${s1} (from ${end})`);
  assert.equal(one.description, 'step back', 'the badge');
  assert.match(one.text ?? '', /^step back: event \d+ of \d+, after /);
  const two = await d.resumeUntilStop(() => d.dc.stepBackRequest({ threadId }));
  const s2 = await seqOf(d, two.threadId!);
  assert.ok(s2 < s1, `${s2} < ${s1}`);
  const where = await d.custom('mic/timeline');
  assert.equal(where.seq, s2);
  assert.equal(where.head, end, 'the recorded future goes on to where the session was');
});

test('reverse continue stops at the previous hit of a breakpoint set after the fact; the disk image follows', async () => {
  const { d, image, end, threadId } = await session('reverse');
  const written = Buffer.from(sector3(image));
  assert.equal(written.readUInt32LE(0), 0xa5a5a5a5, 'the dd is on disk');
  // Armed now, after the block request happened: it stops at its last chain event.
  await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vq block used' }] });
  const hit = await d.resumeUntilStop(() => d.dc.reverseContinueRequest({ threadId }));
  assert.equal(hit.reason, 'function breakpoint');
  assert.match(hit.text ?? '', /^reverse continue: /);
  const [top] = await d.frames(hit.threadId!);
  assert.equal((await d.evaluate('queue', top.id)).result, '"block.requestq"');
  assert.equal((await d.evaluate('kind', top.id)).result, '"vring.used"');
  const hitSeq = await seqOf(d, hit.threadId!);
  assert.ok(hitSeq < end);
  // The card's write completed before its used entry: the image holds it at this moment.
  assert.equal(sector3(image).readUInt32LE(0), 0xa5a5a5a5);
  // Back before the write: the image is as it was then.
  const p = d.mark();
  await d.custom('mic/seek', { seq: 10 });
  const early = await d.stopped(p);
  assert.equal(early.reason, 'goto');
  assert.ok(
    sector3(image).every((b) => b === 0),
    'sector 3 is zeros before the dd',
  );
  // And forward to the end again: the write is back.
  const q = d.mark();
  await d.custom('mic/seek', { seq: end });
  await d.stopped(q);
  assert.deepEqual(sector3(image), written);
  assert.equal((await d.custom('mic/timeline')).seq, end);
});

test('goto from the Debug Console: an event, N back, a time; a bad one is a clear error', async () => {
  const { d, end } = await session('goto');
  let p = d.mark();
  const r = await d.evaluate('goto 500');
  assert.match(r.result, /going to event 500/);
  const at500 = await d.stopped(p);
  assert.ok(Math.abs((await seqOf(d, at500.threadId!)) - 500) <= 2);
  p = d.mark();
  await d.evaluate('goto +100');
  const on = await d.stopped(p);
  const s = await seqOf(d, on.threadId!);
  assert.ok(s >= 600 && s <= 603, `${s}`);
  p = d.mark();
  await d.evaluate('goto time 1ms');
  const t = await d.stopped(p);
  const [top] = await d.frames(t.threadId!);
  assert.ok(resultNumber((await d.evaluate('time', top.id)).result) >= 1_000_000);
  assert.match((await d.evaluate('where')).result, /^event \d+ of \d+ · /);
  await assert.rejects(d.evaluate(`goto ${end + 1000}`), /not on the timeline/);
  await assert.rejects(d.evaluate('goto sideways'), /goto needs an event or a time/);
  // An event inside an access (one that made several events) is no place to stop: the goto
  // lands at the access's end and says so, even when that is where the session already is.
  let inside = 0;
  for (let k = 500; k < 560 && inside < 2; k++) {
    p = d.mark();
    await d.evaluate(`goto ${k}`);
    const stop = await d.stopped(p);
    const landed = await seqOf(d, stop.threadId!);
    if (landed === k) {
      assert.match(stop.text ?? '', new RegExp(`^goto: event ${k} of `));
      continue;
    }
    assert.ok(landed > k && landed <= k + 3, `goto ${k} landed at ${landed}`);
    assert.match(
      stop.text ?? '',
      new RegExp(`^goto event ${k} \\(inside an access; stopped at its end\\): event ${landed} of `),
    );
    inside++;
  }
  assert.equal(inside, 2, 'two events inside an access between 500 and 560');
});

test('a new input in the past starts a new timeline: the recorded future is dropped', async () => {
  const { d, image, end } = await session('fork');
  // Before the dd (two thirds of the session is boot and `echo one`).
  let p = d.mark();
  await d.custom('mic/seek', { seq: Math.floor(end / 2) });
  await d.stopped(p);
  const back = await d.custom('mic/timeline');
  assert.ok(
    (back.future as { events: number; inputs: number }).inputs >= 1,
    'the dd is in the recorded future',
  );
  // Typed here, while stopped in the past: a new timeline from this moment.
  p = d.mark();
  await d.type('echo two\n');
  assert.match(
    d.output(p, 'important'),
    /a new timeline from event \d+: the recorded future \(\d+ events, \d+ inputs\) is dropped/,
  );
  assert.deepEqual((await d.custom('mic/timeline')).future, { events: 0, inputs: 0 });
  await d.dc.continueRequest({ threadId: 1 });
  await d.waitConsole(/two\r\n\[root@mic0 ~\]# $/, p);
  // The dd of the dropped future is not on the disk.
  assert.ok(sector3(image).every((b) => b === 0));
  await d.close();
  dap = null;
  assert.ok(!existsSync(image + '.mic-journal'), 'the journal goes with the session');
});

test('continuing from a past moment replays the recorded future: the same console, the same disk', async () => {
  const { d, image, end } = await session('future');
  const written = Buffer.from(sector3(image));
  const p = d.mark();
  await d.custom('mic/seek', { seq: Math.floor(end / 2) });
  await d.stopped(p);
  assert.ok(sector3(image).every((b) => b === 0));
  const q = d.mark();
  await d.dc.continueRequest({ threadId: 1 });
  // The recorded inputs enter again where they entered: `echo one` and the dd run again.
  await d.waitConsole(/copied[^]*# $/, q);
  assert.deepEqual(sector3(image), written);
  assert.deepEqual((await d.custom('mic/timeline')).future, { events: 0, inputs: 0 });
  assert.equal((await d.custom('mic/timeline')).head, end, 'no new events: the same timeline');
  assert.doesNotMatch(d.output(q, 'important'), /new timeline|went another way/);
});

test("issue 16's walk: stop on a block request's completion, ask who last wrote its descriptor, go there, step back three, continue to where you were — the image right throughout", async () => {
  const image = join(dir, 'walk.img');
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: image, diskSizeMiB: 1 });
  const sector5 = () => Buffer.from(readFileSync(image).subarray(5 * 512, 6 * 512));
  const old = sector5();
  const pattern = Buffer.alloc(512);
  for (let i = 0; i < 512; i += 4) pattern.set([0xc0, 0xff, 0xee, 0x42], i);
  // The host's completion of the write: the back-end puts the chain in the used ring.
  await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vq block.requestq used' }] });
  let p = d.mark();
  await d.type('dd if=pattern:c0ffee42 of=/dev/vda bs=512 count=1 seek=5\n');
  const done = await d.stopped(p);
  const threadId = done.threadId!;
  const [top] = await d.frames(threadId);
  assert.equal((await d.evaluate('kind', top.id)).result, '"vring.used"');
  const head = resultNumber((await d.evaluate('head', top.id)).result);
  const here = (await d.custom('mic/timeline')).seq as number;
  assert.deepEqual(sector5(), pattern, 'the back-end wrote the image before the used entry');

  // Who last wrote the descriptor it used: the card's driver, when it built the chain.
  const vq = await d.custom('mic/virtqueues', { card: 0 });
  const q = (vq.cards[0].devices as Body[])
    .flatMap((dev) => dev.queues as Body[])
    .find((x) => x.id === 'block.requestq')!;
  const m = /^host\+0x([0-9a-f]+)$/.exec(q.ringMemoryReference as string);
  assert.ok(m, `the ring's reference: ${q.ringMemoryReference}`);
  const desc = `host+0x${(parseInt(m[1], 16) + 16 * head).toString(16)}`;
  const lw = await d.custom('mic/lastWrite', { address: desc, length: 16 });
  const w = (lw.writes as Body[])[0];
  assert.ok(w, `a write to ${desc}`);
  assert.equal(w.initiator, 'mic0.cpu', `the card's driver wrote descriptor ${head}: ${w.text}`);
  assert.ok(w.seq < here);

  // Clicking the answer goes there: every view at that moment, the image as it was before.
  p = d.mark();
  await d.custom('mic/seek', { seq: w.seq });
  const there = await d.stopped(p);
  const at = (await d.custom('mic/timeline')).seq as number;
  assert.ok(at >= w.seq && at <= w.seq + 3, `at ${at} for the write at ${w.seq}`);
  assert.equal(await seqOf(d, there.threadId!), at, 'Variables show that moment');
  assert.deepEqual(sector5(), old, 'the image before the request');
  const vqThen = await d.custom('mic/virtqueues', { card: 0 });
  const qThen = (vqThen.cards[0].devices as Body[])
    .flatMap((dev) => dev.queues as Body[])
    .find((x) => x.id === 'block.requestq')!;
  assert.equal(qThen.usedIdx, (q.usedIdx as number) - 1, 'the used ring one request earlier');

  // Three steps back, each further back; the image stays as it was.
  let last = at;
  for (let i = 0; i < 3; i++) {
    p = d.mark();
    await d.dc.stepBackRequest({ threadId });
    await d.stopped(p);
    const s = (await d.custom('mic/timeline')).seq as number;
    assert.ok(s < last, `step back ${i + 1}: ${s} < ${last}`);
    last = s;
    assert.deepEqual(sector5(), old);
  }

  // Continue: the recorded future replays to the breakpoint where the walk began.
  p = d.mark();
  await d.dc.continueRequest({ threadId });
  await d.stopped(p);
  assert.equal((await d.custom('mic/timeline')).seq, here, 'back where the walk began');
  assert.deepEqual(sector5(), pattern, 'the image as it was there');
  assert.doesNotMatch(d.output(), /went another way/);
});

test('while a travel runs, requests that move or feed the machine are refused in words; reading goes on; after it, all work', async () => {
  const { d, end, threadId } = await session('busy');
  // Back to the start: the way forward is then a replay through the recorded inputs, which
  // gives the event loop a turn at each of them — the requests below arrive in those turns.
  let p = d.mark();
  await d.custom('mic/seek', { seq: 0 });
  await d.stopped(p);
  p = d.mark();
  const settle = <T>(x: Promise<T>) =>
    x.then(
      () => 'ok',
      (e: Error) => e.message,
    );
  const answers = await d.together(() => [
    settle(d.dc.customRequest('mic/seek', { seq: end })),
    settle(d.dc.customRequest('mic/consoleInput', { card: 0, text: 'x' })),
    settle(d.dc.continueRequest({ threadId })),
    settle(d.dc.customRequest('mic/seek', { seq: 10 })),
    settle(d.dc.evaluateRequest({ expression: 'type ls', context: 'repl' })),
    settle(d.dc.evaluateRequest({ expression: 'goto 5', context: 'repl' })),
    settle(d.dc.stepBackRequest({ threadId })),
    settle(d.dc.customRequest('mic/hostCommand', { card: 0, command: 'reset' })),
    settle(d.dc.customRequest('mic/timeline', {})),
    settle(d.dc.customRequest('mic/cards', {})),
  ]);
  assert.equal(answers[0], 'ok', 'the seek itself');
  for (const a of answers.slice(1, 8))
    assert.match(
      a,
      new RegExp(
        `^time travel in progress \\(goto: a replay to event ${end}\\): wait until it stops, or cancel it`,
      ),
    );
  assert.deepEqual(answers.slice(8), ['ok', 'ok'], 'reading goes on');
  await d.stopped(p);
  const there = await d.custom('mic/timeline');
  assert.equal(there.seq, end, 'the travel went where it was sent, nowhere else');
  assert.deepEqual(there.future, { events: 0, inputs: 0 }, 'no input entered on the way');
  assert.doesNotMatch(d.output(), /went another way|a new timeline/);
  // Stopped there, the same requests are taken again.
  assert.equal(await settle(d.dc.customRequest('mic/consoleInput', { card: 0, text: '\n' })), 'ok');
});
