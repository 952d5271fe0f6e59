// The runner on a terminal: raw mode, keys go to the card console; Ctrl-] opens the host
// command prompt (`mic-emu> `), Ctrl-] twice quits.

import type { Runner } from './runner.ts';
import { runHostCommand } from './hostCommands.ts';

const CTRL_RIGHT_BRACKET = 0x1d;

export function runInteractive(r: Runner): void {
  const { machine } = r;
  const stdin = process.stdin;
  const err = process.stderr;
  stdin.setRawMode(true);
  stdin.resume();
  const restore = () => {
    if (stdin.isTTY) stdin.setRawMode(false);
  };
  process.on('exit', restore);
  err.write('mic-emu: Ctrl-] opens the host command prompt (help, status, suspend, resume, quit …)\r\n');

  let poweredOff = false;
  let commandLine: string | null = null;

  const pump = () => {
    // A step may hold up to maxInline + 1 accesses: 10,000 of them keep a key press (Ctrl-C to
    // a busy dd) within tens of milliseconds.
    const res = machine.run(10_000);
    if (res === 'limit') setImmediate(pump);
    else check();
  };
  const check = () => {
    const m = machine.mpssd[r.console];
    const allOff = machine.mpssd.every((x, i) => machine.state(i) === 'offline' && x.stoppedOnPurpose);
    if (!poweredOff && machine.state(r.console) === 'offline' && m.stoppedOnPurpose && allOff) {
      poweredOff = true;
      restore();
      err.write(`\r\nmic-emu: ${m.name} is powered off; exiting\r\n`);
      r.finish(0);
    }
  };
  const quit = () => {
    restore();
    err.write('\r\nmic-emu: detached\r\n');
    r.finish(0);
  };
  const ctx = {
    machine,
    get consoleCard() {
      return r.console;
    },
    print: (line: string) => err.write(line + '\r\n'),
    setConsole: (c: number) => {
      r.console = c;
      err.write(`mic-emu: console is now ${machine.mics[c].name} (press Enter for a prompt)\r\n`);
    },
    quit,
  };

  stdin.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (commandLine === null) {
        if (b === CTRL_RIGHT_BRACKET) {
          commandLine = '';
          err.write('\r\nmic-emu> ');
          continue;
        }
        // Forward the run of console bytes up to the next escape in one piece.
        let j = i;
        while (j < chunk.length && chunk[j] !== CTRL_RIGHT_BRACKET) j++;
        machine.consoleInput(r.console, chunk.subarray(i, j));
        i = j - 1;
        continue;
      }
      if (b === CTRL_RIGHT_BRACKET) return quit();
      if (b === 0x0d || b === 0x0a) {
        const line = commandLine;
        commandLine = null;
        err.write('\r\n');
        if (line.trim() !== '') runHostCommand(ctx, line);
      } else if (b === 0x7f || b === 0x08) {
        if (commandLine.length > 0) {
          commandLine = commandLine.slice(0, -1);
          err.write('\b \b');
        }
      } else if (b === 0x03) {
        commandLine = null;
        err.write('^C\r\n');
      } else if (b >= 0x20 && b < 0x7f) {
        commandLine += String.fromCharCode(b);
        err.write(String.fromCharCode(b));
      }
    }
    pump();
  });
  pump();
}
