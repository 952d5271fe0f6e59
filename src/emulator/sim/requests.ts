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

/** A queue position: card, virtio device type, queue index, ring position (mod 2¹⁶). */
function key(card: number, type: number, queue: number, pos: number): number {
  return ((card * 64 + (type & 63)) * 8 + (queue & 7)) * 65536 + (pos & 0xffff);
}

export class RequestTable {
  /** The next id (ids start at 1; 0 means "no request"). */
  private next = 1;
  private readonly avail = new Map<number, number>();
  private readonly used = new Map<number, number>();

  /** Requests born so far. */
  get count(): number {
    return this.next - 1;
  }

  /** The card made a chain available at avail position `pos`: a new request. */
  publish(card: number, type: number, queue: number, pos: number): number {
    const id = this.next++;
    this.avail.set(key(card, type, queue, pos), id);
    return id;
  }

  /** The request the card made available at `pos`, 0 if none (the host is about to look). */
  atAvail(card: number, type: number, queue: number, pos: number): number {
    return this.avail.get(key(card, type, queue, pos)) ?? 0;
  }

  /** The host took the chain at avail position `pos`. */
  taken(card: number, type: number, queue: number, pos: number): void {
    this.avail.delete(key(card, type, queue, pos));
  }

  /** The host wrote request `id` back at used position `pos`. */
  complete(card: number, type: number, queue: number, pos: number, id: number): void {
    if (id !== 0) this.used.set(key(card, type, queue, pos), id);
  }

  /** The request waiting at used position `pos`, 0 if none (the card is about to look). */
  atUsed(card: number, type: number, queue: number, pos: number): number {
    return this.used.get(key(card, type, queue, pos)) ?? 0;
  }

  /** The card collected the used element at `pos`. */
  collected(card: number, type: number, queue: number, pos: number): void {
    this.used.delete(key(card, type, queue, pos));
  }

  /** A card was reset: its rings start again at position 0, nothing in flight survives. */
  forgetCard(card: number): void {
    const lo = key(card, 0, 0, 0);
    const hi = key(card + 1, 0, 0, 0);
    for (const m of [this.avail, this.used])
      for (const k of [...m.keys()]) if (k >= lo && k < hi) m.delete(k);
  }
}
