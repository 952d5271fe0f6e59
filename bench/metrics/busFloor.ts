// The least a block request can cost in this machine: its memory transactions alone, replayed
// through the same address spaces (decode, sparse memory, event numbering) with no driver,
// back-end, DMA engine, scheduler or file read around them. A lower bound: the request's MMIO,
// doorbell, interrupt and descriptor events, and all of its software, come on top. blk-512
// measures it in the same run, so that its target can be read against what the bus alone costs.

import type { Io } from '../../src/emulator/bus/io.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { cardRead512, type DiskMachine } from '../lib/machine.ts';
import { median, timeMs } from '../lib/stats.ts';

export interface BusFloor {
  /** Events of one request, and how many of them are memory transactions. */
  events: number;
  memoryTransactions: number;
  /** Replaying those transactions once, in µs (median). */
  us: number;
}

interface Access {
  io: Io;
  write: boolean;
  address: number;
  size: number;
  /** What a bulk write stores (zeros: the machine is thrown away after the replay). */
  data: Uint8Array | null;
}

/**
 * Record one 512 B read of `sector` on d, then time replays of its memory transactions. Writes
 * zeros over the rings and buffers the request used: run it last on a machine about to go.
 */
export function busFloor512(d: DiskMachine, sector: number, reps: number): BusFloor {
  const m = d.m;
  const seen: Pick<BusEvent, 'kind' | 'space' | 'address' | 'size'>[] = [];
  const stop = m.spine.observe((e) =>
    seen.push({ kind: e.kind, space: e.space, address: e.address, size: e.size }),
  );
  cardRead512(d, [sector]);
  stop();
  // Event spaces name the memory a transaction landed in, at its offset there: host RAM from
  // the host's space, GDDR from the card CPU's (where GDDR starts at 0). A card access to host
  // RAM through the SMPT is replayed as the host's own, a bound below its real cost.
  const spaceIo = new Map<string, Io>([
    ['host', m.hostIo],
    [m.cards[0].gddrSpace, m.cardOs[0].io],
  ]);
  const accesses: Access[] = [];
  for (const e of seen) {
    if (e.kind !== 'mem.read' && e.kind !== 'mem.write') continue;
    const io = spaceIo.get(e.space);
    if (!io) throw new Error(`bus floor: a memory transaction in ${e.space}, which the replay does not know`);
    accesses.push({
      io,
      write: e.kind === 'mem.write',
      address: e.address,
      size: e.size,
      data: e.size > 2 ? new Uint8Array(e.size) : null,
    });
  }
  const into = new Uint8Array(Math.max(...accesses.map((a) => a.size)));
  const replay = () => {
    for (let i = 0; i < accesses.length; i++) {
      const a = accesses[i];
      if (a.write) {
        if (a.size === 1) a.io.write8(a.address, 0);
        else if (a.size === 2) a.io.write16(a.address, 0);
        else a.io.write(a.address, a.data!);
      } else if (a.size === 1) a.io.read8(a.address);
      else if (a.size === 2) a.io.read16(a.address);
      else a.io.readInto(a.address, into, 0, a.size);
    }
  };
  const ROUNDS = 10_000;
  for (let i = 0; i < ROUNDS; i++) replay(); // warm-up (JIT)
  const us: number[] = [];
  for (let r = 0; r < reps; r++) {
    us.push(
      (timeMs(() => {
        for (let i = 0; i < ROUNDS; i++) replay();
      }) *
        1e3) /
        ROUNDS,
    );
  }
  return { events: seen.length, memoryTransactions: accesses.length, us: median(us) };
}
