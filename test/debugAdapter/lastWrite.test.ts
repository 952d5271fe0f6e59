// "Who last wrote this?" over the real protocol (docs/time-travel.md): `mic/lastWrite` on a
// virtqueue's used.idx after block reads lists the block back-end's writes newest first; after
// a seek back it lists only the writes before that moment; the Debug Console's `lastwrite` and
// `history` say the same in lines; bad input is an error in words.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildAdapter, Dap, removeAdapterCopy, type Body } from '../helpers/dap.ts';

let adapter: string;
let dir: string;
let dap: Dap | null = null;

before(() => {
  adapter = buildAdapter();
  dir = mkdtempSync(join(tmpdir(), 'mic-lw-'));
});
afterEach(async () => {
  await dap?.close();
  dap = null;
});
after(() => {
  removeAdapterCopy();
  rmSync(dir, { recursive: true, force: true });
});

/** The used.idx reference of the block device's request queue (mic/virtqueues). */
async function usedIdxRef(d: Dap): Promise<string> {
  const vq = await d.custom('mic/virtqueues', { card: 0 });
  const queues = (vq.cards[0].devices as Body[]).flatMap((dev) => dev.queues as Body[]);
  const q = queues.find((x) => String(x.id).startsWith('block.'));
  assert.ok(
    q?.usedIdxMemoryReference,
    `a block queue with a used ring: ${JSON.stringify(queues.map((x) => x.id))}`,
  );
  return q.usedIdxMemoryReference as string;
}

/** A booted session on its own image after `count` block reads, paused; and used.idx's reference. */
async function afterReads(name: string, count: number): Promise<{ d: Dap; ref: string }> {
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: join(dir, `${name}.img`), diskSizeMiB: 1 });
  const since = d.mark();
  await d.type(`dd if=/dev/vda of=/dev/null bs=512 count=${count}\n`);
  await d.waitConsole(new RegExp(`${count}\\+0 records in[^]*# $`), since);
  await d.pause();
  return { d, ref: await usedIdxRef(d) };
}

test('mic/lastWrite on used.idx after block reads: the back-end’s writes, newest first; after a seek back, only the earlier ones', async () => {
  const { d, ref } = await afterReads('reads', 4);
  const now = await d.custom('mic/timeline');
  const all = await d.custom('mic/lastWrite', { address: ref, length: 2 });
  assert.equal(all.target, ref);
  assert.equal(all.length, 2);
  const listed = all.writes as Body[];
  for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1].seq > listed[i].seq, 'newest first');
  for (const w of listed) assert.ok(w.seq <= now.seq, 'before the current moment');
  // The back-end moves used.idx once per request; before them, the card OS set the ring up.
  const writes = listed.filter((w) => w.initiator === 'host.mic0.block');
  assert.ok(
    writes.length >= 4,
    `at least one used.idx write per read: ${JSON.stringify(listed.map((w) => w.text))}`,
  );
  assert.deepEqual(listed.slice(0, writes.length), writes, 'the newest are all the back-end’s');
  assert.ok(
    listed.slice(writes.length).every((w) => w.initiator === 'mic0.cpu'),
    'the older ones the card OS’s',
  );
  for (const w of writes) {
    assert.equal(w.initiator, 'host.mic0.block');
    assert.equal(w.initiatorName, 'mic0 block back-end');
    assert.equal(w.kind, 'mem.write');
    assert.equal(w.space, 'mic0.gddr');
    assert.equal(typeof w.time, 'number');
    assert.match(w.text, /^write 2 bytes at mic0\.gddr\+0x[0-9a-f]+ by mic0 block back-end = 0x[0-9a-f]+$/);
  }
  // The used index counts up: each write is one more than the one before it.
  assert.equal(writes[0].value, writes[1].value + 1);
  assert.equal((await d.custom('mic/lastWrite', { address: ref, length: 2, limit: 2 })).truncated, true);

  // Back to just after the third-newest write: the two newer ones are not there yet.
  const p = d.mark();
  await d.custom('mic/seek', { seq: writes[2].seq });
  await d.stopped(p);
  const at = (await d.custom('mic/timeline')).seq;
  assert.ok(at >= writes[2].seq && at < writes[1].seq, `landed at ${at}`);
  const past = await d.custom('mic/lastWrite', { address: ref, length: 2 });
  assert.deepEqual(
    (past.writes as Body[]).map((w) => w.seq),
    listed.slice(2).map((w) => w.seq),
  );
  // `before` asks about any moment without going there.
  const early = await d.custom('mic/lastWrite', { address: ref, length: 2, before: writes[3].seq });
  assert.equal((early.writes as Body[])[0].seq, listed[4].seq);
});

test('the Debug Console: lastwrite and history, and errors in words', async () => {
  const { d, ref } = await afterReads('console', 2);
  const last = (await d.evaluate(`lastwrite ${ref} 2`)).result as string;
  assert.match(last, /^mic0\.gddr\+0x[0-9a-f]+ \(2 bytes\): last written at event [\d,]+ \([\d.]+ ms, /);
  assert.match(last, /write 2 bytes at mic0\.gddr\+0x[0-9a-f]+ by mic0 block back-end = 0x/);
  assert.match(last, /goto \d+ to go there/);
  const hist = ((await d.evaluate(`history ${ref} 2`)).result as string).split('\n');
  assert.match(hist[0], /: \d+ writes? before this moment \(event [\d,]+\), newest first:$/);
  assert.ok(hist.length >= 3);
  assert.match(
    hist[1],
    /^ +[\d,]+ +[\d.]+ ms {2}mic0 block back-end {2}mic0\.gddr\+0x[0-9a-f]+ = 0x[0-9a-f]+ {2}\(goto \d+\)$/,
  );
  for (const line of hist.slice(1)) assert.match(line, /^ +[\d,]+ +[\d.]+ ms {2}mic0 \S.* \(goto \d+\)$/);
  // A register name: SDBIC0 of the selected card.
  const reg = (await d.evaluate('history SDBIC0')).result as string;
  assert.match(reg, /^mic0\.bar4\+0x1cc90 \(4 bytes\): /);
  assert.match((await d.evaluate('help')).result, /lastwrite ADDR \[LEN\][^]*history ADDR \[LEN\]/);
  await assert.rejects(d.evaluate('lastwrite'), /lastwrite needs an address/);
  await assert.rejects(d.evaluate('lastwrite nowhere'), /'nowhere' is not an address/);
  await assert.rejects(d.evaluate(`history ${ref} -3`), /'-3' is not a length/);
  await assert.rejects(d.custom('mic/lastWrite', {}), /give address/);
  await assert.rejects(d.custom('mic/lastWrite', { address: ref, limit: 0 }), /limit 0 is not a count/);
  await assert.rejects(
    d.custom('mic/lastWrite', { address: ref, before: 'soon' }),
    /before "soon" is not an event number/,
  );
});
