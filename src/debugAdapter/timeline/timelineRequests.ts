// The MIC Timeline's custom requests (docs/custom-requests.md, docs/timeline.md "Timeline panel:
// data"): lanes, the data of a time window, one event's hover card, the small charts, and the
// export of the whole session to Perfetto.

import { homedir } from 'node:os';
import { realpathSync } from 'node:fs';
import type { DebugRuntime } from '../runtime.ts';
import type { EventStore } from '../../emulator/timeTravel/eventStore.ts';
import { checkFile, expandPath, openOutputFile } from '../../emulator/hostSoftware/filePolicy.ts';
import { PerfettoFile } from '../../emulator/sim/trace/perfettoFile.ts';
import { parseTimelineQuery, timelineData, timelineLanes } from './timelineData.ts';
import { timelineEvent } from './timelineEvent.ts';
import { timelineStats } from './timelineStats.ts';
import { parseCard } from '../inspection/format.ts';

type Args = Record<string, unknown>;

/** The session's events (kept from the first timeline request on: DebugRuntime.eventStore). */
function storeOf(rt: DebugRuntime): Promise<EventStore | string> {
  if (!rt.timeline) return Promise.resolve('no machine: launch first');
  return rt.eventStore();
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** mic/exportPerfetto: the whole session so far, by a replay from power-on into the exporter. */
async function exportPerfetto(rt: DebugRuntime, a: Args): Promise<unknown> {
  if (typeof a.path !== 'string' || !a.path.trim())
    return 'path: the file to write (Chrome Trace Event JSON)';
  if (rt.running) return 'the session is running: pause it first (the export replays the session)';
  const workspace = rt.config.cwd ?? process.cwd();
  const path = expandPath(a.path, workspace, homedir());
  const bad = checkFile(path, 'perfetto', {
    workspace,
    overwrite: a.overwrite === true || rt.config.overwrite,
  });
  if (bad) return `path: ${path} ${bad}`;
  for (const [attr, p] of [
    ['disk', rt.config.disk],
    ['trace', rt.config.trace],
    ['pcap', rt.config.pcap],
  ] as const)
    if (p && real(p) === real(path)) return `path: ${path} is the session's ${attr} file`;
  let file: PerfettoFile;
  try {
    file = new PerfettoFile(openOutputFile(path));
  } catch (e) {
    return `path: ${(e as Error).message}`;
  }
  const t0 = Date.now();
  let done: boolean;
  try {
    done = await rt.replayAll(file.observer);
  } finally {
    file.close();
  }
  if (file.error) return `writing ${path} failed: ${file.error.message}`;
  return {
    path,
    complete: done,
    events: file.exporter.stats.events,
    requests: file.exporter.stats.requests,
    flows: file.exporter.stats.flows,
    bytes: file.bytesWritten,
    ms: Date.now() - t0,
  };
}

export const TIMELINE_REQUESTS: Readonly<
  Record<string, { doc: string; run: (rt: DebugRuntime, a: Args) => unknown }>
> = {
  'mic/timelineLanes': {
    doc: 'the MIC Timeline’s lanes: [{id, name, group (host|micN), kind, card}] and the kinds (their index is the bit of a bucket’s mask)',
    run: async (rt) => {
      const s = await storeOf(rt);
      return typeof s === 'string' ? s : timelineLanes(s);
    },
  },
  'mic/timelineData': {
    doc: '{from, to (virtual ns), width (px), lanes?}: per lane the events (few) or buckets (many), the requests overlapping, the causal links of the events listed',
    run: async (rt, a) => {
      const s = await storeOf(rt);
      if (typeof s === 'string') return s;
      const q = parseTimelineQuery(a, s);
      return typeof q === 'string' ? q : timelineData(s, q);
    },
  },
  'mic/timelineEvent': {
    doc: '{seq}: one event’s hover card: fields, words, causes back to the root, effects a few steps on',
    run: async (rt, a) => {
      const s = await storeOf(rt);
      return typeof s === 'string' ? s : timelineEvent(s, a.seq);
    },
  },
  'mic/timelineStats': {
    doc: '{card?, queue?}: per queue latency histogram and p50/p99 (virtual ns) and ring occupancy; DMA bytes per channel; doorbell rate',
    run: async (rt, a) => {
      const s = await storeOf(rt);
      if (typeof s === 'string') return s;
      let card: number | null = null;
      if (a.card !== undefined && a.card !== null) {
        card = parseCard(rt.machine, a.card);
        if (card === null) return `no card ${JSON.stringify(a.card)} (give card: 0 or "mic0")`;
      }
      if (a.queue !== undefined && typeof a.queue !== 'string')
        return 'queue: a queue name, e.g. "block.requestq"';
      return timelineStats(s, card, (a.queue as string | undefined) ?? null);
    },
  },
  'mic/exportPerfetto': {
    doc: '{path, overwrite?}: write the whole session so far as Chrome Trace Event JSON (Perfetto), by replaying it from power-on; the session is stopped at its moment again afterwards',
    run: exportPerfetto,
  },
};
