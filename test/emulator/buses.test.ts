// The two CPU-visible address spaces (reference §1.2–1.4, §3, §9 #13): host physical (RAM,
// PCI hole, each card's BAR0 and BAR4) and card physical (GDDR, MMIO block, SMPT window).
// Every access is one event with the right space, address, size and value.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SparseMemory } from '../../src/emulator/bus/sparseMemory.ts';
import { HostSpace, PCI_HOLE_END, PCI_HOLE_START, isHostRam } from '../../src/emulator/bus/hostSpace.ts';
import { CardSpace } from '../../src/emulator/bus/cardSpace.ts';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { Scheduler } from '../../src/emulator/sim/scheduler.ts';
import { Spine } from '../../src/emulator/sim/spine.ts';
import { CFG, CMD_MEMORY } from '../../src/emulator/card/pciConfig.ts';
import { MIC_MMIO_CARD_BASE, MMIO_SIZE, R } from '../../src/emulator/card/sboxRegisters.ts';
import { smptEntry } from '../../src/emulator/card/smpt.ts';
import { X100Card } from '../../src/emulator/card/x100Card.ts';

const GiB = 2 ** 30;
const BAR0 = 0x380_0000_0000;
const BAR4 = 0xde00_0000;
const MMIO = MIC_MMIO_CARD_BASE;
const WINDOW = 0x80_0000_0000;

/** A 16 GiB host with one 8 GiB card whose BARs are placed as enumeration places them. */
function platform({ memoryEnabled = true } = {}) {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', 16 * GiB);
  const card = new X100Card({ index: 0, memoryBytes: 8 * GiB }, sched, spine, hostRam, { msix() {} });
  placeBars(card, BAR0, BAR4);
  if (memoryEnabled) card.config.write32(CFG.COMMAND, CMD_MEMORY);
  const host = new HostSpace(spine, hostRam, [card]);
  const mic = new CardSpace(spine, card);
  const events: BusEvent[] = [];
  spine.observe((e) => events.push(cloneEvent(e)));
  /** Events recorded while fn runs. */
  const during = (fn: () => void): BusEvent[] => {
    const from = events.length;
    fn();
    return events.slice(from);
  };
  return { sched, spine, hostRam, card, host, mic, events, during };
}

function placeBars(card: X100Card, bar0: number, bar4: number): void {
  card.config.write32(CFG.BAR0, bar0 % 2 ** 32);
  card.config.write32(CFG.BAR1, Math.floor(bar0 / 2 ** 32));
  card.config.write32(CFG.BAR4, bar4);
  card.config.write32(CFG.BAR5, 0);
}

/** [kind, space, address, size, value] of each event, for deepEqual. */
const brief = (es: BusEvent[]) => es.map((e) => [e.kind, e.space, e.address, e.size, e.value]);

// ---- host physical space --------------------------------------------------------------------

test('host RAM decodes below the PCI hole and from 4 GiB up, but not in 0xC000_0000–0xFFFF_FFFF', () => {
  assert.equal(PCI_HOLE_START, 0xc000_0000);
  assert.equal(PCI_HOLE_END, 0x1_0000_0000);
  const size = 16 * GiB;
  assert.equal(isHostRam(0, 4, size), true);
  assert.equal(isHostRam(0xbfff_fffc, 4, size), true);
  assert.equal(isHostRam(0xbfff_fffe, 4, size), false, 'straddles into the hole');
  assert.equal(isHostRam(0xc000_0000, 1, size), false);
  assert.equal(isHostRam(0xffff_ffff, 1, size), false);
  assert.equal(isHostRam(0x1_0000_0000, 8, size), true);
  assert.equal(isHostRam(size - 4, 4, size), true);
  assert.equal(isHostRam(size - 2, 4, size), false, 'runs off the end of RAM');
  assert.equal(isHostRam(-1, 1, size), false);

  const p = platform();
  const es = p.during(() => {
    p.host.write32(0x1000, 0xdead_beef);
    p.host.write32(0x2_0000_0000, 0x1234_5678);
  });
  assert.equal(p.hostRam.read32(0x1000), 0xdead_beef);
  assert.equal(p.hostRam.read32(0x2_0000_0000), 0x1234_5678);
  assert.deepEqual(brief(es), [
    ['mem.write', 'host', 0x1000, 4, 0xdead_beef],
    ['mem.write', 'host', 0x2_0000_0000, 4, 0x1234_5678],
  ]);
});

test('a host access to the PCI hole with nothing there is a master abort: rule 13, reads all-ones', () => {
  const p = platform();
  const es = p.during(() => {
    assert.equal(p.host.read32(0xc000_0000), 0xffff_ffff);
    assert.equal(p.host.read16(0xd000_0000), 0xffff);
    assert.equal(p.host.read8(0xffff_fff0), 0xff);
    assert.deepEqual([...p.host.read(0xc000_1000, 6)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    p.host.write32(0xc000_0000, 0);
  });
  assert.deepEqual(
    es.map((e) => e.kind),
    ['protocol', 'protocol', 'protocol', 'protocol', 'protocol'],
    'no memory event for an access nothing decodes',
  );
  assert.deepEqual(
    p.spine.protocolErrors.map((e) => [e.rule, e.where]),
    Array.from({ length: 5 }, () => [13, 'host']),
  );
  assert.match(p.spine.protocolErrors[0].message, /read of host physical address 0xc0000000 \(4 bytes\)/);
  assert.match(p.spine.protocolErrors[4].message, /write to .* the write is dropped/);
  assert.equal(p.hostRam.pagesAllocated, 0, 'the dropped write reached no RAM');
});

test('host addresses beyond RAM and beyond every BAR read all-ones', () => {
  const p = platform();
  assert.equal(p.host.read32(16 * GiB), 0xffff_ffff);
  assert.equal(p.host.read32(BAR0 + 8 * GiB), 0xffff_ffff, 'just past BAR0');
  assert.equal(p.host.read32(BAR4 + MMIO_SIZE), 0xffff_ffff, 'just past BAR4');
  assert.equal(p.host.read32(BAR0 + 8 * GiB - 2), 0xffff_ffff, 'straddles the end of BAR0');
  assert.equal(p.spine.protocolErrors.length, 4);
  assert.ok(p.spine.protocolErrors.every((e) => e.rule === 13));
});

test('BAR0 offset X is MIC address X in GDDR, as event space mic0.gddr', () => {
  const p = platform();
  const es = p.during(() => {
    p.host.write32(BAR0 + 0x40_0000, 0xc0ff_ee00);
    assert.equal(p.host.read32(BAR0 + 0x40_0000), 0xc0ff_ee00);
    p.host.write32(BAR0 + 8 * GiB - 4, 0x1122_3344);
  });
  assert.equal(p.card.gddr.read32(0x40_0000), 0xc0ff_ee00);
  assert.equal(p.card.gddr.read32(8 * GiB - 4), 0x1122_3344);
  assert.deepEqual(brief(es), [
    ['mem.write', 'mic0.gddr', 0x40_0000, 4, 0xc0ff_ee00],
    ['mem.read', 'mic0.gddr', 0x40_0000, 4, 0xc0ff_ee00],
    ['mem.write', 'mic0.gddr', 8 * GiB - 4, 4, 0x1122_3344],
  ]);
  assert.deepEqual(p.spine.protocolErrors, []);
});

test('BAR4 offset Y is the MMIO register at BAR4+Y, as event space mic0.bar4', () => {
  const p = platform();
  const es = p.during(() => {
    p.host.write32(BAR4 + R.SPAD(5), 0x0040_0000);
    assert.equal(p.host.read32(BAR4 + R.SPAD(5)), 0x0040_0000);
  });
  assert.equal(p.card.reg(R.SPAD(5)), 0x0040_0000);
  assert.deepEqual(brief(es), [
    ['mmio.write', 'mic0.bar4', R.SPAD(5), 4, 0x0040_0000],
    ['mmio.read', 'mic0.bar4', R.SPAD(5), 4, 0x0040_0000],
  ]);
});

test('a host MMIO write through BAR4 is recorded before the doorbell it rings', () => {
  const p = platform();
  const es = p.during(() => p.host.write32(BAR4 + R.RDMASR(1), 0));
  assert.deepEqual(
    es.map((e) => [e.kind, e.detail]),
    [
      ['mmio.write', ''],
      ['doorbell', 'h2c 9'],
    ],
  );
  assert.ok(es[0].seq < es[1].seq);
});

test('8/16/32/64-bit and bulk accesses to memory are each exactly one event with the right size and value', () => {
  const p = platform();
  const a = 0x10_0000;
  const cases: [string, () => void, [string, string, number, number, number]][] = [
    ['write8', () => p.host.write8(a, 0x1ab), ['mem.write', 'host', a, 1, 0x1ab]],
    ['write16', () => p.host.write16(a + 2, 0xbeef), ['mem.write', 'host', a + 2, 2, 0xbeef]],
    ['write32', () => p.host.write32(a + 4, 0xcafe_f00d), ['mem.write', 'host', a + 4, 4, 0xcafe_f00d]],
    ['write64', () => p.host.write64(a + 8, 0x12_3456_789a), ['mem.write', 'host', a + 8, 8, 0x3456_789a]],
    ['read8', () => assert.equal(p.host.read8(a), 0xab), ['mem.read', 'host', a, 1, 0xab]],
    ['read16', () => assert.equal(p.host.read16(a + 2), 0xbeef), ['mem.read', 'host', a + 2, 2, 0xbeef]],
    [
      'read32',
      () => assert.equal(p.host.read32(a + 4), 0xcafe_f00d),
      ['mem.read', 'host', a + 4, 4, 0xcafe_f00d],
    ],
    [
      'read64',
      () => assert.equal(p.host.read64(a + 8), 0x12_3456_789a),
      ['mem.read', 'host', a + 8, 8, 0x3456_789a],
    ],
    [
      'bulk write',
      () => p.host.write(a + 0x100, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])),
      ['mem.write', 'host', a + 0x100, 9, 0x0403_0201],
    ],
    [
      'bulk read',
      () => assert.deepEqual([...p.host.read(a + 0x100, 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      ['mem.read', 'host', a + 0x100, 9, 0x0403_0201],
    ],
    [
      'short bulk',
      () => p.host.write(a + 0x200, new Uint8Array([0x77, 0x66])),
      ['mem.write', 'host', a + 0x200, 2, 0x77],
    ],
  ];
  for (const [name, fn, want] of cases) assert.deepEqual(brief(p.during(fn)), [want], name);
  assert.equal(p.hostRam.read8(a), 0xab);
  assert.equal(p.hostRam.read64(a + 8), 0x12_3456_789a);
  // Zero-length bulk accesses are no transaction at all.
  assert.deepEqual(
    p.during(() => {
      p.host.read(a, 0);
      p.host.write(a, new Uint8Array(0));
    }),
    [],
  );
});

test('a 64-bit MMIO access is two 32-bit events, low dword first (SPAD14/SPAD15 = device page address)', () => {
  const p = platform();
  const dp = 0x80_1234_5000;
  const w = p.during(() => p.host.write64(BAR4 + R.SPAD(14), dp));
  assert.deepEqual(brief(w), [
    ['mmio.write', 'mic0.bar4', R.SPAD(14), 4, 0x1234_5000],
    ['mmio.write', 'mic0.bar4', R.SPAD(15), 4, 0x80],
  ]);
  assert.equal(p.card.reg(R.SPAD(14)), 0x1234_5000);
  assert.equal(p.card.reg(R.SPAD(15)), 0x80);
  let v = 0;
  const r = p.during(() => (v = p.host.read64(BAR4 + R.SPAD(14))));
  assert.equal(v, dp);
  assert.deepEqual(brief(r), [
    ['mmio.read', 'mic0.bar4', R.SPAD(14), 4, 0x1234_5000],
    ['mmio.read', 'mic0.bar4', R.SPAD(15), 4, 0x80],
  ]);
});

test('a narrow MMIO write merges into its register dword; a narrow read extracts its bytes', () => {
  const p = platform();
  const spad0 = BAR4 + R.SPAD(0);
  p.host.write32(spad0, 0x1122_3344);
  const e8 = p.during(() => p.host.write8(spad0 + 1, 0xaa));
  assert.equal(p.card.reg(R.SPAD(0)), 0x1122_aa44);
  assert.deepEqual(brief(e8), [['mmio.write', 'mic0.bar4', R.SPAD(0) + 1, 1, 0xaa]]);
  const e16 = p.during(() => p.host.write16(spad0 + 2, 0xbeef));
  assert.equal(p.card.reg(R.SPAD(0)), 0xbeef_aa44);
  assert.deepEqual(brief(e16), [['mmio.write', 'mic0.bar4', R.SPAD(0) + 2, 2, 0xbeef]]);
  const r8 = p.during(() => assert.equal(p.host.read8(spad0 + 3), 0xbe));
  assert.deepEqual(brief(r8), [['mmio.read', 'mic0.bar4', R.SPAD(0) + 3, 1, 0xbe]]);
  const r16 = p.during(() => assert.equal(p.host.read16(spad0), 0xaa44));
  assert.deepEqual(brief(r16), [['mmio.read', 'mic0.bar4', R.SPAD(0), 2, 0xaa44]]);
});

test('a narrow write of APICICR’s send byte rings the doorbell with the vector kept in the dword', () => {
  const p = platform();
  p.host.write32(BAR4 + R.APICICR(2), 0x41);
  const es = p.during(() => p.host.write8(BAR4 + R.APICICR(2) + 1, 0x20));
  assert.deepEqual(
    es.map((e) => [e.kind, e.detail]),
    [
      ['mmio.write', ''],
      ['doorbell', 'h2c 2'],
    ],
  );
  assert.equal(p.card.reg(R.APICICR(2)), 0x41, 'send bit cleared, vector kept');
});

test('bulk MMIO accesses are one 32-bit event per register', () => {
  const p = platform();
  const w = p.during(() => p.host.write(BAR4 + R.SPAD(4), new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0])));
  assert.deepEqual(brief(w), [
    ['mmio.write', 'mic0.bar4', R.SPAD(4), 4, 1],
    ['mmio.write', 'mic0.bar4', R.SPAD(5), 4, 2],
  ]);
  let got: Uint8Array = new Uint8Array(0);
  const r = p.during(() => (got = p.host.read(BAR4 + R.SPAD(4), 8)));
  assert.deepEqual([...got], [1, 0, 0, 0, 2, 0, 0, 0]);
  assert.equal(r.length, 2);
  assert.ok(r.every((e) => e.kind === 'mmio.read' && e.size === 4));
});

test('BARs decode only while the command register’s memory-enable bit is set', () => {
  const p = platform({ memoryEnabled: false });
  p.card.gddr.write32(0x1000, 0x5555_aaaa);
  p.card.setReg(R.SPAD(1), 0x1234);
  assert.equal(p.host.read32(BAR0 + 0x1000), 0xffff_ffff);
  assert.equal(p.host.read32(BAR4 + R.SPAD(1)), 0xffff_ffff);
  p.host.write32(BAR4 + R.SPAD(1), 0);
  assert.equal(p.card.reg(R.SPAD(1)), 0x1234, 'the write went nowhere');
  assert.equal(p.spine.protocolErrors.length, 3);
  p.host.cfgWrite32(p.card, CFG.COMMAND, CMD_MEMORY);
  assert.equal(p.host.read32(BAR0 + 0x1000), 0x5555_aaaa);
  assert.equal(p.host.read32(BAR4 + R.SPAD(1)), 0x1234);
  assert.equal(p.spine.protocolErrors.length, 3);
});

test('each card’s BARs reach that card only', () => {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', 16 * GiB);
  const cards = [0, 1].map(
    (index) => new X100Card({ index, memoryBytes: 8 * GiB }, sched, spine, hostRam, { msix() {} }),
  );
  placeBars(cards[0], BAR0, BAR4);
  placeBars(cards[1], BAR0 + 8 * GiB, BAR4 + 0x10_0000);
  for (const c of cards) c.config.write32(CFG.COMMAND, CMD_MEMORY);
  const host = new HostSpace(spine, hostRam, cards);
  const events: BusEvent[] = [];
  spine.observe((e) => events.push(cloneEvent(e)));
  host.write32(BAR0 + 8 * GiB + 0x10, 0x11);
  host.write32(BAR4 + 0x10_0000 + R.SPAD(3), 0x22);
  assert.equal(cards[1].gddr.read32(0x10), 0x11);
  assert.equal(cards[0].gddr.read32(0x10), 0);
  assert.equal(cards[1].reg(R.SPAD(3)), 0x22);
  assert.equal(cards[0].reg(R.SPAD(3)), 0);
  assert.deepEqual(brief(events), [
    ['mem.write', 'mic1.gddr', 0x10, 4, 0x11],
    ['mmio.write', 'mic1.bar4', R.SPAD(3), 4, 0x22],
  ]);
});

test('configuration cycles are cfg.read / cfg.write events on micN.config', () => {
  const p = platform();
  const es = p.during(() => {
    assert.equal(p.host.cfgRead32(p.card, CFG.VENDOR_ID), 0x2250_8086);
    p.host.cfgWrite32(p.card, CFG.COMMAND + 2, 0x6);
  });
  assert.deepEqual(brief(es), [
    ['cfg.read', 'mic0.config', 0, 4, 0x2250_8086],
    ['cfg.write', 'mic0.config', CFG.COMMAND, 4, 0x6],
  ]);
  assert.equal(p.card.config.busMaster, true);
});

// ---- card physical space (§1.4) -------------------------------------------------------------

test('card address 0 … GDDR size is GDDR, as event space mic0.gddr', () => {
  const p = platform();
  const es = p.during(() => {
    p.mic.write64(0x10_0000, 0xc0ff_ee00);
    assert.equal(p.mic.read32(8 * GiB - 4), 0);
  });
  assert.equal(p.card.gddr.read32(0x10_0000), 0xc0ff_ee00);
  assert.deepEqual(brief(es), [
    ['mem.write', 'mic0.gddr', 0x10_0000, 8, 0xc0ff_ee00],
    ['mem.read', 'mic0.gddr', 8 * GiB - 4, 4, 0],
  ]);
  assert.equal(p.mic.name, 'mic0.cpu');
});

test('the card sees its MMIO block at 0x08_007C_0000 and its writes act from the card side', () => {
  const p = platform();
  const es = p.during(() => {
    p.mic.write32(MMIO + R.SPAD(2), 0x0400_0001);
    p.mic.write32(MMIO + R.SDBIC(2), 0x8000_0000);
    p.mic.write32(MMIO + R.APICICR(0), (1 << 13) | 0x30); // card side: stored, not rung
  });
  assert.equal(p.card.reg(R.SPAD(2)), 0x0400_0001);
  assert.equal(p.card.reg(R.SICR0), 1 << 2);
  assert.equal(p.card.reg(R.APICICR(0)), (1 << 13) | 0x30);
  assert.deepEqual(
    es.map((e) => [e.kind, e.space, e.address, e.detail]),
    [
      ['mmio.write', 'mic0.bar4', R.SPAD(2), ''],
      ['mmio.write', 'mic0.bar4', R.SDBIC(2), ''],
      ['doorbell', 'mic0.bar4', R.SDBIC(2), 'c2h 2'],
      ['mmio.write', 'mic0.bar4', R.APICICR(0), ''],
    ],
  );
});

test('card addresses between GDDR and the MMIO block, and past the MMIO block, decode to nothing', () => {
  const p = platform();
  assert.equal(p.mic.read32(8 * GiB), 0xffff_ffff);
  assert.equal(p.mic.read32(MMIO - 4), 0xffff_ffff);
  assert.equal(p.mic.read32(MMIO + MMIO_SIZE), 0xffff_ffff);
  p.mic.write32(0x10_0000_0000, 1);
  assert.deepEqual(
    p.spine.protocolErrors.map((e) => [e.rule, e.where]),
    Array.from({ length: 4 }, () => [13, 'mic0.cpu']),
  );
  assert.match(p.spine.protocolErrors[0].message, /read of MIC address 0x200000000/);
});

test('the SMPT window at 0x80_0000_0000 reaches host RAM through the SMPT registers', () => {
  const p = platform();
  const es = p.during(() => {
    p.mic.write32(WINDOW + 0x2000, 0xc0ff_ee00);
    p.mic.write(WINDOW + 0x1_0000_0000, new Uint8Array([9, 8, 7]));
  });
  assert.equal(p.hostRam.read32(0x2000), 0xc0ff_ee00);
  assert.equal(p.hostRam.read8(0x1_0000_0002), 7);
  assert.deepEqual(brief(es), [
    ['mem.write', 'host', 0x2000, 4, 0xc0ff_ee00],
    ['mem.write', 'host', 0x1_0000_0000, 3, 9],
  ]);
  // Reprogram slot 1 onto host page 0: MIC 0x84_0000_0040 is host 0x40.
  p.card.mmioWrite(R.SMPT(1), smptEntry(0), 'host');
  p.hostRam.write32(0x40, 0x600d_f00d);
  assert.equal(p.mic.read32(WINDOW + 2 ** 34 + 0x40), 0x600d_f00d);
  assert.deepEqual(p.spine.protocolErrors, []);
});

test('an SMPT window address that lands in the PCI hole or beyond host RAM is a protocol error', () => {
  const p = platform();
  assert.equal(p.mic.read32(WINDOW + 0xc000_0000), 0xffff_ffff, 'host PCI hole');
  assert.equal(p.mic.read32(WINDOW + 2 ** 34), 0xffff_ffff, 'slot 1 = host 16 GiB, past 16 GiB of RAM');
  p.mic.write32(WINDOW + 31 * 2 ** 34, 1);
  // Starts in RAM at host 0xBFFF_FFFC but runs into the hole: nothing decodes the whole access.
  assert.equal(p.mic.read64(WINDOW + 0xbfff_fffc) % 2 ** 32, 0xffff_ffff, 'straddles into the hole');
  assert.deepEqual(
    p.spine.protocolErrors.map((e) => e.rule),
    [13, 13, 13, 13],
  );
  assert.equal(p.hostRam.pagesAllocated, 0);
});
