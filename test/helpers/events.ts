// A hand-made bus event for unit tests of matchers and conditions.

import type { BusEvent, EventKind } from '../../src/emulator/sim/busEvent.ts';

export function busEvent(kind: EventKind, over: Partial<BusEvent> = {}): BusEvent {
  return {
    seq: 1,
    time: 0,
    initiator: 'host.driver',
    kind,
    space: 'mic0',
    address: 0,
    size: 4,
    value: 0,
    frames: null,
    detail: '',
    ...over,
  };
}
