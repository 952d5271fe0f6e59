// The CLI's recordings (docs/time-travel.md, "Recordings"): --record FILE keeps the session on
// a Timeline and writes its recording at exit; --replay FILE runs a recording to its end on
// fresh disk images in a folder of the cache directory (removed afterwards), the console output
// as it was. A bad file is one line and exit 2; a replay that went another way, one line and 1.

import {
  buildMachine,
  MachineOptionError,
  type BuiltMachine,
  type MachineOptions,
} from '../emulator/buildMachine.ts';
import { openOutputFile } from '../emulator/hostSoftware/filePolicy.ts';
import { Timeline } from '../emulator/timeTravel/timeline.ts';
import {
  readRecording,
  RecordingError,
  writeRecording,
  type RecordedMachine,
} from '../emulator/timeTravel/recordingFile.ts';
import {
  captureRecording,
  makeReplayDir,
  prepareReplay,
  removeReplayDir,
} from '../emulator/timeTravel/recordingSession.ts';
import { diskPath } from '../emulator/buildMachine.ts';
import { closeSync } from 'node:fs';
import type { CliOptions } from './options.ts';

/** Build the machine on a Timeline (its inputs and disk reads recorded). Throws as buildMachine does. */
export function recordedBuild(o: Omit<MachineOptions, 'journalFor'>): {
  timeline: Timeline;
  built: BuiltMachine;
} {
  let built: BuiltMachine | null = null;
  const timeline = new Timeline({
    observeSelf: true,
    build: (journalFor) => (built = buildMachine({ ...o, journalFor })).machine,
  });
  return { timeline, built: built! };
}

/** The machine part of the CLI's options, as a recording keeps it. */
export function recordedMachine(opts: CliOptions): RecordedMachine {
  return {
    cards: opts.cards,
    memoryBytes: opts.memoryBytes,
    stepping: opts.stepping,
    autoBoot: true,
    diskSizeBytes: opts.diskSizeBytes,
    diskReadonly: opts.diskReadonly,
    diskEio: opts.diskEio,
    netDropEvery: opts.netDropEvery,
  };
}

/** Write the recording of `timeline` to `file` (checked by the file policy before). Null, or the error line. */
export function saveRecording(timeline: Timeline, opts: CliOptions, file: string): string | null {
  try {
    const paths = Array.from({ length: opts.cards }, (_, i) => diskPath({ disk: opts.disk }, i));
    const rec = captureRecording(timeline, recordedMachine(opts), paths);
    const fd = openOutputFile(file);
    try {
      writeRecording(fd, rec);
    } finally {
      closeSync(fd);
    }
    return null;
  } catch (e) {
    return `--record: ${file}: ${(e as Error).message}`;
  }
}

/**
 * --replay FILE: run the recording to its head, `write` getting console card `card`'s output.
 * Returns the exit code and, when not 0, the line to say.
 */
export function runReplay(
  file: string,
  card: number,
  write: (b: Uint8Array) => void,
): Promise<{ code: number; message?: string }> {
  let rec;
  try {
    rec = readRecording(file);
  } catch (e) {
    if (e instanceof RecordingError) return Promise.resolve({ code: 2, message: `--replay: ${e.message}` });
    throw e;
  }
  if (card >= rec.machine.cards)
    return Promise.resolve({
      code: 2,
      message: `--console: mic${card} does not exist in ${file} (${rec.machine.cards} card${rec.machine.cards === 1 ? '' : 's'})`,
    });
  const dir = makeReplayDir();
  let timeline: Timeline | null = null;
  const end = (r: { code: number; message?: string }) => {
    timeline?.dispose();
    removeReplayDir(dir);
    return r;
  };
  try {
    const o = prepareReplay(rec, dir);
    timeline = new Timeline({
      observeSelf: true,
      recorded: rec.timeline,
      build: (journalFor) =>
        buildMachine({
          ...o,
          journalFor,
          terminal: (i) => ({ write: (b) => (i === card ? write(b) : undefined) }),
        }).machine,
    });
  } catch (e) {
    if (e instanceof MachineOptionError || e instanceof RecordingError)
      return Promise.resolve(end({ code: 2, message: `--replay: ${file}: ${e.message}` }));
    throw e;
  }
  const tl = timeline;
  tl.machine.start();
  const g = tl.seek(rec.timeline.head);
  return new Promise((resolve) => {
    const step = () => {
      try {
        if (!g.next().done) return void setImmediate(step);
        resolve(end({ code: 0 }));
      } catch (e) {
        resolve(end({ code: 1, message: `--replay: ${file}: ${(e as Error).message}` }));
      }
    };
    step();
  });
}
