// A short seeded run of both fuzzers inside `npm test` (a few seconds); `npm run fuzz` runs the
// long ones (docs/reliability.md).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdapter, removeAdapterCopy } from '../helpers/dap.ts';
import { runDapFuzz } from './dapFuzz.ts';
import { runGuestChaos } from './guestChaos.ts';

const dir = mkdtempSync(join(tmpdir(), 'mic-fuzz-test-'));
after(() => {
  removeAdapterCopy();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'DAP fuzzer, seed 7, 600 cases: every case answered once, cleanly; no crash, no hang',
  { timeout: 120_000 },
  async () => {
    const st = await runDapFuzz({
      adapter: buildAdapter(),
      seed: 7,
      cases: 600,
      timeLimitMs: 60_000,
      workdir: dir,
    });
    assert.deepEqual(
      { cases: st.cases, clean: st.clean, crashes: st.crashes, hangs: st.hangs, leaks: st.leaks },
      { cases: 600, clean: 600, crashes: 0, hangs: 0, leaks: 0 },
      st.failures.join('\n'),
    );
  },
);

test(
  'guest chaos, seed 3, 120 events: no crash, no hang, the card keeps doing I/O',
  { timeout: 120_000 },
  () => {
    const st = runGuestChaos({ seed: 3, events: 120, timeLimitMs: 60_000, disk: join(dir, 'chaos.img') });
    assert.equal(st.events, 120);
    assert.equal(st.crashes, 0, st.failures.join('\n'));
    assert.equal(st.hangs, 0, st.failures.join('\n'));
    assert.ok(st.ddCompleted > 0, 'some dd completed under chaos');
    assert.equal(st.lostWrites, 0, st.failures.join('\n'));
  },
);
