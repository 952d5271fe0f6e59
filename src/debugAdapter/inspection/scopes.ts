// The scopes of a stop, as trees of VarNodes: Event, Registers, PCI Config, Device Page,
// Virtqueues, DMA, SMPT. Each is rendered from the model (model.ts) that the custom requests
// return, so the Variables view, the trees and the Debug Console show the same decoded state.

import type { Machine } from '../../emulator/machine.ts';
import type { DebugRuntime } from '../runtime.ts';
import { registerAt } from '../../emulator/card/sboxRegisters.ts';
import {
  BOOTPARAM_FIELDS,
  DEVICE_CTRL_FIELDS,
  DEVICE_DESC_FIELDS,
  VQCONFIG,
  VQCONFIG_FIELDS,
  entryLayout,
} from '../../emulator/virtio/devicePage.ts';
import type { FieldSpec } from '../../emulator/virtio/structs.ts';
import { MIC_VRING_INFO_FIELDS, VRING_AVAIL_FIELDS, VRING_USED_FIELDS } from '../../emulator/virtio/vring.ts';
import { initiatorName } from '../names.ts';
import { FIELDS } from '../breakpoints/eventFields.ts';
import { flagsText } from '../../emulator/inspect/virtqueues.ts';
import { countText, dbText, eventAddressRef, hex, hostRef } from './format.ts';
import {
  devicePageModel,
  dmaModel,
  pciConfigModel,
  registerByName,
  registersModel,
  smptModel,
  virtqueuesModel,
  type DeviceModel,
  type DmaChannelModel,
  type DmaRecentModel,
  type QueueModel,
  type RegisterGroupModel,
} from './model.ts';
import { count, group, leaf, registerNode, type VarNode } from './nodes.ts';

export const SCOPE_NAMES = [
  'Event',
  'Registers',
  'PCI Config',
  'Device Page',
  'Virtqueues',
  'DMA',
  'SMPT',
] as const;
export type ScopeName = (typeof SCOPE_NAMES)[number];

export function scopeChildren(rt: DebugRuntime, scope: ScopeName, card: number): VarNode[] {
  switch (scope) {
    case 'Event':
      return eventScope(rt);
    case 'Registers':
      return registersScope(rt, card);
    case 'PCI Config':
      return pciScope(rt.machine, card);
    case 'Device Page':
      return devicePageScope(rt.machine, card);
    case 'Virtqueues':
      return virtqueuesScope(rt.machine, card);
    case 'DMA':
      return dmaScope(rt, card);
    case 'SMPT':
      return smptScope(rt, card);
  }
}

// ---- Event ---------------------------------------------------------------------------------

/** Fields that are addresses or raw data: shown in hex. */
const HEX_FIELDS = new Set(['src', 'dst', 'data']);

export function eventScope(rt: DebugRuntime): VarNode[] {
  const m = rt.machine;
  const stop = rt.stopped;
  if (!stop) return [leaf('state', rt.running ? 'running' : 'not started')];
  const out: VarNode[] = [leaf('stop', stop.description, { type: `reason: ${stop.reason}` })];
  if (stop.text) out.push(leaf('rule', stop.text));
  const e = stop.event;
  if (!e) {
    out.push(leaf('event', 'none: stopped before the first bus transaction'));
    return out;
  }
  out.push(count('seq', e.seq, { evaluateName: 'seq' }));
  out.push(
    leaf('time', `${e.time} ns`, {
      evaluateName: 'time',
      type: `${(e.time / 1e9).toFixed(9)} s of virtual time`,
    }),
  );
  out.push(leaf('initiator', e.initiator, { evaluateName: 'initiator', type: initiatorName(e.initiator) }));
  out.push(leaf('kind', e.kind, { evaluateName: 'kind' }));
  out.push(leaf('space', e.space, { evaluateName: 'space' }));
  const ref = eventAddressRef(m, e.space, e.address);
  out.push(
    leaf('address', hex(e.address), {
      evaluateName: 'address',
      memoryReference: ref,
      bytes: e.size > 0 ? Math.min(e.size, 8) : 4,
    }),
  );
  if (e.register) {
    const r = registerAt(e.address & ~3);
    out.push(leaf('register', e.register, { evaluateName: 'register', type: r?.spec.doc ?? '' }));
  }
  out.push(count('size', e.size, { evaluateName: 'size' }));
  out.push(leaf('value', hex(e.value), { evaluateName: 'value' }));
  out.push(count('card', e.card, { evaluateName: 'card' }));
  if (e.cause)
    out.push(count('cause', e.cause, { evaluateName: 'cause', type: 'seq of the event that caused it' }));
  if (e.req) out.push(count('req', e.req, { evaluateName: 'req', type: 'the virtio request it belongs to' }));
  // The fields of its kind (DMA descriptor, virtqueue chain, interrupt …), as conditions name them.
  for (const f of FIELDS) {
    if (f.base || f.name === 'register' || f.name === 'text') continue;
    const v = f.of(e);
    if (v === null) continue;
    const shown = typeof v === 'string' ? v : HEX_FIELDS.has(f.name) ? hex(v) : String(v);
    out.push(leaf(f.name, shown, { evaluateName: f.name, type: f.doc }));
  }
  if (e.detail) out.push(leaf('detail', e.detail, { evaluateName: 'detail' }));
  const frames: { fn: string; args?: Readonly<Record<string, string | number>> }[] = [];
  for (let f = e.frames; f; f = f.parent) frames.push({ fn: f.fn, args: f.args });
  out.push(
    group('frames', frames.length ? frames.map((f) => f.fn).join(' ← ') : '(none)', () =>
      frames.map((f, i) => {
        const args = Object.entries(f.args ?? {});
        const text = `${f.fn}(${args.map(([k, v]) => `${k}=${typeof v === 'number' ? hex(v) : v}`).join(', ')})`;
        return args.length
          ? group(`[${i}]`, text, () => args.map(([k, v]) => leaf(k, typeof v === 'number' ? hex(v) : v)))
          : leaf(`[${i}]`, text);
      }),
    ),
  );
  return out;
}

// ---- Registers -----------------------------------------------------------------------------

function groupNode(rt: DebugRuntime, g: RegisterGroupModel, card: number, path: string[]): VarNode {
  const n = g.registers.length + (g.subgroups?.reduce((s, x) => s + x.registers.length, 0) ?? 0);
  return group(g.name, `${n} register${n === 1 ? '' : 's'}`, () => {
    // Re-read at expansion: the group as the model has it now.
    let now: RegisterGroupModel | undefined = {
      name: '',
      registers: [],
      subgroups: registersModel(rt.machine, card).groups,
    };
    for (const p of path) now = now?.subgroups?.find((x) => x.name === p);
    if (!now) return [];
    return [
      ...now.registers.map((r) => registerNode(rt, r)),
      ...(now.subgroups ?? []).map((s) => groupNode(rt, s, card, [...path, s.name])),
    ];
  });
}

export function registersScope(rt: DebugRuntime, card: number): VarNode[] {
  return registersModel(rt.machine, card).groups.map((g) => groupNode(rt, g, card, [g.name]));
}

// ---- PCI Config ------------------------------------------------------------------------------

export function pciScope(m: Machine, card: number): VarNode[] {
  return pciConfigModel(m, card).fields.map((f) =>
    leaf(f.name, f.text ? `${f.hex} (${f.text})` : f.hex, {
      type: `config+${hex(f.offset)}, ${f.size} byte${f.size === 1 ? '' : 's'}`,
      memoryReference: f.memoryReference,
    }),
  );
}

// ---- Device Page -----------------------------------------------------------------------------

export function devicePageScope(m: Machine, card: number): VarNode[] {
  const dp = devicePageModel(m, card);
  if (!dp.present) return [leaf('device page', 'none yet: the host driver has not probed the card')];
  const at = (off: number, bytes: number) => ({ memoryReference: hostRef(m, dp.hostAddress + off), bytes });
  const bp = dp.bootparam;
  const out: VarNode[] = [
    leaf('host address', hex(dp.hostAddress), {
      memoryReference: dp.memoryReference,
      type: 'host RAM, 4096 bytes',
    }),
    leaf('MIC address', hex(dp.micAddress), { type: 'as the card sees it: SPAD14 (low) / SPAD15 (high)' }),
    group('bootparam', `magic ${hex(bp.magic)}, shutdown_status ${bp.shutdown_status_text}`, () => {
      const f = BOOTPARAM_FIELDS;
      return [
        fieldLeaf('magic', hex(bp.magic), f.magic, 0, at),
        fieldLeaf('c2h_shutdown_db', dbText(bp.c2h_shutdown_db), f.c2h_shutdown_db, 0, at),
        fieldLeaf('h2c_shutdown_db', dbText(bp.h2c_shutdown_db), f.h2c_shutdown_db, 0, at),
        fieldLeaf('h2c_config_db', dbText(bp.h2c_config_db), f.h2c_config_db, 0, at),
        fieldLeaf(
          'shutdown_status',
          `${hex(bp.shutdown_status)} (${bp.shutdown_status_text})`,
          f.shutdown_status,
          0,
          at,
        ),
        fieldLeaf('shutdown_card', hex(bp.shutdown_card), f.shutdown_card, 0, at),
      ];
    }),
  ];
  dp.devices.forEach((d, i) => out.push(deviceEntryNode(d, i, at)));
  return out;
}

/** A data-breakpoint target for a field at a known place (undefined when it has none). */
function field(name: string, a: { memoryReference?: string; bytes: number }) {
  return a.memoryReference
    ? { memoryReference: a.memoryReference, bytes: a.bytes, description: name }
    : undefined;
}

/** A feature bitmap as one little-endian number (`feature_len` bytes). */
function bitmap(bytes: number[]): number {
  return bytes.reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);
}

/** A row for one field of a structure at `base`: its place, size and doc from the field table. */
function fieldLeaf(
  name: string,
  value: string,
  f: FieldSpec,
  base: number,
  at: (off: number, bytes: number) => { memoryReference?: string; bytes: number },
): VarNode {
  return leaf(name, value, { ...at(base + f.offset, f.size), type: f.doc });
}

function deviceEntryNode(
  d: DeviceModel,
  i: number,
  at: (off: number, bytes: number) => { memoryReference?: string; bytes: number },
): VarNode {
  const l = entryLayout(d.offset, d.num_vq, d.feature_len, d.config_len);
  const title = d.removed
    ? `removed entry at ${hex(d.offset)}`
    : `${d.name} at ${hex(d.offset)}, status ${d.statusText}`;
  const dd = DEVICE_DESC_FIELDS;
  const vq = VQCONFIG_FIELDS;
  const ctrl = DEVICE_CTRL_FIELDS;
  return group(
    `[${i}] ${d.name}`,
    title,
    () => [
      fieldLeaf('type', `${d.type} (${d.name})`, dd.type, d.offset, at),
      fieldLeaf('num_vq', String(d.num_vq), dd.num_vq, d.offset, at),
      fieldLeaf('feature_len', String(d.feature_len), dd.feature_len, d.offset, at),
      fieldLeaf('config_len', String(d.config_len), dd.config_len, d.offset, at),
      fieldLeaf('status', `${hex(d.status)} (${d.statusText})`, dd.status, d.offset, at),
      ...d.vqconfig.map((q, k) => {
        const base = l.vq + k * VQCONFIG.SIZE;
        return group(
          `vqconfig[${k}]`,
          `address ${hex(q.address)}, num ${q.num}, used ${hex(q.used_address)}`,
          () => [
            leaf('address', hex(q.address), {
              memoryReference: d.rings[k]?.ringMemoryReference,
              data: field(`vqconfig[${k}].address`, at(base + vq.address.offset, vq.address.size)),
              type: vq.address.doc,
            }),
            leaf('used_address', hex(q.used_address), {
              memoryReference: d.rings[k]?.usedMemoryReference,
              data: field(
                `vqconfig[${k}].used_address`,
                at(base + vq.used_address.offset, vq.used_address.size),
              ),
              type: vq.used_address.doc,
            }),
            fieldLeaf('num', String(q.num), vq.num, base, at),
          ],
        );
      }),
      leaf('host_features', hex(bitmap(d.host_features)), {
        ...at(l.hostFeatures, d.feature_len),
        type: 'offered by the back-end',
      }),
      leaf('guest_features', hex(bitmap(d.guest_features)), {
        ...at(l.guestFeatures, d.feature_len),
        type: 'accepted by the card',
      }),
      group('config', countText(d.config_len, 'byte'), () =>
        d.config.map((b, k) => leaf(`[${k}]`, hex(b), at(l.config + k, 1))),
      ),
      group(
        'device_ctrl',
        `c2h_vdev_db ${dbText(d.ctrl.c2h_vdev_db)}, h2c_vdev_db ${dbText(d.ctrl.h2c_vdev_db)}`,
        () => [
          fieldLeaf('vdev', hex(d.ctrl.vdev), ctrl.vdev, d.ctrl.offset, at),
          fieldLeaf('config_change', hex(d.ctrl.config_change), ctrl.config_change, d.ctrl.offset, at),
          fieldLeaf('vdev_reset', hex(d.ctrl.vdev_reset), ctrl.vdev_reset, d.ctrl.offset, at),
          fieldLeaf('guest_ack', hex(d.ctrl.guest_ack), ctrl.guest_ack, d.ctrl.offset, at),
          fieldLeaf('host_ack', hex(d.ctrl.host_ack), ctrl.host_ack, d.ctrl.offset, at),
          fieldLeaf(
            'used_address_updated',
            hex(d.ctrl.used_address_updated),
            ctrl.used_address_updated,
            d.ctrl.offset,
            at,
          ),
          fieldLeaf('c2h_vdev_db', dbText(d.ctrl.c2h_vdev_db), ctrl.c2h_vdev_db, d.ctrl.offset, at),
          fieldLeaf('h2c_vdev_db', dbText(d.ctrl.h2c_vdev_db), ctrl.h2c_vdev_db, d.ctrl.offset, at),
        ],
        { memoryReference: at(d.ctrl.offset, 16).memoryReference },
      ),
    ],
    { memoryReference: d.memoryReference },
  );
}

// ---- Virtqueues ------------------------------------------------------------------------------

export function virtqueuesScope(m: Machine, card: number): VarNode[] {
  const v = virtqueuesModel(m, card);
  if (!v.devices.length) return [leaf('devices', 'none: no virtio device on the device page yet')];
  return v.devices.map((d) =>
    group(d.device, `${d.statusText}, c2h db ${dbText(d.c2hDb)}, h2c db ${dbText(d.h2cDb)}`, () => [
      leaf('status', `${hex(d.status)} (${d.statusText})`),
      leaf('c2h_vdev_db', dbText(d.c2hDb)),
      leaf('h2c_vdev_db', dbText(d.h2cDb)),
      count('in bytes', d.inBytes, { type: 'bytes the host copied from the card (mic_vdev in_bytes)' }),
      count('out bytes', d.outBytes, { type: 'bytes the host copied to the card (mic_vdev out_bytes)' }),
      ...d.queues.map((q) => queueNode(q)),
    ]),
  );
}

function queueNode(q: QueueModel): VarNode {
  const title = `avail ${q.availIdx}, used ${q.usedIdx}, ${q.inFlight.length} in flight`;
  return group(q.id, title, () => [
    count('num', q.num),
    leaf('ring', hex(q.ringMic), {
      memoryReference: q.ringMemoryReference,
      type: `ring block: MIC ${hex(q.ringMic)}, host ${hex(q.ringHost)}`,
    }),
    leaf('used_address', hex(q.usedAddress), {
      memoryReference: q.usedMemoryReference,
      type: 'used ring in GDDR (0 = not relocated)',
    }),
    leaf('avail.flags', hex(q.availFlags), { type: VRING_AVAIL_FIELDS.flags.doc }),
    count('avail.idx', q.availIdx, { type: VRING_AVAIL_FIELDS.idx.doc }),
    leaf('used.flags', hex(q.usedFlags)),
    count('used.idx', q.usedIdx, { type: VRING_USED_FIELDS.idx.doc }),
    count('info.avail_idx', q.infoAvailIdx, {
      memoryReference: q.infoMemoryReference,
      bytes: MIC_VRING_INFO_FIELDS.avail_idx.size,
      type: MIC_VRING_INFO_FIELDS.avail_idx.doc,
    }),
    leaf('info.magic', hex(q.magic)),
    count('host last_avail_idx', q.hostLastAvail, { type: 'vringh' }),
    count('host last_used_idx', q.hostLastUsed, { type: 'vringh' }),
    count('host completed', q.hostCompleted, { type: 'vringh' }),
    count('card avail_idx', q.cardAvailIdx ?? -1, {
      type: 'the card driver’s shadow of avail.idx (-1: no driver)',
    }),
    count('card last_used_idx', q.cardLastUsed ?? -1, {
      type: 'the card driver’s last seen used index (-1: no driver)',
    }),
    group('in flight', countText(q.inFlight.length, 'chain'), () =>
      q.inFlight.map((c) =>
        group(
          `[${c.slot}] head ${c.head}`,
          `${countText(c.descs.length, 'descriptor')}, ${countText(c.bytes, 'byte')} (avail index ${c.availIndex})`,
          () =>
            c.descs.map((d) =>
              group(
                `desc[${d.index}]`,
                `addr ${hex(d.addr)} len ${d.len} flags ${d.flagsText} next ${d.next}`,
                () => [
                  leaf('addr', hex(d.addr), {
                    memoryReference: d.memoryReference,
                    bytes: Math.max(1, d.len),
                    type: 'card GDDR',
                  }),
                  count('len', d.len),
                  leaf('flags', `${hex(d.flags)} (${flagsText(d.flags)})`),
                  count('next', d.next),
                ],
                { memoryReference: d.memoryReference },
              ),
            ),
        ),
      ),
    ),
  ]);
}

// ---- DMA -------------------------------------------------------------------------------------

export function dmaScope(rt: DebugRuntime, card: number): VarNode[] {
  const d = dmaModel(rt.machine, card);
  return [registerNode(rt, d.DCR), ...d.channels.map((c) => channelNode(rt, card, c.channel))];
}

function channelTitle(c: DmaChannelModel): string {
  const parts = [`${c.owner}-owned`, c.enabled ? 'enabled' : 'disabled', `head ${c.head}`, `tail ${c.tail}`];
  if (c.busy) parts.push('busy');
  if (c.DCHERR) parts.push(`DCHERR ${hex(c.DCHERR)}`);
  return parts.join(', ');
}

function channelNode(rt: DebugRuntime, card: number, n: number): VarNode {
  const c0 = dmaModel(rt.machine, card).channels[n];
  return group(`channel ${n}`, channelTitle(c0), () => {
    const c = dmaModel(rt.machine, card).channels[n];
    const main = ['DCAR', 'DHPR', 'DTPR', 'DRAR_LO', 'DRAR_HI', 'DSTAT', 'DCHERR', 'DCHERRMSK'].map((b) =>
      c.registers.find((r) => r.name === `${b}${n}`),
    );
    return [
      ...main.filter((r) => r !== undefined).map((r) => registerNode(rt, r)),
      leaf('owner', c.owner, { type: 'DCR bit 2n: 1 host, 0 card' }),
      leaf('enabled', String(c.enabled), { type: 'DCR bit 2n+1' }),
      leaf('ring', hex(c.ringAddress), {
        memoryReference: c.ringMemoryReference,
        type: `MIC address of descriptor 0, ${c.ringInHostMemory ? 'host memory (SMPT)' : 'GDDR'}`,
      }),
      count('ring size', c.ringSize, { type: 'descriptors (DRAR_HI bits 20:4)' }),
      count('head', c.head, { type: 'last DHPR value handed over' }),
      count('tail', c.tail, { type: 'next descriptor the engine fetches (DSTAT[16:0])' }),
      leaf('busy', String(c.busy)),
      group('recent descriptors', `${c.recent.length} executed`, () => c.recent.map((r) => recentNode(r))),
    ];
  });
}

function recentNode(r: DmaRecentModel): VarNode {
  const d = r.desc;
  return group(`[${r.index}]`, r.text, () => {
    const out: VarNode[] = [leaf('type', d.type)];
    if (d.src !== undefined)
      out.push(leaf('src', hex(d.src), { memoryReference: r.srcMemoryReference, bytes: d.len || 8 }));
    if (d.dst !== undefined)
      out.push(
        leaf('dst', hex(d.dst), {
          memoryReference: r.dstMemoryReference,
          bytes: d.len || (d.type === 'general' ? 4 : 8),
        }),
      );
    if (d.len !== undefined) out.push(count('len', d.len));
    if (d.dataLo !== undefined) out.push(leaf('data', hex((d.dataHi ?? 0) * 2 ** 32 + d.dataLo)));
    if (d.intr !== undefined) out.push(leaf('intr', String(d.intr)));
    out.push(
      leaf('qw0', `0x${d.raw[1].toString(16).padStart(8, '0')}${d.raw[0].toString(16).padStart(8, '0')}`),
    );
    out.push(
      leaf('qw1', `0x${d.raw[3].toString(16).padStart(8, '0')}${d.raw[2].toString(16).padStart(8, '0')}`),
    );
    return out;
  });
}

// ---- SMPT ------------------------------------------------------------------------------------

export function smptScope(rt: DebugRuntime, card: number): VarNode[] {
  return smptModel(rt.machine, card).entries.map((e) =>
    group(`[${e.index}]`, `host ${hex(e.hwBase)}, refcount ${e.refCount}`, () => {
      const now = smptModel(rt.machine, card).entries[e.index];
      const reg = registerByName(rt.machine, card, `SMPT${e.index}`);
      return [
        leaf('window', hex(now.window), { type: 'MIC address this entry maps (16 GiB)' }),
        ...(reg ? [registerNode(rt, reg, 'register')] : []),
        leaf('host base', hex(now.hwBase), {
          memoryReference: now.hostMemoryReference,
          type: 'selected by the register',
        }),
        leaf('driver base', hex(now.swBase), { type: 'the host driver’s software copy' }),
        count('refcount', now.refCount, { type: 'bytes mapped through this entry' }),
      ];
    }),
  );
}
