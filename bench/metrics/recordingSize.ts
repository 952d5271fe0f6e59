// The size of a recording (docs/time-travel.md, "Recordings") of a long console + block session:
// a booted card on a fresh image, lines typed at its shell — echo, a dd that writes 64 KiB, a
// sync, a hexdump that reads what the dd wrote, each its own input — until the timeline holds
// 10 M events; then the recording, as mic/saveRecording and --record write it. Disk bytes are
// kept only for what was read before it was written (here: almost nothing), so the file is the
// inputs, one hash checkpoint per 65,536 events, and the configuration. Target (issue 16):
// ≤ 1 MB for 10 M events.

import * as path from 'node:path';
import { buildMachine } from '../../src/emulator/buildMachine.ts';
import { Timeline } from '../../src/emulator/timeTravel/timeline.ts';
import { encodeRecording, type RecordedMachine } from '../../src/emulator/timeTravel/recordingFile.ts';
import { captureRecording } from '../../src/emulator/timeTravel/recordingSession.ts';
import type { MetricResult } from '../lib/result.ts';
import { tmpDir } from '../lib/machine.ts';

const EVENTS = Number(process.env.MIC_BENCH_RECORDING_EVENTS ?? 10_000_000);

export function recordingSize(): MetricResult {
  const image = path.join(tmpDir('recording'), 'disk.img');
  const machine: RecordedMachine = {
    cards: 1,
    memoryBytes: 8 * 2 ** 30,
    stepping: 'C0',
    autoBoot: true,
    diskSizeBytes: 64 * 2 ** 20,
    diskReadonly: false,
    diskEio: null,
    netDropEvery: 0,
  };
  const tl = new Timeline({
    observeSelf: true,
    build: (journalFor) =>
      buildMachine({ ...machine, disk: image, pcap: null, journalFor, terminal: () => ({ write: () => {} }) })
        .machine,
  });
  const m = tl.machine;
  m.start();
  if (!m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle)) throw new Error('did not boot');
  m.run();
  const t0 = performance.now();
  const type = (line: string) => {
    m.consoleInput(0, new TextEncoder().encode(line + '\r'));
    m.run();
  };
  for (let i = 0; tl.head < EVENTS; i++) {
    const at = (i % 512) * 128; // 64 KiB steps over the first 32 MiB
    type(`echo line ${i}`);
    type(`dd if=pattern:${(0x10000 + i).toString(16)} of=/dev/vda bs=512 count=128 seek=${at}`);
    type('sync');
    type(`hexdump /dev/vda ${at * 512} 256`);
  }
  const runMs = performance.now() - t0;
  const rec = captureRecording(tl, machine, [image]);
  const bytes = encodeRecording(rec).length;
  const diskBytes = rec.disks.reduce((n, d) => n + d.data.length, 0);
  tl.dispose();
  const per10M = (bytes * 10_000_000) / tl.head;
  return {
    metric: 'recording size',
    what: 'the recording of a 10 M-event console + block session (echo, dd 64 KiB, sync, hexdump per round)',
    value: per10M / 1e6,
    unit: 'MB per 10 M events',
    baseline: null,
    ratio: null,
    target: '≤ 1 MB per 10 M events',
    pass: per10M <= 1e6,
    notes: {
      events: tl.head,
      inputs: rec.timeline.inputs.length,
      'file bytes': bytes,
      'disk data bytes (base64)': diskBytes,
      checkpoints: rec.timeline.checkpoints.length,
      'session s': Math.round(runMs / 100) / 10,
    },
  };
}
