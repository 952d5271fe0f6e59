// What a stop says, and where. DAP's StoppedEvent `description` is the short badge VS Code
// upper-cases beside the thread in the Call Stack ("doorbell h2c 1", "data breakpoint",
// "§9 rule 23"); the whole sentence goes in `text`, which VS Code shows when you hover the
// thread and in the exception widget.

import type { StopInfo } from './runtime.ts';

/** The badge: a few words, at most about 24 characters. */
export function stopBadge(info: StopInfo): string {
  if (info.badge) return info.badge;
  const e = info.event;
  switch (info.reason) {
    case 'entry':
      return 'entry';
    case 'pause':
      return 'paused';
    case 'step':
      return 'step';
    case 'data breakpoint':
      return 'data breakpoint';
    case 'exception':
      // From the event's fields: the §9 rule, a DMA channel's error, a card crash.
      if (e?.kind === 'protocol')
        return e.channel >= 0 ? 'DMA error' : e.rule > 0 ? `§9 rule ${e.rule}` : 'protocol error';
      return e && (e.kind === 'log' || e.kind === 'state') ? 'card crash' : 'protocol error';
    default:
      break;
  }
  if (!e) return 'breakpoint';
  switch (e.kind) {
    case 'doorbell':
      return `doorbell ${e.dir} ${e.db}`;
    case 'dma.desc':
      return `DMA ch ${e.channel}`;
    case 'vring.avail':
    case 'vring.used':
      return `${e.queue || 'vq'} ${e.kind === 'vring.avail' ? 'avail' : 'used'}`.slice(0, 24);
    case 'irq':
      return 'interrupt';
    case 'state':
      return `state ${e.state}`.slice(0, 24);
    case 'console':
      return 'console text';
    default:
      return 'breakpoint';
  }
}
