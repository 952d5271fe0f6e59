// A hand-made bus event for unit tests of matchers and conditions. Fields not given are absent
// (−1 / ''), except the card, which the machine's names say (`mic1.sbox`, `host.mic2.console`).

import { blankEvent, type BusEvent, type EventKind } from '../../src/emulator/sim/busEvent.ts';
import { nameInfo } from '../../src/emulator/sim/spine.ts';

export function busEvent(kind: EventKind, over: Partial<BusEvent> = {}): BusEvent {
  const e: BusEvent = {
    ...blankEvent(),
    seq: 1,
    initiator: 'host.driver',
    kind,
    space: 'mic0',
    size: 4,
    ...over,
  };
  if (over.card === undefined) {
    const c = nameInfo(e.space).card;
    e.card = c >= 0 ? c : nameInfo(e.initiator).card;
  }
  if (over.len === undefined) e.len = e.size;
  // A DMA channel's accesses name it (their initiator), as do its protocol errors (their space).
  if (over.channel === undefined) {
    const ch = nameInfo(e.initiator).channel;
    e.channel = ch >= 0 ? ch : kind === 'protocol' ? nameInfo(e.space).channel : -1;
  }
  return e;
}
