// Shell commands that do real block I/O through the card's virtio_blk driver: `dd` (dd.ts),
// `hexdump` (hexdump.ts) and `sync` (FLUSH, here). They are asynchronous: each returns a
// routine the card OS runs as a task; the prompt comes back when it ends.

import { strerror } from '../../errno.ts';
import { call, type Routine } from '../../sim/scheduler.ts';
import type { CardOs } from '../cardOs.ts';
import { blockDevice, blockDevices, type VirtioBlock } from '../virtioBlock.ts';
import { ddCommand } from './dd.ts';
import { quote } from './format.ts';
import { hexdumpCommand } from './hexdump.ts';
import type { Shell, ShellCommand } from './shell.ts';

class Sync {
  constructor(readonly os: CardOs) {}

  run(args: string[], sh: Shell): number | Routine<number> {
    const devs: { path: string; dev: VirtioBlock }[] = [];
    for (const a of args) {
      const dev = /^\/dev\/vd[a-z]$/.test(a) ? blockDevice(this.os, a.slice(5)) : undefined;
      if (!dev) {
        sh.print(`sync: error opening ${quote(a)}: No such file or directory\n`);
        return 1;
      }
      devs.push({ path: a, dev });
    }
    if (args.length === 0)
      for (const dev of blockDevices(this.os)) devs.push({ path: `/dev/${dev.diskName}`, dev });
    if (devs.length === 0) return 0;
    return this.flushAll(devs, sh, args.length > 0);
  }

  private *flushAll(devs: { path: string; dev: VirtioBlock }[], sh: Shell, named: boolean): Routine<number> {
    let exit = 0;
    for (const { path, dev } of devs) {
      const rc: number = yield call(dev.flush());
      if (rc < 0) {
        // sync(2) reports nothing; `sync FILE` (fsync) does.
        if (named) sh.print(`sync: error syncing ${quote(path)}: ${strerror(rc)}\n`);
        exit = 1;
      }
    }
    return exit;
  }
}

/** The block shell commands, keyed by name (wired in cardModules.ts). */
export function blockCommands(os: CardOs): Record<string, ShellCommand> {
  const sync = new Sync(os);
  return {
    dd: ddCommand(os),
    hexdump: hexdumpCommand(os),
    sync: {
      help: 'flush the block devices (virtio-blk FLUSH)',
      run: (args, sh) => sync.run(args, sh),
    },
  };
}
