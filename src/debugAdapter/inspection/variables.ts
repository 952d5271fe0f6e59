// Scopes and variables for the selected card (the card of the thread the client picked), over
// the trees in scopes.ts. Handles are keyed by path (`mic0:Registers/Interrupts/SICR0`), so the
// same variable keeps its reference for the whole stop and a refresh after setVariable finds it
// again; children are read from the machine when they are asked for. A new stop drops them all.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugRuntime } from '../runtime.ts';
import { cardOfInitiator } from './format.ts';
import { SCOPE_NAMES, scopeChildren, type ScopeName } from './scopes.ts';
import type { DataTarget, VarNode } from './nodes.ts';

export type SetVariableResult =
  | string
  | {
      body: DebugProtocol.SetVariableResponse['body'];
      memory?: { ref: string; offset: number; count: number };
    };

export class VariablesProvider {
  private readonly byRef = new Map<number, { path: string; node: VarNode }>();
  private readonly byPath = new Map<string, number>();
  /** Never reused, so a stale reference from before a stop can't name a new variable. */
  private nextRef = 1;
  private card: number | null = null;

  constructor(private readonly getRt: () => DebugRuntime | null) {}

  /** A new stop: every handle is dropped. */
  reset(): void {
    this.byRef.clear();
    this.byPath.clear();
    this.card = null;
  }

  /** The card the client looks at: that of the last scopes request, else the stopped thread's. */
  selectedCard(): number {
    const rt = this.getRt();
    if (!rt?.machine) return 0;
    if (this.card !== null && this.card < rt.machine.cards.length) return this.card;
    const s = rt.stopped;
    return cardOfInitiator(rt.machine, s?.initiator ?? null, s?.event?.space);
  }

  scopes(initiator: string | null): DebugProtocol.Scope[] {
    const rt = this.getRt();
    if (!rt?.machine) return [];
    const card = cardOfInitiator(rt.machine, initiator, rt.stopped?.event?.space);
    this.card = card;
    return SCOPE_NAMES.map((name) => {
      const label = name === 'Event' ? name : `${name} (mic${card})`;
      const root: VarNode = {
        name: label,
        value: '',
        children: () => scopeChildren(rt, name as ScopeName, card),
      };
      const scope: DebugProtocol.Scope = {
        name: label,
        variablesReference: this.handle(`mic${card}:${name}`, root),
        expensive: false,
      };
      if (name === 'Registers') scope.presentationHint = 'registers';
      return scope;
    });
  }

  /** Remember a node with children; its reference is stable for this stop. */
  handle(path: string, node: VarNode): number {
    let ref = this.byPath.get(path);
    if (ref === undefined) {
      ref = this.nextRef++;
      this.byPath.set(path, ref);
    }
    this.byRef.set(ref, { path, node });
    return ref;
  }

  private children(ref: number): { path: string; nodes: VarNode[] } | null {
    const e = this.byRef.get(ref);
    const rt = this.getRt();
    if (!e || !rt?.machine || !e.node.children) return null;
    return { path: e.path, nodes: e.node.children() };
  }

  toVariable(path: string, n: VarNode): DebugProtocol.Variable {
    const v: DebugProtocol.Variable = {
      name: n.name,
      value: n.value,
      variablesReference: n.children ? this.handle(`${path}/${n.name}`, n) : 0,
    };
    if (n.type) v.type = n.type;
    if (n.memoryReference) v.memoryReference = n.memoryReference;
    if (n.evaluateName) v.evaluateName = n.evaluateName;
    if (n.hint) v.presentationHint = n.hint;
    return v;
  }

  variables(
    ref: number,
    filter?: 'indexed' | 'named',
    start?: number,
    count?: number,
  ): DebugProtocol.Variable[] {
    const c = this.children(ref);
    if (!c) return [];
    let nodes = c.nodes;
    if (filter === 'indexed') nodes = nodes.filter((n) => n.name.startsWith('['));
    else if (filter === 'named') nodes = nodes.filter((n) => !n.name.startsWith('['));
    if (start !== undefined || count !== undefined) {
      const s = start ?? 0;
      nodes = nodes.slice(s, count ? s + count : undefined);
    }
    return nodes.map((n) => this.toVariable(c.path, n));
  }

  setVariable(ref: number, name: string, value: string): SetVariableResult {
    const c = this.children(ref);
    if (!c) return 'that variable is gone (the machine stopped again since): refresh the Variables view';
    const n = c.nodes.find((x) => x.name === name);
    if (!n) return `no variable '${name}' here`;
    if (!n.set)
      return `${name} is decoded from memory, not a register: it cannot be set here (write the bytes with the memory view, or set the register it comes from)`;
    const r = n.set(value);
    if (typeof r === 'string') return r;
    const v = this.toVariable(c.path, r.node);
    const body: DebugProtocol.SetVariableResponse['body'] = {
      value: v.value,
      variablesReference: v.variablesReference,
    };
    if (v.type) body.type = v.type;
    if (v.memoryReference) body.memoryReference = v.memoryReference;
    return r.memory ? { body, memory: r.memory } : { body };
  }

  /** What a data breakpoint on variable `name` of container `ref` watches (registers, fields, addresses). */
  lookup(ref: number, name: string): DataTarget | null {
    const c = this.children(ref);
    const n = c?.nodes.find((x) => x.name === name);
    return n?.data ? { ...n.data } : null;
  }
}
