// Register rows, shared by the Cards tree (BAR4 → groups) and the DMA tree (per channel): the
// adapter's RegisterModel (mic/registers) as a row with its bit fields as children. The tooltip
// is the adapter's own (name, BAR4 offset, access, doc, fields).

import { count as countText } from './format.ts';
import type { NodeModel } from './nodeModel.ts';
import type { RegisterGroupModel, RegisterModel } from './requests.ts';

/** What each hardware group is, for the group row's tooltip. */
export const GROUP_DOC: Readonly<Record<string, string>> = {
  POST: 'POST code the card firmware writes while it boots (debugfs post_code)',
  SMPT: 'System Memory Page Table: 32 entries, each mapping a 16 GiB window of MIC addresses onto host memory',
  Reset: 'Card reset control (RGCR)',
  Interrupts: 'Host interrupt cause/enable/clear (SICR0, SICE0, SICC0, SIAC0) and MSI-X routing (MXAR0–15)',
  DMA: 'DMA engine: DCR (owner and enable of the 8 channels) and each channel’s ring registers',
  Doorbells:
    'Host→card doorbells (APICICR0–7, RDMASR0–7) and card→host doorbells (SDBIC0–3, which set SICR0 bits 0–3)',
  Scratchpads: 'SPAD0–15: the boot handshake (SPAD2, SPAD5) and the device page address (SPAD14/15)',
};

export function fieldNode(regId: string, f: RegisterModel['fields'][number]): NodeModel {
  return {
    id: `${regId}/${f.name}`,
    kind: 'field',
    label: `${f.name} [${f.bits}]`,
    value: f.hex,
    tooltip: `${f.name} [${f.bits}] = ${f.hex}\n${f.doc}`,
    icon: 'symbol-field',
  };
}

export function registerNode(prefix: string, r: RegisterModel, label = r.name): NodeModel {
  const id = `${prefix}/${r.name}`;
  return {
    id,
    kind: 'register',
    label,
    value: r.hex,
    ...(r.access !== 'rw' ? { detail: r.access } : {}),
    tooltip: `${r.tooltip}\n\n${r.memoryReference} · Debug Console: ${r.evaluateName}`,
    icon: 'symbol-variable',
    card: r.card,
    memory: { reference: r.memoryReference, bytes: 4, name: `${r.evaluateName}` },
    ...(r.fields.length > 0 ? { children: r.fields.map((f) => fieldNode(id, f)) } : {}),
  };
}

export function groupNode(prefix: string, g: RegisterGroupModel, card: number): NodeModel {
  const id = `${prefix}/${g.name}`;
  const children = [
    ...g.registers.map((r) => registerNode(id, r)),
    ...(g.subgroups ?? []).map((s) => groupNode(id, s, card)),
  ];
  const count = g.registers.length + (g.subgroups ?? []).reduce((n, s) => n + s.registers.length, 0);
  return {
    id,
    kind: 'group',
    label: g.name,
    detail: countText(count, 'register'),
    tooltip: GROUP_DOC[g.name] ?? g.name,
    icon: 'symbol-namespace',
    card,
    children,
  };
}
