// Virtio requests as objects, assembled from the events that carry their id (`req`, see
// requests.ts): which queue and head, when the card made the chain available, when the host took
// it, when it was used and when the card took it back, the bytes it moved, and its events.
// An observer like any other: the debugger, the timeline and the tests attach one.

import type { BusEvent } from './busEvent.ts';

export interface VirtioRequest {
  readonly id: number;
  card: number;
  /** 'console', 'net', 'block'. */
  device: string;
  /** 'console.tx', 'block.requestq' … */
  queue: string;
  head: number;
  /** The card's driver made the chain available (vring.avail seen by the card). */
  availSeq: number;
  availTime: number;
  /** The host's back-end took it (vring.avail seen by the host); 0 until then. */
  takenSeq: number;
  /** The host wrote it to the used ring (vring.used seen by the host); 0 until then. */
  usedSeq: number;
  usedTime: number;
  /** The card's driver took it back (vring.used seen by the card); 0 until then. */
  doneSeq: number;
  doneTime: number;
  /** Bytes of the chain as made available (every descriptor's length). */
  chainBytes: number;
  /** What the host wrote back as the used length. */
  usedLen: number;
  /** Bytes the DMA engine moved for it (MEMCPY descriptors). */
  dmaBytes: number;
  /** Its events, in order (seq). */
  readonly events: number[];
}

/** Virtual latency of a request: made available → used (−1 until used, or if its making available was not seen). */
export function latency(r: VirtioRequest): number {
  return r.usedSeq && r.availSeq ? r.usedTime - r.availTime : -1;
}

export class RequestTracker {
  private readonly byId = new Map<number, VirtioRequest>();
  /** Oldest first. */
  readonly all: VirtioRequest[] = [];

  constructor(
    /** Keep each request's event list (seqs); off, the rest is still counted. */
    private readonly keepEvents = true,
  ) {}

  readonly observer = (e: BusEvent): void => {
    const id = e.req;
    if (id === 0) return;
    let r = this.byId.get(id);
    if (r === undefined) {
      r = {
        id,
        card: e.card,
        device: e.device,
        queue: e.queue,
        head: e.head,
        availSeq: 0,
        availTime: 0,
        takenSeq: 0,
        usedSeq: 0,
        usedTime: 0,
        doneSeq: 0,
        doneTime: 0,
        chainBytes: 0,
        usedLen: 0,
        dmaBytes: 0,
        events: [],
      };
      this.byId.set(id, r);
      this.all.push(r);
    }
    if (this.keepEvents) r.events.push(e.seq);
    switch (e.kind) {
      case 'vring.avail':
        r.device = e.device;
        r.queue = e.queue;
        r.head = e.head;
        if (e.side === 'card') {
          r.availSeq = e.seq;
          r.availTime = e.time;
          r.chainBytes = e.len;
        } else r.takenSeq = e.seq;
        break;
      case 'vring.used':
        if (e.side === 'host') {
          r.usedSeq = e.seq;
          r.usedTime = e.time;
          r.usedLen = e.len;
        } else {
          r.doneSeq = e.seq;
          r.doneTime = e.time;
        }
        break;
      case 'dma.desc':
        if (e.descType === 'memcpy') r.dmaBytes += e.len;
        break;
    }
  };

  /** Forget the requests none of whose steps is known any more (a timeline cut before them). */
  dropEmpty(): void {
    const keep = this.all.filter((r) => r.availSeq || r.takenSeq || r.usedSeq || r.doneSeq);
    if (keep.length === this.all.length) return;
    const kept = new Set(keep);
    for (const r of this.all) if (!kept.has(r)) this.byId.delete(r.id);
    this.all.length = 0;
    this.all.push(...keep);
  }

  get(id: number): VirtioRequest | undefined {
    return this.byId.get(id);
  }
}
