// The DMA tree: card → DMA channel → its ring (where, how big), head (DHPR: what software handed
// over), tail (DTPR/DSTAT: what the engine reached), status and error → the last descriptors
// the channel executed, decoded (MEMCPY src/dst/len, STATUS data/dst …). Built from mic/dma; pure.

import { count, hex, hexAddr, size as sizeText, offsetRef, regValue } from './format.ts';
import type { NodeModel } from './nodeModel.ts';
import { registerNode } from './registerNodes.ts';
import type { CardDmaModel, DmaChannelModel, DmaRecentModel, RegisterModel } from './requests.ts';

/** Bytes of one DMA descriptor (two quadwords). */
const DESC_BYTES = 16;

export function dmaTree(cards: readonly CardDmaModel[]): NodeModel[] {
  return cards.map((c) => {
    const active = c.channels.filter((ch) => ch.enabled).length;
    return {
      id: c.name,
      kind: 'card',
      label: c.name,
      value: `${active} of ${c.channels.length} enabled`,
      tooltip: `${c.name} DMA engine: ${active} of ${c.channels.length} channels enabled (DCR ${c.DCR.hex}). ${c.DCR.tooltip}`,
      icon: 'circuit-board',
      card: c.card,
      expanded: cards.length === 1,
      children: [registerNode(`${c.name}`, c.DCR), ...c.channels.map((ch) => channelNode(c, ch))],
    };
  });
}

function channelNode(c: CardDmaModel, ch: DmaChannelModel): NodeModel {
  const id = `${c.name}/ch${ch.channel}`;
  const reg = (name: string): RegisterModel | undefined =>
    ch.registers.find((r) => r.name === `${name}${ch.channel}`);
  const state = ch.DCHERR ? `error ${regValue(ch.DCHERR)}` : ch.busy ? 'busy' : 'idle';
  /** A row for one of the channel's registers under a name that says what it is for. */
  const regRow = (name: string, label: string, value: number): NodeModel => {
    const r = reg(name);
    return r
      ? { ...registerNode(id, r, label), id: `${id}/${name}`, value: regValue(value) }
      : { id: `${id}/${name}`, kind: 'info', label, value: regValue(value), card: c.card };
  };
  const ringRow: NodeModel = {
    id: `${id}/ring`,
    kind: 'ring',
    label: 'ring',
    value: hexAddr(ch.ringAddress),
    detail: ch.ringSize ? count(ch.ringSize, 'descriptor') : 'not set up',
    tooltip:
      `Descriptor ring of channel ${ch.channel}: MIC address ${hexAddr(ch.ringAddress)} (DRAR_HI ${regValue(ch.DRAR_HI)}, DRAR_LO ${regValue(ch.DRAR_LO)}), ` +
      `${count(ch.ringSize, 'descriptor')} of ${DESC_BYTES} bytes, in ${ch.ringInHostMemory ? 'host memory (through the SMPT)' : 'GDDR'}` +
      (ch.ringMemoryReference ? `\n${ch.ringMemoryReference}` : ''),
    icon: 'file-binary',
    card: c.card,
    ...(ch.ringMemoryReference
      ? {
          memory: {
            reference: ch.ringMemoryReference,
            bytes: Math.max(DESC_BYTES, Math.min(ch.ringSize, 256) * DESC_BYTES),
            name: `${c.name} DMA ch${ch.channel} ring`,
          },
        }
      : {}),
  };
  const recent: NodeModel = {
    id: `${id}/recent`,
    kind: 'group',
    label: 'recent descriptors',
    value: String(ch.recent.length),
    tooltip: 'The last descriptors this channel executed, oldest first (a failing one included)',
    icon: 'history',
    card: c.card,
    children: ch.recent.map((r, i) => recentNode(c, ch, `${id}/recent`, r, i)),
  };
  return {
    id,
    kind: 'channel',
    label: `channel ${ch.channel}`,
    value: ch.enabled ? `head ${ch.head} · tail ${ch.tail}` : 'disabled',
    ...(ch.enabled && state !== 'idle' ? { detail: state } : {}),
    tooltip:
      `DMA channel ${ch.channel} of ${c.name}, owned by the ${ch.owner} (DCR), ${ch.enabled ? 'enabled' : 'disabled'}\n` +
      `head ${ch.head} (last DHPR write), tail ${ch.tail} (next descriptor the engine fetches), ${state}`,
    icon: ch.DCHERR ? 'error' : ch.busy ? 'sync' : 'arrow-swap',
    card: c.card,
    breakpoint: `${c.name}: dma ch ${ch.channel}`,
    children: [
      ringRow,
      regRow('DHPR', 'head (DHPR)', ch.DHPR),
      regRow('DTPR', 'tail (DTPR)', ch.DTPR),
      regRow('DSTAT', 'status (DSTAT)', ch.DSTAT),
      regRow('DCHERR', 'error (DCHERR)', ch.DCHERR),
      recent,
      {
        id: `${id}/registers`,
        kind: 'group',
        label: 'registers',
        detail: count(ch.registers.length, 'register'),
        tooltip: `All registers of DMA channel ${ch.channel}`,
        icon: 'symbol-namespace',
        card: c.card,
        children: ch.registers.map((r) => registerNode(`${id}/registers`, r)),
      },
    ],
  };
}

function recentNode(
  c: CardDmaModel,
  ch: DmaChannelModel,
  prefix: string,
  r: DmaRecentModel,
  i: number,
): NodeModel {
  // The position in the list (not the ring index) names the row: the list slides as the channel runs.
  const id = `${prefix}/${i}`;
  const d = r.desc;
  const rows: NodeModel[] = [];
  const addr = (key: 'src' | 'dst', at: number | undefined, ref: string | undefined) => {
    if (at === undefined) return;
    rows.push({
      id: `${id}/${key}`,
      kind: 'info',
      label: key,
      value: hexAddr(at),
      tooltip: `${key === 'src' ? 'Source' : 'Destination'} MIC address ${hexAddr(at)}${ref ? `\n${ref}` : ''}`,
      icon: key === 'src' ? 'arrow-left' : 'arrow-right',
      card: c.card,
      ...(ref
        ? { memory: { reference: ref, bytes: Math.max(1, d.len ?? 8), name: `DMA ch${ch.channel} ${key}` } }
        : {}),
    });
  };
  addr('src', d.src, r.srcMemoryReference);
  addr('dst', d.dst, r.dstMemoryReference);
  if (d.len !== undefined)
    rows.push({
      id: `${id}/len`,
      kind: 'info',
      label: 'len',
      value: sizeText(d.len),
      tooltip: `${d.len} (${hex(d.len)})`,
    });
  if (d.dataLo !== undefined)
    rows.push({
      id: `${id}/data`,
      kind: 'info',
      label: 'data',
      value: hex(d.dataHi ? d.dataHi * 2 ** 32 + d.dataLo : d.dataLo),
    });
  if (d.intr !== undefined)
    rows.push({ id: `${id}/intr`, kind: 'info', label: 'intr', value: d.intr ? '1' : '0' });
  rows.push({
    id: `${id}/raw`,
    kind: 'info',
    label: 'raw',
    value: d.raw.map((w) => regValue(w)).join(' '),
    tooltip: 'The descriptor’s four little-endian 32-bit words: qw0 low, qw0 high, qw1 low, qw1 high',
  });
  const slot = offsetRef(ch.ringMemoryReference, r.index * DESC_BYTES);
  return {
    id,
    kind: 'dmaDesc',
    label: `[${r.index}]`,
    value: r.text,
    tooltip: `Ring slot ${r.index} of channel ${ch.channel}: ${r.text}${slot ? `\n${slot}` : ''}`,
    icon: d.type === 'memcpy' ? 'copy' : 'symbol-event',
    card: c.card,
    ...(slot
      ? { memory: { reference: slot, bytes: DESC_BYTES, name: `DMA ch${ch.channel} desc ${r.index}` } }
      : {}),
    children: rows,
  };
}
