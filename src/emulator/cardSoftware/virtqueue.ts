// The card's virtqueue (driver side of the split ring, like virtio_ring.c): descriptors and the
// avail ring live in host RAM behind the SMPT, the used ring was relocated to GDDR. Driver
// bookkeeping (free list, shadow of chains, tokens) is plain data here.
//
// With VIRTIO_RING_F_INDIRECT_DESC negotiated, a buffer of more than one piece goes out as one
// ring descriptor pointing at an indirect table in card memory (vring_add_indirect), as
// virtio_ring.c does; Gen-1 mpssd never offers the feature, so by default every chain is direct.

import type { CardSpace } from '../bus/cardSpace.ts';
import type { Routine } from '../sim/scheduler.ts';
import type { Spine } from '../sim/spine.ts';
import type { QueueRequests } from '../sim/requests.ts';
import {
  loadUsedElem,
  loadUsedIdx,
  storeAvailIdx,
  storeAvailRing,
  storeDesc,
  usedElemId,
  usedElemLen,
  type VringAddrs,
  type VringDesc,
} from '../virtio/vring.ts';
import { VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE } from '../virtio/virtioIds.ts';
import { encodeDescInto } from '../virtio/vring.ts';

/** Card memory for indirect tables (the card kernel's kmalloc). */
export interface IndirectTables {
  alloc(bytes: number): number;
  release(addr: number, bytes: number): void;
}

/** A queue as events and the request table name it. */
export interface VirtqueueId {
  card: number;
  /** Virtio device type (VIRTIO_ID_*). */
  type: number;
  /** Short device name: 'console', 'net', 'block'. */
  device: string;
  /** 'console.tx', 'block.requestq' … */
  queue: string;
}

export interface Sg {
  addr: number;
  len: number;
  /** device-writable (an "in" buffer) */
  write: boolean;
}

/** The pieces as an indirect table: NEXT-linked in order, WRITE for device-writable ones. */
function indirectTable(sgs: Sg[]): Uint8Array {
  const bytes = new Uint8Array(16 * sgs.length);
  sgs.forEach((sg, k) => {
    const last = k === sgs.length - 1;
    const flags = (last ? 0 : VRING_DESC_F_NEXT) | (sg.write ? VRING_DESC_F_WRITE : 0);
    encodeDescInto(bytes.subarray(16 * k, 16 * k + 16), sg.addr, sg.len, flags, last ? 0 : k + 1);
  });
  return bytes;
}

function chainBytes(sgs: readonly { len: number }[]): number {
  let n = 0;
  for (const s of sgs) n += s.len;
  return n;
}

export class CardVirtqueue<T = unknown> {
  private nextFree: Int32Array;
  freeHead = 0;
  numFree: number;
  availIdx = 0;
  lastUsedIdx = 0;
  /** per head: the token and how many descriptors its chain holds */
  private readonly tokens: (T | undefined)[];
  private readonly chainLen: Int32Array;
  broken = false;
  /** Scratch descriptor for add() (encoded into the ring at once). */
  private readonly desc: VringDesc = { addr: 0, len: 0, flags: 0, next: 0 };
  /** Per head: the indirect table its descriptor points at (0: a direct chain), and its size. */
  private readonly indirectTable: Float64Array;
  private readonly indirectBytes: Int32Array;
  /** This queue's requests by ring position (sim/requests.ts). */
  private readonly requests: QueueRequests;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly addrs: VringAddrs,
    private readonly io: CardSpace,
    private readonly spine: Spine,
    private readonly notify: () => Routine,
    /** Which queue this is, as events name it (sim/requests.ts numbers its requests). */
    readonly id: VirtqueueId,
    /** VIRTIO_RING_F_INDIRECT_DESC was negotiated: where the tables come from. */
    private readonly indirect: IndirectTables | null = null,
  ) {
    this.requests = spine.requests.queue(id.card, id.type, index);
    const n = addrs.num;
    this.numFree = n;
    this.nextFree = new Int32Array(n);
    for (let i = 0; i < n; i++) this.nextFree[i] = i + 1;
    this.tokens = new Array(n);
    this.chainLen = new Int32Array(n);
    this.indirectTable = new Float64Array(n);
    this.indirectBytes = new Int32Array(n);
  }

  get num(): number {
    return this.addrs.num;
  }

  /** Outstanding chains (made available, not yet used). */
  get inFlight(): number {
    return this.num - this.numFree === 0 ? 0 : this.tokens.filter((t) => t !== undefined).length;
  }

  /** virtqueue_add: chain the buffers, publish the head in avail. Returns the head or −1. */
  *add(sgs: Sg[], token: T): Routine<number> {
    if (this.broken || sgs.length === 0) return -1;
    const table =
      this.indirect && sgs.length > 1 && this.numFree > 0 ? this.indirect.alloc(16 * sgs.length) : -1;
    if (table < 0 && sgs.length > this.numFree) return -1;
    // A new request: every access from here to the doorbell belongs to it.
    const id = this.id;
    this.spine.sched.req = this.requests.publish(this.availIdx);
    const head = this.freeHead;
    if (table >= 0) {
      yield this.io.write(table, indirectTable(sgs));
      yield* this.writeIndirect(head, table, sgs.length);
    } else {
      let i = head;
      for (let k = 0; k < sgs.length; k++) {
        const sg = sgs[k];
        const next = this.nextFree[i];
        const last = k === sgs.length - 1;
        const d = this.desc;
        d.addr = sg.addr;
        d.len = sg.len;
        d.flags = (last ? 0 : VRING_DESC_F_NEXT) | (sg.write ? VRING_DESC_F_WRITE : 0);
        d.next = last ? 0 : next;
        yield storeDesc(this.io, this.addrs, i, d);
        if (!last) i = next;
        else this.freeHead = next;
      }
      this.numFree -= sgs.length;
      this.chainLen[head] = sgs.length;
      this.indirectTable[head] = 0;
    }
    this.tokens[head] = token;
    yield storeAvailRing(this.io, this.addrs, this.availIdx, head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    // virtio_wmb(); then publish the index.
    yield storeAvailIdx(this.io, this.addrs, this.availIdx);
    this.spine.vring(
      'vring.avail',
      'card',
      this.io.name,
      this.addrs.avail + 2,
      id.device,
      id.queue,
      head,
      this.spine.observed ? chainBytes(sgs) : 0,
      this.spine.observed
        ? `${this.name} head ${head} made available (${table >= 0 ? 'indirect table of ' : ''}${sgs.length} desc)`
        : '',
    );
    // The kick that tells the host belongs to the request (the last one made available).
    this.kickReq = this.spine.sched.req;
    this.spine.sched.req = 0;
    return head;
  }

  /** The request the next kick announces (sim/requests.ts). */
  private kickReq = 0;

  /** vring_add_indirect's ring descriptor: INDIRECT, pointing at the table in card memory. */
  private *writeIndirect(head: number, table: number, pieces: number): Routine {
    const d = this.desc;
    d.addr = table;
    d.len = 16 * pieces;
    d.flags = VRING_DESC_F_INDIRECT;
    d.next = 0;
    yield storeDesc(this.io, this.addrs, head, d);
    this.freeHead = this.nextFree[head];
    this.numFree -= 1;
    this.chainLen[head] = 1;
    this.indirectTable[head] = table;
    this.indirectBytes[head] = 16 * pieces;
  }

  /** virtqueue_kick: the transport's notify routine itself (no wrapper level per step). */
  kick(): Routine {
    this.spine.sched.req = this.kickReq;
    this.kickReq = 0;
    return this.notify();
  }

  /** virtqueue_get_buf: the next used chain, or null. */
  *getBuf(): Routine<{ token: T; len: number; head: number } | null> {
    if (this.broken) return null;
    // The request the host handed back at this position, if any: looking is its last step.
    const id = this.id;
    const requests = this.requests;
    this.spine.sched.req = requests.atUsed(this.lastUsedIdx);
    const usedIdx: number = yield loadUsedIdx(this.io, this.addrs);
    if (usedIdx === this.lastUsedIdx) return null;
    const b: Uint8Array = yield loadUsedElem(this.io, this.addrs, this.lastUsedIdx);
    const e = { id: usedElemId(b), len: usedElemLen(b) };
    requests.collected(this.lastUsedIdx);
    this.lastUsedIdx = (this.lastUsedIdx + 1) & 0xffff;
    const head = e.id;
    const token = head < this.num ? this.tokens[head] : undefined;
    if (token === undefined) {
      this.spine.protocolError(
        0,
        this.name,
        `${this.name}: used ring returned id ${head}, which is not a chain the card made available; the queue is marked broken.`,
      );
      this.broken = true;
      return null;
    }
    this.tokens[head] = undefined;
    // Return the chain's descriptors to the free list (walk of our shadow copy).
    let last = head;
    for (let k = 1; k < this.chainLen[head]; k++) last = this.nextFree[last];
    this.nextFree[last] = this.freeHead;
    this.freeHead = head;
    this.numFree += this.chainLen[head];
    const table = this.indirectTable[head];
    if (table) {
      this.indirectTable[head] = 0;
      this.indirect?.release(table, this.indirectBytes[head]);
    }
    this.spine.vring(
      'vring.used',
      'card',
      this.io.name,
      this.addrs.used + 2,
      id.device,
      id.queue,
      head,
      e.len,
      this.spine.observed ? `${this.name} head ${head} used by card, len ${e.len}` : '',
    );
    // The request is back with its driver: what the driver does with it next is not the request's.
    this.spine.sched.req = 0;
    return { token, len: e.len, head };
  }

  /** Tokens still owned by the device (for teardown). */
  detachUnused(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t !== undefined) out.push(t);
      this.tokens[i] = undefined;
      const table = this.indirectTable[i];
      if (table) {
        this.indirectTable[i] = 0;
        this.indirect?.release(table, this.indirectBytes[i]);
      }
    }
    return out;
  }
}
