// The Virtqueues tree: card → virtio device → queue → the indices both sides keep (avail.idx the
// card driver publishes, used.idx the host back-end publishes, and what each side last saw) →
// the chains in flight → their descriptors (addr/len/flags). Built from mic/virtqueues; pure.
//
// On MIC the card is the virtio driver and the host (mpssd back-ends, vringh) is the device: the
// ring block lives in host RAM (reached through the SMPT), the used ring was moved into GDDR.

import { count, fieldValue, hex, hexAddr } from './format.ts';

/** The furthest virtio status bit the driver reached: the word a person looks for. */
function statusWord(status: number): string {
  if (status & 0x80) return 'FAILED';
  if (status & 0x04) return 'DRIVER_OK';
  if (status & 0x08) return 'FEATURES_OK';
  if (status & 0x02) return 'DRIVER';
  if (status & 0x01) return 'ACKNOWLEDGE';
  return 'reset';
}
import type { NodeModel } from './nodeModel.ts';
import type { CardQueuesModel, ChainModel, DeviceQueuesModel, QueueModel } from './requests.ts';

export function virtqueuesTree(cards: readonly CardQueuesModel[]): NodeModel[] {
  return cards.map((c) => ({
    id: c.name,
    kind: 'card',
    label: c.name,
    detail: c.devices.length ? c.devices.map((d) => d.short).join(', ') : 'no virtio devices yet',
    tooltip: `${c.name}: virtio devices on the device page`,
    icon: 'circuit-board',
    card: c.card,
    expanded: cards.length === 1,
    children: c.devices.map((d) => deviceNode(c, d)),
  }));
}

function deviceNode(c: CardQueuesModel, d: DeviceQueuesModel): NodeModel {
  const id = `${c.name}/${d.short}`;
  return {
    id,
    kind: 'device',
    label: d.device,
    value: statusWord(d.status),
    tooltip:
      `${d.device} (virtio type ${d.type}) on ${c.name}, device page entry at offset ${hex(d.dpOffset)}\n` +
      `status ${fieldValue(d.status, 8)} ${d.statusText}\n` +
      `doorbells: card→host (c2h_vdev_db) ${d.c2hDb}, host→card (h2c_vdev_db) ${d.h2cDb}\n` +
      `bytes: ${d.inBytes} in, ${d.outBytes} out`,
    icon: 'plug',
    card: c.card,
    breakpoint: `${c.name}: vq ${d.short}`,
    children: d.queues.map((q) => queueNode(c, q)),
  };
}

function queueNode(c: CardQueuesModel, q: QueueModel): NodeModel {
  const id = `${c.name}/${q.id}`;
  const availIdxRef = q.availIdxMemoryReference;
  const availFlagsRef = q.availFlagsMemoryReference;
  const usedIdxRef = q.usedIdxMemoryReference;
  const usedFlagsRef = q.usedFlagsMemoryReference;
  const infoRef = q.infoMemoryReference;
  const index = (
    key: string,
    label: string,
    v: number | null,
    doc: string,
    ref?: string,
    bytes = 2,
  ): NodeModel => ({
    id: `${id}/${key}`,
    kind: 'index',
    label,
    value: v === null ? '—' : String(v),
    tooltip: `${label} = ${v === null ? 'no driver' : `${v} (${hex(v)})`}\n${doc}${ref ? `\n${ref}` : ''}`,
    icon: 'symbol-number',
    card: c.card,
    ...(ref ? { memory: { reference: ref, bytes, name: `${q.id} ${label}` } } : {}),
  });
  const children: NodeModel[] = [
    index(
      'availIdx',
      'avail.idx',
      q.availIdx,
      'avail->idx in the ring: chains the card driver made available',
      availIdxRef,
    ),
    index(
      'usedIdx',
      'used.idx',
      q.usedIdx,
      'used->idx in the GDDR used ring: chains the host back-end used',
      usedIdxRef,
    ),
    index(
      'hostLastAvail',
      'host last_avail_idx',
      q.hostLastAvail,
      'vringh last_avail_idx: the last avail index the host back-end has seen',
    ),
    index(
      'hostLastUsed',
      'host last_used_idx',
      q.hostLastUsed,
      'vringh last_used_idx: stays 0 without EVENT_IDX; the host writes used.idx = last_used_idx + completed',
    ),
    index(
      'hostCompleted',
      'host completed',
      q.hostCompleted,
      'vringh completed: chains completed since the last reset',
    ),
    index(
      'infoAvailIdx',
      '_mic_vring_info.avail_idx',
      q.infoAvailIdx,
      'the avail index the host published back to the card in _mic_vring_info',
      infoRef,
    ),
    index('cardAvailIdx', 'card avail_idx', q.cardAvailIdx, 'the card driver’s own copy of avail->idx'),
    index(
      'cardLastUsed',
      'card last_used_idx',
      q.cardLastUsed,
      'the last used index the card driver has seen',
    ),
    index('availFlags', 'avail.flags', q.availFlags, 'VRING_AVAIL_F_NO_INTERRUPT = 1', availFlagsRef),
    index('usedFlags', 'used.flags', q.usedFlags, 'VRING_USED_F_NO_NOTIFY = 1', usedFlagsRef),
    {
      id: `${id}/ring`,
      kind: 'ring',
      label: 'ring block',
      value: hexAddr(q.ringHost),
      detail: count(q.num, 'entry', 'entries'),
      tooltip:
        `Descriptor table, avail ring and _mic_vring_info of ${q.id} in host RAM (${hexAddr(q.ringHost)}), ` +
        `seen by the card at ${hexAddr(q.ringMic)} through the SMPT\n${q.ringMemoryReference ?? ''}`,
      icon: 'file-binary',
      card: c.card,
      ...(q.ringMemoryReference
        ? { memory: { reference: q.ringMemoryReference, bytes: 16 * q.num, name: `${q.id} ring` } }
        : {}),
    },
    {
      id: `${id}/usedRing`,
      kind: 'ring',
      label: 'used ring',
      value: hexAddr(q.usedAddress),
      tooltip: `The used ring the card moved into its GDDR (used_address ${hexAddr(q.usedAddress)})\n${q.usedMemoryReference ?? ''}`,
      icon: 'file-binary',
      card: c.card,
      ...(q.usedMemoryReference
        ? { memory: { reference: q.usedMemoryReference, bytes: 4 + 8 * q.num, name: `${q.id} used ring` } }
        : {}),
    },
    {
      id: `${id}/inFlight`,
      kind: 'group',
      label: 'in flight',
      value: String(q.inFlight.length),
      tooltip: `${count(q.inFlight.length, 'chain')} between avail and used: the card driver made them available; the host has not used them yet`,
      icon: 'list-ordered',
      card: c.card,
      children: q.inFlight.map((ch) => chainNode(c, q, `${id}/inFlight`, ch)),
    },
  ];
  return {
    id,
    kind: 'queue',
    label: q.queueName,
    value: `avail ${q.availIdx} · used ${q.usedIdx}`,
    tooltip:
      `${q.id} (queue ${q.queue}) on ${c.name}: avail.idx ${q.availIdx}, used.idx ${q.usedIdx}, ` +
      `host last_avail_idx ${q.hostLastAvail}, ${count(q.inFlight.length, 'chain')} in flight, num ${q.num}`,
    icon: 'layers',
    card: c.card,
    breakpoint: `${c.name}: vq ${q.id}`,
    children,
  };
}

function chainNode(c: CardQueuesModel, q: QueueModel, prefix: string, ch: ChainModel): NodeModel {
  const id = `${prefix}/${ch.head}`;
  return {
    id,
    kind: 'chain',
    label: `head ${ch.head}`,
    value: count(ch.bytes, 'byte'),
    detail: `slot ${ch.slot}`,
    tooltip:
      `Chain starting at descriptor ${ch.head} of ${q.id}: ${count(ch.descs.length, 'descriptor')}, ${count(ch.bytes, 'byte')}\n` +
      `avail ring slot ${ch.slot} of ${q.num} (avail index ${ch.availIndex})`,
    icon: 'link',
    card: c.card,
    children: ch.descs.map((d) => ({
      id: `${id}/${d.index}`,
      kind: 'desc',
      label: `desc ${d.index}`,
      value: `${hexAddr(d.addr)} · ${count(d.len, 'byte')}`,
      detail: `${d.flags & 1 ? `→ ${d.next}` : ''}`,
      tooltip:
        `vring_desc[${d.index}]: addr ${hexAddr(d.addr)} (card GDDR), len ${d.len}, flags ${hex(d.flags)} ${d.flagsText}, next ${d.next}` +
        (d.memoryReference ? `\n${d.memoryReference}` : ''),
      icon: 'symbol-array',
      card: c.card,
      ...(d.memoryReference
        ? {
            memory: {
              reference: d.memoryReference,
              bytes: Math.max(1, d.len),
              name: `${q.id} desc ${d.index}`,
            },
          }
        : {}),
    })),
  };
}
