// Headless runner: boot the host and its cards, show boot progress, and connect this terminal
// (or a pipe) to one card's virtio console.

import { mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { defaultDiskPath, perCardPath } from '../emulator/hostSoftware/hostFiles.ts';
import { Machine } from '../emulator/machine.ts';
import { createTraceWriter, type TraceSink } from '../emulator/sim/trace/traceSink.ts';
import { HELP, STEPPING_REVISION, UsageError, parseArgs, type CliOptions } from './options.ts';
import { ProgressReporter } from './progress.ts';
import { runInteractive } from './interactive.ts';
import { runPiped } from './piped.ts';
import type { Runner } from './runner.ts';

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
    out.isTTY ? b : Buffer.from(b).toString('latin1').replace(/\r\n/g, '\n').replace(/\r/g, '');
  const runner: Runner = {
    machine: null as unknown as Machine,
    opts,
    console: opts.console,
    finish: () => {},
  };
  const diskBase = opts.disk ?? defaultDiskPath(process.env, homedir());
  if (!opts.disk) {
    try {
      mkdirSync(dirname(diskBase), { recursive: true });
    } catch (e) {
      process.stderr.write(
        `mic-emu: cannot create ${dirname(diskBase)} for the default disk image: ${(e as Error).message}\n`,
      );
      process.exit(2);
    }
  }
  const machine = new Machine({
    cards: opts.cards,
    cardMemoryBytes: opts.memoryBytes,
    revision: STEPPING_REVISION[opts.stepping],
    disk: (i) => ({
      path: perCardPath(diskBase, i),
      sizeBytes: opts.diskSizeBytes,
      readonly: opts.diskReadonly,
      eioSectors: opts.diskEio,
    }),
    pcap: (i) => (opts.pcap ? perCardPath(opts.pcap, i) : null),
    netDropEvery: opts.netDropEvery,
    terminal: (i) => ({
      write: (b) => (i === runner.console ? void out.write(cook(b) as never) : undefined),
    }),
  });
  runner.machine = machine;
  let trace: TraceSink | null = null;
  if (opts.trace) {
    // Open now, so a bad path is one line and exit 2 before anything boots.
    let fd: number;
    try {
      fd = openSync(opts.trace, 'w');
    } catch (e) {
      process.stderr.write(`mic-emu: --trace: ${(e as Error).message}\n`);
      process.exit(2);
    }
    // A failed write (disk full) stops the trace mid-run: one line, then the run ends with 2,
    // its disk images flushed; the error arrives inside a machine step, so the end comes after it.
    trace = createTraceWriter(fd, (e) => {
      process.stderr.write(`mic-emu: --trace: ${e.message}\n`);
      setImmediate(() => runner.finish(2));
    });
    machine.spine.observe(trace.observer);
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
    machine.dispose();
    trace?.close();
    process.exit(trace?.error ? 2 : code);
  };

  if (process.stdin.isTTY === true) runInteractive(runner);
  else runPiped(runner);
}

main();
