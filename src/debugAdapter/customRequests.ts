// Custom DAP requests (`mic/…`) that feed the extension's tree views and any other client: the
// same models the scopes render (inspection/model.ts), as JSON. The read-only ones never change
// device state; mic/hostCommand and mic/consoleInput are the two that act. Documented with
// request/response examples in docs/custom-requests.md.

import { HOST_COMMANDS, type HostCommand } from '../emulator/machine.ts';
import { DEBUGFS_FILES, micDmaReg, readDebugfs } from '../emulator/inspect/debugfs.ts';
import type { DebugRuntime } from './runtime.ts';
import { parseCard } from './inspection/format.ts';
import { lastWriteRequest } from './lastWrite.ts';
import { TIMELINE_REQUESTS } from './timeline/timelineRequests.ts';
import {
  cardsModel,
  devicePageModel,
  dmaModel,
  pciConfigModel,
  registersModel,
  smptModel,
  virtqueuesModel,
} from './inspection/model.ts';

/** What the handlers need from the session (MicDebugSession has both). */
export interface CustomRequestSession {
  readonly rt: DebugRuntime | null;
  readonly vars?: { selectedCard(): number };
}

type Args = Record<string, unknown>;
type Handler = (rt: DebugRuntime, a: Args, s: CustomRequestSession) => unknown;

/** `card` as a number or `micN`; absent → `dflt` (the selected card), or every card when `all`. */
function cardArg(rt: DebugRuntime, a: Args, s: CustomRequestSession): number | string {
  if (a.card === undefined || a.card === null) return s.vars?.selectedCard() ?? 0;
  const c = parseCard(rt.machine, a.card);
  if (c === null)
    return `no card ${JSON.stringify(a.card)}: this machine has ${rt.machine.cards.map((x) => x.name).join(', ')} (give card: 0 or "mic0")`;
  return c;
}

/** Cards for the requests whose card is optional: the one asked for, else all of them. */
function cardsArg(rt: DebugRuntime, a: Args, s: CustomRequestSession): number[] | string {
  if (a.card === undefined || a.card === null) return rt.machine.cards.map((_, i) => i);
  const c = cardArg(rt, a, s);
  return typeof c === 'string' ? c : [c];
}

function perCard<T>(fn: (rt: DebugRuntime, card: number) => T): Handler {
  return (rt, a, s) => {
    const c = cardArg(rt, a, s);
    return typeof c === 'string' ? c : fn(rt, c);
  };
}

function decodeInput(a: Args): Uint8Array | string {
  if (typeof a.text === 'string') return new TextEncoder().encode(a.text);
  if (typeof a.data !== 'string') return 'give the bytes as data (base64) or text (UTF-8)';
  if (a.encoding === 'utf8' || a.encoding === 'text') return new TextEncoder().encode(a.data);
  if (a.encoding !== undefined && a.encoding !== 'base64')
    return `encoding ${JSON.stringify(a.encoding)} is not known: use "base64" (default) or "utf8"`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(a.data)) return 'data is not base64 (set encoding: "utf8" to send text)';
  return new Uint8Array(Buffer.from(a.data, 'base64'));
}

/** A time: ns as a number, or text with a unit: `1.5ms`, `200us`, `2s`, `1500ns`. */
export function parseTime(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(v);
  if (!m) return null;
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'ns') as 'ns'];
  return Math.round(Number(m[1]) * scale);
}

/** The event (or time) a seek names: `{seq}`, `{delta}` from here, or `{time}`. */
export function seekTarget(rt: DebugRuntime, a: Args): { seq: number } | { time: number } | string {
  const p = rt.position();
  if (a.time !== undefined) {
    const t = parseTime(a.time);
    return t === null
      ? `time ${JSON.stringify(a.time)} is not a time: write ns, or 1.5ms, 200us, 2s`
      : { time: t };
  }
  const n = a.seq !== undefined ? a.seq : a.delta;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    return 'give seq (an event number), delta (events from here, negative goes back) or time';
  const seq = a.seq !== undefined ? n : p.seq + n;
  if (seq < 0 || seq > p.head) return `event ${seq} is not on the timeline: it runs from 0 to ${p.head}`;
  return { seq };
}

export const CUSTOM_REQUESTS: Readonly<Record<string, { doc: string; run: Handler }>> = {
  'mic/cards': {
    doc: 'every card: state, shutdown_status, stepping, IDs, BAR0/BAR4, POST code, card OS state',
    run: (rt) => cardsModel(rt.machine),
  },
  'mic/registers': {
    doc: '{card}: SBOX/DBOX registers in their hardware groups, with fields, docs and tooltips',
    run: perCard((rt, c) => registersModel(rt.machine, c)),
  },
  'mic/pciConfig': {
    doc: '{card}: PCI configuration space decoded',
    run: perCard((rt, c) => pciConfigModel(rt.machine, c)),
  },
  'mic/devicePage': {
    doc: '{card}: the device page decoded (bootparam, device entries, vqconfig, device_ctrl)',
    run: perCard((rt, c) => devicePageModel(rt.machine, c)),
  },
  'mic/virtqueues': {
    doc: '{card?}: per card, device and queue: indices and in-flight chains',
    run: (rt, a, s) => {
      const cards = cardsArg(rt, a, s);
      return typeof cards === 'string' ? cards : { cards: cards.map((c) => virtqueuesModel(rt.machine, c)) };
    },
  },
  'mic/dma': {
    doc: '{card?}: per card and DMA channel: registers, ring, head/tail, recent descriptors',
    run: (rt, a, s) => {
      const cards = cardsArg(rt, a, s);
      return typeof cards === 'string' ? cards : { cards: cards.map((c) => dmaModel(rt.machine, c)) };
    },
  },
  'mic/smpt': {
    doc: '{card}: the 32 SMPT entries: register, host base, driver copy, refcount',
    run: perCard((rt, c) => smptModel(rt.machine, c)),
  },
  'mic/debugfs': {
    doc: '{card, file, owner?}: a debugfs file as the kernel prints it (no file: the list of files)',
    run: (rt, a, s) => {
      const files = DEBUGFS_FILES.map((f) => ({ name: f.name, dir: f.dir, doc: f.doc }));
      if (a.file === undefined) return { files };
      const c = cardArg(rt, a, s);
      if (typeof c === 'string') return c;
      const f = DEBUGFS_FILES.find((x) => x.name === a.file);
      if (a.owner !== undefined && (a.file !== 'mic_dma_reg' || (a.owner !== 'host' && a.owner !== 'card')))
        return 'owner is for mic_dma_reg only: "host" (channels 0–3, the default) or "card" (channels 4–7)';
      const text =
        a.file === 'mic_dma_reg' && a.owner === 'card'
          ? micDmaReg(rt.machine, c, 'card')
          : typeof a.file === 'string'
            ? readDebugfs(rt.machine, c, a.file)
            : null;
      if (!f || text === null)
        return `no debugfs file ${JSON.stringify(a.file)}: the files are ${files.map((x) => x.name).join(', ')}`;
      return {
        card: c,
        name: `mic${c}`,
        file: f.name,
        path: `/sys/kernel/debug/${f.dir.replace('N', String(c))}/${f.name}`,
        text,
      };
    },
  },
  'mic/hostCommand': {
    doc: '{card, command}: boot | reset | shutdown | suspend | resume, as written to sysfs state',
    run: (rt, a, s) => {
      const c = cardArg(rt, a, s);
      if (typeof c === 'string') return c;
      if (typeof a.command !== 'string' || !(HOST_COMMANDS as readonly string[]).includes(a.command))
        return `command ${JSON.stringify(a.command)} is not a host command: use one of ${HOST_COMMANDS.join(', ')}`;
      const before = rt.machine.state(c);
      rt.hostCommand(c, a.command as HostCommand);
      return { card: c, name: `mic${c}`, command: a.command, state: before, running: rt.running };
    },
  },
  'mic/timeline': {
    doc: 'where the session is on its timeline: {seq, head, time, inputs, future: {events, inputs}}',
    run: (rt) => rt.position(),
  },
  'mic/seek': {
    doc: '{seq} | {delta} | {time}: go to the moment after event seq, delta events from here, or the first event at virtual time (ns, or "1.5ms"); replays from power-on when it lies behind',
    run: (rt, a) => {
      const target = seekTarget(rt, a);
      if (typeof target === 'string') return target;
      if ('time' in target) void rt.gotoTime(target.time);
      else void rt.goto(target.seq);
      return { ...rt.position(), target };
    },
  },
  'mic/lastWrite': {
    doc: '{address, length?, limit?, before?}: who last wrote these bytes — the writes before the current moment (or event `before`), newest first, from the write index (no replay)',
    run: (rt, a, s) => lastWriteRequest(rt, a, s.vars?.selectedCard() ?? 0),
  },
  'mic/saveRecording': {
    doc: '{path, overwrite?}: write the session as a recording file (configuration, inputs, the disk bytes it read; docs/time-travel.md) → {path, bytes, head, inputs, disks}',
    run: (rt, a) => rt.saveRecording(a),
  },
  ...TIMELINE_REQUESTS,
  'mic/consoleInput': {
    doc: '{card, data (base64) | text}: bytes typed at the card console',
    run: (rt, a, s) => {
      const c = cardArg(rt, a, s);
      if (typeof c === 'string') return c;
      const bytes = decodeInput(a);
      if (typeof bytes === 'string') return bytes;
      rt.consoleInput(c, bytes);
      return { card: c, name: `mic${c}`, bytes: bytes.length, running: rt.running };
    },
  },
};

/**
 * Answer `command` with `args`. Returns the response body, an error text, or undefined when the
 * command is not ours (the session then answers as DebugSession does for unknown requests).
 */
export function handleCustomRequest(session: CustomRequestSession, command: string, args: unknown): unknown {
  const h = Object.hasOwn(CUSTOM_REQUESTS, command) ? CUSTOM_REQUESTS[command] : undefined;
  if (!h) {
    if (!command.startsWith('mic/')) return undefined;
    return `unknown request '${command}': the mic/ requests are ${Object.keys(CUSTOM_REQUESTS).join(', ')}`;
  }
  const rt = session.rt;
  if (!rt?.machine) return 'no machine: launch first';
  if (MOVES_OR_FEEDS.has(command)) {
    const busy = rt.busy();
    if (busy) return busy;
  }
  const a: Args = args && typeof args === 'object' ? (args as Args) : {};
  return h.run(rt, a, session);
}

/** The requests that move the machine or feed it: refused while a travel runs (DebugRuntime.busy). */
const MOVES_OR_FEEDS = new Set(['mic/seek', 'mic/consoleInput', 'mic/hostCommand', 'mic/exportPerfetto']);
