// What enters the machine from outside: console keys, host commands, disk swaps and resizes,
// writes made by the debugger. The machine is deterministic, so these (with the sequence number
// at which each entered) and its configuration are all it takes to run it again to any moment:
// time travel records them (timeTravel/) and replays them.

import type { DiskConfig } from './hostSoftware/mpssd/blockBackend.ts';

/** The host commands a person can give a card: sysfs state writes and host power management. */
export const HOST_COMMANDS = ['boot', 'reset', 'shutdown', 'suspend', 'resume'] as const;
export type HostCommand = (typeof HOST_COMMANDS)[number];

export type MachineInput =
  | { kind: 'console'; card: number; bytes: Uint8Array }
  | { kind: 'host'; card: number; command: HostCommand }
  | { kind: 'swapDisk'; card: number; disk: DiskConfig }
  | { kind: 'resizeDisk'; card: number; bytes: number }
  | {
      kind: 'debugWrite';
      region: 'host' | 'gddr' | 'mmio';
      card: number;
      address: number;
      data: Uint8Array;
      side: 'host' | 'card';
    };

/**
 * An input and where the machine was when it entered: after event `seq` and `quiet` scheduler
 * steps that made no event (its own `input` event comes next).
 */
export interface TimedInput {
  seq: number;
  quiet: number;
  input: MachineInput;
  /** The virtual time (ns) when it entered (for people and lists; `quiet` places it exactly). */
  time?: number;
}

/** In words, for lists and warnings: `keys "ls\r" on mic0`, `host command boot on mic1` … */
export function inputWords(i: MachineInput): string {
  switch (i.kind) {
    case 'console':
      return `keys ${JSON.stringify(new TextDecoder().decode(i.bytes))} on mic${i.card}`;
    case 'host':
      return `host command ${i.command} on mic${i.card}`;
    case 'swapDisk':
      return `disk swap to ${i.disk.path} on mic${i.card}`;
    case 'resizeDisk':
      return `disk resize to ${i.bytes} bytes on mic${i.card}`;
    case 'debugWrite':
      return `debugger write of ${i.data.length} byte${i.data.length === 1 ? '' : 's'} at ${i.region === 'host' ? 'host' : `mic${i.card}.${i.region === 'mmio' ? 'bar4' : 'gddr'}`}+0x${i.address.toString(16)}`;
  }
}
