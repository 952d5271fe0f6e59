// What the host firmware/OS does before the driver probes: size each card's BARs by writing
// all-ones, and place them. BAR0 (prefetchable, GDDR-sized) goes high above 4 GiB, naturally
// aligned; BAR4 (128 KiB MMIO) goes below 4 GiB, as an lspci of a real host shows.

import type { HostSpace } from '../bus/hostSpace.ts';
import type { X100Card } from '../card/x100Card.ts';
import { CFG } from '../card/pciConfig.ts';
import { call, frame, type Routine, type Scheduler } from '../sim/scheduler.ts';

export const BAR0_WINDOW_BASE = 0x380_0000_0000;
export const BAR4_WINDOW_BASE = 0xde00_0000;

export function* enumerate(sched: Scheduler, io: HostSpace, cards: readonly X100Card[]): Routine {
  yield call(frame(sched, 'pci_scan_bus', undefined, doEnumerate(io, cards)));
}

function* sizeBar(io: HostSpace, card: X100Card, reg: number): Routine<number> {
  yield io.cfgWrite32(card, reg, 0xffffffff);
  yield io.cfgWrite32(card, reg + 4, 0xffffffff);
  const lo: number = yield io.cfgRead32(card, reg);
  const hi: number = yield io.cfgRead32(card, reg + 4);
  const mask = (~hi >>> 0) * 2 ** 32 + (~(lo & 0xfffffff0) >>> 0);
  return mask + 1;
}

function* doEnumerate(io: HostSpace, cards: readonly X100Card[]): Routine {
  let high = BAR0_WINDOW_BASE;
  let low = BAR4_WINDOW_BASE;
  for (const card of cards) {
    const vendor: number = yield io.cfgRead32(card, CFG.VENDOR_ID);
    if ((vendor & 0xffff) === 0xffff) continue;
    const size0: number = yield call(sizeBar(io, card, CFG.BAR0));
    high = Math.ceil(high / size0) * size0;
    yield io.cfgWrite32(card, CFG.BAR0, high % 2 ** 32);
    yield io.cfgWrite32(card, CFG.BAR1, Math.floor(high / 2 ** 32));
    high += size0;
    const size4: number = yield call(sizeBar(io, card, CFG.BAR4));
    low = Math.ceil(low / size4) * size4;
    yield io.cfgWrite32(card, CFG.BAR4, low);
    yield io.cfgWrite32(card, CFG.BAR5, 0);
    low += Math.max(size4, 0x100000);
  }
}
