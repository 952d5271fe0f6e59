// The composition root of the card's software, as a kernel config and an initramfs are on
// Linux: which drivers the card OS has besides the console, which shell commands userland has,
// and that init starts a login shell on hvc0. One line per module. Drivers and the kernel
// object never import the shell; only this file joins them.

import { steppingName } from '../card/pciConfig.ts';
import { X100_DEFAULT_CPU } from '../card/x100Cpu.ts';
import type { Routine } from '../sim/scheduler.ts';
import { MIC_HALTED, MIC_POWER_OFF, MIC_RESTART } from '../virtio/devicePage.ts';
import { VIRTIO_ID_BLOCK } from '../virtio/virtioIds.ts';
import type { CardOs } from './cardOs.ts';
import { blockCommands } from './shell/blockCommands.ts';
import { netCommands } from './shell/netCommands.ts';
import { Shell, type ShellCommand, type ShellHost } from './shell/shell.ts';
import { virtioBlockFactory } from './virtioBlock.ts';
import { installVirtioNet } from './virtioNet.ts';

export function installCardModules(os: CardOs): void {
  os.extraDrivers.set(VIRTIO_ID_BLOCK, virtioBlockFactory);
  const net = installVirtioNet(os);
  const commands: Record<string, ShellCommand> = {
    panic: {
      help: 'simulate a kernel crash (the panic notifier reports it to the host)',
      run: (args) => {
        os.panic(args.length ? args.join(' ') : 'sysrq triggered crash');
        return 0;
      },
    },
    ...blockCommands(os),
    ...netCommands(net),
  };
  os.init = () => new Shell(shellHost(os, commands));
}

/** The kernel as the shell sees it (its system calls and /proc sources). */
function shellHost(os: CardOs, commands: Record<string, ShellCommand>): ShellHost {
  return {
    write: (t) => os.ttyWrite(t),
    uname: () => ({
      sysname: 'Linux',
      nodename: os.name,
      release: os.identity?.release ?? '',
      version: os.identity?.version ?? '',
      machine: os.identity?.machine ?? '',
    }),
    dmesg: () => os.dmesg(),
    devices: () => os.devices(),
    cpu: () => ({
      ...X100_DEFAULT_CPU,
      cores: os.opts.cores,
      threadsPerCore: os.opts.threadsPerCore,
      stepping: steppingName(os.card.config.revision),
    }),
    memTotalKiB: () => Math.floor(os.card.gddr.size / 1024),
    uptimeNs: () => os.sched.now - os.bootTime,
    poweroff: () => os.shutdown(MIC_POWER_OFF),
    reboot: () => os.shutdown(MIC_RESTART),
    halt: () => os.shutdown(MIC_HALTED),
    extraCommands: () => commands,
    internalError: (err) => os.internalError('sh', err),
    cmdline: () => os.cmdline,
    spawn: (cmd, done) => {
      const t = os.spawn('sh', cmd as Routine<unknown>);
      const prev = t.onDone;
      t.onDone = (task, err) => {
        prev?.(task, err);
        const st = task.result;
        done(err !== undefined ? 1 : typeof st === 'number' ? st : 0);
      };
    },
  };
}
