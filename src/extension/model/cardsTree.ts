// The Cards tree: per card what /sys/class/mic/micN says (state, shutdown_status, stepping, POST
// code), where PCI enumeration put BAR0 (the GDDR aperture) and BAR4 (MMIO: DBOX + SBOX), the
// SBOX registers under BAR4 in their hardware groups, the SMPT, and the scratchpads.
// Built from mic/cards, mic/registers and mic/smpt answers; pure.

import { MIC_DP_SIZE } from '../../emulator/virtio/devicePage.ts';
import { hex, hexAddr, size as sizeText } from './format.ts';
import { info, type NodeModel } from './nodeModel.ts';
import { groupNode, registerNode } from './registerNodes.ts';
import type { CardModel, RegistersResponse, SmptResponse } from './requests.ts';

/** What the view fetched for a card beyond mic/cards (only for cards whose row is open). */
export interface CardDetails {
  registers?: RegistersResponse;
  smpt?: SmptResponse;
}

export function cardsTree(
  cards: readonly CardModel[],
  details: ReadonlyMap<number, CardDetails>,
): NodeModel[] {
  return cards.map((c) => cardNode(c, details.get(c.index) ?? {}, cards.length === 1));
}

function cardNode(c: CardModel, d: CardDetails, only: boolean): NodeModel {
  const id = c.name;
  const pciId = `${c.vendorId.toString(16).padStart(4, '0')}:${c.deviceId.toString(16).padStart(4, '0')}`;
  const post = c.postCode.text.replace(/\0/g, ' ');
  // BAR4 (the registers) comes early: the rows a person opens most sit near the top.
  const children: NodeModel[] = [
    info(
      `${id}/state`,
      'state',
      c.state,
      `${c.state}: /sys/class/mic/${c.name}/state; shutdown_status ${c.shutdownStatus} (${c.shutdownStatusCode}); the emulated card OS is ${c.cardOsState}`,
    ),
    info(
      `${id}/stepping`,
      'stepping',
      c.stepping,
      `Silicon stepping; PCI ${pciId} (Intel Xeon Phi coprocessor, x100 family), revision ID ${hex(c.revision)}`,
    ),
    info(
      `${id}/post`,
      'POST code',
      `"${post}"`,
      `debugfs mic_host/${c.name}/post_code: ${hex(c.postCode.value)}`,
    ),
    barNode(c, 'BAR0', c.bar0, 'aperture onto the card’s GDDR (mic0.gddr; 64-bit, prefetchable)'),
    {
      ...barNode(c, 'BAR4', c.bar4, 'the register window (DBOX + SBOX registers)'),
      ...(d.registers
        ? { children: d.registers.groups.map((g) => groupNode(`${id}/bar4`, g, c.index)) }
        : {}),
    },
    devicePageNode(c),
  ];
  if (d.smpt) children.push(smptNode(c, d.smpt));
  const spads = d.registers?.groups.find((g) => g.name === 'Scratchpads');
  if (spads) {
    children.push({
      id: `${id}/spad`,
      kind: 'group',
      label: 'Scratchpads',
      detail: `SPAD0–${spads.registers.length - 1}`,
      tooltip:
        'The scratchpad registers (also under BAR4 → Scratchpads): SPAD2 download info, SPAD5 firmware size, SPAD14/15 device page address',
      icon: 'note',
      card: c.index,
      children: spads.registers.map((r) => registerNode(`${id}/spad`, r)),
    });
  }
  return {
    id,
    kind: 'card',
    label: c.name,
    value: c.state,
    cardState: c.state,
    tooltip:
      `${c.name}: ${c.state} (shutdown_status ${c.shutdownStatus}), card OS ${c.cardOsState}\n` +
      `stepping ${c.stepping}, POST code "${post}"\n` +
      `BAR0 ${hexAddr(c.bar0.address)} (${sizeText(c.bar0.size)}), BAR4 ${hexAddr(c.bar4.address)} (${sizeText(c.bar4.size)})`,
    icon: 'circuit-board',
    card: c.index,
    breakpoint: `${c.name}: state`,
    expanded: only,
    children,
  };
}

function barNode(c: CardModel, name: 'BAR0' | 'BAR4', bar: CardModel['bar0'], what: string): NodeModel {
  return {
    id: `${c.name}/${name.toLowerCase()}`,
    kind: 'bar',
    label: name,
    value: hexAddr(bar.address),
    detail: sizeText(bar.size),
    tooltip: `${name} of ${c.name}: host physical ${hexAddr(bar.address)}, ${sizeText(bar.size)}, ${what}\n${bar.memoryReference}`,
    icon: 'symbol-struct',
    card: c.index,
    memory: { reference: bar.memoryReference, bytes: 4, name: `${c.name}.${name}` },
  };
}

function devicePageNode(c: CardModel): NodeModel {
  const id = `${c.name}/devicePage`;
  if (c.devicePage.host < 0)
    return info(id, 'device page', 'none', 'The host driver has not probed the card yet (no device page)');
  return {
    id,
    kind: 'info',
    label: 'device page',
    value: hexAddr(c.devicePage.host),
    tooltip:
      `The device page (bootparam + virtio device entries): host RAM ${hexAddr(c.devicePage.host)}, ` +
      `MIC address ${hexAddr(c.devicePage.mic)} (published in SPAD14/15)`,
    icon: 'file-binary',
    card: c.index,
    memory: {
      reference: `host+${hex(c.devicePage.host)}`,
      bytes: MIC_DP_SIZE,
      name: `${c.name} device page`,
    },
  };
}

function smptNode(c: CardModel, s: SmptResponse): NodeModel {
  const id = `${c.name}/smpt`;
  const used = s.entries.filter((e) => e.refCount > 0).length;
  return {
    id,
    kind: 'group',
    label: 'SMPT',
    detail: `${used} of ${s.entries.length} in use`,
    tooltip:
      'System Memory Page Table (debugfs smpt): entry i maps MIC addresses window i (16 GiB each) onto the host base it selects; refcount is the host driver’s byte count',
    icon: 'references',
    card: c.index,
    children: s.entries.map((e) => {
      const eid = `${id}/${e.index}`;
      const hostRow: NodeModel[] = e.hostMemoryReference
        ? [
            {
              id: `${eid}/host`,
              kind: 'info',
              label: 'maps host',
              value: hexAddr(e.hwBase),
              tooltip: `Host memory this window reaches: ${e.hostMemoryReference}`,
              icon: 'arrow-right',
              card: c.index,
              memory: { reference: e.hostMemoryReference, bytes: 4096, name: `SMPT${e.index} host` },
            },
          ]
        : [];
      return {
        id: eid,
        kind: 'smpt',
        label: `SMPT${e.index}`,
        value: hex(e.register),
        detail: `→ ${hexAddr(e.hwBase)}`,
        tooltip:
          `SMPT${e.index}: MIC ${hexAddr(e.window)}… → host ${hexAddr(e.hwBase)} (register ${hex(e.register)})\n` +
          `host driver's copy: base ${hexAddr(e.swBase)}, refcount ${e.refCount} bytes\n${e.registerMemoryReference}`,
        icon: 'symbol-variable',
        card: c.index,
        memory: { reference: e.registerMemoryReference, bytes: 4, name: `${c.name}.SMPT${e.index}` },
        ...(hostRow.length ? { children: hostRow } : {}),
      };
    }),
  };
}
