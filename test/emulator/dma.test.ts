// X100 DMA engine (reference §7) and its misuse rules (§9 #13, #16–18), driven through BAR4
// register writes as the drivers make them, checked on bytes in memory, registers and events.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SparseMemory } from '../../src/emulator/mem/sparseMemory.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { Scheduler } from '../../src/emulator/sim/scheduler.ts';
import { Spine } from '../../src/emulator/sim/spine.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { smptEntry } from '../../src/emulator/card/smpt.ts';
import { X100Card, type CardCpu } from '../../src/emulator/card/x100Card.ts';
import {
  MAX_XFER_CARD,
  MAX_XFER_HOST,
  MIC_DMA_DESC_RX_SIZE,
  decodeDescriptor,
  describeDescriptor,
  encodeGeneral,
  encodeMemcpy,
  encodeNop,
  encodeStatus,
} from '../../src/emulator/card/dma/descriptors.ts';

const WINDOW = 0x80_0000_0000;
const GiB = 2 ** 30;
const SICR0_ERR = 1 << 30;
const dmaCause = (n: number) => 1 << (8 + n);

/** A card on a 16 GiB host, an event log, and a cause log (raiseHostCause calls, in order). */
function machine() {
  const sched = new Scheduler();
  const spine = new Spine(sched);
  const hostRam = new SparseMemory('host', 16 * GiB);
  const card = new X100Card({ index: 0, memoryBytes: 8 * GiB }, sched, spine, hostRam, { msix() {} });
  const events: BusEvent[] = [];
  spine.observe((e) => events.push({ ...e }));
  const causes: number[] = [];
  const raise = card.raiseHostCause.bind(card);
  card.raiseHostCause = (bit: number) => {
    causes.push(bit);
    raise(bit);
  };
  const cardIrqs: number[] = [];
  card.cpu = {
    onDoorbell() {},
    onDmaInterrupt: (ch: number) => cardIrqs.push(ch),
    onReset() {},
    onPowerGood() {},
  } satisfies CardCpu;
  const w = (off: number, v: number) => card.mmioWrite(off, v, 'host');
  const run = () => {
    while (sched.step()) {
      /* run to idle */
    }
  };
  return { sched, spine, hostRam, card, events, causes, cardIrqs, w, run };
}
type Machine = ReturnType<typeof machine>;

/** Host-owned channel n with its ring in host RAM at `ringHost`, reached through SMPT slot 0. */
function hostChannel(m: Machine, n: number, ringHost: number, size = MIC_DMA_DESC_RX_SIZE, enable = true) {
  m.w(R.DCHERRMSK(n), 0);
  m.w(R.DRAR_LO(n), ringHost % 2 ** 32);
  m.w(R.DRAR_HI(n), ((1 << 26) | (0 << 21) | (size << 4) | (Math.floor(ringHost / 2 ** 32) & 3)) >>> 0);
  if (enable) m.w(R.DCR, m.card.reg(R.DCR) | (1 << (2 * n + 1)));
  return (index: number, desc: Uint8Array) => m.hostRam.write(ringHost + index * 16, desc);
}

/** Card-owned channel n with its ring in GDDR. */
function cardChannel(m: Machine, n: number, ringGddr: number, size = 64) {
  const dcr = m.card.reg(R.DCR) & ~(3 << (2 * n));
  m.w(R.DCR, dcr);
  m.w(R.DRAR_LO(n), ringGddr % 2 ** 32);
  m.w(R.DRAR_HI(n), ((size << 4) | (Math.floor(ringGddr / 2 ** 32) & 0xf)) >>> 0);
  m.w(R.DCR, dcr | (1 << (2 * n + 1)));
  return (index: number, desc: Uint8Array) => m.card.gddr.write(ringGddr + index * 16, desc);
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

function bytes(mem: SparseMemory, addr: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  mem.read(addr, b);
  return b;
}

const tail = (m: Machine, n: number) => m.card.reg(R.DSTAT(n)) & 0x1ffff;
const ofKind = (m: Machine, kind: string) => m.events.filter((e) => e.kind === kind);

// ---- descriptor formats (§7.4) -------------------------------------------------------------

test('MEMCPY descriptor puts the source in qw0 39:0, length/64 in qw0 59:46, destination in qw1 39:0 and type 1 in qw1 63:60', () => {
  const d = decodeDescriptor(encodeMemcpy(0x80_0000_1000, 0x4000, 4096));
  assert.deepEqual(d.raw, [0x1000, (0x80 | (64 << 14)) >>> 0, 0x4000, 0x1000_0000]);
  assert.equal(d.type, 'memcpy');
  assert.equal(d.src, 0x80_0000_1000);
  assert.equal(d.dst, 0x4000);
  assert.equal(d.len, 4096);
  assert.equal(describeDescriptor(d), 'MEMCPY src=0x8000001000 dst=0x4000 len=4096');
  // The 14-bit field holds 1 MiB − 64 at most, the card channel maximum.
  assert.equal(decodeDescriptor(encodeMemcpy(0, 0, MAX_XFER_CARD)).len, MAX_XFER_CARD);
  assert.equal(MAX_XFER_HOST, 512 * 1024);
  assert.equal(MIC_DMA_DESC_RX_SIZE, 131068);
});

test('STATUS descriptor stores 64-bit data in qw0 and asks for the interrupt with qw1 bit 59', () => {
  const d = decodeDescriptor(encodeStatus(0xdead_beef, 0x1234, 0xff_ffff_ffc0, true));
  assert.deepEqual(d.raw, [0xdead_beef, 0x1234, 0xffff_ffc0, (0xff | (2 << 28) | (1 << 27)) >>> 0]);
  assert.equal(d.type, 'status');
  assert.equal(d.dst, 0xff_ffff_ffc0);
  assert.equal(d.intr, true);
  assert.equal(describeDescriptor(d), 'STATUS data=0x1234deadbeef dst=0xffffffffc0 intr');
  const quiet = decodeDescriptor(encodeStatus(0, 0, 0x40, false));
  assert.equal(quiet.intr, false);
  assert.equal(describeDescriptor(quiet), 'STATUS data=0x0 dst=0x40');
});

test('GENERAL, NOP and reserved descriptor types decode by qw1 bits 63:60', () => {
  const g = decodeDescriptor(encodeGeneral(0xcafe, 0x2000));
  assert.equal(g.type, 'general');
  assert.equal(g.dataLo, 0xcafe);
  assert.equal(g.dst, 0x2000);
  assert.equal(decodeDescriptor(encodeNop()).type, 'nop');
  const raw = new Uint8Array(16);
  raw[15] = 0x70; // type 7
  assert.equal(decodeDescriptor(raw).type, 'reserved');
  raw[15] = 0x50;
  assert.equal(decodeDescriptor(raw).type, 'key');
});

// ---- host-owned channel, ring in host RAM through the SMPT (§7.1–7.3) ----------------------

test('reset hands channels 0–3 to the host: DCR = 0x55, every DMA register 0', () => {
  const m = machine();
  assert.equal(m.card.reg(R.DCR), 0x55);
  for (let n = 0; n < 8; n++) {
    assert.equal(m.card.reg(R.DSTAT(n)), 0);
    assert.equal(m.card.reg(R.DCHERR(n)), 0);
    assert.equal(m.card.dma.channelView(n).owner, n < 4 ? 'host' : 'card');
  }
  assert.equal(m.card.dma.channelCount, 8);
});

test('MEMCPY from GDDR to host memory through the SMPT window moves the bytes and advances DSTAT', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x1_0000_0000); // ring at host 4 GiB: DRAR_HI bits 1:0 = 1
  const data = pattern(4096, 3);
  m.card.gddr.write(0x4000, data);
  put(0, encodeMemcpy(0x4000, WINDOW + 0x10_0000, 4096));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.deepEqual(bytes(m.hostRam, 0x10_0000, 4096), data);
  assert.equal(tail(m, 0), 1);
  assert.equal(m.card.reg(R.DTPR(0)), 1);
  // 50 ns per descriptor plus 4096 bytes at 8 GB/s.
  assert.equal(m.sched.now, 50 + 512);
  const rd = ofKind(m, 'mem.read').find((e) => e.initiator === 'mic0.dma0')!;
  const wr = ofKind(m, 'mem.write').find((e) => e.initiator === 'mic0.dma0')!;
  assert.deepEqual([rd.space, rd.address, rd.size], ['mic0.gddr', 0x4000, 4096]);
  assert.deepEqual([wr.space, wr.address, wr.size], ['host', 0x10_0000, 4096]);
  assert.ok(rd.seq < wr.seq);
  const v = m.card.dma.channelView(0);
  assert.equal(v.ringAddress, WINDOW + 0x1_0000_0000);
  assert.equal(v.ringInHostMemory, true);
  assert.equal(v.busy, false);
  assert.deepEqual(m.spine.protocolErrors, []);
});

test('MEMCPY from host memory to GDDR through the SMPT window moves the bytes', () => {
  const m = machine();
  const put = hostChannel(m, 1, 0x20_0000);
  const data = pattern(64 * 1024, 9);
  m.hostRam.write(0x3000_0000, data);
  put(0, encodeMemcpy(WINDOW + 0x3000_0000, 0x1_0000_0000, data.length));
  m.w(R.DHPR(1), 1);
  m.run();
  assert.deepEqual(bytes(m.card.gddr, 0x1_0000_0000, data.length), data);
  assert.equal(tail(m, 1), 1);
  assert.equal(m.card.reg(R.DCHERR(1)), 0);
});

test('STATUS with bit 59 writes its 64-bit data and sets SICR0 bit 8+n on a host-owned channel', () => {
  const m = machine();
  const put = hostChannel(m, 2, 0x20_0000);
  put(0, encodeStatus(0x1122_3344, 0x5566_7788, WINDOW + 0x40_0040, true));
  m.w(R.DHPR(2), 1);
  m.run();
  assert.equal(m.hostRam.read32(0x40_0040), 0x1122_3344);
  assert.equal(m.hostRam.read32(0x40_0044), 0x5566_7788);
  assert.equal(m.card.reg(R.SICR0) & dmaCause(2), dmaCause(2));
  assert.deepEqual(m.causes, [10]);
  assert.equal(m.card.reg(R.DCAR(2)) & (1 << 26), 1 << 26, 'DCAR bit 26 = interrupt status');
});

test('DCAR bit 25 masks the completion interrupt of a host-owned channel', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  m.w(R.DCAR(0), 1 << 25);
  put(0, encodeStatus(7, 0, WINDOW + 0x40_0000, true));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.hostRam.read32(0x40_0000), 7, 'the STATUS write still happens');
  assert.equal(m.card.reg(R.SICR0), 0);
  assert.deepEqual(m.causes, []);
  assert.equal(tail(m, 0), 1);
});

test('two STATUS descriptors, only the second with the interrupt (the driver convention), raise exactly one cause after both', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(0x4000, WINDOW + 0x10_0000, 256));
  put(1, encodeStatus(0, 0, WINDOW + 0x50_0000, false));
  put(2, encodeStatus(0, 0, WINDOW + 0x50_0000, true));
  let sicrAt = -1;
  const seen: number[] = [];
  m.spine.observe((e) => {
    if (e.kind === 'mem.write' && e.initiator === 'mic0.dma0') seen.push(e.seq);
  });
  m.w(R.DHPR(0), 3);
  while (m.sched.step()) {
    if (sicrAt < 0 && m.card.reg(R.SICR0) & dmaCause(0)) sicrAt = seen.length;
  }
  assert.deepEqual(m.causes, [8]);
  assert.equal(sicrAt, 3, 'the cause appears after the third write (second STATUS), not before');
  assert.equal(tail(m, 0), 3);
});

test('DHPR written while the channel runs: the running task picks up the new head', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeGeneral(0xaaaa, WINDOW + 0x60_0000));
  put(1, encodeGeneral(0xbbbb, WINDOW + 0x60_0004));
  m.w(R.DHPR(0), 1);
  m.sched.step(); // the task has fetched descriptor 0
  assert.equal(m.card.dma.channelView(0).busy, true);
  m.w(R.DHPR(0), 2);
  assert.equal(m.sched.tasks.size, 1, 'no second task for the same channel');
  m.run();
  assert.equal(m.hostRam.read32(0x60_0000), 0xaaaa);
  assert.equal(m.hostRam.read32(0x60_0004), 0xbbbb);
  assert.equal(tail(m, 0), 2);
  assert.equal(new Set(ofKind(m, 'dma.desc').map((e) => e.initiator)).size, 1);
});

// ---- events ---------------------------------------------------------------------------------

test('each fetched descriptor is a dma.desc event from mic0.dma0 at its ring slot, with the descriptor text', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(0x4000, WINDOW + 0x10_0000, 4096));
  put(1, encodeStatus(0, 0, WINDOW + 0x50_0000, true));
  m.w(R.DHPR(0), 2);
  m.run();
  const desc = ofKind(m, 'dma.desc');
  assert.equal(desc.length, 2);
  assert.deepEqual(
    desc.map((e) => [e.initiator, e.space, e.address, e.size, e.value, e.detail]),
    [
      ['mic0.dma0', 'host', 0x20_0000, 16, 1, 'MEMCPY src=0x4000 dst=0x8000100000 len=4096'],
      ['mic0.dma0', 'host', 0x20_0010, 16, 2, 'STATUS data=0x0 dst=0x8000500000 intr'],
    ],
  );
  const recent = m.card.dma.channelView(0).recent;
  assert.deepEqual(
    recent.map((r) => [r.index, r.text]),
    desc.map((e, i) => [i, e.detail]),
  );
});

test('the recent-descriptor history keeps the last 16 only', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  for (let i = 0; i < 20; i++) put(i, encodeGeneral(i, WINDOW + 0x60_0000 + 4 * i));
  m.w(R.DHPR(0), 20);
  m.run();
  const recent = m.card.dma.recentDescriptors(0);
  assert.equal(recent.length, 16);
  assert.deepEqual(
    recent.map((r) => r.index),
    Array.from({ length: 16 }, (_, i) => 4 + i),
  );
  assert.equal(recent[15].desc.dataLo, 19);
});

// ---- ring indices ---------------------------------------------------------------------------

test('indices advance modulo the ring size: a ring of 8 wraps from slot 7 to slot 0', () => {
  const m = machine();
  const ring = 0x20_0000;
  const put = hostChannel(m, 0, ring, 8);
  for (let i = 0; i < 6; i++) put(i, encodeNop());
  m.w(R.DHPR(0), 6);
  m.run();
  assert.equal(tail(m, 0), 6);
  [6, 7, 0, 1].forEach((slot, k) => put(slot, encodeGeneral(0x100 + k, WINDOW + 0x70_0000 + 4 * k)));
  const before = ofKind(m, 'dma.desc').length;
  m.w(R.DHPR(0), 2);
  m.run();
  assert.equal(tail(m, 0), 2);
  assert.equal(m.card.reg(R.DTPR(0)), 2);
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => m.hostRam.read32(0x70_0000 + 4 * k)),
    [0x100, 0x101, 0x102, 0x103],
  );
  assert.deepEqual(
    ofKind(m, 'dma.desc')
      .slice(before)
      .map((e) => e.address),
    [ring + 6 * 16, ring + 7 * 16, ring, ring + 16],
  );
});

// ---- enable and disable (DCR) ---------------------------------------------------------------

test('a disabled channel holds its descriptors until DCR enables it', () => {
  const m = machine();
  const put = hostChannel(m, 3, 0x20_0000, MIC_DMA_DESC_RX_SIZE, false);
  put(0, encodeGeneral(0x5a5a, WINDOW + 0x60_0000));
  m.w(R.DHPR(3), 1);
  m.run();
  assert.equal(m.hostRam.read32(0x60_0000), 0);
  assert.equal(tail(m, 3), 0);
  assert.equal(m.card.dma.channelView(3).enabled, false);
  m.w(R.DCR, m.card.reg(R.DCR) | (1 << 7));
  m.run();
  assert.equal(m.hostRam.read32(0x60_0000), 0x5a5a);
  assert.equal(tail(m, 3), 1);
});

test('disabling a running channel stops it after the current descriptor', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  for (let i = 0; i < 3; i++) put(i, encodeGeneral(0x10 + i, WINDOW + 0x60_0000 + 4 * i));
  m.w(R.DHPR(0), 3);
  m.sched.step(); // fetched descriptor 0
  m.w(R.DCR, m.card.reg(R.DCR) & ~(1 << 1));
  m.run();
  assert.equal(tail(m, 0), 1);
  assert.equal(m.hostRam.read32(0x60_0000), 0x10);
  assert.equal(m.hostRam.read32(0x60_0004), 0);
  m.w(R.DCR, m.card.reg(R.DCR) | (1 << 1));
  m.run();
  assert.equal(tail(m, 0), 3);
  assert.equal(m.hostRam.read32(0x60_0008), 0x12);
});

// ---- card-owned channel, ring in GDDR -------------------------------------------------------

test('a card-owned channel with its ring in GDDR raises the card interrupt, not SICR0', () => {
  const m = machine();
  const put = cardChannel(m, 4, 0x8000);
  m.card.gddr.write(0x1_0000, pattern(MAX_XFER_CARD, 1));
  put(0, encodeMemcpy(0x1_0000, WINDOW + 0x100_0000, MAX_XFER_CARD)); // above the host limit: fine here
  put(1, encodeStatus(0, 0, 0x9000, false));
  put(2, encodeStatus(0x77, 0, 0x9000, true));
  m.w(R.DHPR(4), 3);
  m.run();
  assert.deepEqual(bytes(m.hostRam, 0x100_0000, MAX_XFER_CARD), pattern(MAX_XFER_CARD, 1));
  assert.equal(m.card.gddr.read32(0x9000), 0x77);
  assert.deepEqual(m.cardIrqs, [4]);
  assert.equal(m.card.reg(R.SICR0), 0);
  assert.equal(tail(m, 4), 3);
  const v = m.card.dma.channelView(4);
  assert.equal(v.owner, 'card');
  assert.equal(v.ringInHostMemory, false);
  assert.equal(v.ringAddress, 0x8000);
  assert.equal(v.DCAR & (1 << 26), 1 << 26);
  assert.equal(ofKind(m, 'dma.desc')[0].space, 'mic0.gddr');
  assert.equal(ofKind(m, 'dma.desc')[0].initiator, 'mic0.dma4');
});

test('DCAR bit 24 masks the card interrupt of a card-owned channel', () => {
  const m = machine();
  const put = cardChannel(m, 5, 0x8000);
  m.w(R.DCAR(5), 1 << 24);
  put(0, encodeStatus(1, 0, 0x9000, true));
  m.w(R.DHPR(5), 1);
  m.run();
  assert.deepEqual(m.cardIrqs, []);
  assert.equal(m.card.gddr.read32(0x9000), 1);
});

// ---- misuse (§9) ----------------------------------------------------------------------------

test('MEMCPY source not a multiple of 64 sets DCHERR, is rule 16, stops the channel and raises SICR0 bit 30', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeGeneral(1, WINDOW + 0x60_0000));
  put(1, encodeMemcpy(0x1010, WINDOW + 0x10_0000, 128));
  put(2, encodeGeneral(2, WINDOW + 0x60_0004));
  m.w(R.DHPR(0), 3);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 0x1);
  assert.equal(tail(m, 0), 1, 'the tail stays at the failing descriptor');
  assert.equal(m.hostRam.read32(0x60_0004), 0, 'the descriptor after it never runs');
  assert.equal(m.card.reg(R.SICR0) & SICR0_ERR, SICR0_ERR);
  assert.equal(m.spine.protocolErrors.length, 1);
  const pe = m.spine.protocolErrors[0];
  assert.equal(pe.rule, 16);
  assert.equal(pe.where, 'mic0.dma0');
  assert.match(pe.message, /^mic0 DMA channel 0 descriptor 1: MEMCPY source 0x1010 is not a multiple of 64/);
  assert.match(pe.message, /DCHERR=0x1, the channel stops\.$/);
  assert.equal(ofKind(m, 'protocol').length, 1);
  assert.equal(m.card.dma.channelView(0).busy, false);
});

test('after DCHERR is cleared (write 1 to clear) the next DHPR write resumes at the failed descriptor', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(0x1010, WINDOW + 0x10_0000, 128));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1);
  put(0, encodeGeneral(0x42, WINDOW + 0x60_0000)); // software rewrites the bad slot
  put(1, encodeGeneral(0x43, WINDOW + 0x60_0004));
  m.w(R.DHPR(0), 2); // still in error: nothing runs
  m.run();
  assert.equal(tail(m, 0), 0);
  m.w(R.DCHERR(0), 1);
  assert.equal(m.card.reg(R.DCHERR(0)), 0);
  m.run();
  assert.equal(tail(m, 0), 0, 'clearing alone does not restart the channel');
  put(2, encodeNop());
  m.w(R.DHPR(0), 3);
  m.run();
  assert.equal(tail(m, 0), 3);
  assert.equal(m.hostRam.read32(0x60_0000), 0x42);
  assert.equal(m.hostRam.read32(0x60_0004), 0x43);
});

test('writing the same DHPR value twice is a hardware error (rule 18)', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeNop());
  m.w(R.DHPR(0), 1);
  m.run();
  m.w(R.DHPR(0), 1);
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 4);
  assert.equal(m.spine.protocolErrors.length, 1);
  assert.equal(m.spine.protocolErrors[0].rule, 18);
  assert.match(m.spine.protocolErrors[0].message, /^mic0 DMA channel 0: DHPR written with 1 again/);
  assert.equal(m.card.reg(R.SICR0) & SICR0_ERR, SICR0_ERR);
});

test('DMA into an SMPT window that reaches no host RAM sets DCHERR bit 2 (rule 17)', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  m.w(R.SMPT(1), smptEntry(64 * GiB)); // slot 1 → host 64 GiB, beyond the 16 GiB host
  m.card.gddr.write(0x4000, pattern(256, 5));
  put(0, encodeMemcpy(0x4000, WINDOW + 2 ** 34 + 0x1000, 256));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 2);
  assert.equal(tail(m, 0), 0);
  const pe = m.spine.protocolErrors[0];
  assert.equal(pe.rule, 17);
  assert.match(pe.message, /MEMCPY destination 0x8400001000\+256 goes through SMPT slot 1/);
  assert.equal(ofKind(m, 'mem.write').filter((e) => e.initiator === 'mic0.dma0').length, 0);
});

test('a GDDR address beyond card memory sets DCHERR bit 3 (rule 13)', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(8 * GiB, WINDOW + 0x10_0000, 4096));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 3);
  assert.equal(m.spine.protocolErrors[0].rule, 13);
  assert.match(
    m.spine.protocolErrors[0].message,
    /MEMCPY source 0x200000000\+4096 lies beyond the card's 8192 MiB of GDDR/,
  );
});

test('a MEMCPY longer than 512 KiB on a host-owned channel sets DCHERR bit 1', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(0x4000, WINDOW + 0x10_0000, MAX_XFER_HOST + 64));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 1);
  assert.equal(tail(m, 0), 0);
  assert.equal(m.hostRam.read32(0x10_0000), 0);
  assert.match(m.spine.protocolErrors[0].message, /longer than the 524288 bytes a host-owned channel takes/);
});

test('host-to-host MEMCPY and KEY descriptors set DCHERR bit 5', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  put(0, encodeMemcpy(WINDOW + 0x1000, WINDOW + 0x2000, 64));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 5);
  assert.match(m.spine.protocolErrors[0].message, /cannot copy host to host/);

  const k = machine();
  const putK = hostChannel(k, 1, 0x20_0000);
  const key = new Uint8Array(16);
  key[15] = 0x50; // type 5 KEY
  putK(0, key);
  k.w(R.DHPR(1), 1);
  k.run();
  assert.equal(k.card.reg(R.DCHERR(1)), 1 << 5);
  assert.equal(k.spine.protocolErrors[0].where, 'mic0.dma1');
});

test('a ring whose SMPT slot reaches no host RAM fails the descriptor fetch (rule 17)', () => {
  const m = machine();
  hostChannel(m, 0, 0x20_0000);
  m.w(R.SMPT(0), smptEntry(32 * GiB));
  m.w(R.DHPR(0), 1);
  m.run();
  assert.equal(m.card.reg(R.DCHERR(0)), 1 << 2);
  assert.equal(m.spine.protocolErrors[0].rule, 17);
  assert.equal(ofKind(m, 'dma.desc').length, 0);
  assert.equal(m.card.dma.readDescriptor(0, 0), null);
});

test('card reset stops a running channel and clears its registers', () => {
  const m = machine();
  const put = hostChannel(m, 0, 0x20_0000);
  for (let i = 0; i < 4; i++) put(i, encodeGeneral(i + 1, WINDOW + 0x60_0000 + 4 * i));
  m.w(R.DHPR(0), 4);
  m.sched.step();
  m.card.dma.reset();
  m.run();
  assert.equal(m.card.reg(R.DSTAT(0)), 0);
  assert.equal(m.card.reg(R.DCR), 0x55);
  assert.equal(m.card.dma.channelView(0).busy, false);
  assert.equal(m.hostRam.read32(0x60_0004), 0);
});
