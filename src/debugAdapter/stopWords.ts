// What a stop says, and where. DAP's StoppedEvent `description` is the short badge VS Code
// upper-cases beside the thread in the Call Stack ("doorbell h2c 1", "data breakpoint",
// "§9 rule 23"); the whole sentence goes in `text`, which VS Code shows when you hover the
// thread and in the exception widget.

import type { StopInfo } from './runtime.ts';

/** The badge: a few words, at most about 24 characters. */
export function stopBadge(info: StopInfo): string {
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
    case 'exception': {
      const rule = /^§9 rule (\d+)/.exec(info.text ?? '');
      if (rule) return `§9 rule ${rule[1]}`;
      if (/^DCHERR/.test(info.text ?? '')) return 'DMA error';
      if (/^card crash/.test(info.text ?? '')) return 'card crash';
      return 'protocol error';
    }
    default:
      break;
  }
  if (!e) return 'breakpoint';
  switch (e.kind) {
    case 'doorbell':
      return `doorbell ${e.detail.split(' ').slice(0, 2).join(' ')}`;
    case 'dma.desc':
      return `DMA ${e.initiator.replace(/^mic\d+\.dma/, 'ch ')}`;
    case 'vring.avail':
    case 'vring.used': {
      const q = /^\S+ (\S+)/.exec(e.detail)?.[1] ?? 'vq';
      return `${q} ${e.kind === 'vring.avail' ? 'avail' : 'used'}`.slice(0, 24);
    }
    case 'irq':
      return 'interrupt';
    case 'state':
      return `state ${e.detail}`.slice(0, 24);
    case 'console':
      return 'console text';
    default:
      return 'breakpoint';
  }
}
