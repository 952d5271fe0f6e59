// What the DMA engine needs from its card: registers, memories, SMPT and interrupt lines.

import type { SparseMemory } from '../../mem/sparseMemory.ts';
import type { Scheduler } from '../../sim/scheduler.ts';
import type { Spine } from '../../sim/spine.ts';

export interface DmaPorts {
  /** 'mic0' */
  readonly name: string;
  /** The card's GDDR space name for events ('mic0.gddr'). */
  readonly gddrSpace: string;
  readonly sched: Scheduler;
  readonly spine: Spine;
  /** BAR4 storage, one entry per dword (index = bar4 offset >>> 2). DMA registers live here. */
  readonly regs: Uint32Array;
  readonly gddr: SparseMemory;
  readonly hostRam: SparseMemory;
  /** MIC address in the SMPT window → host physical address, or −1 if it reaches no host RAM. */
  smptToHost(micAddr: number): number;
  /** Set a SICR0 cause bit (8+n for a host-owned channel's completion, 30 for an error). */
  raiseHostCause(bit: number): void;
  /** A card-owned channel completed with its interrupt requested (card APIC interrupt). */
  raiseCardInterrupt(channel: number): void;
}
