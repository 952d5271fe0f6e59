// Drivers and shell commands the card OS has besides the console: one line per module.

import type { CardOs } from './cardOs.ts';
import { virtioBlockFactory } from './virtioBlock.ts';
import { blockCommands } from './shell/blockCommands.ts';
import { VIRTIO_ID_BLOCK } from '../virtio/virtioIds.ts';
import { installVirtioNet } from './virtioNet.ts';

export function installCardModules(os: CardOs): void {
  os.extraDrivers.set(VIRTIO_ID_BLOCK, virtioBlockFactory);
  Object.assign(os.extraCommands, blockCommands(os));
  installVirtioNet(os);
  void os;
}
