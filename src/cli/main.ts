// Headless runner: boot the host and its cards, show boot progress, and connect this terminal
// (or a pipe) to one card's virtio console.

import type { Machine } from '../emulator/machine.ts';
import { buildMachine, MachineOptionError, type BuiltMachine } from '../emulator/buildMachine.ts';
import { HELP, UsageError, parseArgs, type CliOptions } from './options.ts';
import { checkFiles, type NamedFile } from '../emulator/hostSoftware/filePolicy.ts';
import { defaultDiskPath, perCardPath } from '../emulator/hostSoftware/hostFiles.ts';
import { homedir } from 'node:os';
import { ProgressReporter } from './progress.ts';
import { runInteractive } from './interactive.ts';
import { runPiped } from './piped.ts';
import type { Runner } from './runner.ts';
import { openOutputFile } from '../emulator/hostSoftware/filePolicy.ts';
import { PerfettoFile } from '../emulator/sim/trace/perfettoFile.ts';
import type { Timeline } from '../emulator/timeTravel/timeline.ts';
import { recordedBuild, runReplay, saveRecording } from './recording.ts';

function main(): void {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mic-emu: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  if (opts.version) {
    process.stdout.write('mic-emu 0.1.0\n');
    return;
  }
  const out = process.stdout;
  // On a pipe, "\r\n" from the card tty becomes "\n" so the text diffs cleanly.
  const cook = (b: Uint8Array): Uint8Array | string =>
    out.isTTY
      ? b
      : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
          .toString('latin1')
          .replace(/\r\n/g, '\n')
          .replace(/\r/g, '');
  if (opts.replay) {
    void runReplay(opts.replay, opts.console, (b) => void out.write(cook(b) as never)).then((r) => {
      if (r.message) process.stderr.write(`mic-emu: ${r.message}\n`);
      process.exitCode = r.code;
    });
    return;
  }
  const runner: Runner = {
    machine: null as unknown as Machine,
    opts,
    console: opts.console,
    finish: () => {},
  };
  // Every file by the file policy (README: "Files the emulator opens"), before anything opens.
  const files: NamedFile[] = [];
  const label = (opt: string, i: number) => (i === 0 ? opt : `${opt} (mic${i}'s file)`);
  for (let i = 0; i < opts.cards; i++) {
    files.push({
      label: label('--disk', i),
      path: perCardPath(opts.disk ?? defaultDiskPath(process.env, homedir()), i),
      role: 'disk',
    });
    if (opts.pcap) files.push({ label: label('--pcap', i), path: perCardPath(opts.pcap, i), role: 'pcap' });
  }
  if (opts.trace) files.push({ label: '--trace', path: opts.trace, role: 'trace' });
  if (opts.perfetto) files.push({ label: '--perfetto', path: opts.perfetto, role: 'perfetto' });
  if (opts.record) files.push({ label: '--record', path: opts.record, role: 'recording' });
  const bad = checkFiles(files, {
    workspace: process.cwd(),
    overwrite: opts.overwrite,
    readonly: opts.diskReadonly,
  });
  if (bad) {
    process.stderr.write(`mic-emu: ${bad}\n`);
    process.exit(2);
  }
  let built: BuiltMachine;
  // --record: the session runs on a Timeline, which keeps its inputs and what it read of the disks.
  let timeline: Timeline | null = null;
  try {
    const build = opts.record
      ? (o: Parameters<typeof buildMachine>[0]) => {
          const r = recordedBuild(o);
          timeline = r.timeline;
          return r.built;
        }
      : buildMachine;
    built = build({
      cards: opts.cards,
      memoryBytes: opts.memoryBytes,
      stepping: opts.stepping,
      disk: opts.disk,
      diskSizeBytes: opts.diskSizeBytes,
      diskReadonly: opts.diskReadonly,
      diskEio: opts.diskEio,
      pcap: opts.pcap,
      netDropEvery: opts.netDropEvery,
      trace: opts.trace,
      // A failed write (disk full) stops the trace mid-run: one line, then the run ends with 2,
      // its disk images flushed; the error arrives inside a machine step, so the end comes after it.
      onTraceError: (e) => {
        process.stderr.write(`mic-emu: --trace: ${e.message}\n`);
        setImmediate(() => runner.finish(2));
      },
      terminal: (i) => ({
        write: (b) => (i === runner.console ? void out.write(cook(b) as never) : undefined),
      }),
    });
  } catch (e) {
    // A trace file or default cache directory that cannot be made: one line, exit 2, nothing booted.
    if (!(e instanceof MachineOptionError)) throw e;
    const what =
      e.option === 'disk' && !opts.disk
        ? `cannot create the directory of the default disk image:`
        : `--${e.option}:`;
    process.stderr.write(`mic-emu: ${what} ${e.message}\n`);
    process.exit(2);
  }
  const { machine, trace } = built;
  runner.machine = machine;
  if (trace) machine.spine.observe(trace.observer);
  // --perfetto: every event from start to exit; a failed write ends the run like --trace's.
  let perfetto: PerfettoFile | null = null;
  if (opts.perfetto) {
    try {
      perfetto = new PerfettoFile(openOutputFile(opts.perfetto), (e) => {
        process.stderr.write(`mic-emu: --perfetto: ${e.message}\n`);
        setImmediate(() => runner.finish(2));
      });
    } catch (e) {
      process.stderr.write(`mic-emu: --perfetto: ${(e as Error).message}\n`);
      machine.dispose();
      trace?.close();
      process.exit(2);
    }
    machine.spine.observe(perfetto.observer);
  }
  const progress = new ProgressReporter(machine, process.stderr);
  machine.start();

  // Once only: in piped mode two step chains (stdin 'data' and 'end') can both reach the end of
  // input, and a failed trace asks for the end from its own tick.
  let finished = false;
  runner.finish = (code: number) => {
    if (finished) return;
    finished = true;
    progress.flush();
    const tl = timeline as Timeline | null;
    if (tl && opts.record) {
      const bad = saveRecording(tl, opts, opts.record);
      if (bad) process.stderr.write(`mic-emu: ${bad}\n`);
      if (bad && code === 0) code = 2;
      tl.dispose();
    } else machine.dispose();
    trace?.close();
    perfetto?.close();
    process.exit(trace?.error || perfetto?.error ? 2 : code);
  };

  if (process.stdin.isTTY === true) runInteractive(runner);
  else runPiped(runner);
}

main();
