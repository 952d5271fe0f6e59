// Headless runner: boot the host and its cards, show boot progress, and connect this terminal
// (or a pipe) to one card's virtio console.

import { createWriteStream, type WriteStream } from 'node:fs';
import { Machine } from '../emulator/machine.ts';
import { traceRecorder } from '../emulator/sim/traceRecorder.ts';
import { HELP, STEPPING_REVISION, UsageError, parseArgs, type CliOptions } from './options.ts';
import { ProgressReporter } from './progress.ts';

const CTRL_RIGHT_BRACKET = 0x1d;

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
  const interactive = process.stdin.isTTY === true;
  const out = process.stdout;
  // On a pipe, "\r\n" from the card tty becomes "\n" so the text diffs cleanly.
  const cook = (b: Uint8Array): Uint8Array | string =>
    out.isTTY ? b : Buffer.from(b).toString('latin1').replace(/\r\n/g, '\n').replace(/\r/g, '');
  const machine = new Machine({
    cards: opts.cards,
    cardMemoryBytes: opts.memoryBytes,
    revision: STEPPING_REVISION[opts.stepping],
    terminal: (i) => ({ write: (b) => (i === opts.console ? void out.write(cook(b) as never) : undefined) }),
  });
  let trace: WriteStream | null = null;
  let traceBuf = '';
  if (opts.trace) {
    trace = createWriteStream(opts.trace);
    trace.on('error', (e) => {
      process.stderr.write(`mic-emu: --trace: ${e.message}\n`);
      process.exit(2);
    });
    machine.spine.observe(
      traceRecorder((line) => {
        traceBuf += line;
        if (traceBuf.length > 1 << 16) {
          trace!.write(traceBuf);
          traceBuf = '';
        }
      }),
    );
  }
  const progress = new ProgressReporter(machine, process.stderr, opts.console);
  machine.start();

  const finish = (code: number) => {
    progress.flush();
    if (trace) {
      trace.end(traceBuf, () => process.exit(code));
      traceBuf = '';
    } else process.exit(code);
  };

  if (interactive) runInteractive(machine, opts, finish);
  else runPiped(machine, opts, finish);
}

/** Run the machine in slices so the event loop stays responsive to keys. */
function pump(machine: Machine, after?: () => void): void {
  const r = machine.run(200_000);
  if (r === 'limit') setImmediate(() => pump(machine, after));
  else after?.();
}

function runInteractive(machine: Machine, opts: CliOptions, finish: (code: number) => void): void {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  const restore = () => {
    if (stdin.isTTY) stdin.setRawMode(false);
  };
  process.on('exit', restore);
  process.stderr.write('mic-emu: Ctrl-] quits\r\n');
  let poweredOff = false;
  stdin.on('data', (chunk: Buffer) => {
    const i = chunk.indexOf(CTRL_RIGHT_BRACKET);
    if (i >= 0) {
      if (i > 0) machine.consoleInput(opts.console, chunk.subarray(0, i));
      restore();
      process.stderr.write('\r\nmic-emu: detached\r\n');
      finish(0);
      return;
    }
    machine.consoleInput(opts.console, chunk);
    pump(machine, check);
  });
  const check = () => {
    const m = machine.mpssd[opts.console];
    if (!poweredOff && machine.state(opts.console) === 'offline' && m.stoppedOnPurpose) {
      poweredOff = true;
      restore();
      process.stderr.write(`\r\nmic-emu: ${m.name} is powered off; exiting\r\n`);
      finish(0);
    }
  };
  pump(machine, check);
}

function runPiped(machine: Machine, opts: CliOptions, finish: (code: number) => void): void {
  const lines: string[] = [];
  let ended = false;
  let partial = '';
  let busy = false;
  const card = opts.console;
  const os = machine.cardOs[card];

  const step = () => {
    if (busy) return;
    busy = true;
    // Let the machine settle (boot, or the previous line's output) before typing more.
    const r = machine.run(200_000);
    busy = false;
    if (r === 'limit') {
      setImmediate(step);
      return;
    }
    if (!os.shell) {
      if (ended || machine.state(card) !== 'online') {
        process.stderr.write(
          `mic-emu: ${machine.mics[card].name} did not come up (state ${machine.state(card)})\n`,
        );
        finish(1);
      }
      return;
    }
    if (lines.length > 0) {
      const line = lines.shift()!;
      machine.consoleInput(card, new TextEncoder().encode(line + '\n'));
      setImmediate(step);
      return;
    }
    if (ended) shutdownAndExit();
  };

  const shutdownAndExit = () => {
    // Orderly: host writes `shutdown`, the card powers off, mpssd resets it to offline.
    if (machine.state(card) === 'online' && !os.shell?.stopped) machine.hostCommand(card, 'shutdown');
    const wait = () => {
      const r = machine.run(200_000);
      const st = machine.state(card);
      if (st === 'offline' && machine.mpssd[card].stoppedOnPurpose && r === 'idle') return finish(0);
      if (r === 'limit') return void setImmediate(wait);
      if (st === 'offline' || st === 'reset_failed') return finish(st === 'offline' ? 0 : 1);
      process.stderr.write(`mic-emu: card stuck in state ${st}\n`);
      finish(1);
    };
    wait();
  };

  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts.map((l) => l.replace(/\r$/, '')));
    step();
  });
  process.stdin.on('end', () => {
    if (partial) lines.push(partial);
    partial = '';
    ended = true;
    step();
  });
  step();
}

main();
