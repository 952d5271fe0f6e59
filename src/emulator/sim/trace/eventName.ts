// The short name of an event and the group (process) of its initiator, as the Perfetto export
// (perfetto.ts) and the MIC Timeline's event store (timeTravel/eventStore.ts) show them.

import type { BusEvent } from '../busEvent.ts';

/** A slice's or tick's name: the kind and what it names (register, queue, descriptor, doorbell, vector). */
export function eventName(e: BusEvent): string {
  switch (e.kind) {
    case 'mmio.read':
    case 'mmio.write':
      return e.register ? `${e.kind} ${e.register}` : e.kind;
    case 'doorbell':
      return `doorbell ${e.register || e.db} ${e.dir}`;
    case 'irq':
      return `irq → ${e.side}${e.vector >= 0 ? ` vector ${e.vector}` : ''}`;
    case 'dma.desc':
      return `dma.desc ${e.descType}`;
    case 'vring.avail':
    case 'vring.used':
      return `${e.kind} ${e.queue} (${e.side})`;
    case 'state':
      return `state ${e.state}`;
    case 'milestone':
      return `milestone ${e.milestone}`;
    case 'mem.read':
    case 'mem.write':
      return `${e.kind} ${e.space}`;
    default:
      return e.kind;
  }
}

/**
 * The group an initiator belongs to: `host` (the driver and the mpssd back-ends `host.micN.*`)
 * or `micN` (the card's OS and DMA channels; the link's `hw` goes to the card it serves).
 */
export function groupOf(initiator: string, card: number): string {
  if (initiator.startsWith('host')) return 'host';
  if (initiator.startsWith('mic')) {
    const dot = initiator.indexOf('.');
    return dot < 0 ? initiator : initiator.slice(0, dot);
  }
  return card >= 0 ? `mic${card}` : 'host';
}
