// SMPT as the host driver keeps it (software copy with refcounts) beside the hardware registers.

import { R } from '../card/sboxRegisters.ts';
import { SMPT_PAGE, SMPT_WINDOW_BASE, smptBase } from '../card/smpt.ts';
import type { Machine } from '../machine.ts';

export interface SmptEntryView {
  index: number;
  /** MIC address of the window this entry maps */
  window: number;
  /** register value and the host base it selects */
  register: number;
  hwBase: number;
  /** the driver's software copy */
  swBase: number;
  refCount: number;
}

export function smptViews(m: Machine, cardIndex: number): SmptEntryView[] {
  const card = m.cards[cardIndex];
  const sw = m.mics[cardIndex].smpt.entries;
  return sw.map((e, i) => {
    const register = card.reg(R.SMPT(i));
    return {
      index: i,
      window: SMPT_WINDOW_BASE + i * SMPT_PAGE,
      register,
      hwBase: smptBase(register),
      swBase: e.base,
      refCount: e.refCount,
    };
  });
}
