// One way to build a machine from the options a person gives (the CLI's flags, the adapter's
// launch attributes): the default disk image, per-card file names, the stepping table and the
// trace file are decided here, once, for both front ends.

import { mkdirSync } from 'node:fs';
import { openOutputFile } from './hostSoftware/filePolicy.ts';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { Machine } from './machine.ts';
import { STEPPING_REVISION } from './card/pciConfig.ts';
import { defaultDiskPath, perCardPath } from './hostSoftware/hostFiles.ts';
import type { TerminalSink } from './hostSoftware/mpssd/consoleBackend.ts';
import type { ImageJournal } from './hostSoftware/mpssd/fileBytes.ts';
import type { PcapCapture } from './hostSoftware/pcap.ts';
import { createTraceWriter, type TraceSink } from './sim/trace/traceSink.ts';

export interface MachineOptions {
  cards: number;
  /** GDDR per card. */
  memoryBytes: number;
  /** 'A0' | 'B0' | 'B1' | 'C0'. */
  stepping: string;
  autoBoot?: boolean;
  /** mic0's disk image (card N: PATH-micN.ext); null: the default image in the user's cache directory. */
  disk: string | null;
  diskSizeBytes: number;
  diskReadonly: boolean;
  diskEio?: [number, number] | null;
  /** mic0's pcap file (card N: PATH-micN.ext); null: none. */
  pcap: string | null;
  /** The capture of each pcap file, kept across machines (time travel: Timeline), or none. */
  pcapFor?: (path: string) => PcapCapture;
  netDropEvery?: number;
  /** Every bus event as a JSON line to this file; null: none. */
  trace?: string | null;
  /** A trace write failed (disk full): the trace stops there. */
  onTraceError?: (err: Error) => void;
  terminal: (card: number) => TerminalSink;
  /** The undo journal of each disk image (time travel), or none. */
  journalFor?: (path: string) => ImageJournal | null;
  /** Where to look for the user's cache directory (default: this process's). */
  env?: Record<string, string | undefined>;
  home?: string;
}

/** An option that cannot be honoured: which one (`trace`, `disk`, `stepping`) and why. */
export class MachineOptionError extends Error {
  constructor(
    readonly option: 'trace' | 'disk' | 'pcap' | 'stepping',
    message: string,
  ) {
    super(message);
  }
}

function opening<T>(option: 'trace' | 'disk', f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new MachineOptionError(option, (e as Error).message);
  }
}

export interface BuiltMachine {
  machine: Machine;
  /** mic0's disk image as decided (the default one when none was named). */
  diskPath: string;
  /** The trace writer, opened, not yet attached: the front end decides who feeds it. */
  trace: TraceSink | null;
}

/** The disk image card N uses. */
export function diskPath(o: Pick<MachineOptions, 'disk' | 'env' | 'home'>, card = 0): string {
  return perCardPath(o.disk ?? defaultDiskPath(o.env ?? process.env, o.home ?? homedir()), card);
}

/** Build (not start) the machine the options describe. Opens the trace file first: a bad one fails before any image is opened. */
export function buildMachine(o: MachineOptions): BuiltMachine {
  const revision = STEPPING_REVISION[o.stepping];
  if (revision === undefined)
    throw new MachineOptionError(
      'stepping',
      `'${o.stepping}' is not one of ${Object.keys(STEPPING_REVISION).join(', ')}`,
    );
  const base = diskPath(o);
  // The default image lives in the user's cache directory, made on first use.
  if (o.disk === null) opening('disk', () => mkdirSync(dirname(base), { recursive: true }));
  const file = o.trace;
  const trace = file
    ? createTraceWriter(
        // Appending: time travel cuts the file back while it is open (traceFollower.ts).
        opening('trace', () => openOutputFile(file, true)),
        o.onTraceError ?? (() => {}),
      )
    : null;
  try {
    const machine = new Machine({
      cards: o.cards,
      cardMemoryBytes: o.memoryBytes,
      revision,
      autoBoot: o.autoBoot ?? true,
      terminal: o.terminal,
      disk: (i) => ({
        path: perCardPath(base, i),
        sizeBytes: o.diskSizeBytes,
        readonly: o.diskReadonly,
        eioSectors: o.diskEio ?? null,
        journal: o.journalFor?.(perCardPath(base, i)) ?? null,
      }),
      pcap: (i) => (o.pcap ? (o.pcapFor?.(perCardPath(o.pcap, i)) ?? perCardPath(o.pcap, i)) : null),
      netDropEvery: o.netDropEvery ?? 0,
      journalFor: o.journalFor,
    });
    // A disk image or pcap that could not be opened after all: nothing starts (filePolicy.ts).
    const bad = machine.fileErrors()[0];
    if (bad) {
      machine.dispose();
      throw new MachineOptionError(bad.role, `${bad.path} cannot be opened: ${bad.message}`);
    }
    return { machine, diskPath: base, trace };
  } catch (e) {
    trace?.close();
    throw e;
  }
}
