// The tree builders on real custom-request answers: a booted machine's mic/cards, mic/registers,
// mic/smpt, mic/virtqueues and mic/dma (the adapter's own models, through JSON as over DAP)
// become Cards / Virtqueues / DMA rows whose values, memory references and function breakpoints
// say what the hardware holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootedMachine } from '../helpers/machine.ts';
import {
  cardsModel,
  dmaModel,
  registersModel,
  smptModel,
  virtqueuesModel,
} from '../../src/debugAdapter/inspection/model.ts';
import { readMemory } from '../../src/debugAdapter/memory.ts';
import { parseFunctionBreakpoint } from '../../src/debugAdapter/breakpoints/syntax.ts';
import type { Machine } from '../../src/emulator/machine.ts';
import { cardsTree, type CardDetails } from '../../src/extension/model/cardsTree.ts';
import { virtqueuesTree } from '../../src/extension/model/virtqueuesTree.ts';
import { dmaTree } from '../../src/extension/model/dmaTree.ts';
import { walk, type NodeModel } from '../../src/extension/model/nodeModel.ts';
import type { CardsResponse, DmaResponse, VirtqueuesResponse } from '../../src/extension/model/requests.ts';

const t = bootedMachine();
const m = t.m;
/** As the extension receives it: JSON over DAP. */
const wire = <T>(x: unknown): T => JSON.parse(JSON.stringify(x)) as T;

function find(rows: readonly NodeModel[], ...labels: (string | RegExp)[]): NodeModel {
  let level = rows;
  let found: NodeModel | undefined;
  for (const l of labels) {
    found = level.find((n) => (typeof l === 'string' ? n.label === l : l.test(n.label)));
    assert.ok(found, `no row ${String(l)} among ${level.map((n) => n.label).join(', ')}`);
    level = found.children ?? [];
  }
  return found!;
}

function uniqueIds(rows: readonly NodeModel[]): void {
  const seen = new Set<string>();
  for (const n of walk(rows)) {
    assert.ok(!seen.has(n.id), `id ${n.id} appears twice`);
    seen.add(n.id);
  }
}

/** The little-endian value of `bytes` bytes at a memory reference, read as the adapter reads. */
function peek(machine: Machine, ref: string, bytes: number): number {
  const r = readMemory(machine, ref, 0, bytes);
  assert.ok(typeof r !== 'string', `readMemory ${ref}: ${String(r)}`);
  return r.data.reduceRight((v, b) => v * 256 + b, 0);
}

function cardsRows(): NodeModel[] {
  const { cards } = wire<CardsResponse>(cardsModel(m));
  const details = new Map<number, CardDetails>([
    [0, { registers: wire(registersModel(m, 0)), smpt: wire(smptModel(m, 0)) }],
  ]);
  return cardsTree(cards, details);
}

test('Cards: mic0 online with its stepping, BAR0/BAR4 where enumeration put them', () => {
  const rows = cardsRows();
  uniqueIds(rows);
  const card = find(rows, 'mic0');
  assert.equal(card.value, 'online');
  assert.equal(card.kind, 'card');
  assert.equal(card.breakpoint, 'mic0: state');
  assert.equal(find(rows, 'mic0', 'stepping').value, 'C0');
  const bar4 = find(rows, 'mic0', 'BAR4');
  assert.equal(bar4.memory?.reference, 'mic0.bar4+0x0');
  assert.match(bar4.detail ?? '', /128 KiB/);
  assert.match(find(rows, 'mic0', 'BAR0').detail ?? '', /8 GiB/);
});

test('Cards: BAR4 holds the SBOX registers in their hardware groups, with fields and docs', () => {
  const rows = cardsRows();
  const groups = find(rows, 'mic0', 'BAR4').children!.map((g) => g.label);
  assert.deepEqual([...groups].sort(), [
    'DMA',
    'Doorbells',
    'Interrupts',
    'POST',
    'Reset',
    'SMPT',
    'Scratchpads',
  ]);
  const sicr0 = find(rows, 'mic0', 'BAR4', 'Interrupts', 'SICR0');
  assert.equal(sicr0.memory?.reference, 'mic0.bar4+0x19004');
  assert.equal(sicr0.memory?.bytes, 4);
  assert.match(sicr0.value ?? '', /^0x[0-9a-f]+$/);
  assert.match(sicr0.tooltip ?? '', /Host interrupt cause/);
  assert.deepEqual(
    sicr0.children?.map((f) => f.label),
    ['DBR [3:0]', 'DMA [15:8]', 'ERR [30]'],
  );
  const spad14 = find(rows, 'mic0', 'Scratchpads', 'SPAD14');
  assert.equal(Number(spad14.value), peek(m, spad14.memory!.reference, 4));
  const dhpr0 = find(rows, 'mic0', 'BAR4', 'DMA', 'channel 0', 'DHPR0');
  assert.equal(Number(dhpr0.value), m.cards[0].dma.channelView(0).DHPR);
});

test('Cards: the SMPT lists 32 entries; entry 0 maps host memory', () => {
  const smpt = find(cardsRows(), 'mic0', 'SMPT');
  assert.equal(smpt.children?.length, 32);
  const e0 = find(smpt.children!, 'SMPT0');
  assert.equal(e0.memory?.reference, 'mic0.bar4+0x13100');
  assert.equal(find(e0.children!, 'maps host').memory?.reference, 'host+0x0');
});

test('Cards: a closed card has no register rows (the view does not fetch them)', () => {
  const { cards } = wire<CardsResponse>(cardsModel(m));
  const rows = cardsTree(cards, new Map());
  assert.equal(find(rows, 'mic0', 'BAR4').children, undefined);
  assert.ok(!find(rows, 'mic0').children!.some((n) => n.label === 'SMPT'));
});

function vqRows(): NodeModel[] {
  return virtqueuesTree(wire<VirtqueuesResponse>({ cards: [virtqueuesModel(m, 0)] }).cards);
}

test('Virtqueues: card → device → queue → the indices, at the addresses that hold them', () => {
  const rows = vqRows();
  uniqueIds(rows);
  const rx = find(rows, 'mic0', 'virtio-console', 'rx');
  assert.equal(rx.breakpoint, 'mic0: vq console.rx');
  const q = virtqueuesModel(m, 0).devices.find((d) => d.short === 'console')!.queues[0];
  // value first, decimal indices (docs/naming.md); the queue number is in the tooltip
  assert.equal(rx.value, `avail ${q.availIdx} · used ${q.usedIdx}`);
  assert.match(rx.tooltip ?? '', /queue 0/);
  const avail = find(rx.children!, 'avail.idx');
  assert.equal(avail.memory?.bytes, 2);
  assert.equal(peek(m, avail.memory!.reference, 2), q.availIdx, 'avail.idx row points at avail->idx');
  const used = find(rx.children!, 'used.idx');
  assert.equal(peek(m, used.memory!.reference, 2), q.usedIdx, 'used.idx row points at used->idx');
  const info = find(rx.children!, '_mic_vring_info.avail_idx');
  assert.equal(peek(m, info.memory!.reference, 2), q.infoAvailIdx);
  assert.equal(avail.value, String(q.availIdx));
});

test('Virtqueues: chains in flight list their descriptors with addr/len/flags and the buffer', () => {
  const rx = find(vqRows(), 'mic0', 'virtio-console', 'rx');
  const inFlight = find(rx.children!, 'in flight');
  assert.ok((inFlight.children?.length ?? 0) > 0, 'the console rx queue has buffers posted');
  const chain = inFlight.children![0];
  // the avail ring slot is a position in the ring: below num ("slot 127", never "slot 128")
  const num = virtqueuesModel(m, 0).devices.find((d) => d.short === 'console')!.queues[0].num;
  const slot = Number(/^slot (\d+)$/.exec(chain.detail ?? '')?.[1]);
  assert.ok(slot >= 0 && slot < num, `${chain.detail} of ${num}`);
  assert.match(chain.value ?? '', /^\d+ bytes?$/);
  const desc = chain.children![0];
  assert.match(desc.value ?? '', /^0x[0-9a-f]+ · \d+ bytes?$/);
  assert.match(desc.tooltip ?? '', /WRITE/);
  assert.match(desc.memory?.reference ?? '', /^mic0\.gddr\+0x/);
});

test('DMA: card → channel → ring, head/tail, status, recent descriptors decoded', () => {
  const rows = dmaTree(wire<DmaResponse>({ cards: [dmaModel(m, 0)] }).cards);
  uniqueIds(rows);
  assert.match(find(rows, 'mic0').value ?? '', /^\d of 8 enabled$/);
  const ch0 = find(rows, 'mic0', 'channel 0');
  const view = m.cards[0].dma.channelView(0);
  assert.equal(ch0.value, `head ${view.head} · tail ${view.tail}`);
  assert.equal(ch0.breakpoint, 'mic0: dma ch 0');
  assert.match(ch0.tooltip ?? '', /owned by the host \(DCR\), enabled/);
  const head = find(ch0.children!, 'head (DHPR)');
  assert.equal(peek(m, head.memory!.reference, 4), view.DHPR);
  assert.match(find(ch0.children!, 'ring').memory?.reference ?? '', /^host\+0x/);
  const recent = find(ch0.children!, 'recent descriptors');
  assert.ok(recent.children!.length > 0, 'channel 0 moved virtio data during boot');
  assert.match(recent.children![0].value ?? '', /^(MEMCPY|STATUS|GENERAL|NOP)/);
  assert.equal(find(ch0.children!, 'registers').children?.length, 13);
});

test('every function breakpoint a row offers is valid breakpoint syntax', () => {
  const rows = [
    ...cardsRows(),
    ...vqRows(),
    ...dmaTree(wire<DmaResponse>({ cards: [dmaModel(m, 0)] }).cards),
  ];
  const texts = [...walk(rows)].flatMap((n) => (n.breakpoint ? [n.breakpoint] : []));
  assert.ok(texts.length > 10);
  for (const text of texts) parseFunctionBreakpoint(text);
});

test('every memory reference a row offers is readable', () => {
  const rows = [
    ...cardsRows(),
    ...vqRows(),
    ...dmaTree(wire<DmaResponse>({ cards: [dmaModel(m, 0)] }).cards),
  ];
  for (const n of walk(rows)) if (n.memory) peek(m, n.memory.reference, 1);
});
