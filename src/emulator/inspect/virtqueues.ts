// Virtqueue state for the debugger: per device and queue, the indices both sides keep and the
// chains in flight with their descriptors. Reads memory directly (host RAM, GDDR): looking
// never changes device state and records no events.

import type { Machine } from '../machine.ts';
import { decodeDevicePage, type DecodedDevice } from '../virtio/devicePage.ts';
import {
  VIRTIO_QUEUE_NAMES,
  VIRTIO_SHORT_NAMES,
  deviceName,
  statusText,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_DESC_F_INDIRECT,
} from '../virtio/virtioIds.ts';
import { decodeDesc, vringInfoOffset, vringAddrs, vringUsedOffset } from '../virtio/vring.ts';

export interface DescView {
  index: number;
  addr: number;
  len: number;
  flags: number;
  flagsText: string;
  next: number;
}
export interface ChainView {
  /** the avail ring entry that holds the head: 0 … num−1 (avail index mod num) */
  slot: number;
  /** the free-running avail index of the chain (mod 2^16), as avail.idx and used.idx count */
  availIndex: number;
  head: number;
  descs: DescView[];
  bytes: number;
}
export interface QueueView {
  card: string;
  device: string;
  short: string;
  queue: number;
  queueName: string;
  /** `console.tx` */
  id: string;
  num: number;
  ringMic: number;
  ringHost: number;
  usedAddress: number;
  availFlags: number;
  availIdx: number;
  usedFlags: number;
  usedIdx: number;
  /** _mic_vring_info.avail_idx and .magic */
  infoAvailIdx: number;
  magic: number;
  hostLastAvail: number;
  hostLastUsed: number;
  hostCompleted: number;
  /** the card driver's own indices (null when the card has no driver for the queue) */
  cardAvailIdx: number | null;
  cardLastUsed: number | null;
  inFlight: ChainView[];
}
export interface DeviceView {
  card: string;
  device: string;
  short: string;
  type: number;
  dpOffset: number;
  status: number;
  statusText: string;
  c2hDb: number;
  h2cDb: number;
  inBytes: number;
  outBytes: number;
  queues: QueueView[];
}

export function flagsText(f: number): string {
  const p: string[] = [];
  if (f & VRING_DESC_F_NEXT) p.push('NEXT');
  if (f & VRING_DESC_F_WRITE) p.push('WRITE');
  if (f & VRING_DESC_F_INDIRECT) p.push('INDIRECT');
  return p.join('|') || '0';
}

export function virtqueueViews(m: Machine, cardIndex: number): DeviceView[] {
  const dev = m.mics[cardIndex];
  const card = m.cards[cardIndex];
  if (dev.dpHost < 0) return [];
  const page = new Uint8Array(4096);
  m.hostRam.read(dev.dpHost, page);
  const dp = decodeDevicePage(page);
  const os = m.cardOs[cardIndex];
  const out: DeviceView[] = [];
  for (const v of dev.vop.vdevs) {
    const entry: DecodedDevice | undefined = dp.devices.find((d) => d.offset === v.dpOffset);
    const cardVdev = os.driver?.vdevs.find((c) => c.offset === v.dpOffset);
    const short = VIRTIO_SHORT_NAMES[v.desc.type] ?? String(v.desc.type);
    const queues: QueueView[] = v.vrings.map((vr, q) => {
      const num = vr.num;
      const a = vringAddrs(vr.blockHost, num);
      const usedAddress = entry?.vqconfig[q]?.used_address ?? 0;
      // The live used ring: in GDDR once relocated, else the host block's own.
      const usedIn = (off: number) =>
        usedAddress
          ? card.gddr.read16(usedAddress + off)
          : m.hostRam.read16(vr.blockHost + vringUsedOffset(num) + off);
      const availIdx = m.hostRam.read16(a.avail + 2);
      const usedIdx = usedIn(2);
      const cq = cardVdev?.vqs[q];
      const inFlight: ChainView[] = [];
      const pending = (availIdx - usedIdx) & 0xffff;
      for (let k = 0; k < Math.min(pending, num); k++) {
        const availIndex = (usedIdx + k) & 0xffff;
        const slot = availIndex % num;
        const head = m.hostRam.read16(a.avail + 4 + 2 * slot);
        const descs: DescView[] = [];
        let i = head;
        let bytes = 0;
        while (i < num && descs.length < num) {
          const b = new Uint8Array(16);
          m.hostRam.read(a.desc + 16 * i, b);
          const d = decodeDesc(b);
          descs.push({
            index: i,
            addr: d.addr,
            len: d.len,
            flags: d.flags,
            flagsText: flagsText(d.flags),
            next: d.next,
          });
          bytes += d.len;
          if (!(d.flags & VRING_DESC_F_NEXT)) break;
          i = d.next;
        }
        inFlight.push({ slot, availIndex, head, descs, bytes });
      }
      const qn = VIRTIO_QUEUE_NAMES[v.desc.type]?.[q] ?? String(q);
      return {
        card: dev.name,
        device: deviceName(v.desc.type),
        short,
        queue: q,
        queueName: qn,
        id: `${short}.${qn}`,
        num,
        ringMic: vr.blockMic,
        ringHost: vr.blockHost,
        usedAddress,
        availFlags: m.hostRam.read16(a.avail),
        availIdx,
        usedFlags: usedIn(0),
        usedIdx,
        infoAvailIdx: m.hostRam.read16(vr.blockHost + vringInfoOffset(num)),
        magic: m.hostRam.read32(vr.blockHost + vringInfoOffset(num) + 4),
        hostLastAvail: vr.lastAvailIdx,
        hostLastUsed: vr.lastUsedIdx,
        hostCompleted: vr.completed,
        cardAvailIdx: cq ? cq.availIdx : null,
        cardLastUsed: cq ? cq.lastUsedIdx : null,
        inFlight,
      };
    });
    out.push({
      card: dev.name,
      device: deviceName(v.desc.type),
      short,
      type: v.desc.type,
      dpOffset: v.dpOffset,
      status: entry?.status ?? 0,
      statusText: statusText(entry?.status ?? 0),
      c2hDb: entry?.ctrl.c2h_vdev_db ?? -1,
      h2cDb: entry?.ctrl.h2c_vdev_db ?? -1,
      inBytes: v.inBytes,
      outBytes: v.outBytes,
      queues,
    });
  }
  return out;
}
