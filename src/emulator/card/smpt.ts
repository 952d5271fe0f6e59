// System Memory Page Table: 32 slots, each mapping a naturally aligned 16 GiB block of host
// DMA space into the card's window at 0x80_0000_0000 + i·16 GiB (reference §3).

export const SMPT_WINDOW_BASE = 0x80_0000_0000;
export const SMPT_SLOTS = 32;
export const SMPT_PAGE = 2 ** 34;
export const SMPT_WINDOW_END = SMPT_WINDOW_BASE + SMPT_SLOTS * SMPT_PAGE;

/** Register value for a host address: ((hostAddr >> 34) << 2) | noSnoop. */
export function smptEntry(hostAddr: number, noSnoop = 0): number {
  return ((Math.floor(hostAddr / SMPT_PAGE) << 2) | (noSnoop & 1)) >>> 0;
}

/** Host base address an SMPT register value selects. */
export function smptBase(regValue: number): number {
  return (regValue >>> 2) * SMPT_PAGE;
}

export function isSmptAddress(micAddr: number): boolean {
  return micAddr >= SMPT_WINDOW_BASE && micAddr < SMPT_WINDOW_END;
}

export function smptSlot(micAddr: number): number {
  return Math.floor((micAddr - SMPT_WINDOW_BASE) / SMPT_PAGE);
}

/** Card→host translation through the SMPT registers. */
export function smptTranslate(micAddr: number, readSmpt: (i: number) => number): number {
  const i = smptSlot(micAddr);
  return smptBase(readSmpt(i)) + ((micAddr - SMPT_WINDOW_BASE) % SMPT_PAGE);
}
