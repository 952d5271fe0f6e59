// The X100 MMIO block (reference §1.3, §2, §3, §4.2, §7.1–7.2, §9 #3): the register table as
// data, and the side effects the card binds to it, driven by BAR4 writes from either side and
// checked on register values, calls into the card CPU, MSI-X deliveries and events.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SparseMemory } from '../../src/emulator/bus/sparseMemory.ts';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { Scheduler } from '../../src/emulator/sim/scheduler.ts';
import { Spine } from '../../src/emulator/sim/spine.ts';
import { CFG } from '../../src/emulator/card/pciConfig.ts';
import {
  MIC_MMIO_CARD_BASE,
  MMIO_SIZE,
  R,
  REGISTERS,
  REGISTER_BY_NAME,
  SBOX,
  SBOX_BASE,
  SICR0_DB,
  SICR0_DMA,
  SICR0_ERR,
  bar4Offset,
  fieldValue,
  reg,
  registerAt,
  type FieldSpec,
  type RegisterSpec,
} from '../../src/emulator/card/sboxRegisters.ts';
import { smptEntry } from '../../src/emulator/card/smpt.ts';
import { X100Card, type CardCpu } from '../../src/emulator/card/x100Card.ts';

const GiB = 2 ** 30;
const SEND = 1 << 13;
const DBREQ = 0x8000_0000;

/** One bare card on a 16 GiB host with a fake card CPU; MSI-X enabled unless asked otherwise. */
function bareCard({ msix = true } = {}) {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', 16 * GiB);
  const msixLog: number[] = [];
  const card = new X100Card({ index: 0, memoryBytes: 8 * GiB }, sched, spine, hostRam, {
    msix: (c, v) => {
      assert.equal(c, card);
      msixLog.push(v);
    },
  });
  const events: BusEvent[] = [];
  spine.observe((e) => events.push(cloneEvent(e)));
  const cpuLog: string[] = [];
  const doorbells: [db: number, vector: number][] = [];
  const cpu: CardCpu = {
    onDoorbell: (db, vector) => doorbells.push([db, vector]),
    onDmaInterrupt: (ch) => cpuLog.push(`dma ${ch}`),
    onReset: () => cpuLog.push(`reset @${sched.now}`),
    onPowerGood: () => cpuLog.push(`power-good @${sched.now}`),
  };
  card.cpu = cpu;
  if (msix) enableMsix(card);
  const host = (off: number, v: number) => card.mmioWrite(off, v, 'host');
  const fromCard = (off: number, v: number) => card.mmioWrite(off, v, 'card');
  const read = (off: number) => card.mmioRead(off, 'host');
  const run = () => {
    while (sched.step()) {
      /* run to idle */
    }
  };
  const ofKind = (kind: string) => events.filter((e) => e.kind === kind);
  return {
    sched,
    spine,
    hostRam,
    card,
    events,
    msixLog,
    cpuLog,
    doorbells,
    host,
    fromCard,
    read,
    run,
    ofKind,
  };
}

function enableMsix(card: X100Card): void {
  card.config.write32(CFG.CAP_MSIX, (card.config.read32(CFG.CAP_MSIX) | 0x8000_0000) >>> 0);
  card.flushMsix();
}

function field(spec: RegisterSpec, name: string): FieldSpec {
  const f = spec.fields?.find((x) => x.name === name);
  assert.ok(f, `field ${name}`);
  return f;
}

// ---- the table (§1.3, §7.2) -----------------------------------------------------------------

/** The reference's BAR4 offsets, written out independently of the source table. */
function referenceTable(): [string, number][] {
  const t: [string, number][] = [['POST_CODE', 0x242c]];
  for (let i = 0; i < 32; i++) t.push([`SMPT${i}`, 0x13100 + 4 * i]);
  t.push(['RGCR', 0x14010], ['SICR0', 0x19004], ['SICE0', 0x1900c], ['SICC0', 0x19010], ['SIAC0', 0x19014]);
  for (let v = 0; v < 16; v++) t.push([`MXAR${v}`, 0x19044 + 4 * v]);
  t.push(['MSIXPBACR', 0x19084]);
  const dma: [string, number][] = [
    ['DCAR', 0x00],
    ['DHPR', 0x04],
    ['DTPR', 0x08],
    ['DAUX_LO', 0x0c],
    ['DAUX_HI', 0x10],
    ['DRAR_LO', 0x14],
    ['DRAR_HI', 0x18],
    ['DITR', 0x1c],
    ['DSTAT', 0x20],
    ['DSTATWB_LO', 0x24],
    ['DSTATWB_HI', 0x28],
    ['DCHERR', 0x2c],
    ['DCHERRMSK', 0x30],
  ];
  for (let n = 0; n < 8; n++)
    for (const [name, off] of dma) t.push([`${name}${n}`, 0x1a000 + 0x40 * n + off]);
  t.push(['DCR', 0x1a280]);
  for (let k = 0; k < 8; k++) t.push([`APICICR${k}`, 0x1a9d0 + 8 * k], [`APICICR${k}_HI`, 0x1a9d4 + 8 * k]);
  for (let i = 0; i < 16; i++) t.push([`SPAD${i}`, 0x1ab20 + 4 * i]);
  for (let j = 0; j < 8; j++) t.push([`RDMASR${j}`, 0x1b180 + 4 * j]);
  for (let d = 0; d < 4; d++) t.push([`SDBIC${d}`, 0x1cc90 + 4 * d]);
  return t;
}

test('every register instance sits at the BAR4 offset of the reference table, and registerAt finds it', () => {
  const ref = referenceTable();
  for (const [name, off] of ref) {
    const r = REGISTER_BY_NAME.get(name);
    assert.ok(r, `${name} is in the table`);
    assert.equal(r.bar4, off, `${name} at BAR4+0x${off.toString(16)}`);
    assert.equal(registerAt(off), r, `registerAt(0x${off.toString(16)}) is ${name}`);
  }
  // Nothing more, nothing less, and sorted by offset.
  assert.deepEqual(
    REGISTERS.map((r) => r.name),
    [...ref].sort((a, b) => a[1] - b[1]).map(([n]) => n),
  );
  assert.equal(
    new Set(REGISTERS.map((r) => r.bar4)).size,
    REGISTERS.length,
    'no two registers share a dword',
  );
});

test('the reference rows pin the spot values: APICICR7 0x1AA08 (high 0x1AA0C), SPAD14, DHPR3, POST code 0x242C', () => {
  assert.equal(R.APICICR(7), 0x1aa08);
  assert.equal(R.APICICR_HI(7), 0x1aa0c);
  assert.equal(R.SPAD(14), 0x1ab58);
  assert.equal(R.DHPR(3), 0x1a0c4);
  assert.equal(R.POST_CODE, 0x242c);
  assert.equal(R.DCR, 0x1a280);
  assert.equal(R.RDMASR(1), 0x1b184);
  assert.equal(R.SDBIC(3), 0x1cc9c);
  assert.equal(R.SMPT(31), 0x1317c);
  assert.equal(R.MXAR(15), 0x19080);
  assert.equal(R.MSIXPBACR, 0x19084);
});

test('SBOX offsets are the drivers’ (SBOX+x); BAR4 = SBOX+0x10000; the POST code lives in the DBOX', () => {
  assert.equal(SBOX_BASE, 0x10000);
  assert.equal(MMIO_SIZE, 0x20000);
  assert.equal(MIC_MMIO_CARD_BASE, 0x08_007c_0000);
  assert.equal(SBOX.SICR0.offset, 0x9004);
  assert.equal(SBOX.SDBIC.offset, 0xcc90);
  assert.equal(SBOX.APICICR.offset, 0xa9d0);
  assert.equal(SBOX.POST_CODE.block, 'dbox');
  assert.equal(bar4Offset(SBOX.POST_CODE), 0x242c);
  for (const r of REGISTERS) {
    if (r.spec.block === 'sbox')
      assert.equal(r.bar4, SBOX_BASE + r.spec.offset + r.index * (r.spec.stride ?? 0));
    assert.ok(r.bar4 >= 0 && r.bar4 < MMIO_SIZE && (r.bar4 & 3) === 0, `${r.name} is a dword inside BAR4`);
  }
});

test('instances are named as the drivers name them: SICR0, SPAD14, DHPR3, APICICR7_HI, SMPT31', () => {
  const expect = (name: string, family: string, index: number) => {
    const r = reg(name);
    assert.equal(r.name, name);
    assert.equal(r.family, family);
    assert.equal(r.index, index);
  };
  expect('SICR0', 'SICR0', 0);
  expect('SPAD14', 'SPAD', 14);
  expect('DHPR3', 'DHPR', 3);
  expect('APICICR7', 'APICICR', 7);
  expect('APICICR7_HI', 'APICICR_HI', 7);
  expect('SMPT31', 'SMPT', 31);
  expect('MXAR15', 'MXAR', 15);
  expect('RDMASR7', 'RDMASR', 7);
  // The low/high dword pairs of a DMA channel keep their suffix in place: DRAR_LO3 / DRAR_HI3.
  expect('DRAR_LO3', 'DRAR_LO', 3);
  expect('DRAR_HI3', 'DRAR_HI', 3);
  expect('DAUX_HI0', 'DAUX_HI', 0);
  expect('DSTATWB_HI7', 'DSTATWB_HI', 7);
  expect('POST_CODE', 'POST_CODE', 0);
  // Hardware has SDBIC0..3 only, and 8 DMA channels.
  assert.throws(() => reg('SDBIC4'), /no SBOX register named SDBIC4/);
  assert.throws(() => reg('DHPR8'), /DHPR8/);
});

test('registerAt finds nothing between registers, off a dword boundary, or outside the 128 KiB BAR', () => {
  assert.equal(registerAt(0x19008), undefined, 'gap between SICR0 and SICE0');
  assert.equal(registerAt(0x19005), undefined, 'unaligned');
  assert.equal(registerAt(0x1cca0), undefined, 'SDBIC4 does not exist');
  assert.equal(registerAt(0x1a034), undefined, 'channel block slack after DCHERRMSK');
  assert.equal(registerAt(MMIO_SIZE), undefined);
  assert.equal(registerAt(-4), undefined);
});

// ---- plain storage, w1c, wo, ro -------------------------------------------------------------

test('scratchpads, MXAR and SMPT entries are plain read/write storage from both sides', () => {
  const m = bareCard();
  for (let i = 0; i < 16; i++) m.host(R.SPAD(i), 0x5a00_0000 + i);
  m.fromCard(R.SPAD(2), 0x0400_0001);
  for (let i = 0; i < 16; i++) assert.equal(m.read(R.SPAD(i)), i === 2 ? 0x0400_0001 : 0x5a00_0000 + i);
  for (let v = 0; v < 16; v++) m.host(R.MXAR(v), 1 << v);
  for (let v = 0; v < 16; v++) assert.equal(m.read(R.MXAR(v)), 1 << v);
  m.host(R.SMPT(7), smptEntry(3 * 2 ** 34));
  assert.equal(m.read(R.SMPT(7)), 12);
  assert.equal(m.card.reg(R.SMPT(7)), 12);
  assert.deepEqual(m.msixLog, []);
  assert.deepEqual(m.doorbells, []);
});

test('every plain rw register without a side effect reads back what was written', () => {
  const m = bareCard();
  const plain = REGISTERS.filter((r) => r.spec.access === 'rw' && r.spec.effect === undefined);
  assert.ok(plain.length > 100);
  plain.forEach((r, i) => m.host(r.bar4, (0xa500_0000 | i) >>> 0));
  plain.forEach((r, i) => assert.equal(m.read(r.bar4), (0xa500_0000 | i) >>> 0, r.name));
  assert.deepEqual(m.spine.protocolErrors, []);
});

test('SICR0 is write-1-to-clear: ones clear their cause bits, zeros leave the rest', () => {
  const m = bareCard();
  for (const bit of [SICR0_DB(0), SICR0_DB(2), SICR0_DMA(1), SICR0_ERR]) m.card.raiseHostCause(bit);
  assert.equal(m.read(R.SICR0), (1 | 4 | (1 << 9) | (1 << 30)) >>> 0);
  m.host(R.SICR0, 0);
  assert.equal(m.read(R.SICR0), (1 | 4 | (1 << 9) | (1 << 30)) >>> 0);
  m.host(R.SICR0, 0x5);
  assert.equal(m.read(R.SICR0), ((1 << 9) | (1 << 30)) >>> 0);
  m.host(R.SICR0, 0xffff_ffff);
  assert.equal(m.read(R.SICR0), 0);
  // Nothing was enabled, so nothing was delivered.
  assert.deepEqual(m.msixLog, []);
});

test('SICC0 clears the SICE0 bits written to it and reads 0', () => {
  const m = bareCard();
  m.host(R.SICE0, 0x0000_ff0f);
  assert.equal(m.read(R.SICE0), 0xff0f);
  m.host(R.SICC0, 0x0000_000f);
  assert.equal(m.read(R.SICE0), 0xff00);
  assert.equal(m.read(R.SICC0), 0);
  // The driver's disable: read SICE0, write that value to SICC0.
  m.host(R.SICC0, m.read(R.SICE0));
  assert.equal(m.read(R.SICE0), 0);
  assert.equal(m.read(R.SICC0), 0);
});

test('MSIXPBACR is a write-only command register: a write is accepted, reads return 0', () => {
  const m = bareCard();
  m.host(R.MSIXPBACR, 1);
  assert.equal(m.read(R.MSIXPBACR), 0);
});

test('hardware-owned DTPR and DSTAT ignore writes from the host and from the card', () => {
  const m = bareCard();
  m.card.setReg(R.DTPR(2), 17);
  m.card.setReg(R.DSTAT(2), 0x2000_0011);
  m.host(R.DTPR(2), 0);
  m.fromCard(R.DTPR(2), 99);
  m.host(R.DSTAT(2), 0);
  m.fromCard(R.DSTAT(2), 0xffff_ffff);
  assert.equal(m.read(R.DTPR(2)), 17);
  assert.equal(m.read(R.DSTAT(2)), 0x2000_0011);
});

test('DCHERR is write-1-to-clear', () => {
  const m = bareCard();
  m.card.setReg(R.DCHERR(5), 0b10101);
  m.fromCard(R.DCHERR(5), 0b00101);
  assert.equal(m.read(R.DCHERR(5)), 0b10000);
});

// ---- host interrupts: SICR0 → SICE0 → MXAR → MSI-X (§2.3) ----------------------------------

test('a cause bit raises every MSI-X vector whose MXAR has it: two users of one doorbell both fire', () => {
  const m = bareCard();
  m.host(R.MXAR(0), 1 << 1);
  m.host(R.MXAR(3), 1 << 1);
  m.host(R.MXAR(5), 1 << 2);
  m.host(R.SICE0, 0x0000_ff0f);
  m.fromCard(R.SDBIC(1), DBREQ);
  m.run();
  assert.deepEqual(m.msixLog, [0, 3]);
  const irqs = m.ofKind('irq');
  assert.deepEqual(
    irqs.map((e) => [e.space, e.address, e.value, e.detail]),
    [
      ['mic0.msix', 0, 1 << 1, 'MSI-X vector 0'],
      ['mic0.msix', 3, 1 << 1, 'MSI-X vector 3'],
    ],
  );
  // Without auto-clear the cause stays for the handler to clear.
  assert.equal(m.read(R.SICR0), 1 << 1);
});

test('a vector whose MXAR selects several causes fires once per delivery', () => {
  const m = bareCard();
  m.host(R.MXAR(4), 0x0000_ff00); // all DMA channels on one vector
  m.host(R.SIAC0, 0x0000_ff00);
  m.host(R.SICE0, 0x0000_ff0f);
  m.card.raiseHostCause(SICR0_DMA(2));
  m.run();
  assert.deepEqual(m.msixLog, [4]);
  m.card.raiseHostCause(SICR0_DMA(7));
  m.run();
  assert.deepEqual(m.msixLog, [4, 4]);
  assert.equal(m.read(R.SICR0), 0);
});

test('SIAC0 auto-clears a cause bit on MSI-X delivery; bits without auto-clear stay set', () => {
  const m = bareCard();
  m.host(R.MXAR(0), (1 << 1) | (1 << 2));
  m.host(R.SICE0, 0x0000_ff0f);
  m.host(R.SIAC0, 1 << 1);
  m.fromCard(R.SDBIC(1), DBREQ);
  m.fromCard(R.SDBIC(2), DBREQ);
  m.run();
  assert.deepEqual(m.msixLog, [0, 0]);
  assert.equal(m.read(R.SICR0), 1 << 2, 'bit 1 auto-cleared, bit 2 left for the handler');
  assert.equal(m.read(R.SIAC0), 1 << 1);
});

test('a cause not enabled in SICE0 raises nothing until SICE0 is written', () => {
  const m = bareCard();
  m.host(R.MXAR(2), 1 << SICR0_DMA(0));
  m.card.raiseHostCause(SICR0_DMA(0));
  m.run();
  assert.deepEqual(m.msixLog, []);
  assert.equal(m.read(R.SICR0), 1 << 8, 'the cause is latched');
  m.host(R.SICE0, 0x0000_ff0f);
  m.run();
  assert.deepEqual(m.msixLog, [2]);
});

test('SICC0 disabling a cause stops its vector', () => {
  const m = bareCard();
  m.host(R.MXAR(1), 1 << 30);
  m.host(R.SICE0, (1 << 30) >>> 0);
  m.host(R.SICC0, (1 << 30) >>> 0);
  m.card.raiseError();
  m.run();
  assert.equal(m.read(R.SICR0), (1 << 30) >>> 0);
  assert.deepEqual(m.msixLog, []);
});

test('an enabled cause that no MXAR selects raises no vector and is not auto-cleared', () => {
  const m = bareCard();
  m.host(R.SICE0, 0x0000_ff0f);
  m.host(R.SIAC0, 0x0000_ff0f);
  m.fromCard(R.SDBIC(3), DBREQ);
  m.run();
  assert.deepEqual(m.msixLog, []);
  assert.equal(m.read(R.SICR0), 1 << 3);
});

test('MSI-X delivery needs MSI-X enabled in config space; enabling it delivers what was held', () => {
  const m = bareCard({ msix: false });
  assert.equal(m.card.config.msixEnabled, false);
  m.host(R.MXAR(6), 1 << 0);
  m.host(R.SICE0, 0x0000_ff0f);
  m.fromCard(R.SDBIC(0), DBREQ);
  m.run();
  assert.deepEqual(m.msixLog, []);
  enableMsix(m.card);
  assert.equal(m.card.config.msixEnabled, true);
  m.run();
  assert.deepEqual(m.msixLog, [6]);
  // Held vectors are delivered once.
  m.card.flushMsix();
  assert.deepEqual(m.msixLog, [6]);
});

// ---- host → card doorbells (§2.1) -----------------------------------------------------------

test('host rings card doorbell k through APICICR k with the vector in bits 7:0; the send bit self-clears', () => {
  const m = bareCard();
  for (let k = 0; k < 8; k++) m.host(R.APICICR(k), SEND | (0x40 + k));
  for (let k = 0; k < 8; k++) assert.equal(m.read(R.APICICR(k)), 0x40 + k, `APICICR${k} send bit cleared`);
  const rung = m.ofKind('doorbell');
  assert.deepEqual(
    rung.map((e) => [e.space, e.address, e.value, e.detail]),
    Array.from({ length: 8 }, (_, k) => ['mic0.bar4', 0x1a9d0 + 8 * k, k, `h2c ${k}`]),
  );
  assert.deepEqual(m.doorbells, [], 'APIC delivery is posted: nothing before the scheduler runs');
  m.run();
  assert.deepEqual(
    m.doorbells,
    Array.from({ length: 8 }, (_, k) => [k, 0x40 + k]),
  );
  assert.deepEqual(
    m.ofKind('irq').map((e) => [e.space, e.address, e.value, e.detail]),
    Array.from({ length: 8 }, (_, k) => ['mic0.apic', k, 0x40 + k, `card irq ${26 + k} (doorbell ${k})`]),
  );
});

test('APICICR written without the send bit stores the vector and rings nothing', () => {
  const m = bareCard();
  m.host(R.APICICR(3), 0xe5);
  m.run();
  assert.equal(m.read(R.APICICR(3)), 0xe5);
  assert.deepEqual(m.ofKind('doorbell'), []);
  assert.deepEqual(m.doorbells, []);
});

test('a card write to APICICR, even with bit 13, rings no doorbell', () => {
  const m = bareCard();
  m.fromCard(R.APICICR(2), SEND | 0x31);
  m.run();
  assert.equal(m.read(R.APICICR(2)), SEND | 0x31, 'stored as written');
  assert.deepEqual(m.ofKind('doorbell'), []);
  assert.deepEqual(m.doorbells, []);
});

test('bootstrap kick: APICICR7 high takes the BSP APIC ID, then 0x20E5 rings doorbell 7 with vector 229', () => {
  const m = bareCard();
  m.host(R.APICICR_HI(7), 0x1f);
  m.host(R.APICICR(7), 229 | SEND);
  m.run();
  assert.deepEqual(m.doorbells, [[7, 229]]);
  assert.equal(m.read(0x1aa0c), 0x1f);
  assert.equal(m.read(0x1aa08), 229);
});

test('host rings h2c doorbell 9 through RDMASR1', () => {
  const m = bareCard();
  m.host(R.RDMASR(1), 0);
  const [db] = m.ofKind('doorbell');
  assert.deepEqual(
    [db.space, db.address, db.size, db.value, db.detail],
    ['mic0.bar4', 0x1b184, 4, 9, 'h2c 9'],
  );
  m.run();
  assert.deepEqual(m.doorbells, [[9, 0]]);
  const [irq] = m.ofKind('irq');
  assert.equal(irq.detail, 'card irq 18 (doorbell 9)');
});

test('host writes to RDMASR0..7 ring card doorbells 8..15 (card IRQs 17..24)', () => {
  const m = bareCard();
  for (let j = 0; j < 8; j++) m.host(R.RDMASR(j), 0);
  m.run();
  assert.deepEqual(
    m.doorbells,
    Array.from({ length: 8 }, (_, j) => [8 + j, 0]),
  );
  assert.deepEqual(
    m.ofKind('doorbell').map((e) => e.detail),
    Array.from({ length: 8 }, (_, j) => `h2c ${8 + j}`),
  );
  assert.deepEqual(
    m.ofKind('irq').map((e) => e.detail),
    Array.from({ length: 8 }, (_, j) => `card irq ${17 + j} (doorbell ${8 + j})`),
  );
});

test('a card write to RDMASR rings nothing', () => {
  const m = bareCard();
  m.fromCard(R.RDMASR(0), 0);
  m.run();
  assert.deepEqual(m.ofKind('doorbell'), []);
  assert.deepEqual(m.doorbells, []);
});

// ---- card → host doorbells (§2.2, §9 #3) ----------------------------------------------------

test('card rings c2h doorbell d by writing bit 31 to SDBIC d: SICR0 bit d is set and DBREQ self-clears', () => {
  const m = bareCard();
  for (let d = 0; d < 4; d++) {
    m.fromCard(R.SDBIC(d), DBREQ);
    assert.equal(m.read(R.SICR0), (2 << d) - 1, `SICR0 after SDBIC${d}`);
    assert.equal(m.read(R.SDBIC(d)), 0);
  }
  assert.deepEqual(
    m.ofKind('doorbell').map((e) => [e.space, e.address, e.value, e.detail]),
    Array.from({ length: 4 }, (_, d) => ['mic0.bar4', 0x1cc90 + 4 * d, d, `c2h ${d}`]),
  );
});

test('SDBIC written without DBREQ raises no host cause; DBREQ rings whoever writes it', () => {
  const m = bareCard();
  m.fromCard(R.SDBIC(0), 1);
  assert.equal(m.read(R.SICR0), 0);
  assert.deepEqual(m.ofKind('doorbell'), []);
  // The register does not know who wrote it: a host or debugger write of DBREQ through BAR4
  // rings the card→host doorbell too (the emulator's documented choice).
  m.host(R.SDBIC(1), DBREQ);
  assert.equal(m.read(R.SICR0), 1 << 1);
  assert.deepEqual(
    m.ofKind('doorbell').map((e) => e.detail),
    ['c2h 1'],
  );
});

test('card write to SDBIC4..8 is protocol error rule 3 and sets no cause bit', () => {
  const m = bareCard();
  m.host(R.MXAR(0), 0xffff_ffff);
  m.host(R.SICE0, 0xffff_ffff);
  for (let d = 4; d <= 8; d++) m.fromCard(0x1cc90 + 4 * d, DBREQ);
  m.run();
  assert.equal(m.read(R.SICR0), 0);
  assert.deepEqual(m.msixLog, []);
  assert.deepEqual(m.ofKind('doorbell'), []);
  assert.deepEqual(
    m.spine.protocolErrors.map((e) => [e.rule, e.where]),
    Array.from({ length: 5 }, () => [3, 'mic0']),
  );
  assert.match(m.spine.protocolErrors[0].message, /SDBIC4 .*only card→host doorbells 0–3/);
  assert.match(m.spine.protocolErrors[4].message, /SDBIC8 \(BAR4\+0x1ccb0\)/);
  assert.deepEqual(
    m.ofKind('protocol').map((e) => e.value),
    [3, 3, 3, 3, 3],
  );
  // SDBIC9 is beyond what even the driver accepts: plain storage, no rule-3 report.
  m.fromCard(0x1cc90 + 4 * 9, DBREQ);
  assert.equal(m.spine.protocolErrors.length, 5);
});

// ---- reset (§4.2) ---------------------------------------------------------------------------

test('RGCR bit 0 resets the card: CPU stops, registers return to reset values, SMPT identity, GDDR kept, power-good after 1 ms', () => {
  const m = bareCard();
  const image = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  m.card.gddr.write(0x400_0000, image);
  m.host(R.SPAD(2), 0x0400_0001);
  m.host(R.SPAD(14), 0x1234_5000);
  m.host(R.SPAD(15), 0x80);
  m.host(R.MXAR(0), 0xf);
  m.host(R.SICE0, 0xff0f);
  m.host(R.SIAC0, 0xff0f);
  m.host(R.SMPT(1), smptEntry(40 * GiB));
  m.host(R.DCR, 0xff);
  m.host(R.APICICR_HI(7), 3);
  m.fromCard(R.POST_CODE, 0x3130);
  m.card.setReg(R.SICR0, 0x4000_0001);
  m.events.length = 0;

  m.host(R.RGCR, m.read(R.RGCR) | 1);
  assert.deepEqual(m.cpuLog, ['reset @0']);
  assert.equal(m.card.inReset, true);
  const [st] = m.ofKind('state');
  assert.deepEqual([st.space, st.address, st.detail], ['mic0', R.RGCR, 'hardware reset']);

  assert.equal(m.read(R.RGCR), 0, 'the reset bit self-clears');
  assert.equal(m.read(R.SPAD(2)), 0x0400_0001, 'SPAD2 kept as the host left it');
  assert.equal(m.read(R.SPAD(14)), 0);
  assert.equal(m.read(R.SPAD(15)), 0);
  assert.equal(m.read(R.MXAR(0)), 0);
  assert.equal(m.read(R.SICE0), 0);
  assert.equal(m.read(R.SIAC0), 0);
  assert.equal(m.read(R.SICR0), 0);
  assert.equal(m.read(R.DCR), 0x55);
  assert.equal(m.read(R.APICICR_HI(7)), 0);
  assert.equal(m.read(R.POST_CODE), 0);
  for (let i = 0; i < 32; i++) assert.equal(m.read(R.SMPT(i)), i << 2, `SMPT${i} identity`);
  for (const r of REGISTERS) {
    if (r.name === 'SPAD2' || r.family === 'SMPT') continue;
    assert.equal(m.read(r.bar4), r.name === 'DCR' ? 0x55 : (r.spec.reset ?? 0), `${r.name} after reset`);
  }
  const kept = new Uint8Array(image.length);
  m.card.gddr.read(0x400_0000, kept);
  assert.deepEqual(kept, image, 'GDDR keeps its contents across the reset');

  m.run();
  assert.deepEqual(m.cpuLog, ['reset @0', 'power-good @1000000']);
  assert.equal(m.sched.now, 1_000_000);
  assert.equal(m.card.inReset, false);
});

test('RGCR written without bit 0 does not reset', () => {
  const m = bareCard();
  m.host(R.SPAD(14), 7);
  m.host(R.RGCR, 2);
  m.run();
  assert.deepEqual(m.cpuLog, []);
  assert.equal(m.read(R.SPAD(14)), 7);
  assert.equal(m.read(R.RGCR), 2);
});

test('host doorbells rung while the card is in reset reach no card CPU', () => {
  const m = bareCard();
  m.host(R.RGCR, 1);
  m.host(R.RDMASR(0), 0);
  m.host(R.APICICR(1), SEND | 0x21);
  assert.deepEqual(
    m.ofKind('doorbell').map((e) => e.detail),
    ['h2c 8', 'h2c 1'],
    'the doorbell write is still a bus event',
  );
  m.run();
  assert.deepEqual(m.doorbells, []);
  // After power-good the card listens again.
  m.host(R.RDMASR(0), 0);
  m.run();
  assert.deepEqual(m.doorbells, [[8, 0]]);
});

test('a reset that never completes never reports power-good', () => {
  const m = bareCard();
  m.card.resetNeverCompletes = true;
  m.host(R.RGCR, 1);
  m.run();
  assert.deepEqual(m.cpuLog, ['reset @0']);
  assert.equal(m.sched.now, 1_000_000);
});

// ---- POST code and field decoding (§1.3) ----------------------------------------------------

test('the POST code holds two ASCII characters: bits 7:0 first, bits 15:8 second', () => {
  const m = bareCard();
  m.fromCard(R.POST_CODE, 'E'.charCodeAt(0) | ('1'.charCodeAt(0) << 8));
  const v = m.read(R.POST_CODE);
  assert.equal(v, 0x3145);
  const s = String.fromCharCode(
    fieldValue(field(SBOX.POST_CODE, 'char0'), v),
    fieldValue(field(SBOX.POST_CODE, 'char1'), v),
  );
  assert.equal(s, 'E1');
});

test('fieldValue decodes DRAR_HI: sysmem bit 26, SMPT index 25:21, size 20:4, address bits 3:0', () => {
  const v = ((1 << 26) | (5 << 21) | (131068 << 4) | 2) >>> 0;
  assert.equal(fieldValue(field(SBOX.DRAR_HI, 'sysmem'), v), 1);
  assert.equal(fieldValue(field(SBOX.DRAR_HI, 'smpt'), v), 5);
  assert.equal(fieldValue(field(SBOX.DRAR_HI, 'size'), v), 131068);
  assert.equal(fieldValue(field(SBOX.DRAR_HI, 'addr_hi'), v), 2);
});

test('fieldValue decodes DSTAT completions 16:0, status 31:28 and the busy bit 29', () => {
  const v = 0xa001_2345;
  assert.equal(fieldValue(field(SBOX.DSTAT, 'completions'), v), 0x1_2345);
  assert.equal(fieldValue(field(SBOX.DSTAT, 'status'), v), 0xa);
  assert.equal(fieldValue(field(SBOX.DSTAT, 'busy'), v), 1);
  assert.equal(fieldValue(field(SBOX.DSTAT, 'busy'), 0x9000_0000), 0);
});

test('fieldValue decodes SICR0, SMPT, APICICR, SDBIC and DCAR fields', () => {
  const sicr = ((1 << 30) | (0xa5 << 8) | 0x9) >>> 0;
  assert.equal(fieldValue(field(SBOX.SICR0, 'DBR'), sicr), 0x9);
  assert.equal(fieldValue(field(SBOX.SICR0, 'DMA'), sicr), 0xa5);
  assert.equal(fieldValue(field(SBOX.SICR0, 'ERR'), sicr), 1);
  const smpt = smptEntry(0xffff_0000_0000_0000, 1);
  assert.equal(fieldValue(field(SBOX.SMPT, 'no_snoop'), smpt), 1);
  assert.equal(fieldValue(field(SBOX.SMPT, 'base'), smpt), 0xffff_0000_0000_0000 / 2 ** 34);
  assert.equal(fieldValue(field(SBOX.APICICR, 'vector'), 0x20e5), 229);
  assert.equal(fieldValue(field(SBOX.APICICR, 'send'), 0x20e5), 1);
  assert.equal(fieldValue(field(SBOX.SDBIC, 'DBREQ'), DBREQ), 1);
  assert.equal(fieldValue(field(SBOX.DCAR, 'msix_mask'), 1 << 25), 1);
  assert.equal(fieldValue(field(SBOX.DCAR, 'apic_mask'), 1 << 25), 0);
  assert.equal(fieldValue(field(SBOX.RGCR, 'reset'), 1), 1);
});

test('fieldValue of a 32-bit wide field is the whole unsigned value', () => {
  assert.equal(fieldValue({ name: 'all', hi: 31, lo: 0, doc: '' }, 0xffff_ffff), 0xffff_ffff);
  assert.equal(fieldValue({ name: 'top', hi: 31, lo: 1, doc: '' }, 0xffff_ffff), 0x7fff_ffff);
});

test('every declared field lies within its 32-bit register', () => {
  for (const [name, spec] of Object.entries(SBOX) as [string, RegisterSpec][]) {
    for (const f of spec.fields ?? []) {
      assert.ok(f.lo >= 0 && f.hi <= 31 && f.hi >= f.lo, `${name}.${f.name}`);
    }
  }
});
