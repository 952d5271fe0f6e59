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

/** One side of a queue (avail or used): request ids by ring position. */
class PositionSlots {
  private readonly pos = new Int32Array(SLOTS).fill(-1);
  private readonly id = new Uint32Array(SLOTS);

  set(pos: number, id: number): void {
    const i = pos & SLOT_MASK;
    this.pos[i] = pos & 0xffff;
    this.id[i] = id;
  }

  /** The id at `pos`, 0 if none. */
  at(pos: number): number {
    const i = pos & SLOT_MASK;
    return this.pos[i] === (pos & 0xffff) ? this.id[i] : 0;
  }

  drop(pos: number): void {
    const i = pos & SLOT_MASK;
    if (this.pos[i] === (pos & 0xffff)) this.pos[i] = -1;
  }

  clear(): void {
    this.pos.fill(-1);
  }
}

/**
 * One queue's requests by ring position: the avail side and the used side. The software of a
 * queue keeps its handle (RequestTable.queue) and asks it directly, so a request's six visits
 * to the table are typed-array reads and writes, no lookup.
 */
export class QueueRequests {
  private readonly avail = new PositionSlots();
  private readonly used = new PositionSlots();

  constructor(private readonly table: RequestTable) {}

  /** The card made a chain available at avail position `pos`: a new request. */
  publish(pos: number): number {
    const id = this.table.newId();
    this.avail.set(pos, id);
    return id;
  }

  /** The request the card made available at `pos`, 0 if none (the host is about to look). */
  atAvail(pos: number): number {
    return this.avail.at(pos);
  }

  /** The host took the chain at avail position `pos`. */
  taken(pos: number): void {
    this.avail.drop(pos);
  }

  /** The host wrote request `id` back at used position `pos`. */
  complete(pos: number, id: number): void {
    if (id !== 0) this.used.set(pos, id);
  }

  /** The request waiting at used position `pos`, 0 if none (the card is about to look). */
  atUsed(pos: number): number {
    return this.used.at(pos);
  }

  /** The card collected the used element at `pos`. */
  collected(pos: number): void {
    this.used.drop(pos);
  }

  /** Nothing in flight (the card was reset). */
  clear(): void {
    this.avail.clear();
    this.used.clear();
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

  /** A new request's id. */
  newId(): number {
    return this.next++;
  }

  /** The handle of a queue (card, virtio device type, queue index): the same object for good. */
  queue(card: number, type: number, queue: number): QueueRequests {
    const k = queueKey(card, type, queue);
    const qs = this.queues;
    let q = k < qs.length ? qs[k] : null;
    if (q === null) {
      while (qs.length <= k) qs.push(null);
      q = qs[k] = new QueueRequests(this);
    }
    return q;
  }

  /** A card was reset: its rings start again at position 0, nothing in flight survives. */
  forgetCard(card: number): void {
    const lo = queueKey(card, 0, 0);
    const hi = Math.min(queueKey(card + 1, 0, 0), this.queues.length);
    for (let k = lo; k < hi; k++) this.queues[k]?.clear();
  }
}
