// Virtio requests, numbered as they cross the bus. A request is born when the card's driver
// makes a chain available; the host's back-end takes it at the same avail-ring position, copies
// its data, and writes it back at a used-ring position; the card's driver collects it there.
// Both sides know only positions (avail.idx, used.idx) and heads, so the table is keyed by
// position: the host can name the request before it has read the head, and the card before it
// has read the used element, which is what lets the reads of avail.idx and used.idx belong to
// the request they find.
//
// The ids go on every event as `req` (through the scheduler's context, see scheduler.ts): the
// software that knows a request sets `sched.req`, and interrupts, spawned tasks, wake-ups and
// DMA descriptors carry it on. This table only hands out and finds ids; what a request is made
// of (its events, bytes, latency) is assembled by whoever watches (RequestTracker).

/**
 * Ring positions a queue remembers, a power of two above any queue's size (MIC_VRING_ENTRIES is
 * 128): the chains in flight on one queue are never this many positions apart, so they never
 * share a slot. A slot also keeps its position, so a lookup at a position that was never set (or
 * was set 1,024 positions ago and overwritten) finds nothing.
 */
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;

/** One queue's requests by ring position: the avail side and the used side. */
class QueueRequests {
  readonly availPos = new Int32Array(SLOTS).fill(-1);
  readonly availId = new Uint32Array(SLOTS);
  readonly usedPos = new Int32Array(SLOTS).fill(-1);
  readonly usedId = new Uint32Array(SLOTS);

  clear(): void {
    this.availPos.fill(-1);
    this.usedPos.fill(-1);
  }
}

/** A queue's number in the table: card, virtio device type, queue index. */
function queueKey(card: number, type: number, queue: number): number {
  return (card * 64 + (type & 63)) * 8 + (queue & 7);
}

/**
 * Typed arrays per queue rather than one Map keyed by position: the table is touched six times
 * per request on the bare machine's hottest path (measured: a Map's set/delete cycle cost about
 * 2 % of the console traffic's time).
 */
export class RequestTable {
  /** The next id (ids start at 1; 0 means "no request"). */
  private next = 1;
  /** By queueKey; null for queues that have carried nothing. */
  private readonly queues: (QueueRequests | null)[] = [];

  /** Requests born so far. */
  get count(): number {
    return this.next - 1;
  }

  private q(card: number, type: number, queue: number): QueueRequests {
    const k = queueKey(card, type, queue);
    const qs = this.queues;
    let q = k < qs.length ? qs[k] : null;
    if (q === null) {
      while (qs.length <= k) qs.push(null);
      q = qs[k] = new QueueRequests();
    }
    return q;
  }

  /** The card made a chain available at avail position `pos`: a new request. */
  publish(card: number, type: number, queue: number, pos: number): number {
    const id = this.next++;
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    q.availPos[i] = pos & 0xffff;
    q.availId[i] = id;
    return id;
  }

  /** The request the card made available at `pos`, 0 if none (the host is about to look). */
  atAvail(card: number, type: number, queue: number, pos: number): number {
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    return q.availPos[i] === (pos & 0xffff) ? q.availId[i] : 0;
  }

  /** The host took the chain at avail position `pos`. */
  taken(card: number, type: number, queue: number, pos: number): void {
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    if (q.availPos[i] === (pos & 0xffff)) q.availPos[i] = -1;
  }

  /** The host wrote request `id` back at used position `pos`. */
  complete(card: number, type: number, queue: number, pos: number, id: number): void {
    if (id === 0) return;
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    q.usedPos[i] = pos & 0xffff;
    q.usedId[i] = id;
  }

  /** The request waiting at used position `pos`, 0 if none (the card is about to look). */
  atUsed(card: number, type: number, queue: number, pos: number): number {
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    return q.usedPos[i] === (pos & 0xffff) ? q.usedId[i] : 0;
  }

  /** The card collected the used element at `pos`. */
  collected(card: number, type: number, queue: number, pos: number): void {
    const q = this.q(card, type, queue);
    const i = pos & SLOT_MASK;
    if (q.usedPos[i] === (pos & 0xffff)) q.usedPos[i] = -1;
  }

  /** A card was reset: its rings start again at position 0, nothing in flight survives. */
  forgetCard(card: number): void {
    const lo = queueKey(card, 0, 0);
    const hi = Math.min(queueKey(card + 1, 0, 0), this.queues.length);
    for (let k = lo; k < hi; k++) this.queues[k]?.clear();
  }
}
