// The register file as a person looks at it: every SBOX/DBOX register by name, its value, its
// fields, its documentation. Reads the storage directly: looking never has side effects.

import { REGISTERS, fieldValue, type RegisterSpec } from '../card/sboxRegisters.ts';
import type { X100Card } from '../card/x100Card.ts';

export interface FieldView {
  name: string;
  bits: string;
  value: number;
  doc: string;
}

export interface RegisterView {
  name: string;
  group: RegisterSpec['group'];
  /** offset inside BAR4 */
  bar4: number;
  value: number;
  access: RegisterSpec['access'];
  doc: string;
  fields: FieldView[];
}

export function registerViews(card: X100Card): RegisterView[] {
  return REGISTERS.map((r) => {
    const value = card.reg(r.bar4);
    return {
      name: r.name,
      group: r.spec.group,
      bar4: r.bar4,
      value,
      access: r.spec.access,
      doc: r.spec.doc,
      fields: (r.spec.fields ?? []).map((f) => ({
        name: f.name,
        bits: f.hi === f.lo ? `${f.hi}` : `${f.hi}:${f.lo}`,
        value: fieldValue(f, value),
        doc: f.doc,
      })),
    };
  });
}

export function registerGroups(card: X100Card): Map<string, RegisterView[]> {
  const m = new Map<string, RegisterView[]>();
  for (const r of registerViews(card)) {
    const list = m.get(r.group) ?? [];
    list.push(r);
    m.set(r.group, list);
  }
  return m;
}
