// The trace worker's entry (dist/traceWorker.js, shipped beside the bundles that start it): it
// formats and writes the records the machine's thread puts in the ring (traceOffThread.ts).

import { isMainThread, workerData } from 'node:worker_threads';
import { TraceConsumer } from './traceConsumer.ts';
import { Ring } from './traceRing.ts';

export interface TraceWorkerData {
  sab: SharedArrayBuffer;
  fd: number;
  bufferBytes: number | undefined;
}

if (!isMainThread) {
  const { sab, fd, bufferBytes } = workerData as TraceWorkerData;
  const ring = new Ring(sab);
  try {
    new TraceConsumer(ring, fd, bufferBytes).run();
  } catch (err) {
    // A fault of the worker itself (not a write error, which TraceWriter reports): the trace
    // stops as for a write error; the machine's thread closes the file.
    ring.setError(new Error(`the trace worker failed: ${(err as Error).message}`));
    ring.fail();
  }
}
