// A variable as the inspection scopes build it: a name, a value text, and optionally a memory
// reference, lazily built children (read from the machine when the client expands them, so
// they are always current), a setter (registers) and a data-breakpoint target.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugRuntime } from '../runtime.ts';
import { writeRegister } from './registerAccess.ts';
import type { FieldModel, RegisterModel } from './model.ts';
import { registerByName } from './model.ts';
import { hex } from './format.ts';

export interface DataTarget {
  memoryReference: string;
  bytes: number;
  description?: string;
}

export interface SetOutcome {
  /** the variable as it reads after the write */
  node: VarNode;
  memory?: { ref: string; offset: number; count: number };
}

export interface VarNode {
  name: string;
  value: string;
  type?: string;
  memoryReference?: string;
  evaluateName?: string;
  hint?: DebugProtocol.VariablePresentationHint;
  children?: () => VarNode[];
  set?: (value: string) => SetOutcome | string;
  /** what a data breakpoint on this variable watches */
  data?: DataTarget;
}

export interface LeafOptions {
  type?: string;
  memoryReference?: string;
  /** bytes a data breakpoint on this variable covers (with memoryReference) */
  bytes?: number;
  evaluateName?: string;
  /** the data-breakpoint target when it differs from memoryReference (a pointer field: the
   * reference shows where it points, the breakpoint watches the field itself) */
  data?: DataTarget;
}

/** A read-only value. */
export function leaf(name: string, value: string | number, o: LeafOptions = {}): VarNode {
  const n: VarNode = {
    name,
    value: typeof value === 'number' ? hex(value) : value,
    hint: { kind: 'data', attributes: ['readOnly'] },
  };
  if (o.type) n.type = o.type;
  if (o.evaluateName) n.evaluateName = o.evaluateName;
  if (o.memoryReference) {
    n.memoryReference = o.memoryReference;
    if (o.bytes) n.data = { memoryReference: o.memoryReference, bytes: o.bytes, description: name };
  }
  if (o.data) n.data = o.data;
  return n;
}

/** A decimal count or index (num, idx, len): people read these in decimal. */
export function count(name: string, value: number, o: LeafOptions = {}): VarNode {
  return leaf(name, String(value), o);
}

export function group(name: string, value: string, children: () => VarNode[], o: LeafOptions = {}): VarNode {
  const n = leaf(name, value, o);
  n.children = children;
  n.hint = { kind: 'class', attributes: ['readOnly'] };
  return n;
}

/** A register as a settable variable, its fields as children; everything re-read on expand. */
export function registerNode(rt: DebugRuntime, reg: RegisterModel, name = reg.name): VarNode {
  const card = reg.card;
  const n: VarNode = {
    name,
    value: reg.hex,
    type: `${reg.access} · BAR4+${hex(reg.bar4)} · ${reg.doc}`,
    memoryReference: reg.memoryReference,
    evaluateName: reg.evaluateName,
    hint: { kind: 'property', attributes: reg.access === 'ro' ? ['readOnly'] : [] },
    data: { memoryReference: reg.memoryReference, bytes: 4, description: `${reg.name} on mic${card}` },
    set: (text) => {
      const w = writeRegister(rt, { card, reg: current(rt, reg) }, text);
      if (typeof w === 'string') return w;
      return { node: registerNode(rt, w.after.reg, name), memory: w.memory };
    },
  };
  if (reg.fields.length)
    n.children = () => current(rt, reg).fields.map((f) => fieldNode(rt, current(rt, reg), f));
  return n;
}

function current(rt: DebugRuntime, reg: RegisterModel): RegisterModel {
  return registerByName(rt.machine, reg.card, reg.name) ?? reg;
}

export function fieldNode(rt: DebugRuntime, reg: RegisterModel, f: FieldModel): VarNode {
  return {
    name: f.name,
    value: f.hex,
    type: `${reg.name}[${f.bits}] · ${f.doc}`,
    evaluateName: `${reg.evaluateName}.${f.name}`,
    memoryReference: reg.memoryReference,
    hint: { kind: 'property', attributes: reg.access === 'ro' ? ['readOnly'] : [] },
    data: { memoryReference: reg.memoryReference, bytes: 4, description: `${reg.name} on mic${reg.card}` },
    set: (text) => {
      const now = current(rt, reg);
      const field = now.fields.find((x) => x.name === f.name) ?? f;
      const w = writeRegister(rt, { card: reg.card, reg: now, field }, text);
      if (typeof w === 'string') return w;
      return { node: fieldNode(rt, w.after.reg, w.after.field ?? field), memory: w.memory };
    },
  };
}
