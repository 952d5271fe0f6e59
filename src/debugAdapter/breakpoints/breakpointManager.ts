// Breakpoints of the session: function breakpoints (syntax.ts), data breakpoints
// (dataBreakpoints.ts) and exception filters, all armed in one EventIndex. The manager observes
// the machine's event spine only while at least one breakpoint is armed; each event looks up only
// the breakpoints of its kind, card and value, or of the pages it touches.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugRuntime, StopInfo, StopReason } from '../runtime.ts';
import type { Machine } from '../../emulator/machine.ts';
import { cloneEvent, KERN_EMERG, type BusEvent, type EventKind } from '../../emulator/sim/busEvent.ts';
import { EventIndex } from '../../emulator/sim/eventIndex.ts';
import { describeEvent } from '../names.ts';
import {
  compileCondition,
  isTrue,
  MissingFieldError,
  type CompiledCondition,
  type DirectTest,
} from './condition.ts';
import { BASE_FIELD_NAMES, eventFields, FIELD_NAMES, type Fields } from './eventFields.ts';
import { parseHitCondition, type HitTest } from './hitCondition.ts';
import { BreakpointSyntaxError, parseFunctionBreakpoint, type IndexKey } from './syntax.ts';
import {
  decodeDataId,
  describeAccess,
  encodeDataId,
  kindsFor,
  resolveWatchTarget,
  watchedName,
  withCurrentSpaceNames,
  parseWatchBreakpoint,
  WatchSyntaxError,
  type AccessType,
  type WatchedRange,
} from './dataBreakpoints.ts';
import { R } from '../../emulator/card/sboxRegisters.ts';

export type ExceptionFilterId = 'protocol' | 'dmaError' | 'cardCrash';

/** What the Variables provider answers for a variable that stands for memory. */
export interface VariableLookup {
  lookup(ref: number, name: string): { memoryReference: string; bytes: number; description?: string } | null;
}

type Category = 'function' | 'data' | 'exception';

interface Armed {
  id: number;
  category: Category;
  /** What the user wrote (function), the watched range (data) or the filter id (exception). */
  label: string;
  match: (e: BusEvent) => boolean;
  /** A new predicate with fresh state (console buffers, crash memory) for a new machine. */
  fresh: () => (e: BusEvent) => boolean;
  condition: CompiledCondition | null;
  /** The condition read from the event itself, where it can be (CompiledCondition.direct). */
  direct: DirectTest | null;
  /** The condition names a field beyond BASE_FIELD_NAMES: it needs the per-kind fields. */
  perKindFields: boolean;
  hitTest: HitTest | null;
  /** False when the index's keys are all the matcher tests (it need not be called). */
  callMatch: boolean;
  /** Function breakpoints: where the index files it. */
  keys?: IndexKey[];
  card?: number;
  consoleText?: string;
  /** Data breakpoints. */
  range?: WatchedRange;
  access?: AccessType;
  /** Exception filters. */
  filter?: ExceptionFilterId;
}

const FIELD_SET = new Set(FIELD_NAMES);
const accessWords = (a: AccessType) => (a === 'readWrite' ? 'read or write of' : `${a} of`);
const hex = (n: number) => '0x' + n.toString(16);

export class BreakpointManager {
  static readonly exceptionFilters: DebugProtocol.ExceptionBreakpointsFilter[] = [
    {
      filter: 'protocol',
      label: 'Protocol misuse (§9)',
      description:
        'Stop when the machine notices a misuse of the host⇄card protocol (a rule of the reference §9, or an emulator internal error as rule 0). The stop text names the rule.',
      default: true,
      supportsCondition: true,
      conditionDescription:
        'Condition over rule, text, card, channel, initiator, e.g. rule == 13 || card == 1',
    },
    {
      filter: 'dmaError',
      label: 'DMA channel error (DCHERR set)',
      description:
        'Stop when a DMA channel sets DCHERR (§9 #13, #16–18): misaligned, unmapped or out-of-range transfers, DHPR written twice.',
      default: true,
      supportsCondition: true,
      conditionDescription:
        'Condition over channel, dcherr, rule, card, text, e.g. channel == 0 && (dcherr & 0x4) != 0',
    },
    {
      filter: 'cardCrash',
      label: 'Card crash',
      description:
        'Stop when a card OS panics, or the host driver reads shutdown_status crashed (§4.7, §9 #25).',
      default: false,
      supportsCondition: true,
      conditionDescription: 'Condition over card, state, text, e.g. card == 0',
    },
  ];

  private rt: DebugRuntime | null = null;
  private machine: Machine | null = null;
  private unobserve: (() => void) | null = null;
  private readonly index = new EventIndex<Armed>();
  private functionBps: Armed[] = [];
  private dataBps: Armed[] = [];
  private exceptionBps: Armed[] = [];
  private readonly ids = new Map<string, number>();
  private nextId = 1;
  private readonly hits = new Map<number, number>();
  private readonly observer = (e: BusEvent) => this.onEvent(e);

  constructor(private readonly getRt: () => DebugRuntime | null) {}

  /** Called once the runtime exists (before it starts): follow every machine it builds. */
  attach(rt: DebugRuntime): void {
    this.detachMachine();
    this.rt = rt;
    rt.onMachine((m) => {
      if (this.rt !== rt) return;
      this.bindMachine(m);
    });
  }

  private bindMachine(m: Machine): void {
    this.detachMachine();
    this.machine = m;
    // A new run: hit counts and the consoles' rolling buffers start again.
    this.hits.clear();
    for (const a of [...this.functionBps, ...this.dataBps, ...this.exceptionBps]) a.match = a.fresh();
    this.rebuild();
  }

  private detachMachine(): void {
    this.unobserve?.();
    this.unobserve = null;
    this.machine = null;
  }

  private runtime(): DebugRuntime | null {
    return this.rt ?? this.getRt();
  }

  private currentMachine(): Machine | null {
    return this.machine ?? this.runtime()?.machine ?? null;
  }

  /** Breakpoints armed now (function + data + exception). */
  get armedCount(): number {
    return this.functionBps.length + this.dataBps.length + this.exceptionBps.length;
  }

  /** Entries the index examined so far (statistics, tests). */
  get examined(): number {
    return this.index.examined;
  }

  /** True while the manager observes events (only with something armed). */
  get observing(): boolean {
    return this.unobserve !== null;
  }

  private idFor(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(key, id);
    }
    return id;
  }

  /** Ids for a list, stable per key; a key repeated inside one list gets its own id. */
  private idAllocator(): (key: string) => number {
    const seen = new Map<string, number>();
    return (key) => {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      return this.idFor(n === 0 ? key : `${key}#${n}`);
    };
  }

  private compileOptions(
    condition: string | undefined,
    hitCondition: string | undefined,
  ): {
    condition: CompiledCondition | null;
    direct: DirectTest | null;
    perKindFields: boolean;
    hitTest: HitTest | null;
  } {
    let cond: CompiledCondition | null = null;
    if (condition !== undefined && condition.trim() !== '') {
      cond = compileCondition(withCurrentSpaceNames(condition));
      const unknown = cond.names.filter((n) => !FIELD_SET.has(n));
      if (unknown.length) {
        throw new Error(
          `condition: unknown name${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; fields are ${FIELD_NAMES.join(', ')}`,
        );
      }
    }
    const hitTest =
      hitCondition !== undefined && hitCondition.trim() !== '' ? parseHitCondition(hitCondition) : null;
    const perKindFields = cond !== null && cond.names.some((n) => !BASE_FIELD_NAMES.has(n));
    return { condition: cond, direct: cond?.direct ?? null, perKindFields, hitTest };
  }

  // ---- function breakpoints ---------------------------------------------------------------

  setFunctionBreakpoints(args: DebugProtocol.SetFunctionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    const out: DebugProtocol.Breakpoint[] = [];
    const armed: Armed[] = [];
    const cards = this.runtime()?.config.cards;
    const id = this.idAllocator();
    for (const fb of args.breakpoints ?? []) {
      const name = typeof fb.name === 'string' ? fb.name : '';
      const watch = this.watchBreakpoint(name, fb, cards, id);
      if (watch) {
        out.push(watch.answer);
        if (watch.armed) armed.push(watch.armed);
        continue;
      }
      let spec;
      try {
        spec = parseFunctionBreakpoint(name);
      } catch (e) {
        if (!(e instanceof BreakpointSyntaxError)) throw e;
        out.push({ id: id(`fn:${name.trim()}`), verified: false, message: `'${name.trim()}': ${e.message}` });
        continue;
      }
      const bpId = id(`fn:${spec.text}`);
      if (cards !== undefined && spec.card >= cards) {
        out.push({
          id: bpId,
          verified: false,
          message: `there is no card mic${spec.card}: this launch has ${cards} card${cards === 1 ? '' : 's'} (mic0${cards > 1 ? `–mic${cards - 1}` : ''})`,
        });
        continue;
      }
      let opts;
      try {
        opts = this.compileOptions(fb.condition, fb.hitCondition);
      } catch (e) {
        out.push({ id: bpId, verified: false, message: (e as Error).message });
        continue;
      }
      let keys = spec.keys;
      let callMatch = !spec.keysSuffice;
      // `vector == 3` on a breakpoint with a stateless matcher: filed under the number instead
      // of its own refinement (the matcher then checks that, on the few events the number lets
      // through), so an event looks the number up once rather than testing every condition.
      // A stateful matcher (console text) must see every event of its keys: it keeps the test.
      const eq = opts.condition?.fieldEquals;
      if (eq && spec.keysSuffice) {
        keys = keys.map((k) => ({ ...k, refine: eq }));
        callMatch = spec.keys.some((k) => k.refine !== undefined);
        opts = { ...opts, condition: null, direct: null, perKindFields: false };
      }
      armed.push({
        id: bpId,
        category: 'function',
        label: spec.text,
        // The index already narrowed by kind, card, value and refinements; the matcher checks
        // the rest.
        match: spec.matcher(),
        fresh: spec.matcher,
        ...opts,
        callMatch,
        keys,
        card: spec.card,
        consoleText: spec.keys[0]?.kind === 'console' ? spec.summary : undefined,
      });
      out.push({ id: bpId, verified: true });
    }
    this.functionBps = armed;
    this.rebuild();
    return out;
  }

  /** `write|read|access ADDRESS [LEN]` (dataBreakpoints.ts): a data breakpoint set by name; null for other forms. */
  private watchBreakpoint(
    name: string,
    fb: DebugProtocol.FunctionBreakpoint,
    cards: number | undefined,
    id: (key: string) => number,
  ): { answer: DebugProtocol.Breakpoint; armed?: Armed } | null {
    let w;
    try {
      w = parseWatchBreakpoint(name);
    } catch (e) {
      if (!(e instanceof WatchSyntaxError)) throw e;
      return {
        answer: { id: id(`fn:${name.trim()}`), verified: false, message: `'${name.trim()}': ${e.message}` },
      };
    }
    if (!w) return null;
    const bpId = id(`fn:${w.text}`);
    const card = /^mic(\d+)\./.exec(w.range.space);
    if (cards !== undefined && card && Number(card[1]) >= cards)
      return {
        answer: {
          id: bpId,
          verified: false,
          message: `there is no card mic${card[1]}: this launch has ${cards} card${cards === 1 ? '' : 's'}`,
        },
      };
    let opts;
    try {
      opts = this.compileOptions(fb.condition, fb.hitCondition);
    } catch (e) {
      return { answer: { id: bpId, verified: false, message: (e as Error).message } };
    }
    return {
      answer: { id: bpId, verified: true, message: `${accessWords(w.access)} ${watchedName(w.range)}` },
      armed: {
        id: bpId,
        category: 'data',
        label: w.text,
        match: () => true, // the index checks the overlap; the kinds say read or write
        fresh: () => () => true,
        ...opts,
        callMatch: false,
        range: w.range,
        access: w.access,
      },
    };
  }

  // ---- data breakpoints -------------------------------------------------------------------

  dataBreakpointInfo(
    args: DebugProtocol.DataBreakpointInfoArguments,
    vars: VariableLookup,
  ): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const m = this.currentMachine();
    if (!m)
      return {
        dataId: null,
        description: 'no machine yet: data breakpoints can be set once the session has launched',
      };
    let ref = args.name;
    let bytes = args.bytes;
    let label: string | undefined;
    if (args.variablesReference !== undefined && args.variablesReference > 0 && !args.asAddress) {
      const v = vars.lookup(args.variablesReference, args.name);
      if (!v)
        return {
          dataId: null,
          description: `'${args.name}' has no address: only registers and memory can be watched`,
        };
      ref = v.memoryReference;
      bytes = bytes ?? v.bytes;
      label = v.description;
    }
    const t = resolveWatchTarget(m, ref);
    if (!t) {
      return {
        dataId: null,
        description: `'${ref}' is not an address: write micN.bar4+0x…, micN.gddr+0x…, host+0x…, a host-physical address or a register name`,
      };
    }
    const length = Math.max(1, Math.min(Math.floor(bytes ?? 4), t.limit));
    const range: WatchedRange = { space: t.space, address: t.address, length };
    const name = watchedName(range);
    return {
      dataId: encodeDataId(range),
      description: label && !name.startsWith(label) ? `${label}: ${name}` : name,
      // VS Code offers these in this order and preselects the first: write is the usual wish.
      accessTypes: ['write', 'read', 'readWrite'],
      canPersist: true,
    };
  }

  setDataBreakpoints(args: DebugProtocol.SetDataBreakpointsArguments): DebugProtocol.Breakpoint[] {
    const out: DebugProtocol.Breakpoint[] = [];
    const armed: Armed[] = [];
    const id = this.idAllocator();
    for (const db of args.breakpoints ?? []) {
      const access: AccessType = db.accessType ?? 'write';
      const bpId = id(`data:${db.dataId}:${access}`);
      const range = decodeDataId(db.dataId);
      if (!range) {
        out.push({
          id: bpId,
          verified: false,
          message: `'${db.dataId}' is not a data breakpoint id from dataBreakpointInfo (expected SPACE+0xADDRESS/LENGTH)`,
        });
        continue;
      }
      if (access !== 'read' && access !== 'write' && access !== 'readWrite') {
        out.push({
          id: bpId,
          verified: false,
          message: `access type '${access as string}' is not read, write or readWrite`,
        });
        continue;
      }
      let opts;
      try {
        opts = this.compileOptions(db.condition, db.hitCondition);
      } catch (e) {
        out.push({ id: bpId, verified: false, message: (e as Error).message });
        continue;
      }
      armed.push({
        id: bpId,
        category: 'data',
        label: `${watchedName(range)} ${access}`,
        match: () => true, // the index checks the overlap; the kinds say read or write
        fresh: () => () => true,
        ...opts,
        callMatch: false,
        range,
        access,
      });
      out.push({ id: bpId, verified: true });
    }
    this.dataBps = armed;
    this.rebuild();
    return out;
  }

  // ---- exception filters ------------------------------------------------------------------

  setExceptionBreakpoints(args: DebugProtocol.SetExceptionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    const out: DebugProtocol.Breakpoint[] = [];
    const armed: Armed[] = [];
    const id = this.idAllocator();
    const known = BreakpointManager.exceptionFilters.map((f) => f.filter);
    const entries: { filterId: string; condition?: string }[] = [
      ...(args.filters ?? []).map((filterId) => ({ filterId })),
      ...(args.filterOptions ?? []),
    ];
    for (const en of entries) {
      const bpId = id(`exception:${en.filterId}`);
      if (!known.includes(en.filterId)) {
        out.push({
          id: bpId,
          verified: false,
          message: `unknown exception filter '${en.filterId}'; filters are ${known.join(', ')}`,
        });
        continue;
      }
      let opts;
      try {
        opts = this.compileOptions(en.condition, undefined);
      } catch (e) {
        out.push({ id: bpId, verified: false, message: (e as Error).message });
        continue;
      }
      const filter = en.filterId as ExceptionFilterId;
      armed.push({
        id: bpId,
        category: 'exception',
        label: filter,
        filter,
        match: exceptionMatcher(filter),
        fresh: () => exceptionMatcher(filter),
        ...opts,
        callMatch: true,
      });
      out.push({ id: bpId, verified: true });
    }
    // dmaError first: on a DMA error it gives the more specific stop text.
    armed.sort((a, b) => order(a.filter) - order(b.filter));
    this.exceptionBps = armed;
    this.rebuild();
    return out;
  }

  // ---- the index and the observer ---------------------------------------------------------

  private rebuild(): void {
    const ix = this.index;
    ix.clear();
    for (const a of this.functionBps) {
      if (a.range) ix.addRange(kindsFor(a.access!), a.range.space, a.range.address, a.range.length, a);
      else for (const k of a.keys!) ix.addKind({ ...k, card: a.card }, a);
    }
    for (const a of this.dataBps) {
      const r = a.range!;
      ix.addRange(kindsFor(a.access!), r.space, r.address, r.length, a);
    }
    for (const a of this.exceptionBps) {
      for (const kind of EXCEPTION_KINDS[a.filter!]) ix.addKind({ kind }, a);
    }
    this.sync();
  }

  /** Observe events (through the runtime) only while something is armed: the no-breakpoint path stays free. */
  private sync(): void {
    const rt = this.rt;
    const want = this.machine !== null && rt !== null && this.armedCount > 0;
    if (want && !this.unobserve) this.unobserve = rt.observeBreakpoints(this.observer);
    else if (!want && this.unobserve) {
      this.unobserve();
      this.unobserve = null;
    }
  }

  private onEvent(e: BusEvent): void {
    const rt = this.rt;
    // Accesses made while stopped (the debugger's own writes) never stop the machine.
    if (!rt || !rt.running) return;
    const cands = this.index.candidates(e);
    // Most events: nothing armed can match, and this is all the work (kept apart from the
    // loop below so that it stays small).
    if (cands.length !== 0) this.examine(rt, e, cands);
  }

  private examine(rt: DebugRuntime, e: BusEvent, cands: readonly Armed[]): void {
    // Fields are built once per event, and only as far as some condition needs them: the
    // fields every event has, or (parsing the event's text) its per-kind fields too.
    let base: Fields | null = null;
    let full: Fields | null = null;
    let hits: Armed[] | null = null;
    let conditionError: string | null = null;
    for (let i = 0; i < cands.length; i++) {
      const a = cands[i];
      if (a.callMatch && !a.match(e)) continue;
      // `vector == 3`, `head > 10`: read from the event itself, no fields record (undefined:
      // the record decides).
      const direct = a.direct === null ? undefined : a.direct(e);
      if (direct === false) continue;
      if (direct === undefined && a.condition) {
        const fields = a.perKindFields
          ? (full ??= eventFields(this.machine, e))
          : (base ??= full ?? eventFields(this.machine, e, false));
        let ok: boolean;
        try {
          ok = isTrue(a.condition(fields));
        } catch (err) {
          // A field this event lacks (`channel` of a doorbell interrupt) makes the condition
          // false; any other failure stops, with the reason, rather than never.
          if (err instanceof MissingFieldError) ok = false;
          else {
            conditionError ??= `${(err as Error).message} (breakpoint '${a.label}')`;
            ok = true;
          }
        }
        if (!ok) continue;
      }
      const n = (this.hits.get(a.id) ?? 0) + 1;
      this.hits.set(a.id, n);
      if (a.hitTest && !a.hitTest(n)) continue;
      (hits ??= []).push(a);
    }
    if (hits) this.stop(rt, e, hits, conditionError);
  }

  private stop(rt: DebugRuntime, e: BusEvent, hits: Armed[], conditionError: string | null): void {
    const m = this.machine;
    const rank = { function: 0, data: 1, exception: 2 } as const;
    hits.sort((a, b) => rank[a.category] - rank[b.category]);
    const first = hits[0];
    const ids = hits.filter((h) => h.category !== 'exception').map((h) => h.id);
    let reason: StopReason;
    let description: string;
    let text: string | undefined;
    if (first.category === 'function') {
      reason = 'function breakpoint';
      description = m ? describeEvent(m, e) : e.detail;
      if (first.consoleText) description += ` (breakpoint: ${first.consoleText})`;
    } else if (first.category === 'data') {
      reason = 'data breakpoint';
      description = describeAccess(m, e, first.range!);
    } else {
      reason = 'exception';
      const x = exceptionWords(m, e, first.filter!);
      description = x.description;
      text = x.text;
    }
    if (conditionError) description += ` — stopped because the condition failed: ${conditionError}`;
    const info: StopInfo = { reason, description, event: cloneEvent(e), initiator: e.initiator };
    if (text !== undefined) info.text = text;
    if (ids.length) info.hitBreakpointIds = ids;
    rt.requestStop(info);
  }
}

// ---- exception filters: which events, which words -----------------------------------------

const EXCEPTION_KINDS: Record<ExceptionFilterId, EventKind[]> = {
  protocol: ['protocol'],
  dmaError: ['protocol'],
  cardCrash: ['log', 'state'],
};

function order(f: ExceptionFilterId | undefined): number {
  return f === 'dmaError' ? 0 : f === 'cardCrash' ? 1 : 2;
}

function isPanicLog(e: BusEvent): boolean {
  return e.kind === 'log' && e.level === KERN_EMERG && e.card >= 0;
}

function exceptionMatcher(filter: ExceptionFilterId): (e: BusEvent) => boolean {
  if (filter === 'protocol') return () => true;
  if (filter === 'dmaError') return (e) => e.channel >= 0;
  // cardCrash: the panic itself (the card's printk), or — for a crash the card did not log —
  // the host driver reading shutdown_status crashed. One crash stops once.
  const panicked = new Set<number>();
  return (e) => {
    const card = e.card;
    if (isPanicLog(e)) {
      panicked.add(card);
      return true;
    }
    if (e.kind !== 'state') return false;
    if (e.state === 'crashed') return !panicked.delete(card);
    if (e.state === 'hardware reset' || e.state === 'online') panicked.delete(card);
    return false;
  };
}

function exceptionWords(
  m: Machine | null,
  e: BusEvent,
  filter: ExceptionFilterId,
): { description: string; text: string } {
  if (filter === 'dmaError') {
    const card = e.card;
    const ch = e.channel;
    const err = m?.cards[card] ? m.cards[card].reg(R.DCHERR(ch)) : 0;
    return {
      text: `DCHERR=${hex(err)} on mic${card} DMA channel ${ch}`,
      description: `DMA error${e.rule ? ` (§9 rule ${e.rule})` : ''}: ${e.text}`,
    };
  }
  if (filter === 'cardCrash') {
    const card = e.card;
    if (isPanicLog(e)) {
      const msg = e.text;
      return {
        text: `card crash: mic${card} ${msg}`,
        description: `card crash: mic${card} panicked (${msg})`,
      };
    }
    return {
      text: `card crash: mic${card} reported shutdown_status crashed`,
      description: `card crash: the host driver read shutdown_status crashed from mic${card}`,
    };
  }
  const rule = e.rule;
  return {
    text: rule ? `§9 rule ${rule}: ${e.text}` : e.text,
    description: `protocol error${rule ? ` (§9 rule ${rule})` : ''}: ${e.text}`,
  };
}
