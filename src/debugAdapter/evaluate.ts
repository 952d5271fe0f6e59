// The Debug Console (`evaluate`): the Linux driver's debugfs files as commands (dp, vdev_info,
// smpt, mic_dma_reg, post_code, log_buf, msi_irq_info), `state`, `x` (hexdump), `type`, `help`,
// register names and register assignments, and expressions over the current event with the
// breakpoint condition language. Hover and watch evaluate expressions and register names only.
// Every command reads through the emulator's own decoders: nothing here changes device state,
// except `state CMD`, `type` and `REG = VALUE`, which say so.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { HOST_COMMANDS, type HostCommand } from '../emulator/machine.ts';
import { DEBUGFS_FILES, micDmaReg } from '../emulator/inspect/debugfs.ts';
import { hexdump } from '../emulator/lib/hexdump.ts';
import type { DebugRuntime } from './runtime.ts';
import type { VariablesProvider } from './inspection/variables.ts';
import { compileCondition } from './breakpoints/condition.ts';
import { eventFields, FIELD_NAMES, type Fields } from './breakpoints/eventFields.ts';
import { peek, resolveMemoryRef } from './memoryRefs.ts';
import {
  cardOfInitiator,
  countText,
  eventAddressRef,
  hex,
  parseCard,
  parseValue,
} from './inspection/format.ts';
import { cardModel, cardStateLine } from './inspection/model.ts';
import { seekTarget } from './customRequests.ts';
import { lastWriteCommand } from './lastWrite.ts';
import {
  findRegister,
  writeRegister,
  describeWrite,
  type RegisterTarget,
} from './inspection/registerAccess.ts';
import { fieldNode, registerNode } from './inspection/nodes.ts';
import { VIRTIO_SHORT_NAMES } from '../emulator/virtio/virtioIds.ts';

export type EvaluateResult =
  | string
  | (DebugProtocol.EvaluateResponse['body'] & {
      memoryEvent?: { ref: string; offset: number; count: number };
    });

/** `x` shows at most this many bytes. */
export const X_MAX = 64 * 1024;
export const X_DEFAULT = 64;

const DEBUGFS_COMMANDS = DEBUGFS_FILES.map((f) => f.name);
/** `vdev_info micN console`: one device's part (virtio type → the word people write). */
const VIRTIO_DEVICE_WORDS = Object.values(VIRTIO_SHORT_NAMES);

export const COMMANDS: readonly { usage: string; doc: string }[] = [
  ...DEBUGFS_FILES.map((f) => ({
    usage: `${f.name} [micN]${f.name === 'mic_dma_reg' ? ' [host|card]' : f.name === 'vdev_info' ? ` [${VIRTIO_DEVICE_WORDS.join('|')}]` : ''}`,
    doc: `${f.doc} (debugfs ${f.dir}/${f.name})`,
  })),
  { usage: 'state', doc: "every card's sysfs state, shutdown_status, card OS state, BARs" },
  {
    usage: `state ${HOST_COMMANDS.join('|')} [micN|all]`,
    doc: 'write the command to /sys/class/mic/micN/state (host power management for suspend/resume)',
  },
  {
    usage: 'x ADDRESS [LEN]',
    doc: `hexdump -C of LEN bytes (default ${X_DEFAULT}) at micN.bar4+OFF, micN.gddr+OFF, host+OFF, a host-physical address or a register name`,
  },
  { usage: 'type TEXT', doc: "type TEXT and Enter on the selected card's console" },
  {
    usage: 'goto SEQ | goto -N | goto +N | goto time T',
    doc: 'time travel: to the moment after event SEQ, N events back or on, or the first event at virtual time T (1.5ms, 200us, ns)',
  },
  {
    usage: 'lastwrite ADDR [LEN]',
    doc: 'who last wrote LEN bytes (default 4) at ADDR (micN.bar4+OFF, micN.gddr+OFF, micN.config+OFF, host+OFF, a host-physical address or a register name) before this moment, with goto SEQ to go there',
  },
  {
    usage: 'history ADDR [LEN]',
    doc: 'the last 20 writes to LEN bytes at ADDR before this moment, newest first: event, virtual time, initiator, value, goto SEQ',
  },
  { usage: 'where', doc: 'where the session is on its timeline: event N of M, virtual time, inputs' },
  { usage: '[micN.]REG[.FIELD]', doc: 'a register (SICR0, mic1.SPAD14, DHPR0, SICR0.DBR) with its fields' },
  {
    usage: '[micN.]REG[.FIELD] = VALUE',
    doc: 'write a register through the bus, with its side effects (SDBIC0 = 0x80000000 rings the doorbell)',
  },
  {
    usage: 'EXPRESSION',
    doc: 'over the stopped event: value, address & 0xfff, kind == "doorbell", SICR0 & 1 …',
  },
  { usage: 'help', doc: 'this list' },
];

/** `text` as lines of at most `width` characters, broken between words, each after `indent`. */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** Help, in lines short enough (≤ 72 characters) that the Debug Console never breaks a word. */
export function helpText(card: number): string {
  return [
    `MIC Debug Console (selected card: mic${card}; micN picks another)`,
    ...COMMANDS.flatMap((c) => [`  ${c.usage}`, ...wrapWords(c.doc, 72, '      ')]),
    ...wrapWords(
      `Event fields: ${FIELD_NAMES.join(', ')} (which ones an event has depends on its kind).`,
      72,
    ),
    ...wrapWords(
      'Operators: ! ~ - * / % + - << >> < <= > >= == != & ^ | && ||; functions contains, startsWith, endsWith, lower, hex.',
      72,
    ),
  ].join('\n');
}

/** Format an expression's value: strings quoted, whole numbers in hex (and decimal), booleans. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 10) return `${hex(v)} (${v})`;
    return String(v);
  }
  return String(v);
}

/** `event 1,234 of 56,789 · 1.500 ms · 3 inputs` (and what a new input would drop). */
export function whereText(rt: DebugRuntime): string {
  const p = rt.position();
  const future =
    p.future.events > 0
      ? ` · in the past: a new input drops the ${p.future.events} events after this moment`
      : '';
  return `event ${p.seq} of ${p.head} · ${(p.time / 1e6).toFixed(3)} ms virtual · ${p.inputs} input${p.inputs === 1 ? '' : 's'} recorded${future}`;
}

export class Evaluator {
  constructor(
    private readonly getRt: () => DebugRuntime | null,
    private readonly vars: VariablesProvider,
  ) {}

  /**
   * `initiator` (optional): the thread of the request's frame; its card becomes the selected
   * card. Without it, the card the client last asked scopes for (else the stopped thread's).
   */
  evaluate(expression: string, context: string, initiator?: string | null): EvaluateResult {
    const rt = this.getRt();
    if (!rt?.machine) return 'no machine: launch first';
    const text = expression.trim();
    if (!text) return `nothing to evaluate: type help for the commands`;
    const named = /^mic(\d+)\b/.exec(text);
    if (named && Number(named[1]) >= rt.machine.cards.length)
      return `no such card: mic${named[1]} (this session has ${rt.machine.cards.map((x) => x.name).join(', ')})`;
    const card = initiator
      ? cardOfInitiator(rt.machine, initiator, rt.stopped?.event?.space)
      : this.vars.selectedCard();
    if (context === 'repl') {
      const r = this.command(rt, text, card);
      if (r !== null) return r;
    } else if (this.isCommandWord(text)) {
      return `'${text.split(/\s+/)[0]}' is a Debug Console command: run it in the Debug Console (${context} evaluates registers and expressions only)`;
    }
    const reg = this.register(rt, text, card);
    if (reg) return reg;
    return this.expression(rt, text, card, context);
  }

  private isCommandWord(text: string): boolean {
    const w = text.split(/\s+/)[0];
    return DEBUGFS_COMMANDS.includes(w) || w === 'help' || w === 'x' || w === 'lastwrite' || w === 'history';
  }

  private compiles(text: string): boolean {
    try {
      compileCondition(text);
      return true;
    } catch {
      return false;
    }
  }

  // ---- commands ---------------------------------------------------------------------------

  /** A Debug Console command, or null when `text` is not one (then: register or expression). */
  private command(rt: DebugRuntime, text: string, card: number): EvaluateResult | null {
    const [word, ...rest] = text.split(/\s+/);
    if (word === 'help' || word === '?') return plain(helpText(card));
    if (DEBUGFS_COMMANDS.includes(word)) return this.debugfs(rt, word, rest, card);
    if (word === 'state' && this.isStateCommand(rest)) return this.state(rt, rest, card);
    if (word === 'state' && !this.compiles(text))
      return `state takes a command (${HOST_COMMANDS.join(', ')}) and/or a card (micN or all), got '${rest.join(' ')}'`;
    if (word === 'x') return this.examine(rt, text.slice(1).trim(), card);
    if (word === 'goto') return rt.busy() ?? this.goto(rt, rest);
    if (word === 'where' && rest.length === 0) return plain(whereText(rt));
    if (word === 'lastwrite' || word === 'history') {
      const args = text
        .slice(word.length)
        .replace(/\s*\+\s*/g, '+')
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      const r = lastWriteCommand(rt, word, args, card);
      return typeof r === 'string' ? r : plain(r.text);
    }
    // `type` alone, or `type == "memcpy"`, is the event field; `type ls -l` types a line.
    if (word === 'type' && rest.length > 0 && !this.compiles(text))
      return rt.busy() ?? this.type(rt, text.slice(4).trim(), card);
    if (word === 'type' && rest.length === 0 && !(rt.stopped?.event?.kind === 'dma.desc'))
      return 'type TEXT types TEXT and Enter on the card console (type "" sends just Enter); `type` alone is the descriptor type of a dma.desc event';
    const assign = /^([A-Za-z][\w.]*)\s*=(?!=)\s*(.+)$/.exec(text);
    if (assign) {
      const t = findRegister(rt.machine, assign[1], card);
      if (!t)
        return `'${assign[1]}' is not a register: only registers can be assigned (e.g. SDBIC0 = 0x80000000)`;
      const w = rt.busy() ?? writeRegister(rt, t, assign[2]);
      if (typeof w === 'string') return w;
      return { ...this.registerBody(rt, w.after), result: describeWrite(w), memoryEvent: w.memory };
    }
    return null;
  }

  /** goto SEQ | -N | +N | time T: a seek; the stop that ends it says where it landed. */
  private goto(rt: DebugRuntime, rest: string[]): EvaluateResult {
    const usage = 'write goto SEQ, goto -N, goto +N or goto time T (1.5ms, 200us, ns)';
    let target;
    if (rest[0] === 'time') target = seekTarget(rt, { time: rest.slice(1).join('') });
    else if (rest.length === 1 && /^[+-]?\d+$/.test(rest[0]))
      target = seekTarget(rt, /^[+-]/.test(rest[0]) ? { delta: Number(rest[0]) } : { seq: Number(rest[0]) });
    else return `goto needs an event or a time: ${usage}`;
    if (typeof target === 'string') return target;
    if ('time' in target) void rt.gotoTime(target.time);
    else void rt.goto(target.seq);
    return plain(
      'time' in target
        ? `going to the first event at ${target.time} ns (a replay; the stop says where it lands)`
        : `going to event ${target.seq} of ${rt.position().head} (a replay; the stop says where it lands)`,
    );
  }

  private cardWord(rt: DebugRuntime, word: string | undefined, card: number): number | string {
    if (word === undefined) return card;
    const c = parseCard(rt.machine, word);
    return c ?? `no card '${word}' (cards: ${rt.machine.cards.map((x) => x.name).join(', ')})`;
  }

  private debugfs(rt: DebugRuntime, name: string, args: string[], card: number): EvaluateResult {
    let owner: 'host' | 'card' = 'host';
    let device: string | undefined;
    const words = args.filter((a) => {
      if (name === 'mic_dma_reg' && (a === 'host' || a === 'card')) {
        owner = a;
        return false;
      }
      if (name === 'vdev_info' && VIRTIO_DEVICE_WORDS.includes(a.toLowerCase())) {
        device = a.toLowerCase();
        return false;
      }
      return true;
    });
    if (words.length > 1) return `${name} takes one card (micN), got '${words.join(' ')}'`;
    const c = this.cardWord(rt, words[0], card);
    if (typeof c === 'string') return c;
    const f = DEBUGFS_FILES.find((x) => x.name === name)!;
    const out = name === 'mic_dma_reg' ? micDmaReg(rt.machine, c, owner) : f.read(rt.machine, c);
    if (!out) {
      const why =
        name === 'log_buf'
          ? `shown only while the card is online or shutting_down, once mpssd set log_buf_addr and log_buf_len; mic${c} is ${rt.machine.state(c)}`
          : name === 'dp' || name === 'vdev_info'
            ? 'no device page or device yet'
            : 'nothing to show';
      return plain(`(${name} of mic${c} is empty: ${why})`);
    }
    if (name === 'log_buf') {
      // The kernel dumps all log_buf_len bytes: the text, then the buffer's NUL fill. The
      // console shows the text and says how much fill it left out.
      const text = out.replace(/\0+$/, '');
      const fill = out.length - text.length;
      return plain(
        fill > 0 ? `${text.replace(/\n$/, '')}\n(… ${fill} NUL bytes of log_buf not shown)` : text,
      );
    }
    if (name !== 'vdev_info') return plain(out.replace(/\n$/, ''));
    // vdev_info is long (every descriptor of every ring): one device on request, and a count first.
    let text = out.replace(/\n$/, '');
    if (device) {
      const type = Object.entries(VIRTIO_SHORT_NAMES).find(([, w]) => w === device)![0];
      const parts = text.split(/\n(?=VDEV type )/);
      const part = parts.find((p) => p.startsWith(`VDEV type ${type} `));
      if (!part) return plain(`(vdev_info of mic${c} has no ${device} device)`);
      text = part;
    }
    const n = text.split('\n').length;
    return plain(
      `vdev_info mic${c}${device ? ` ${device}` : ''}: ${n} line${n === 1 ? ' follows' : 's follow'}${device ? '' : ` (vdev_info mic${c} ${VIRTIO_DEVICE_WORDS.join('|')} shows one device)`}\n${text}`,
    );
  }

  private isStateCommand(rest: string[]): boolean {
    if (rest.length === 0) return true;
    if (rest.length > 2) return false;
    return rest.every(
      (w) => (HOST_COMMANDS as readonly string[]).includes(w) || w === 'all' || /^mic\d+$/.test(w),
    );
  }

  private state(rt: DebugRuntime, rest: string[], card: number): EvaluateResult {
    const m = rt.machine;
    const cmd = rest.find((w) => (HOST_COMMANDS as readonly string[]).includes(w)) as HostCommand | undefined;
    const which = rest.find((w) => w === 'all' || /^mic\d+$/.test(w));
    let cards: number[];
    if (which === 'all') cards = m.cards.map((_, i) => i);
    else if (which !== undefined) {
      const c = this.cardWord(rt, which, card);
      if (typeof c === 'string') return c;
      cards = [c];
    } else cards = cmd ? [card] : m.cards.map((_, i) => i);
    if (!cmd) return plain(cards.map((i) => cardStateLine(cardModel(m, i))).join('\n'));
    const busy = rt.busy();
    if (busy) return busy;
    const lines = cards.map((i) => {
      const before = m.state(i);
      rt.hostCommand(i, cmd);
      const how =
        cmd === 'suspend' || cmd === 'resume'
          ? `host PM ${cmd}`
          : `'${cmd}' written to /sys/class/mic/mic${i}/state`;
      return `mic${i}: ${how} (state was ${before})`;
    });
    if (!rt.running) lines.push('The machine is paused: this takes effect when you continue.');
    return plain(lines.join('\n'));
  }

  private examine(rt: DebugRuntime, args: string, card: number): EvaluateResult {
    const m = rt.machine;
    const norm = args.replace(/\s*\+\s*/g, '+').trim();
    const [addr, lenText, ...extra] = norm.split(/\s+/);
    if (!addr) return `x needs an address: x ADDRESS [LEN], e.g. x mic${card}.bar4+0x1ab20 16`;
    if (extra.length) return `x takes ADDRESS [LEN], got '${args}'`;
    let len = X_DEFAULT;
    if (lenText !== undefined) {
      const n = parseValue(lenText);
      if (n === null || n <= 0) return `'${lenText}' is not a length in bytes`;
      if (n > X_MAX) return `x shows at most ${X_MAX} bytes (asked for ${n})`;
      len = n;
    }
    let ref = addr;
    const reg = findRegister(m, addr, card);
    if (reg && !reg.field) ref = reg.reg.memoryReference;
    else if (addr === 'address' && rt.stopped?.event) {
      const e = rt.stopped.event;
      ref = eventAddressRef(m, e.space, e.address) ?? addr;
    }
    const t = resolveMemoryRef(m, ref);
    if (!t)
      return `'${addr}' is not an address: use micN.bar4+OFF, micN.gddr+OFF, host+OFF, a host-physical address or a register name`;
    const data = peek(m, t, len);
    const short =
      data.length < len ? ` (only ${countText(data.length, 'byte')} up to the end of ${t.space})` : '';
    return {
      result: `${t.canonical}, ${countText(data.length, 'byte')}${short}\n${hexdump(t.address, data)}`,
      variablesReference: 0,
      memoryReference: t.canonical,
    };
  }

  private type(rt: DebugRuntime, text: string, card: number): EvaluateResult {
    const q = /^"(.*)"$/.exec(text);
    const line = q ? q[1] : text;
    const bytes = new TextEncoder().encode(line + '\n');
    rt.consoleInput(card, bytes);
    const note = rt.running ? '' : ' (the machine is paused: the card reads it when you continue)';
    return plain(`typed ${JSON.stringify(line)} + Enter on the mic${card} console${note}`);
  }

  // ---- registers ----------------------------------------------------------------------------

  private registerBody(rt: DebugRuntime, t: RegisterTarget): DebugProtocol.EvaluateResponse['body'] {
    const node = t.field ? fieldNode(rt, t.reg, t.field) : registerNode(rt, t.reg);
    return {
      result: node.value,
      type: node.type,
      variablesReference: node.children
        ? this.vars.handle(`eval:${node.evaluateName ?? node.name}`, node)
        : 0,
      memoryReference: node.memoryReference,
      presentationHint: node.hint,
    };
  }

  private register(rt: DebugRuntime, text: string, card: number): EvaluateResult | null {
    if (FIELD_NAMES.includes(text)) return null;
    const t = findRegister(rt.machine, text, card);
    return t ? this.registerBody(rt, t) : null;
  }

  // ---- expressions over the current event ---------------------------------------------------

  private expression(rt: DebugRuntime, text: string, card: number, context: string): EvaluateResult {
    let cond;
    try {
      cond = compileCondition(text);
    } catch (e) {
      // In the Debug Console a line that is no expression was meant as a command.
      return context === 'repl' ? unknownCommand(text) : (e as Error).message;
    }
    const m = rt.machine;
    const e = rt.stopped?.event ?? null;
    const fields: Fields = e ? eventFields(m, e) : {};
    const eventCard = e && e.card >= 0 ? e.card : card;
    for (const n of cond.names) {
      if (Object.hasOwn(fields, n)) continue;
      const r = findRegister(m, n, card) ?? findRegister(m, n, eventCard);
      if (r) fields[n] = r.field ? r.field.value : r.reg.value;
    }
    const missing = cond.names.filter((n) => !Object.hasOwn(fields, n));
    if (missing.length) {
      // A first word that is no command, register or event field is an unknown command, stopped
      // or running (while running there is no event, but "frobnicate" is still no field name).
      if (context === 'repl' && text.split(/\s+/)[0] === missing[0] && !FIELD_NAMES.includes(missing[0]))
        return unknownCommand(text);
      if (!e) {
        const why = rt.running
          ? 'the machine is running (pause it)'
          : rt.stopped
            ? 'it stopped before the first bus transaction'
            : 'nothing has run yet';
        return `no current event for '${missing[0]}': ${why}.${context === 'repl' ? ' Type help for the commands.' : ''}`;
      }
      const hint = context === 'repl' ? ' Type help for the commands.' : '';
      return `unknown name '${missing[0]}': not a command, a register or a field of this ${e.kind} event (fields: ${Object.keys(fields).join(', ')}).${hint}`;
    }
    let v: unknown;
    try {
      v = cond(fields);
    } catch (err) {
      return (err as Error).message;
    }
    return { result: formatValue(v), variablesReference: 0 };
  }
}

function unknownCommand(text: string): string {
  return `unknown command '${text.split(/\s+/)[0]}'; type help`;
}

function plain(result: string): DebugProtocol.EvaluateResponse['body'] {
  return { result, variablesReference: 0 };
}
