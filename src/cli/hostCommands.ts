// Host-side commands a person gives the runner: Ctrl-] on a terminal opens `mic-emu>`, and in
// scripted use a line starting with `~` is one (e.g. `~suspend`, `~status`). They act like
// `echo CMD > /sys/class/mic/micN/state` and host power management.

import { HOST_COMMANDS, type HostCommand, type Machine } from '../emulator/machine.ts';
import { errName } from '../emulator/hostSoftware/hostKernel.ts';
import { SHUTDOWN_STATUS } from '../emulator/virtio/devicePage.ts';
import { checkFiles } from '../emulator/hostSoftware/filePolicy.ts';
import { resolve } from 'node:path';

export const HOST_HELP = `Host commands (Ctrl-] then the command, or a line starting with ~ on stdin):
  boot|reset|shutdown|suspend|resume [micN|all]   act on a card (default: the console's card)
  status                                          every card's state
  console micN                                    show another card's console (terminal only)
  disk micN PATH [ro]                             swap the card's disk image while it runs
                                                  (hot remove, then add the new image)
  disk-resize micN SIZE                           grow/shrink the image (e.g. 128M) and send the
                                                  card a config change with the new capacity
  quit                                            leave the emulator
  help                                            this text`;

export interface HostCommandContext {
  machine: Machine;
  consoleCard: number;
  print(line: string): void;
  setConsole?(card: number): void;
  quit(): void;
}

export function cardStatus(m: Machine, i: number): string {
  const dev = m.mics[i];
  const os = m.cardOs[i];
  const st = SHUTDOWN_STATUS[dev.shutdownStatus] ?? String(dev.shutdownStatus);
  return `${dev.name}: ${dev.state} (shutdown_status ${st}, card OS ${os.state}, stepping ${dev.stepping}, BAR0 0x${dev.bar0.toString(16)} ${dev.bar0Size / 2 ** 20} MiB, BAR4 0x${dev.bar4.toString(16)})`;
}

function parseCard(m: Machine, word: string | undefined, dflt: number): number[] | string {
  if (word === undefined) return [dflt];
  if (word === 'all') return m.mics.map((_, i) => i);
  const r = /^mic(\d+)$/.exec(word);
  if (!r || Number(r[1]) >= m.mics.length)
    return `no card '${word}' (cards: ${m.mics.map((d) => d.name).join(', ')})`;
  return [Number(r[1])];
}

/** Run one command line. Returns false if the words were not understood. */
export function runHostCommand(ctx: HostCommandContext, line: string): boolean {
  const [cmd, ...args] = line.trim().split(/\s+/);
  const m = ctx.machine;
  if (!cmd) return true;
  if (cmd === 'help' || cmd === '?') {
    for (const l of HOST_HELP.split('\n')) ctx.print(l);
    return true;
  }
  if (cmd === 'status') {
    m.mics.forEach((_, i) => ctx.print(cardStatus(m, i)));
    return true;
  }
  if (cmd === 'quit' || cmd === 'exit') {
    ctx.quit();
    return true;
  }
  if (cmd === 'console') {
    const c = parseCard(m, args[0], ctx.consoleCard);
    if (typeof c === 'string' || c.length !== 1 || !ctx.setConsole) {
      ctx.print(typeof c === 'string' ? c : 'console: name one card, on a terminal');
      return false;
    }
    ctx.setConsole(c[0]);
    return true;
  }
  if (cmd === 'disk-resize') {
    const cards = parseCard(m, args[0], ctx.consoleCard);
    const size = /^(\d+)([KMG]?)$/i.exec(args[1] ?? '');
    if (typeof cards === 'string' || cards.length !== 1 || !size) {
      ctx.print(typeof cards === 'string' ? cards : 'usage: disk-resize micN SIZE (e.g. 128M)');
      return false;
    }
    const bytes =
      Number(size[1]) *
      ({ '': 1, K: 1024, M: 2 ** 20, G: 2 ** 30 } as Record<string, number>)[size[2].toUpperCase()];
    if (bytes % 512 !== 0 || bytes === 0) {
      ctx.print('disk-resize: SIZE must be a positive multiple of 512 bytes');
      return false;
    }
    const t = m.resizeDisk(cards[0], bytes);
    if (!t) ctx.print(`${m.mics[cards[0]].name} has no disk`);
    else
      t.onDone = (task) => {
        const rc = task.result;
        if (typeof rc === 'number' && rc < 0)
          ctx.print(`${m.mics[cards[0]].name}: disk-resize: ${errName(rc)}`);
      };
    return true;
  }
  if (cmd === 'disk') {
    const cards = parseCard(m, args[0], ctx.consoleCard);
    if (typeof cards === 'string' || cards.length !== 1 || !args[1]) {
      ctx.print(typeof cards === 'string' ? cards : 'usage: disk micN PATH [ro]');
      return false;
    }
    if (args[2] !== undefined && args[2] !== 'ro') {
      ctx.print(`disk: '${args[2]}' is not ro (usage: disk micN PATH [ro])`);
      return false;
    }
    const path = resolve(args[1]);
    const readonly = args[2] === 'ro';
    // The file policy of --disk: a text file is not swapped in for the card to overwrite.
    const bad = checkFiles([{ label: 'disk', path, role: 'disk' }], { workspace: process.cwd(), readonly });
    if (bad) {
      ctx.print(`${m.mics[cards[0]].name}: ${bad}; the disk is not swapped`);
      return false;
    }
    const old = m.mpssd[cards[0]].backends.find((b) => b.kind === 'block') as
      { disk?: { sizeBytes: number } } | undefined;
    const name = m.mics[cards[0]].name;
    m.swapDisk(cards[0], { path, sizeBytes: old?.disk?.sizeBytes ?? 64 * 2 ** 20, readonly }).onDone = (
      _t,
      err,
    ) => {
      const failed = m.fileErrors().find((f) => f.card === cards[0] && f.role === 'disk');
      if (err !== undefined) ctx.print(`${name}: disk: internal error`);
      else if (failed) ctx.print(`${name}: disk: ${failed.path} cannot be opened: ${failed.message}`);
    };
    return true;
  }
  if ((HOST_COMMANDS as readonly string[]).includes(cmd)) {
    const cards = parseCard(m, args[0], ctx.consoleCard);
    if (typeof cards === 'string') {
      ctx.print(cards);
      return false;
    }
    for (const i of cards) {
      const name = m.mics[i].name;
      const t = m.hostCommand(i, cmd as HostCommand);
      t.onDone = (task, err) => {
        const rc = task.result;
        if (err !== undefined) ctx.print(`${name}: ${cmd}: internal error`);
        else if (typeof rc === 'number' && rc < 0)
          ctx.print(`${name}: ${cmd}: ${errName(rc)} (state ${m.mics[i].state})`);
      };
    }
    return true;
  }
  ctx.print(`unknown host command '${cmd}' (try help)`);
  return false;
}
