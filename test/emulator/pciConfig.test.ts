// PCI configuration space of an X100 function (reference §1.1–1.2) and the host's enumeration
// that sizes the BARs by writing all-ones and places them, checked on config dwords and events.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SparseMemory } from '../../src/emulator/mem/sparseMemory.ts';
import { HostSpace } from '../../src/emulator/bus/hostSpace.ts';
import { cloneEvent, framePath, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { Scheduler } from '../../src/emulator/sim/scheduler.ts';
import { Spine } from '../../src/emulator/sim/spine.ts';
import {
  CFG,
  CMD_BUS_MASTER,
  CMD_MEMORY,
  PCI_VENDOR_INTEL,
  PciConfig,
  STEPPINGS,
  X100_DEVICE_IDS,
  steppingName,
} from '../../src/emulator/card/pciConfig.ts';
import { MMIO_SIZE } from '../../src/emulator/card/sboxRegisters.ts';
import { X100Card } from '../../src/emulator/card/x100Card.ts';
import {
  BAR0_WINDOW_BASE,
  BAR4_WINDOW_BASE,
  enumerate,
} from '../../src/emulator/hostSoftware/pciEnumeration.ts';

const GiB = 2 ** 30;

/** Config space of an 8 GiB C0 card, as X100Card builds it. */
function x100Config(bar0Size = 8 * GiB, revision = 0x20, deviceId = 0x2250): PciConfig {
  return new PciConfig(deviceId, revision, bar0Size, MMIO_SIZE);
}

/** Size a 64-bit BAR the way firmware does: all-ones to both dwords, read back, invert. */
function sizeBar(cfg: PciConfig, reg: number): { lo: number; hi: number; size: number } {
  cfg.write32(reg, 0xffff_ffff);
  cfg.write32(reg + 4, 0xffff_ffff);
  const lo = cfg.read32(reg);
  const hi = cfg.read32(reg + 4);
  const size = (~hi >>> 0) * 2 ** 32 + (~(lo & 0xffff_fff0) >>> 0) + 1;
  return { lo, hi, size };
}

/** Host with `sizes.length` cards (GDDR bytes each), a HostSpace and an event log. */
function hostWithCards(sizes: number[]) {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', 16 * GiB);
  const cards = sizes.map(
    (memoryBytes, index) => new X100Card({ index, memoryBytes }, sched, spine, hostRam, { msix() {} }),
  );
  const io = new HostSpace(spine, hostRam, cards);
  const events: BusEvent[] = [];
  spine.observe((e) => events.push(cloneEvent(e)));
  const errors: unknown[] = [];
  sched.onTaskError = (_t, err) => errors.push(err);
  const run = () => {
    while (sched.step()) {
      /* run to idle */
    }
  };
  return { sched, spine, hostRam, cards, io, events, errors, run };
}

// ---- identity (§1.1) ------------------------------------------------------------------------

test('dword 0 holds vendor 0x8086 and device 0x2250; the family is device IDs 0x2250–0x225E', () => {
  const cfg = x100Config();
  assert.equal(cfg.read32(CFG.VENDOR_ID), 0x2250_8086);
  assert.equal(PCI_VENDOR_INTEL, 0x8086);
  assert.equal(X100_DEVICE_IDS.length, 15);
  assert.equal(X100_DEVICE_IDS[0], 0x2250);
  assert.equal(X100_DEVICE_IDS[14], 0x225e);
  assert.equal(x100Config(8 * GiB, 0x20, 0x225e).read32(0), 0x225e_8086);
});

test('the revision ID gives the stepping: 0x00 A0, 0x10 B0, 0x11 B1, 0x20 C0, anything else ??', () => {
  assert.equal(steppingName(0x00), 'A0');
  assert.equal(steppingName(0x10), 'B0');
  assert.equal(steppingName(0x11), 'B1');
  assert.equal(steppingName(0x20), 'C0');
  for (const rev of [0x01, 0x12, 0x21, 0x30, 0xff])
    assert.equal(steppingName(rev), '??', `rev 0x${rev.toString(16)}`);
  assert.deepEqual(Object.keys(STEPPINGS).map(Number).sort(), [0x00, 0x10, 0x11, 0x20]);
  for (const rev of [0x00, 0x10, 0x11, 0x20])
    assert.equal(x100Config(8 * GiB, rev).read32(CFG.REVISION_ID) & 0xff, rev);
});

test('an X100Card defaults to device 0x2250, revision 0x20 (C0) and a power-of-two BAR0 over its GDDR', () => {
  const h = hostWithCards([8 * GiB, 6 * GiB]);
  const [a, b] = h.cards;
  assert.equal(a.config.read32(0), 0x2250_8086);
  assert.equal(a.config.read32(CFG.REVISION_ID) & 0xff, 0x20);
  assert.equal(a.config.bar0Size, 8 * GiB);
  assert.equal(a.config.bar4Size, 0x20000);
  assert.equal(b.config.bar0Size, 8 * GiB, '6 GiB of GDDR behind an 8 GiB BAR');
});

test('class code is 0x0b4000: processor, co-processor, prog-if 0', () => {
  const cfg = x100Config();
  assert.equal(cfg.read32(CFG.REVISION_ID) >>> 8, 0x0b4000);
  assert.equal(cfg.read32(CFG.REVISION_ID), 0x0b40_0020);
});

test('header type 0 with a capability list: PCI Express at 0x40, then MSI-X at 0x80 with 16 vectors', () => {
  const cfg = x100Config();
  assert.equal((cfg.read32(0x0c) >>> 16) & 0xff, 0x00);
  assert.equal((cfg.read32(CFG.COMMAND) >>> 16) & 0x10, 0x10, 'status: capabilities list');
  const caps: [number, number][] = [];
  for (let p = cfg.read32(CFG.CAP_PTR) & 0xff; p !== 0; p = (cfg.read32(p) >>> 8) & 0xff) {
    caps.push([p, cfg.read32(p) & 0xff]);
  }
  assert.deepEqual(caps, [
    [0x40, 0x10],
    [0x80, 0x11],
  ]);
  assert.equal(((cfg.read32(CFG.CAP_MSIX) >>> 16) & 0x7ff) + 1, 16);
  assert.equal((cfg.read32(0x3c) >>> 8) & 0xff, 1, 'interrupt pin INTA#');
  assert.equal(cfg.read32(CFG.SUBSYS_VENDOR) & 0xffff, 0x8086);
});

// ---- BARs (§1.2) ----------------------------------------------------------------------------

test('BAR0 is a 64-bit prefetchable memory BAR; all-ones sizing of an 8 GiB card reads back the 8 GiB mask', () => {
  const cfg = x100Config();
  assert.equal(cfg.read32(CFG.BAR0) & 0xf, 0xc, 'memory, 64-bit (type 2), prefetchable');
  const { lo, hi, size } = sizeBar(cfg, CFG.BAR0);
  assert.equal(lo, 0x0000_000c);
  assert.equal(hi, 0xffff_fffe);
  assert.equal(size, 8 * GiB);
});

test('BAR0 sizing follows the GDDR: 4 GiB, 16 GiB and 256 MiB apertures', () => {
  assert.deepEqual(sizeBar(x100Config(4 * GiB), CFG.BAR0), {
    lo: 0x0000_000c,
    hi: 0xffff_ffff,
    size: 4 * GiB,
  });
  assert.deepEqual(sizeBar(x100Config(16 * GiB), CFG.BAR0), {
    lo: 0x0000_000c,
    hi: 0xffff_fffc,
    size: 16 * GiB,
  });
  assert.deepEqual(sizeBar(x100Config(256 * 2 ** 20), CFG.BAR0), {
    lo: 0xf000_000c,
    hi: 0xffff_ffff,
    size: 256 * 2 ** 20,
  });
});

test('BAR4 is a 64-bit non-prefetchable BAR of 128 KiB', () => {
  const cfg = x100Config();
  assert.equal(cfg.read32(CFG.BAR4) & 0xf, 0x4, 'memory, 64-bit, not prefetchable');
  const { lo, hi, size } = sizeBar(cfg, CFG.BAR4);
  assert.equal(lo, 0xfffe_0004);
  assert.equal(hi, 0xffff_ffff);
  assert.equal(size, 0x20000);
});

test('barAddress joins the two dwords of a 64-bit BAR and drops the type bits', () => {
  const cfg = x100Config();
  cfg.write32(CFG.BAR0, 0x0000_0000);
  cfg.write32(CFG.BAR1, 0x380);
  cfg.write32(CFG.BAR4, 0xde00_0000);
  cfg.write32(CFG.BAR5, 0);
  assert.equal(cfg.barAddress(0), 0x380_0000_0000);
  assert.equal(cfg.barAddress(4), 0xde00_0000);
  assert.equal(cfg.read32(CFG.BAR0), 0x0000_000c, 'type bits stay');
  assert.equal(cfg.read32(CFG.BAR4), 0xde00_0004);
  // Address bits below the BAR size are read-only zero: the BAR stays naturally aligned.
  cfg.write32(CFG.BAR4, 0xde01_2340);
  assert.equal(cfg.barAddress(4), 0xde00_0000);
  cfg.write32(CFG.BAR0, 0x1234_5670);
  cfg.write32(CFG.BAR1, 0x381);
  assert.equal(cfg.barAddress(0), 0x380_0000_0000);
});

test('read-only bits stay: IDs, class, status, header, capability pointers and unused BARs', () => {
  const cfg = x100Config();
  const before = Array.from({ length: 64 }, (_, i) => cfg.read32(i * 4));
  for (const off of [0x00, 0x08, 0x0c, 0x18, 0x1c, 0x28, 0x2c, 0x34, 0x40, 0x84, 0x88]) {
    cfg.write32(off, 0xffff_ffff);
    assert.equal(cfg.read32(off), before[off / 4], `dword 0x${off.toString(16)}`);
    cfg.write32(off, 0);
    assert.equal(cfg.read32(off), before[off / 4], `dword 0x${off.toString(16)}`);
  }
  cfg.write32(CFG.COMMAND, 0xffff_ffff);
  assert.equal(cfg.read32(CFG.COMMAND) >>> 16, 0x0010, 'status is read-only');
  cfg.write32(0x3c, 0xffff_ffff);
  assert.equal(cfg.read32(0x3c), 0x0000_01ff, 'interrupt line writable, pin not');
});

test('command register: bit 1 enables memory decoding, bit 2 bus mastering; only defined bits stick', () => {
  const cfg = x100Config();
  assert.equal(cfg.memoryEnabled, false);
  assert.equal(cfg.busMaster, false);
  cfg.write32(CFG.COMMAND, CMD_MEMORY);
  assert.equal(cfg.memoryEnabled, true);
  assert.equal(cfg.busMaster, false);
  cfg.write32(CFG.COMMAND, CMD_MEMORY | CMD_BUS_MASTER);
  assert.equal(cfg.memoryEnabled, true);
  assert.equal(cfg.busMaster, true);
  cfg.write32(CFG.COMMAND, CMD_BUS_MASTER);
  assert.equal(cfg.memoryEnabled, false);
  assert.equal(cfg.busMaster, true);
  cfg.write32(CFG.COMMAND, 0xffff_ffff);
  assert.equal(cfg.read32(CFG.COMMAND), 0x0010_0547);
});

test('MSI-X enable is message-control bit 15 (bit 31 of the dword at 0x80); function mask is bit 30', () => {
  const cfg = x100Config();
  const before = cfg.read32(CFG.CAP_MSIX);
  assert.equal(cfg.msixEnabled, false);
  cfg.write32(CFG.CAP_MSIX, (before | 0x8000_0000) >>> 0);
  assert.equal(cfg.msixEnabled, true);
  cfg.write32(CFG.CAP_MSIX, 0xffff_ffff);
  assert.equal(
    cfg.read32(CFG.CAP_MSIX),
    (before | 0xc000_0000) >>> 0,
    'cap ID, next pointer and table size stay',
  );
  cfg.write32(CFG.CAP_MSIX, before);
  assert.equal(cfg.msixEnabled, false);
});

test('reset forgets programmed BARs, the command register and MSI-X enable', () => {
  const cfg = x100Config();
  cfg.write32(CFG.BAR1, 0x380);
  cfg.write32(CFG.BAR4, 0xde00_0000);
  cfg.write32(CFG.COMMAND, CMD_MEMORY | CMD_BUS_MASTER);
  cfg.write32(CFG.CAP_MSIX, 0x8000_0000);
  cfg.reset();
  assert.equal(cfg.barAddress(0), 0);
  assert.equal(cfg.barAddress(4), 0);
  assert.equal(cfg.memoryEnabled, false);
  assert.equal(cfg.msixEnabled, false);
  assert.equal(cfg.read32(0), 0x2250_8086);
});

// ---- enumeration ----------------------------------------------------------------------------

test('enumerate places 3 cards: BAR0 naturally aligned from 0x380_0000_0000, BAR4 in the 32-bit hole from 0xDE00_0000', () => {
  const h = hostWithCards([8 * GiB, 8 * GiB, 8 * GiB]);
  h.sched.spawn('t', 'host.driver', enumerate(h.sched, h.io, h.cards));
  h.run();
  assert.deepEqual(h.errors, []);
  assert.equal(BAR0_WINDOW_BASE, 0x380_0000_0000);
  assert.equal(BAR4_WINDOW_BASE, 0xde00_0000);
  assert.deepEqual(
    h.cards.map((c) => c.config.barAddress(0)),
    [0x380_0000_0000, 0x382_0000_0000, 0x384_0000_0000],
  );
  assert.deepEqual(
    h.cards.map((c) => c.config.barAddress(4)),
    [0xde00_0000, 0xde10_0000, 0xde20_0000],
  );
  for (const c of h.cards) {
    assert.equal(c.config.barAddress(0) % c.config.bar0Size, 0, `${c.name} BAR0 naturally aligned`);
    assert.equal(c.config.barAddress(4) % MMIO_SIZE, 0, `${c.name} BAR4 naturally aligned`);
    assert.ok(c.config.barAddress(4) >= 0xc000_0000 && c.config.barAddress(4) + MMIO_SIZE <= 2 ** 32);
    // Enumeration places BARs; enabling decoding is the driver's job (pci_enable_device).
    assert.equal(c.config.memoryEnabled, false);
  }
  // BAR windows of different cards never overlap.
  const spans = h.cards
    .flatMap((c) => [
      [c.config.barAddress(0), c.config.bar0Size],
      [c.config.barAddress(4), MMIO_SIZE],
    ])
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1][0] + spans[i - 1][1] <= spans[i][0]);
});

test('enumerate aligns each BAR0 to its own size when cards differ', () => {
  const h = hostWithCards([4 * GiB, 16 * GiB, 8 * GiB]);
  h.sched.spawn('t', 'host.driver', enumerate(h.sched, h.io, h.cards));
  h.run();
  assert.deepEqual(
    h.cards.map((c) => c.config.barAddress(0)),
    [0x380_0000_0000, 0x384_0000_0000, 0x388_0000_0000],
  );
});

test('enumerate reads IDs and sizes BARs through config cycles, each one event under pci_scan_bus', () => {
  const h = hostWithCards([8 * GiB]);
  h.sched.spawn('t', 'host.driver', enumerate(h.sched, h.io, h.cards));
  h.run();
  const cfg = h.events.filter((e) => e.kind === 'cfg.read' || e.kind === 'cfg.write');
  assert.ok(cfg.length > 0);
  assert.equal(cfg.length, h.events.length, 'enumeration makes config cycles only');
  for (const e of cfg) {
    assert.equal(e.space, 'mic0.config');
    assert.equal(e.initiator, 'host.driver');
    assert.equal(framePath(e.frames), 'pci_scan_bus');
    assert.equal(e.size, 4);
  }
  assert.deepEqual([cfg[0].kind, cfg[0].address, cfg[0].value], ['cfg.read', CFG.VENDOR_ID, 0x2250_8086]);
  // Sizing BAR0: all-ones to both dwords, then the read-back mask.
  assert.deepEqual(
    cfg.slice(1, 5).map((e) => [e.kind, e.address, e.value]),
    [
      ['cfg.write', CFG.BAR0, 0xffff_ffff],
      ['cfg.write', CFG.BAR1, 0xffff_ffff],
      ['cfg.read', CFG.BAR0, 0x0000_000c],
      ['cfg.read', CFG.BAR1, 0xffff_fffe],
    ],
  );
});
