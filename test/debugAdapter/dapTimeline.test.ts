// The MIC Timeline's requests over the real protocol (a DAP client over stdio): after a booted
// session reads one sector with dd, mic/timelineLanes, mic/timelineData (zoomed out and on the
// block request), mic/timelineEvent, mic/timelineStats, a clear error for bad arguments, and
// mic/exportPerfetto writing the whole session, which JSON.parse reads.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildAdapter, Dap, removeAdapterCopy } from '../helpers/dap.ts';

let adapter: string;
let dir: string;
let dap: Dap | null = null;

before(() => {
  adapter = buildAdapter();
  dir = mkdtempSync(join(tmpdir(), 'mic-dtl-'));
});
afterEach(async () => {
  await dap?.close();
  dap = null;
});
after(() => {
  removeAdapterCopy();
  rmSync(dir, { recursive: true, force: true });
});

interface Bar {
  id: number;
  queue: string;
  lane: string;
  availSeq: number;
  availTime: number;
  usedSeq: number;
  doneTime: number;
}

test('mic/timelineData and friends over DAP after a dd; mic/exportPerfetto writes the session', async () => {
  const d = (dap = Dap.stdio(adapter));
  await d.launchBooted({ disk: join(dir, 'd.img'), diskSizeMiB: 1, cwd: dir });
  const since = d.mark();
  await d.type('dd if=/dev/vda of=/dev/null bs=512 count=1\n');
  await d.waitConsole(/copied[^]*# $/, since);
  await d.pause();

  const { lanes } = (await d.custom('mic/timelineLanes')) as { lanes: { id: string; kind: string }[] };
  for (const id of [
    'host.driver',
    'host.mic0.block',
    'mic0.cpu',
    'mic0.dma0',
    'mic0.hw',
    'mic0.vq.block.requestq',
  ])
    assert.ok(
      lanes.some((l) => l.id === id),
      `lane ${id}`,
    );

  const pos = (await d.custom('mic/timeline')) as { head: number; time: number };
  const all = (await d.custom('mic/timelineData', { from: 0, to: pos.time + 1, width: 8000 })) as {
    lanes: { count: number }[];
    requests: Bar[];
  };
  assert.equal(
    all.lanes.reduce((a, l) => a + l.count, 0),
    pos.head,
    'the whole session: every event counted once',
  );
  const bar = all.requests.filter((r) => r.queue === 'block.requestq').at(-1)!;
  assert.equal(bar.lane, 'mic0.vq.block.requestq');

  const zoom = (await d.custom('mic/timelineData', {
    from: bar.availTime,
    to: bar.doneTime + 1,
    width: 800,
    lanes: ['mic0.hw', 'host.driver', 'mic0.vq.block.requestq'],
  })) as {
    lanes: { lane: string; events?: { seq: number[] } }[];
    requests: Bar[];
    links: { toLane: string }[];
  };
  assert.deepEqual(
    zoom.lanes.map((l) => l.lane),
    ['host.driver', 'mic0.hw'],
  );
  assert.ok(zoom.lanes.every((l) => l.events));
  assert.ok(zoom.requests.some((r) => r.id === bar.id));
  assert.ok(
    zoom.links.some((k) => k.toLane === 'host.driver'),
    'interrupt → handler',
  );

  const hover = (await d.custom('mic/timelineEvent', { seq: bar.usedSeq })) as {
    kind: string;
    causes: unknown[];
  };
  assert.equal(hover.kind, 'vring.used');
  assert.ok(hover.causes.length > 0);

  const stats = (await d.custom('mic/timelineStats', { card: 0, queue: 'block.requestq' })) as {
    queues: { latency: { p50: number } }[];
  };
  assert.ok(stats.queues[0].latency.p50 > 0);

  await assert.rejects(d.custom('mic/timelineData', { from: 10, to: 5 }), /to: virtual ns after from/);
  await assert.rejects(d.custom('mic/timelineData', { lanes: ['nope'] }), /no lane "nope"/);

  // An existing file that is not ours is refused; the export replaces it with overwrite.
  const file = join(dir, 'session.json');
  writeFileSync(file, 'mine');
  await assert.rejects(d.custom('mic/exportPerfetto', { path: 'session.json' }), /not a Perfetto export/);
  const r = (await d.custom('mic/exportPerfetto', { path: 'session.json', overwrite: true })) as {
    events: number;
    complete: boolean;
  };
  assert.equal(r.complete, true);
  assert.equal(r.events, pos.head);
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    ph: string;
    cat?: string;
    args?: { seq?: number };
  }[];
  assert.equal(json.filter((x) => x.ph === 'X' && x.cat === 'bus').length, pos.head);
  assert.ok(json.some((x) => x.ph === 'b' && (x as { id?: number }).id === bar.id));
  // The session is where it was.
  assert.equal(((await d.custom('mic/timeline')) as { seq: number }).seq, pos.head);
});
