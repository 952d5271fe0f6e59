// Which card commands make sense in which card state (the sysfs state file and host power
// management, as the Linux host driver and mpssd accept them). The commands, the palette and the
// Cards view's menus offer only these; anything else is answered in words before it reaches the
// host, so our own UI never provokes a §9 misuse stop (a "boot" written while the card is online
// is one: the emulated host refuses it with -EINVAL and reports it). Pure.

import type { HostCommand } from './requests.ts';

const ALLOWED: Readonly<Record<HostCommand, readonly string[]>> = {
  boot: ['offline'],
  reset: ['online', 'shutting_down', 'reset_failed', 'suspended'],
  shutdown: ['online'],
  suspend: ['online'],
  resume: ['suspended'],
};

const NEEDS: Readonly<Record<HostCommand, string>> = {
  boot: 'an offline card (Shutdown or Reset it first)',
  reset: 'a card that is not offline (Boot it instead)',
  shutdown: 'an online card',
  suspend: 'an online card',
  resume: 'a suspended card',
};

const TITLE: Readonly<Record<HostCommand, string>> = {
  boot: 'Boot',
  reset: 'Reset',
  shutdown: 'Shutdown',
  suspend: 'Suspend',
  resume: 'Resume',
};

export function allowed(command: HostCommand, state: string): boolean {
  return ALLOWED[command].includes(state);
}

/** The commands that make sense for a card in `state`. */
export function allowedCommands(state: string): HostCommand[] {
  return (Object.keys(ALLOWED) as HostCommand[]).filter((c) => allowed(c, state));
}

/** Why `command` is not offered now: `mic0 is online: Boot needs an offline card …`; null if it is. */
export function refusal(card: number, state: string, command: HostCommand): string | null {
  if (allowed(command, state)) return null;
  return `mic${card} is ${state}: ${TITLE[command]} needs ${NEEDS[command]}.`;
}
