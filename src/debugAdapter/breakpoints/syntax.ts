// The function-breakpoint syntax (docs/breakpoints.md). One table of forms; each form says which
// event kinds it watches (so the index can find it), an optional event value to narrow the index
// further, and a predicate for the rest. An optional `micN:` prefix picks a card.
//
//   doorbell [h2c|c2h] [N]          dma [ch N] [memcpy|status|general|nop]
//   vq [DEVICE[.QUEUE]] [avail|used] irq [host|card]
//   state [STATE]                   console "TEXT"

import type { BusEvent, EventKind } from '../../emulator/sim/busEvent.ts';
import type { Refine } from '../../emulator/sim/eventIndex.ts';
import { MAX_CARDS } from '../../emulator/machine.ts';
import { MIC_STATES } from '../../emulator/hostSoftware/micHost/micDevice.ts';
import { VIRTIO_QUEUE_NAMES, VIRTIO_SHORT_NAMES } from '../../emulator/virtio/virtioIds.ts';

export class BreakpointSyntaxError extends Error {}

/**
 * How the index finds a breakpoint: an event kind, optionally one event value, optionally a
 * key read from the event (its queue, its DMA channel: see EventIndex's Refine).
 */
export interface IndexKey {
  kind: EventKind;
  value?: number;
  refine?: Refine;
}

export interface FunctionBreakpointSpec {
  /** Normalised text: `mic0: doorbell c2h 1`. */
  text: string;
  /** Card index, or −1 for any card. */
  card: number;
  keys: IndexKey[];
  /** A fresh predicate (with its own state, e.g. the console's rolling buffer) per armed breakpoint. */
  matcher(): (e: BusEvent) => boolean;
  /** In words, for messages: `card→host doorbell 1 on mic0`. */
  summary: string;
  /**
   * True when the keys say everything the matcher tests (it keeps no state either): an event
   * the index finds under them matches, and a caller need not call the matcher.
   */
  keysSuffice: boolean;
}

interface Form {
  word: string;
  usage: string;
  parse(args: string[], card: number): Omit<FunctionBreakpointSpec, 'text' | 'card'>;
}

const always = () => () => true;

// What the index reads from an event to refine a key (one function per question, shared by all
// breakpoints that ask it, so an event answers it once).
const doorbellDirection = (e: BusEvent) => e.dir || null;
const dmaChannel = (e: BusEvent) => (e.channel >= 0 ? e.channel : null);
const vringQueue = (e: BusEvent) => e.queue || null;
const irqTarget = (e: BusEvent) => e.side || null;
const stateName = (e: BusEvent) => e.state || null;

function number(arg: string | undefined, min: number, max: number, what: string, usage: string): number {
  const t = (arg ?? '').replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (arg === undefined) throw new BreakpointSyntaxError(`${what} is missing: write ${usage}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new BreakpointSyntaxError(`${what} must be a number from ${min} to ${max}, not '${arg}'`);
  }
  return v;
}

function noMore(args: string[], from: number, usage: string): void {
  if (args.length > from)
    throw new BreakpointSyntaxError(`unexpected '${args.slice(from).join(' ')}': write ${usage}`);
}

const on = (card: number) => (card >= 0 ? ` on mic${card}` : '');

const DMA_TYPES = ['nop', 'memcpy', 'status', 'general'] as const;
const STATES: readonly string[] = [...MIC_STATES, 'crashed', 'hardware reset'];
const DEVICES = Object.entries(VIRTIO_SHORT_NAMES).map(([type, name]) => ({
  name,
  queues: VIRTIO_QUEUE_NAMES[Number(type)] ?? [],
}));

const FORMS: readonly Form[] = [
  {
    word: 'doorbell',
    usage: 'doorbell [h2c|c2h] [N]',
    parse(args, card) {
      const usage = this.usage;
      if (args.length === 0)
        return {
          keys: [{ kind: 'doorbell' }],
          matcher: always,
          summary: `any doorbell${on(card)}`,
          keysSuffice: true,
        };
      const dir = args[0].toLowerCase();
      if (dir !== 'h2c' && dir !== 'c2h') {
        throw new BreakpointSyntaxError(
          `doorbell direction must be h2c (host→card) or c2h (card→host), not '${args[0]}': write ${usage}`,
        );
      }
      const words = dir === 'h2c' ? 'host→card' : 'card→host';
      const refine = { of: doorbellDirection, key: dir };
      const matcher = () => (e: BusEvent) => e.dir === dir;
      if (args.length === 1) {
        return {
          keys: [{ kind: 'doorbell', refine }],
          matcher,
          summary: `any ${words} doorbell${on(card)}`,
          keysSuffice: true,
        };
      }
      const n = number(args[1], 0, dir === 'h2c' ? 15 : 3, `${dir} doorbell number`, usage);
      noMore(args, 2, usage);
      return {
        keys: [{ kind: 'doorbell', value: n, refine }],
        matcher,
        summary: `${words} doorbell ${n}${on(card)}`,
        keysSuffice: true,
      };
    },
  },
  {
    word: 'dma',
    usage: 'dma [ch N] [memcpy|status|general|nop]',
    parse(args, card) {
      let channel = -1;
      let type = -1;
      for (let i = 0; i < args.length; i++) {
        const a = args[i].toLowerCase();
        if (a === 'ch' || a === 'channel') {
          if (channel >= 0)
            throw new BreakpointSyntaxError(`the channel is given twice: write ${this.usage}`);
          channel = number(args[++i], 0, 7, 'DMA channel', this.usage);
        } else if ((DMA_TYPES as readonly string[]).includes(a)) {
          if (type >= 0)
            throw new BreakpointSyntaxError(`the descriptor type is given twice: write ${this.usage}`);
          type = DMA_TYPES.indexOf(a as (typeof DMA_TYPES)[number]);
        } else {
          throw new BreakpointSyntaxError(`unexpected '${args[i]}' after dma: write ${this.usage}`);
        }
      }
      const what = `${type >= 0 ? DMA_TYPES[type].toUpperCase() : 'any'} DMA descriptor${channel >= 0 ? ` on channel ${channel}` : ''}`;
      const key: IndexKey = { kind: 'dma.desc' };
      if (type >= 0) key.value = type;
      if (channel >= 0) key.refine = { of: dmaChannel, key: channel };
      return {
        keys: [key],
        matcher: () => (channel < 0 ? () => true : (e) => e.channel === channel),
        summary: `${what}${on(card)}`,
        keysSuffice: true,
      };
    },
  },
  {
    word: 'vq',
    usage: 'vq [DEVICE[.QUEUE]] [avail|used]',
    parse(args) {
      const usage = `${this.usage} (devices: ${DEVICES.map((d) => `${d.name} (${d.queues.join(', ')})`).join(', ')})`;
      let device = '';
      let queue = '';
      let i = 0;
      if (args[0] !== undefined && !/^(avail|used)$/i.test(args[0])) {
        const [d, q, extra] = args[0].toLowerCase().split('.');
        const dev = DEVICES.find((x) => x.name === d);
        if (!dev || extra !== undefined)
          throw new BreakpointSyntaxError(`unknown virtio device '${args[0]}': write ${usage}`);
        device = dev.name;
        if (q !== undefined) {
          const byIndex = /^\d+$/.test(q) ? dev.queues[Number(q)] : undefined;
          const name = byIndex ?? dev.queues.find((x) => x === q);
          if (!name)
            throw new BreakpointSyntaxError(
              `${dev.name} has no queue '${q}'; its queues are ${dev.queues.join(', ')}`,
            );
          queue = name;
        }
        i = 1;
      }
      let kinds: EventKind[] = ['vring.avail', 'vring.used'];
      if (args[i] !== undefined) {
        const w = args[i].toLowerCase();
        if (w !== 'avail' && w !== 'used')
          throw new BreakpointSyntaxError(`unexpected '${args[i]}': write ${usage}`);
        kinds = [w === 'avail' ? 'vring.avail' : 'vring.used'];
        i++;
      }
      noMore(args, i, usage);
      const full = device ? `${device}.${queue}` : '';
      return {
        keys: kinds.map((kind) => (queue ? { kind, refine: { of: vringQueue, key: full } } : { kind })),
        matcher: () => (!device ? () => true : queue ? (e) => e.queue === full : (e) => e.device === device),
        // `vq DEVICE` (every queue of it) is filed under the kind alone: its matcher checks.
        keysSuffice: !device || queue !== '',
        summary: `${kinds.length === 2 ? 'a chain made available or used' : kinds[0] === 'vring.avail' ? 'a chain made available' : 'a chain used'} on ${device ? `${device}${queue ? '.' + queue : ''}` : 'any virtqueue'}`,
      };
    },
  },
  {
    word: 'irq',
    usage: 'irq [host|card]',
    parse(args, card) {
      noMore(args, 1, this.usage);
      if (args.length === 0)
        return {
          keys: [{ kind: 'irq' }],
          matcher: always,
          summary: `any interrupt${on(card)}`,
          keysSuffice: true,
        };
      const w = args[0].toLowerCase();
      if (w !== 'host' && w !== 'card')
        throw new BreakpointSyntaxError(
          `unexpected '${args[0]}': write ${this.usage} (host: MSI-X to the host; card: the card's APIC)`,
        );
      return {
        keys: [{ kind: 'irq', refine: { of: irqTarget, key: w } }],
        matcher: () => (e) => e.side === w,
        keysSuffice: true,
        summary: `${w === 'host' ? 'an MSI-X interrupt to the host' : 'a card APIC interrupt'}${on(card)}`,
      };
    },
  },
  {
    word: 'state',
    usage: `state [${STATES.join('|')}]`,
    parse(args, card) {
      if (args.length === 0)
        return {
          keys: [{ kind: 'state' }],
          matcher: always,
          summary: `any state change${on(card)}`,
          keysSuffice: true,
        };
      let s = args.join(' ').toLowerCase().replace(/-/g, '_');
      if (s === 'reset' || s === 'hardware_reset') s = 'hardware reset';
      if (!STATES.includes(s))
        throw new BreakpointSyntaxError(
          `unknown card state '${args.join(' ')}': states are ${STATES.join(', ')}`,
        );
      return {
        keys: [{ kind: 'state', refine: { of: stateName, key: s } }],
        matcher: () => (e) => e.state === s,
        summary: `card state ${s}${on(card)}`,
        keysSuffice: true,
      };
    },
  },
  {
    word: 'console',
    usage: 'console "TEXT"',
    parse(args, card) {
      const q = args[0];
      if (q === undefined || !q.startsWith('"')) {
        throw new BreakpointSyntaxError(`console needs the text in double quotes: console "login:"`);
      }
      noMore(args, 1, this.usage);
      const needle = unquote(q);
      if (needle === '') throw new BreakpointSyntaxError('console text is empty: write console "TEXT"');
      return {
        keys: [{ kind: 'console' }],
        matcher: () => consoleMatcher(needle),
        summary: `console output containing ${JSON.stringify(needle)}${on(card)}`,
        keysSuffice: false,
      };
    },
  },
];

/**
 * Console output arrives in chunks: keep the last (length − 1) characters of each card's output
 * so that TEXT split across two chunks still matches, once.
 */
function consoleMatcher(needle: string): (e: BusEvent) => boolean {
  const tails = new Map<string, string>();
  const keep = needle.length - 1;
  return (e) => {
    const tail = tails.get(e.space) ?? '';
    const chunk = e.text;
    const hit = chunk.includes(needle) || (tail !== '' && (tail + chunk.slice(0, keep)).includes(needle));
    const all = chunk.length >= keep ? chunk : tail + chunk;
    tails.set(e.space, keep > 0 ? all.slice(all.length - keep) : '');
    return hit;
  };
}

function unquote(q: string): string {
  if (q.length < 2 || !q.endsWith('"')) throw new BreakpointSyntaxError(`the text ${q} has no closing quote`);
  const body = q.slice(1, -1);
  const map: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', r: '\r', t: '\t' };
  return body.replace(/\\(.)/g, (_, c: string) => {
    if (!Object.prototype.hasOwnProperty.call(map, c))
      throw new BreakpointSyntaxError(`unknown escape \\${c} in ${q} (use \\" \\\\ \\n \\r \\t)`);
    return map[c];
  });
}

/** Words and one optional "quoted text" (with \" escapes). */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"?|[^\s"]+/g;
  for (const m of s.matchAll(re)) out.push(m[0]);
  return out;
}

export const SYNTAX_HELP = `accepted: ${FORMS.map((f) => f.usage).join('; ')} — each optionally prefixed with micN: to pick a card`;

/** Parse a function breakpoint; throws BreakpointSyntaxError saying why and what is accepted. */
export function parseFunctionBreakpoint(input: string): FunctionBreakpointSpec {
  let s = input.trim();
  let card = -1;
  const pre = /^mic(\d+)\s*:\s*/i.exec(s);
  if (pre) {
    card = Number(pre[1]);
    if (card >= MAX_CARDS)
      throw new BreakpointSyntaxError(`there is no card mic${card}: cards are mic0 to mic${MAX_CARDS - 1}`);
    s = s.slice(pre[0].length);
  } else if (/^mic\d*\s/i.test(s) || /^mic\d+$/i.test(s)) {
    throw new BreakpointSyntaxError(
      `write the card as a prefix with a colon, e.g. 'mic0: doorbell'; ${SYNTAX_HELP}`,
    );
  }
  if (s === '') throw new BreakpointSyntaxError(`the breakpoint is empty; ${SYNTAX_HELP}`);
  const args = words(s);
  const head = args[0].toLowerCase();
  const form = FORMS.find((f) => f.word === head);
  if (!form) throw new BreakpointSyntaxError(`unknown breakpoint '${args[0]}'; ${SYNTAX_HELP}`);
  const parsed = form.parse(args.slice(1), card);
  const text = `${card >= 0 ? `mic${card}: ` : ''}${[head, ...args.slice(1)].join(' ')}`;
  return { ...parsed, text, card };
}
