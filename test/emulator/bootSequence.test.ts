// Reset, download and boot as the host driver runs them (reference §4.1–§4.3, §2.1, §2.3, §7.3),
// checked on the bus events in order, on GDDR bytes and on the registers the host left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { newMachine, recordEvents, typeLine, type TestMachine } from '../helpers/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { framePath } from '../../src/emulator/sim/busEvent.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { SMPT_WINDOW_BASE, smptSlot } from '../../src/emulator/card/smpt.ts';
import { MIC_DMA_DESC_RX_SIZE } from '../../src/emulator/card/dma/descriptors.ts';
import { buildUosImage } from '../../src/emulator/cardSoftware/uosImage.ts';
import { POST_SEQUENCE } from '../../src/emulator/cardSoftware/bootstrap.ts';
import { MIC_MAGIC } from '../../src/emulator/virtio/devicePage.ts';

const SPAD2_READY_VALUE = (0x0400_0000 | (224 << 1) | 1) >>> 0;
const DOWNLOAD = 0x0400_0000;
const MPSSD_CMDLINE = (n: number) =>
  `clocksource=tsc highres=off nohz=off cpufreq_on;corec6_off;pc3_off;pc6_off ifcfg=static;address,172.31.${n}.1;netmask,255.255.255.0`;

/** Power on and record every event until the console shell is up and the machine is idle. */
function bootRecorded(t: TestMachine): BusEvent[] {
  return recordEvents(
    t.m,
    () => true,
    () => {
      t.m.start();
      const ok = t.m.runUntil(() => t.m.cardOs.every((os) => os.shell !== null) && t.m.sched.idle);
      assert.ok(ok, `machine did not boot: ${t.m.mics.map((d) => d.state).join(',')}`);
      t.m.run();
    },
  );
}

const mmio = (kind: 'mmio.read' | 'mmio.write', reg: number, side: 'host' | 'card', card = 0) => {
  return (e: BusEvent) =>
    e.kind === kind &&
    e.space === `mic${card}.bar4` &&
    e.address === reg &&
    (side === 'host' ? e.initiator.startsWith('host') : e.initiator === `mic${card}.cpu`);
};

/** Index of the first event at or after `from` that matches, or -1. */
function indexOf(ev: BusEvent[], pred: (e: BusEvent) => boolean, from = 0): number {
  for (let i = Math.max(0, from); i < ev.length; i++) if (pred(ev[i])) return i;
  return -1;
}

function gddrBytes(t: TestMachine, addr: number, len: number, card = 0): Uint8Array {
  const b = new Uint8Array(len);
  t.m.cards[card].gddr.read(addr, b);
  return b;
}

test('reset: host zeroes SPAD2, then sets RGCR bit 0 by read-modify-write, and the card resets', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const zero = indexOf(ev, (e) => mmio('mmio.write', R.SPAD(2), 'host')(e) && e.value === 0);
  assert.ok(zero >= 0, 'host writes SPAD2 = 0');
  const rd = indexOf(ev, mmio('mmio.read', R.RGCR, 'host'), zero);
  const wr = indexOf(ev, mmio('mmio.write', R.RGCR, 'host'), zero);
  assert.ok(rd > zero && wr > rd, 'RGCR is read, then written, after SPAD2 = 0');
  assert.equal(ev[wr].value, (ev[rd].value | 1) >>> 0, 'RGCR write = old value | bit 0');
  const hw = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'hardware reset');
  assert.ok(hw > wr, 'the card resets after the RGCR write');
  assert.equal(ev[hw].space, 'mic0');
  assert.equal(ev[hw].address, R.RGCR);
  assert.ok(framePath(ev[wr].frames).includes('mic_reset'), framePath(ev[wr].frames));
  assert.deepEqual(t.m.internalErrors, []);
  assert.deepEqual(t.m.spine.protocolErrors, []);
});

test('firmware shows its POST codes after the reset, then SPAD2 = ready | APIC ID << 1 | 0x0400_0000', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const hw = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'hardware reset');
  const posts = ev
    .slice(hw)
    .filter((e) => mmio('mmio.write', R.POST_CODE, 'card')(e))
    .map((e) => String.fromCharCode(e.value & 0xff, (e.value >>> 8) & 0xff));
  assert.deepEqual(posts, POST_SEQUENCE, 'two ASCII characters per POST write, low byte first');
  const ready = indexOf(ev, (e) => mmio('mmio.write', R.SPAD(2), 'card')(e) && (e.value & 1) === 1, hw);
  assert.ok(ready > hw);
  assert.equal(ev[ready].value, SPAD2_READY_VALUE);
  assert.equal((ev[ready].value >>> 1) & 0x1ff, 224, 'BSP APIC ID in bits 9:1');
  assert.equal((ev[ready].value & 0xfffff000) >>> 0, DOWNLOAD, 'download address in bits 31:12');
  const lastPost = ev
    .slice(hw)
    .filter((e) => mmio('mmio.write', R.POST_CODE, 'card')(e))
    .pop()!;
  assert.ok(lastPost.seq < ev[ready].seq, 'SPAD2 is written after the last POST code');
});

test('host polls SPAD2 once per second, first 1 s after the reset, until the ready bit is set', () => {
  // A firmware that needs 4.5 s: polls at +1, +2, +3, +4 s see 0, the one at +5 s sees ready.
  const t = newMachine({ firmwareReadyDelayNs: 4_500_000_000 });
  const ev = bootRecorded(t);
  const rgcr = ev[indexOf(ev, mmio('mmio.write', R.RGCR, 'host'))];
  const polls = ev.filter(
    (e) => mmio('mmio.read', R.SPAD(2), 'host')(e) && framePath(e.frames).includes('mic_reset'),
  );
  assert.equal(polls.length, 5);
  assert.equal(polls[0].time - rgcr.time, 1_000_000_000);
  for (let i = 1; i < polls.length; i++) assert.equal(polls[i].time - polls[i - 1].time, 1_000_000_000);
  assert.deepEqual(
    polls.map((e) => e.value & 1),
    [0, 0, 0, 0, 1],
  );
  assert.equal(t.m.state(0), 'online');
});

test('the image is downloaded to BAR0 + 0x0400_0000 and SPAD5 = its size', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const image = buildUosImage();
  assert.deepEqual(gddrBytes(t, DOWNLOAD, image.length), image);
  assert.equal(t.m.cards[0].reg(R.SPAD(5)), image.length);
  // Ordering: the ready poll, the image writes through BAR0, then SPAD5.
  const readyPoll = indexOf(ev, (e) => mmio('mmio.read', R.SPAD(2), 'host')(e) && (e.value & 1) === 1);
  const firstImg = indexOf(
    ev,
    (e) =>
      e.kind === 'mem.write' &&
      e.space === 'mic0.gddr' &&
      e.address === DOWNLOAD &&
      e.initiator.startsWith('host'),
  );
  const spad5 = indexOf(ev, mmio('mmio.write', R.SPAD(5), 'host'));
  assert.ok(readyPoll >= 0 && firstImg > readyPoll && spad5 > firstImg);
  assert.equal(ev[spad5].value, image.length);
  const imgBytes = ev
    .filter(
      (e) =>
        e.kind === 'mem.write' &&
        e.space === 'mic0.gddr' &&
        e.address >= DOWNLOAD &&
        e.address < DOWNLOAD + image.length &&
        e.initiator.startsWith('host'),
    )
    .reduce((n, e) => n + e.size, 0);
  assert.equal(imgBytes, image.length, 'every image byte crossed BAR0 as a host write');
});

test('command line at bootaddr + size is " mem=8192M " + the mpssd cmdline, NUL-terminated', () => {
  const t = newMachine();
  bootRecorded(t);
  const size = buildUosImage().length;
  const want = ` mem=8192M ${MPSSD_CMDLINE(0)}`;
  const raw = gddrBytes(t, DOWNLOAD + size, want.length + 1);
  assert.equal(new TextDecoder().decode(raw.subarray(0, want.length)), want);
  assert.equal(raw[want.length], 0, 'NUL terminator');
  // Gen-1 mpssd's set_cmdline: micN is 172.31.N.1.
  assert.ok(want.includes('ifcfg=static;address,172.31.0.1;netmask,255.255.255.0'));
  // The card kernel read the same line (it strips the leading space).
  assert.equal(t.m.cardOs[0].cmdline, want.trim());
  assert.equal(typeLine(t, 'cat /proc/cmdline'), `cat /proc/cmdline\r\n${want.trim()}\r\n[root@mic0 ~]# `);
});

test('card memory option: 512 MiB of GDDR gives mem=512M', () => {
  const t = newMachine({ cardMemoryBytes: 512 * 2 ** 20 });
  bootRecorded(t);
  assert.equal(t.m.cards[0].config.bar0Size, 512 * 2 ** 20);
  const size = buildUosImage().length;
  const want = ` mem=512M ${MPSSD_CMDLINE(0)}`;
  const raw = gddrBytes(t, DOWNLOAD + size, want.length + 1);
  assert.equal(new TextDecoder().decode(raw.subarray(0, want.length)), want);
  assert.equal(raw[want.length], 0);
  assert.equal(t.m.state(0), 'online');
});

test('SPAD14/15 hold the device page MIC address, which the SMPT translates to the host page', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const card = t.m.cards[0];
  const dev = t.m.mics[0];
  const mic = card.reg(R.SPAD(15)) * 2 ** 32 + card.reg(R.SPAD(14));
  assert.ok(mic >= SMPT_WINDOW_BASE, `0x${mic.toString(16)} is in the SMPT window`);
  assert.equal(mic, dev.dpMic);
  assert.equal(card.smptToHost(mic), dev.dpHost);
  assert.equal(t.m.hostRam.read32(dev.dpHost), MIC_MAGIC);
  // The card driver read SPAD14/15 after the host wrote them.
  const w15 = indexOf(ev, mmio('mmio.write', R.SPAD(15), 'host'));
  const w14 = indexOf(ev, mmio('mmio.write', R.SPAD(14), 'host'));
  const r14 = indexOf(ev, mmio('mmio.read', R.SPAD(14), 'card'));
  assert.ok(w14 >= 0 && w15 > w14 && r14 > w15);
  assert.equal(ev[r14].value, mic % 2 ** 32);
});

test('bootstrap kick: APICICR7_HI = BSP APIC ID 224 is written before APICICR7 = 0x20E5', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const hi = indexOf(ev, mmio('mmio.write', R.APICICR_HI(7), 'host'));
  const lo = indexOf(ev, mmio('mmio.write', R.APICICR(7), 'host'));
  assert.ok(hi >= 0 && lo > hi);
  assert.equal(ev[hi].value, 224);
  assert.equal(ev[lo].value, 0x20e5);
  const db = indexOf(ev, (e) => e.kind === 'doorbell' && e.detail === 'h2c 7');
  assert.ok(db > lo, 'the write raises host→card doorbell 7');
  const irq = indexOf(ev, (e) => e.kind === 'irq' && e.space === 'mic0.apic' && e.address === 7, db);
  assert.ok(irq > db);
  assert.equal(ev[irq].value, 229, 'vector 229 reaches the card');
  // The kick comes after SPAD14/15 and precedes the state change to online.
  assert.ok(indexOf(ev, mmio('mmio.write', R.SPAD(15), 'host')) < hi);
  const online = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'online');
  assert.ok(online > lo);
  assert.equal(t.m.state(0), 'online');
  assert.equal(t.m.cardOs[0].bootstrap.state, 'booted');
});

test('state events: a hardware reset, then online; the card OS runs the downloaded kernel', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  assert.deepEqual(
    ev.filter((e) => e.kind === 'state').map((e) => e.detail),
    ['hardware reset', 'online'],
  );
  const online = ev.find((e) => e.kind === 'state' && e.detail === 'online')!;
  assert.equal(online.value, 1, 'online is Gen-1 state 1');
  assert.equal(t.m.cardOs[0].state, 'running');
  assert.equal(t.m.cardOs[0].identity?.release, '3.13.0-mic');
});

test('interrupts: MXAR routes the doorbells, SICE0 and SIAC0 get 0xFF0F (read, OR, write)', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const card = t.m.cards[0];
  const intr = t.m.mics[0].intr;
  // c2h doorbells go round robin (§2.4), and each request takes the lowest free vector:
  // mic_shutdown_db (probe) on doorbell 0, then the console's and the net's c2h_vdev_db; at
  // mic_start the host DMA device takes one vector per channel 0–3 (SICR0 sources 8–11).
  const users = ['mic_shutdown_db', 'console c2h_vdev_db', 'net c2h_vdev_db'];
  users.forEach((who, v) => assert.equal(card.reg(R.MXAR(v)), 1 << v, who));
  for (let ch = 0; ch < 4; ch++)
    assert.equal(card.reg(R.MXAR(users.length + ch)), 1 << (8 + ch), `DMA ${ch}`);
  assert.equal(card.reg(R.MXAR(7)), 0, 'the last of the 8 vectors is free');
  for (const r of intr.requests) assert.ok(card.reg(R.MXAR(r.vector)) & (1 << r.sourceBit), r.name);
  assert.equal(card.reg(R.SICE0), 0xff0f);
  assert.equal(card.reg(R.SIAC0), 0xff0f);
  // The boot re-programs MXAR, then SICE0 and SIAC0, before the kick.
  const kick = indexOf(ev, mmio('mmio.write', R.APICICR(7), 'host'));
  const spad5 = indexOf(ev, mmio('mmio.write', R.SPAD(5), 'host'));
  const mxar = indexOf(ev, mmio('mmio.write', R.MXAR(0), 'host'), spad5);
  const siceR = indexOf(ev, mmio('mmio.read', R.SICE0, 'host'), mxar);
  const siceW = indexOf(ev, mmio('mmio.write', R.SICE0, 'host'), mxar);
  const siacW = indexOf(ev, mmio('mmio.write', R.SIAC0, 'host'), mxar);
  assert.ok(spad5 < mxar && mxar < siceR && siceR < siceW && siceW < siacW && siacW < kick);
  assert.equal(ev[siceW].value, (ev[siceR].value | 0xff0f) >>> 0);
});

test('host DMA channel 0: ring in host memory (DRAR_HI bit 26), 131068 descriptors, DCR enable bit 1', () => {
  const t = newMachine();
  const ev = bootRecorded(t);
  const card = t.m.cards[0];
  const ch = t.m.mics[0].dma;
  const hi = card.reg(R.DRAR_HI(0));
  assert.ok(hi & (1 << 26), 'system-memory flag');
  assert.equal((hi >>> 4) & 0x1ffff, MIC_DMA_DESC_RX_SIZE);
  assert.equal(MIC_DMA_DESC_RX_SIZE, 131068);
  assert.equal((hi >>> 21) & 31, smptSlot(ch.ringMic), 'SMPT index of the ring');
  const ringMic =
    SMPT_WINDOW_BASE + ((hi >>> 21) & 31) * 2 ** 34 + (hi & 3) * 2 ** 32 + card.reg(R.DRAR_LO(0));
  assert.equal(card.smptToHost(ringMic), ch.ringHost, 'DRAR points at the host ring through the SMPT');
  assert.ok(card.reg(R.DCR) & (1 << 1), 'channel 0 enabled');
  assert.ok(card.reg(R.DCR) & (1 << 0), 'channel 0 owned by the host');
  assert.equal(card.reg(R.DCHERR(0)), 0);
  assert.equal(card.reg(R.DCAR(0)) & (1 << 25), 0, 'MSI-X interrupt unmasked');
  assert.ok(ch.ready);
  // Setup order (§7.3): disable, mask, DCHERRMSK = 0, DRAR, seed head from DTPR, unmask, enable;
  // all of it after the firmware is ready and before the download (mic_start, DMA era).
  const ready = indexOf(ev, (e) => mmio('mmio.read', R.SPAD(2), 'host')(e) && (e.value & 1) === 1);
  const steps = [
    mmio('mmio.write', R.DCR, 'host'),
    mmio('mmio.write', R.DCAR(0), 'host'),
    mmio('mmio.write', R.DCHERRMSK(0), 'host'),
    mmio('mmio.write', R.DRAR_LO(0), 'host'),
    mmio('mmio.write', R.DRAR_HI(0), 'host'),
    mmio('mmio.read', R.DTPR(0), 'host'),
    mmio('mmio.write', R.DCAR(0), 'host'),
    mmio('mmio.write', R.DCR, 'host'),
    mmio('mmio.read', R.DCHERR(0), 'host'),
  ];
  let at = ready;
  for (const [i, s] of steps.entries()) {
    const next = indexOf(ev, s, at + 1);
    assert.ok(next > at, `setup step ${i} in order`);
    at = next;
  }
  assert.ok(at < indexOf(ev, mmio('mmio.write', R.SPAD(5), 'host')), 'DMA is set up before the download');
});

test('second card gets its own address line and boots with its own device page', () => {
  const t = newMachine({ cards: 2 });
  bootRecorded(t);
  const size = buildUosImage().length;
  for (const n of [0, 1]) {
    const want = ` mem=8192M ${MPSSD_CMDLINE(n)}`;
    const raw = gddrBytes(t, DOWNLOAD + size, want.length + 1, n);
    assert.equal(new TextDecoder().decode(raw.subarray(0, want.length)), want);
    assert.equal(t.m.state(n), 'online');
    const card = t.m.cards[n];
    const mic = card.reg(R.SPAD(15)) * 2 ** 32 + card.reg(R.SPAD(14));
    assert.equal(card.smptToHost(mic), t.m.mics[n].dpHost);
  }
  assert.notEqual(t.m.mics[0].dpHost, t.m.mics[1].dpHost);
});
