// Every view and host file shows the moment after a seek (docs/time-travel.md, "Host files follow
// the timeline"): the console as it was (mic/consoleReplay) after a seek back, forward and to a
// moment before any output; the pcap and trace files cut back on a seek back, equal to the
// files of a straight run to that moment, and a new timeline's records following the cut; a
// long replay's progress, cancelled, leaving the session stopped at a moment.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildAdapter, Dap, removeAdapterCopy, resultNumber } from '../helpers/dap.ts';

let adapter: string;
let dir: string;
let dap: Dap | null = null;

before(() => {
  adapter = buildAdapter();
  dir = mkdtempSync(join(tmpdir(), 'mic-follow-'));
});
afterEach(async () => {
  await dap?.close();
  dap = null;
});
after(() => {
  removeAdapterCopy();
  rmSync(dir, { recursive: true, force: true });
});

async function seqOf(d: Dap, threadId: number): Promise<number> {
  const [top] = await d.frames(threadId);
  return resultNumber((await d.evaluate('seq', top.id)).result);
}

/** Type a line, wait for the prompt after its output, pause: the moment's event number. */
async function run(d: Dap, line: string, until: RegExp): Promise<number> {
  const since = d.mark();
  await d.type(`${line}\n`);
  await d.waitConsole(until, since);
  const stop = await d.pause();
  return seqOf(d, stop.threadId!);
}

/** Seek to `seq`; the console mic0 shows afterwards (its mic/consoleReplay), and the stop. */
async function seek(d: Dap, seq: number): Promise<{ text: string | undefined; description: string }> {
  const since = d.mark();
  await d.custom('mic/seek', { seq });
  const stop = await d.stopped(since, 60_000);
  assert.equal((await d.custom('mic/timeline')).seq, seq);
  const ev = d.all('mic/consoleReplay', since).filter((e) => e.body.card === 0);
  assert.ok(ev.length <= 1, 'one console replay per seek');
  const text = ev[0] ? Buffer.from(ev[0].body.data as string, 'base64').toString('latin1') : undefined;
  return { text, description: stop.text ?? '' };
}

test('after every seek the console shows the moment: back, forward, and before any output', async () => {
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: join(dir, 'console.img'), diskSizeMiB: 1 });
  const one = await run(d, 'echo one', /one\r\n\[root@mic0 ~\]# $/);
  await d.dc.continueRequest({ threadId: 1 });
  const two = await run(d, 'echo two', /two\r\n\[root@mic0 ~\]# $/);

  let at = await seek(d, one);
  assert.match(at.text ?? '', /echo one\r\none\r\n\[root@mic0 ~\]# $/, 'back: up to echo one');
  assert.doesNotMatch(at.text ?? '', /two/);
  at = await seek(d, two);
  assert.match(
    at.text ?? '',
    /echo one\r\none\r\n\[root@mic0 ~\]# echo two\r\ntwo\r\n\[root@mic0 ~\]# $/,
    'forward: both',
  );
  at = await seek(d, 1);
  assert.equal(at.text, '', 'before any output: an empty console');
  at = await seek(d, one);
  assert.match(at.text ?? '', /one\r\n\[root@mic0 ~\]# $/);
  assert.doesNotMatch(at.text ?? '', /two/, 'the text of the future is not doubled or shown');
  // A new timeline from here: the old future's text is gone for good.
  const since = d.mark();
  await d.type('echo three\n');
  await d.dc.continueRequest({ threadId: 1 });
  await d.waitConsole(/three\r\n\[root@mic0 ~\]# $/, since);
  const stop = await d.pause();
  const three = await seqOf(d, stop.threadId!);
  at = await seek(d, 1);
  assert.equal(at.text, '');
  at = await seek(d, three);
  assert.match(at.text ?? '', /one\r\n\[root@mic0 ~\]# echo three\r\nthree\r\n\[root@mic0 ~\]# $/);
  assert.doesNotMatch(at.text ?? '', /two/);
});

/** The pcap's frame records (our own reading of the format: pcap.ts). */
function pcapFrames(b: Buffer): Buffer[] {
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'a pcap header');
  const out: Buffer[] = [];
  let p = 24;
  while (p < b.length) {
    const incl = b.readUInt32LE(p + 8);
    assert.ok(p + 16 + incl <= b.length, 'a whole record');
    out.push(b.subarray(p, p + 16 + incl));
    p += 16 + incl;
  }
  return out;
}

/** The trace's event numbers, line by line. */
function traceSeqs(t: string): number[] {
  return t
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

test('pcap and trace files are cut back to the moment on a seek back, follow forward, and a new timeline follows the cut', async () => {
  const pcap = join(dir, 'net.pcap');
  const trace = join(dir, 'events.jsonl');
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: join(dir, 'net.img'), diskSizeMiB: 1, pcap, trace });
  const ping = () => run(d, 'ping -c 1 172.31.0.254', /1 received[^]*# $/);
  const first = await ping();
  const pcap1 = readFileSync(pcap);
  const trace1 = readFileSync(trace);
  assert.ok(pcapFrames(pcap1).length >= 2, 'the ping is in the capture');
  await d.dc.continueRequest({ threadId: 1 });
  const second = await ping();
  const pcap2 = readFileSync(pcap);
  const trace2 = readFileSync(trace);
  assert.ok(pcapFrames(pcap2).length > pcapFrames(pcap1).length);
  assert.equal(traceSeqs(trace2.toString()).at(-1), second);

  // Back to the first ping's end: the files are what they were then.
  await seek(d, first);
  assert.deepEqual(readFileSync(pcap), pcap1, 'the pcap as at the first ping');
  assert.deepEqual(readFileSync(trace), trace1, 'the trace as at the first ping');
  // Further back, to before the network was up: the header and nothing more.
  await seek(d, 1000);
  assert.equal(readFileSync(pcap).length, 24);
  assert.deepEqual(
    traceSeqs(readFileSync(trace).toString()),
    Array.from({ length: 1000 }, (_, i) => i + 1),
  );
  // Forward to the second ping's end: the replay writes the records again, once.
  await seek(d, second);
  assert.deepEqual(readFileSync(pcap), pcap2, 'the pcap as at the second ping');
  assert.deepEqual(readFileSync(trace), trace2, 'the trace as at the second ping');

  // A new timeline from the first ping's end: its records follow the cut.
  await seek(d, first);
  const since = d.mark();
  await d.type('ping -c 2 172.31.0.254\n');
  await d.dc.continueRequest({ threadId: 1 });
  await d.waitConsole(/2 received[^]*# $/, since);
  await d.pause();
  const forked = readFileSync(pcap);
  assert.deepEqual(forked.subarray(0, pcap1.length), pcap1, 'the cut capture, then the new timeline');
  assert.ok(pcapFrames(forked).length >= pcapFrames(pcap1).length + 4, 'two pings more');
  const t = readFileSync(trace);
  assert.deepEqual(t.subarray(0, trace1.length), trace1);
  const seqs = traceSeqs(t.toString());
  assert.ok(
    seqs.every((s, i) => s === i + 1),
    'every event once, in order',
  );
});

test('a long replay reports its progress and can be cancelled: the session stops at a moment, every view with it', async () => {
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: join(dir, 'long.img'), diskSizeMiB: 8 });
  // Small reads make many events (about 70 a sector): some 850,000, over three replay chunks.
  const end = await run(d, 'dd if=/dev/vda of=/dev/null bs=512 count=12288', /copied[^]*# $/);
  assert.ok(end > 3 << 18, `a long session (${end} events): the replay takes several chunks`);
  // To power-on (no replay: a fresh machine), then the long way forward, cancelled on its way.
  const zero = await seek(d, 0);
  assert.equal(zero.text, '', 'at power-on the console is empty');
  const again = d.mark();
  void d.custom('mic/seek', { seq: end });
  const st = await d.waitFor('progressStart', () => true, again);
  await d.waitFor('progressUpdate', (b) => b.progressId === st.body.progressId, again, 60_000);
  await d.dc.customRequest('cancel', { progressId: st.body.progressId });
  const stop = await d.stopped(again, 60_000);
  await d.waitFor('progressEnd', (b) => b.progressId === st.body.progressId, again);
  assert.match(stop.text ?? '', /goto cancelled: event \d+ of \d+/);
  const where = await d.custom('mic/timeline');
  assert.ok(where.seq > 0 && where.seq < end, `stopped on the way (${where.seq} of ${end})`);
  assert.equal(where.head, end, 'the recorded future is kept');
  assert.equal(await seqOf(d, stop.threadId ?? 1), where.seq, 'the stack shows that moment');
  assert.ok(d.all('mic/consoleReplay', again).length >= 1, 'the console shows that moment');
  // And the session goes on from there: to the end again.
  const last = await seek(d, end);
  assert.match(last.text ?? '', /copied[^]*# $/);
});
