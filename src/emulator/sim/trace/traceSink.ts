// What `--trace FILE` writes through: the worker-thread writer when a worker can be started,
// else the in-thread TraceWriter. Both write the same bytes, hold the file until close(), and
// report the first write error once through onError, the trace stopping there.

import type { BusEvent } from '../busEvent.ts';
import type { Observer } from '../spine.ts';
import { TraceOffThread } from './traceOffThread.ts';
import { TraceWriter } from './traceWriter.ts';

export interface TraceSink {
  /** The spine observer: one line per event. */
  readonly observer: Observer;
  write(e: BusEvent): void;
  /** Return when every line so far is in the file. */
  flush(): void;
  /** Flush and close the file; later events are not written. */
  close(): void;
  /** Events taken. */
  readonly events: number;
  /** Bytes handed to the file so far. */
  readonly bytesWritten: number;
  /** The write error that stopped the trace, if one did. */
  readonly error: Error | null;
}

export interface TraceSinkOptions {
  /** 'in-thread': no worker (tests compare the two). */
  mode?: 'worker' | 'in-thread';
  /** The line buffer's size (small in tests, so lines straddle writes). */
  bufferBytes?: number;
}

/** A trace writer on `fd` (it takes the descriptor over; close() closes it). */
export function createTraceWriter(
  fd: number,
  onError: (err: Error) => void = () => {},
  options: TraceSinkOptions = {},
): TraceSink {
  if (options.mode !== 'in-thread')
    try {
      return new TraceOffThread(fd, onError, { bufferBytes: options.bufferBytes });
    } catch {
      // No worker here (no worker file, no threads): format on the machine's thread.
    }
  return new TraceWriter(fd, onError, options.bufferBytes);
}
