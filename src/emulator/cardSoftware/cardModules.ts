// Drivers and shell commands the card OS has besides the console: one line per module.

import type { CardOs } from './cardOs.ts';

export function installCardModules(os: CardOs): void {
  void os;
}
