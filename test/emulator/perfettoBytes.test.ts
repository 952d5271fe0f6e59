// The Perfetto export's byte path (sim/trace/perfettoBytes.ts): fields the fast path does not
// expect (non-ASCII and escaped text, a text longer than the buffer, negative and fractional
// numbers, addresses past 2^32) still give one valid JSON array with the values as they were.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { blankEvent, type BusEvent, type Frame } from '../../src/emulator/sim/busEvent.ts';
import { PerfettoExporter } from '../../src/emulator/sim/trace/perfetto.ts';

interface Line {
  ph: string;
  name: string;
  ts: number;
  dur?: number;
  args?: Record<string, unknown>;
}

test('odd fields and a text longer than the buffer: valid JSON, values kept, whole lines per chunk', () => {
  const chunks: Buffer[] = [];
  const x = new PerfettoExporter((b) => void chunks.push(Buffer.from(b)));
  const root: Frame = { fn: 'hän"dler', args: { a: 10, b: 'x\ny' }, parent: null };
  const long = 'é'.repeat(1 << 20) + '"\\\u0001';
  const events: Partial<BusEvent>[] = [
    {
      initiator: 'mic0.cpu',
      kind: 'mmio.write',
      register: 'DHPR0',
      address: -1,
      card: 0,
      frames: root,
      time: 1.5,
    },
    {
      initiator: 'hw',
      kind: 'irq',
      side: 'host',
      vector: 3,
      card: 0,
      detail: 'é → "q"',
      cause: 1,
      time: 2000,
    },
    {
      initiator: 'mic0.cpu',
      kind: 'mem.write',
      address: 2 ** 45 + 3,
      len: 1.5,
      text: long,
      card: 0,
      time: 3001,
    },
  ];
  let seq = 0;
  for (const p of events)
    x.event(Object.assign(blankEvent(), { seq: ++seq, space: 'mic0.gddr', size: 4 }, p));
  x.finish();
  for (const c of chunks) assert.equal(c[c.length - 1], 0x0a, 'a chunk ends at a line’s end');
  const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Line[];
  const bus = json.filter((l) => l.ph === 'X' && l.args?.seq !== undefined);
  assert.deepEqual(
    bus.map((l) => [l.name, l.ts, l.args!.address]),
    [
      ['mmio.write DHPR0', 0.002, null],
      ['irq → host vector 3', 2, '0x0'],
      ['mem.write mic0.gddr', 3.001, '0x200000000003'],
    ],
  );
  assert.equal(bus[1].args!.detail, 'é → "q"');
  assert.equal(bus[2].args!.text, long);
  assert.equal(bus[2].args!.len, 1.5);
  const handler = json.find((l) => l.ph === 'X' && l.name === 'hän"dler')!;
  assert.equal(handler.args!.frame, 'hän"dler(a=0xa, b=x\ny)');
  assert.equal(
    json.filter((l) => l.ph === 's' || l.ph === 'f').length,
    3,
    'DHPR0 → irq: s and f; the irq: s',
  );
});
