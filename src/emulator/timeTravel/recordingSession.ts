// From a running session to a recording, and from a recording back to a session: what the
// adapter (mic/saveRecording, launch `replay`) and the CLI (--record, --replay) share.
//
// A replay runs on fresh disk images in a folder of its own, made in the user's cache directory
// (~/.cache/mic-emu/replay-XXXXXX) and removed when the session ends: each holds the recorded
// starting bytes and zeros elsewhere, which is all the recorded session could observe.

import * as fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BlockBackend } from '../hostSoftware/mpssd/blockBackend.ts';
import { cacheDir, perCardPath } from '../hostSoftware/hostFiles.ts';
import type { MachineOptions } from '../buildMachine.ts';
import type { Timeline } from './timeline.ts';
import { StartingContent } from './startingContent.ts';
import {
  chunkRanges,
  packDiskData,
  RecordingError,
  writeStartingImage,
  type RecordedDisk,
  type RecordedMachine,
  type Recording,
} from './recordingFile.ts';
import { CHUNK } from './imageReads.ts';

/**
 * The recording of timeline `tl` as it is now (its whole recorded timeline, up to its head).
 * `diskPaths[i]` is card i's disk image. Throws RecordingError when something cannot be
 * recorded (a disk swap, an image the timeline did not follow).
 */
export function captureRecording(tl: Timeline, machine: RecordedMachine, diskPaths: string[]): Recording {
  const journals = tl.diskJournals();
  const disks: RecordedDisk[] = [];
  diskPaths.forEach((path, card) => {
    const j = journals.find((x) => x.image === path);
    if (!j) throw new RecordingError(`mic${card}'s disk image ${path} is not followed by the timeline`);
    const start = new StartingContent(j);
    const ranges = chunkRanges(j.reads.needed, start.size);
    const parts: Buffer[] = [];
    for (const [pos, len] of ranges)
      for (let at = pos; at < pos + len; at += 64 * CHUNK)
        parts.push(start.read(at, Math.min(64 * CHUNK, pos + len - at)));
    const backend = tl.machine.mpssd[card]?.backend<BlockBackend>('block');
    disks.push({
      card,
      size: start.size,
      sha256: start.sha256(),
      readonly: backend?.readOnly ?? machine.diskReadonly,
      ranges,
      data: packDiskData(parts),
    });
  });
  return { machine, timeline: tl.recorded(), disks };
}

/** A folder for a replay's disk images, in the user's cache directory. */
export function makeReplayDir(
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
): string {
  const base = cacheDir(env, home);
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(join(base, 'replay-'));
}

/**
 * Write the recording's starting disk images into `dir` and return the machine options that
 * rebuild its machine on them (the caller adds terminal and journalFor).
 */
export function prepareReplay(
  rec: Recording,
  dir: string,
): Omit<MachineOptions, 'terminal' | 'journalFor'> & { disk: string } {
  const m = rec.machine;
  const base = join(dir, 'disk.img');
  for (let card = 0; card < m.cards; card++) {
    const d = rec.disks.find((x) => x.card === card);
    const path = perCardPath(base, card);
    if (d) writeStartingImage(d, path);
  }
  return {
    cards: m.cards,
    memoryBytes: m.memoryBytes,
    stepping: m.stepping,
    autoBoot: m.autoBoot,
    disk: base,
    diskSizeBytes: m.diskSizeBytes,
    diskReadonly: m.diskReadonly,
    diskEio: m.diskEio,
    pcap: null,
    netDropEvery: m.netDropEvery,
  };
}

/** The replay is over: its folder and images go. */
export function removeReplayDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
