// Recordings in the adapter (docs/time-travel.md, "Recordings"): the launch attribute `replay`
// opens one (its machine and fresh disk images replace the configuration's), and the request
// `mic/saveRecording {path, overwrite?}` writes the session's, by the file policy's rules for
// output files (an existing file is replaced only if it is a recording, or with overwrite).

import { homedir } from 'node:os';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineOptions } from '../emulator/buildMachine.ts';
import { diskPath } from '../emulator/buildMachine.ts';
import { checkFile, expandPath, openOutputFile } from '../emulator/hostSoftware/filePolicy.ts';
import { perCardPath } from '../emulator/hostSoftware/hostFiles.ts';
import {
  readRecording,
  RecordingError,
  writeRecording,
  type RecordedMachine,
  type Recording,
} from '../emulator/timeTravel/recordingFile.ts';
import { captureRecording, makeReplayDir, prepareReplay } from '../emulator/timeTravel/recordingSession.ts';
import type { Timeline } from '../emulator/timeTravel/timeline.ts';
import { LaunchError, type LaunchConfig } from './launchConfig.ts';

/** A replay being run: the recording, its images' folder, the machine options that rebuild it. */
export interface OpenReplay {
  recording: Recording;
  dir: string;
  options: Omit<MachineOptions, 'terminal' | 'journalFor'> & { disk: string };
}

/** Open the launch's `replay` recording and write its starting images. Throws LaunchError. */
export function openReplay(file: string): OpenReplay {
  let recording: Recording;
  try {
    recording = readRecording(file);
  } catch (e) {
    if (e instanceof RecordingError) throw new LaunchError(`launch attribute 'replay': ${e.message}`);
    throw e;
  }
  let dir: string;
  try {
    dir = makeReplayDir();
  } catch (e) {
    throw new LaunchError(
      `launch attribute 'replay': cannot make a folder for the replay's disk images: ${(e as Error).message}`,
    );
  }
  return { recording, dir, options: prepareReplay(recording, dir) };
}

/** The machine of a session, as a recording keeps it. */
function recordedMachine(c: LaunchConfig, replay: OpenReplay | null): RecordedMachine {
  if (replay) return replay.recording.machine;
  return {
    cards: c.cards,
    memoryBytes: c.cardMemoryMiB * 2 ** 20,
    stepping: c.stepping,
    autoBoot: c.autoBoot,
    diskSizeBytes: c.diskSizeMiB * 2 ** 20,
    diskReadonly: c.diskReadonly,
    diskEio: null,
    netDropEvery: 0,
  };
}

/** mic/saveRecording: the session's recording to `path`. The response body, or an error text. */
export function saveSessionRecording(
  tl: Timeline,
  c: LaunchConfig,
  replay: OpenReplay | null,
  a: Record<string, unknown>,
): unknown {
  if (typeof a.path !== 'string' || a.path === '') return 'give path: the file to write the recording to';
  const workspace = c.cwd ?? process.cwd();
  const path = expandPath(a.path, workspace, homedir());
  const bad = checkFile(path, 'recording', { workspace, overwrite: a.overwrite === true });
  if (bad) return `${path} ${bad}`;
  const m = recordedMachine(c, replay);
  const disks = Array.from({ length: m.cards }, (_, i) =>
    replay ? perCardPath(join(replay.dir, 'disk.img'), i) : diskPath({ disk: c.disk }, i),
  );
  try {
    const rec = captureRecording(tl, m, disks);
    const fd = openOutputFile(path);
    let bytes: number;
    try {
      bytes = writeRecording(fd, rec);
    } finally {
      closeSync(fd);
    }
    return {
      path,
      bytes,
      head: rec.timeline.head,
      inputs: rec.timeline.inputs.length,
      disks: rec.disks.length,
    };
  } catch (e) {
    return `cannot record this session to ${path}: ${(e as Error).message}`;
  }
}
