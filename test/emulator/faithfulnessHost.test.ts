// The host-driver rows of the Linux audit (../shared/reference/linux-audit.md) the emulator now
// follows, one test per row, named after it: interrupts (C), start and stop (D), SMPT (E), the
// host DMA channel (I), the sysfs state machine (K) and debugfs (M). The era is the DMA-era
// Gen-1 driver of 3.17–3.19 (docs/faithfulness.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Machine } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { framePath } from '../../src/emulator/sim/busEvent.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { decodeDescriptor, type DmaDescriptor } from '../../src/emulator/card/dma/descriptors.ts';
import { BOOTPARAM } from '../../src/emulator/virtio/devicePage.ts';
import { MIC_DOWNLOAD_ADDR } from '../../src/emulator/cardSoftware/bootstrap.ts';
import { E } from '../../src/emulator/errno.ts';
import { MIC_MIN_MSIX } from '../../src/emulator/hostSoftware/micHost/micInterrupts.ts';
import {
  MIC_DMA_RING_BYTES,
  MIC_DMA_STATUS_BYTES,
} from '../../src/emulator/hostSoftware/micHost/hostDmaChannel.ts';
import {
  bootedMachine,
  hostCommandResult,
  newMachine,
  recordEvents,
  runRoutine,
  typeLine,
  unbootedMachine,
} from '../helpers/machine.ts';

const DCAR_MSIX_MASK = 1 << 25;

const smptTotal = (m: Machine) => m.mics[0].smpt.entries.reduce((n, e) => n + e.refCount, 0);
const requests = (m: Machine) => m.mics[0].intr.requests.map((r) => [r.name, r.vector, r.sourceBit]);
const dmaRequests = (m: Machine) => m.mics[0].intr.requests.filter((r) => r.sourceBit >= 8);
const inFrame = (e: BusEvent, fn: string) => framePath(e.frames).includes(fn);
const hostWrite = (reg: number) => (e: BusEvent) =>
  e.kind === 'mmio.write' && e.space === 'mic0.bar4' && e.address === reg && e.initiator.startsWith('host');
const imageWrite = (e: BusEvent) =>
  e.kind === 'mem.write' &&
  e.space === 'mic0.gddr' &&
  e.address === MIC_DOWNLOAD_ADDR &&
  e.initiator.startsWith('host');

function indexOf(ev: BusEvent[], pred: (e: BusEvent) => boolean, from = 0): number {
  for (let i = Math.max(0, from); i < ev.length; i++) if (pred(ev[i])) return i;
  return -1;
}

/** `echo boot` through mpssd's micctrl -b: the write's result. */
function boot(m: Machine): number {
  return runRoutine(m, 'host.mpssd', m.mpssd[0].boot());
}

/** The DMA descriptors the host's channel 0 fetched while `fn` ran, decoded as fetched. */
function fetchedDescriptors(m: Machine, fn: () => void): DmaDescriptor[] {
  const got: DmaDescriptor[] = [];
  const off = m.spine.observe((e) => {
    if (e.kind !== 'dma.desc' || e.space !== 'host') return;
    const raw = new Uint8Array(16);
    m.hostRam.read(e.address, raw);
    got.push(decodeDescriptor(raw));
  });
  try {
    fn();
  } finally {
    off();
  }
  return got;
}

// ---- C: interrupts ------------------------------------------------------------------------------

test('C9 the host enables MIC_MIN_MSIX = 8 vectors: shutdown, console, net and block doorbells on 0–3, DMA channels 0–3 on 4–7', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-c9-'));
  const disk = { path: path.join(dir, 'd.img'), sizeBytes: 2 ** 20, readonly: false };
  const t = bootedMachine({ disk: () => disk });
  const m = t.m;
  assert.equal(MIC_MIN_MSIX, 8);
  assert.deepEqual(requests(m), [
    ['mic_shutdown_db', 0, 0],
    ['virtio-console-16', 1, 1],
    ['virtio-net-112', 2, 2],
    ['virtio-block-208', 3, 3],
    ['mic dma_channel 0', 4, 8],
    ['mic dma_channel 1', 5, 9],
    ['mic dma_channel 2', 6, 10],
    ['mic dma_channel 3', 7, 11],
  ]);
  for (let v = 0; v < 8; v++) {
    const r = m.mics[0].intr.requests[v];
    assert.equal(m.cards[0].reg(R.MXAR(v)), 1 << r.sourceBit, `MXAR${v}`);
  }
  t.m.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('C20 each host DMA channel requests its own vector (source 8 + n) at mic_start and frees it at mic_stop', () => {
  const t = unbootedMachine();
  const m = t.m;
  assert.deepEqual(dmaRequests(m), [], 'offline: no DMA device registered');
  let ev: BusEvent[] = [];
  ev = recordEvents(
    m,
    () => true,
    () => assert.equal(boot(m), 0),
  );
  assert.deepEqual(
    dmaRequests(m).map((r) => [r.vector, r.sourceBit]),
    [
      [3, 8],
      [4, 9],
      [5, 10],
      [6, 11],
    ],
  );
  // Requested by the DMA device's probe inside mic_start, each an MXAR read-modify-write.
  for (const r of dmaRequests(m)) {
    const w = ev.find((e) => hostWrite(R.MXAR(r.vector))(e) && e.value === 1 << r.sourceBit);
    assert.ok(w && inFrame(w, 'mic_start'), `MXAR${r.vector} written in mic_start`);
  }
  // A completion interrupt of channel 0 (SICR0 bit 8) reaches its vector; the handler reaps.
  const v0 = dmaRequests(m)[0].vector;
  ev = recordEvents(
    m,
    () => true,
    () => {
      m.cards[0].raiseHostCause(8);
      m.run();
    },
  );
  assert.ok(ev.some((e) => e.kind === 'irq' && e.space === 'mic0.msix' && e.address === v0));
  assert.ok(
    ev.some(
      (e) =>
        e.kind === 'mmio.read' &&
        e.address === R.DSTAT(0) &&
        inFrame(e, 'mic dma_channel 0') &&
        e.initiator === 'host.driver',
    ),
    'mic_dma_thread_fn cleans up: reads DSTAT',
  );
  // The card shuts down and mpssd resets it: the DMA device is gone with its four vectors.
  typeLine(t, 'poweroff');
  assert.equal(m.state(0), 'offline');
  assert.deepEqual(dmaRequests(m), []);
  for (let v = 3; v < 7; v++) assert.equal(m.cards[0].reg(R.MXAR(v)) & 0xf00, 0, `MXAR${v} has no DMA bit`);
});

// ---- D: start and stop ---------------------------------------------------------------------------

test('D6 mic_probe writes the device page address into DPLO/DPHI (SPAD14/15) before any boot', () => {
  const t = newMachine({ autoBoot: false });
  const m = t.m;
  const ev = recordEvents(
    m,
    (e) => hostWrite(R.SPAD(14))(e) || hostWrite(R.SPAD(15))(e),
    () => {
      m.start();
      m.run();
    },
  );
  assert.equal(m.state(0), 'offline');
  const dev = m.mics[0];
  assert.deepEqual(
    ev.map((e) => [e.address, e.value]),
    [
      [R.SPAD(14), dev.dpMic % 2 ** 32],
      [R.SPAD(15), Math.floor(dev.dpMic / 2 ** 32)],
    ],
  );
  assert.ok(ev.every((e) => inFrame(e, 'mic_probe')));
  assert.equal(m.cards[0].reg(R.SPAD(14)), dev.dpMic % 2 ** 32);
});

test('D13 mic_start registers the DMA device and sets up channel 0 before the download', () => {
  const t = unbootedMachine();
  const m = t.m;
  const ev = recordEvents(
    m,
    () => true,
    () => assert.equal(boot(m), 0),
  );
  const firstImage = indexOf(ev, imageWrite);
  assert.ok(firstImage > 0);
  const irq = indexOf(ev, (e) => hostWrite(R.MXAR(3))(e) && e.value === 1 << 8);
  const drar = indexOf(ev, hostWrite(R.DRAR_HI(0)));
  const enable = indexOf(ev, (e) => hostWrite(R.DCR)(e) && (e.value & 2) !== 0);
  assert.ok(
    irq >= 0 && irq < drar && drar < enable && enable < firstImage,
    `${irq} ${drar} ${enable} ${firstImage}`,
  );
  assert.ok(inFrame(ev[drar], 'mic_dma_alloc_chan_resources'));
  assert.ok(inFrame(ev[drar], 'mic_start'));
});

test('D14 boot when the implicit reset fails is -EINVAL: mic_start retries and finds reset_failed', () => {
  const t = unbootedMachine();
  const m = t.m;
  m.cards[0].setReg(R.SPAD(2), 0); // firmware not ready: mic_start resets first
  m.cards[0].resetNeverCompletes = true;
  assert.equal(boot(m), -E.EINVAL);
  assert.equal(m.state(0), 'reset_failed');
  assert.deepEqual(
    m.spine.protocolErrors.map((e) => e.rule),
    [21],
  );
  assert.deepEqual(dmaRequests(m), [], 'nothing of the DMA device was set up');
});

test('D15 boot without a DMA channel fails with -ENXIO and leaves nothing requested or mapped', () => {
  const t = unbootedMachine();
  const m = t.m;
  const smpt = smptTotal(m);
  const ram = m.host.alloc.bytesInUse;
  const irqs = requests(m);
  // A channel that reports an error at setup: mic_dma_check_chan answers -EBUSY.
  m.cards[0].setReg(R.DCHERR(0), 1);
  let rc = 0;
  const ev = recordEvents(
    m,
    () => true,
    () => (rc = boot(m)),
  );
  assert.equal(rc, -E.ENXIO);
  assert.equal(m.state(0), 'offline');
  assert.equal(indexOf(ev, imageWrite), -1, 'no download');
  assert.deepEqual(requests(m), irqs, 'the DMA device and its interrupts are gone again');
  assert.equal(smptTotal(m), smpt, 'ring and status destination unmapped');
  assert.equal(m.host.alloc.bytesInUse, ram, 'and freed');
  assert.ok(
    m.host.log.some((l) => /no DMA channel for VOP \(-EBUSY\): mic_start fails with -ENXIO/.test(l.text)),
  );
  // With the channel healthy the boot works.
  m.cards[0].setReg(R.DCHERR(0), 0);
  assert.equal(boot(m), 0);
  assert.match(typeLine(t, 'echo ok'), /echo ok\r\nok\r\n/);
});

test('D16 mic_stop: virtio devices reset, DMA channel drained with a zero-length fenced copy, disabled and masked, bootparam re-initialised, then the reset', () => {
  const t = bootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  let descs: DmaDescriptor[] = [];
  let ev: BusEvent[] = [];
  descs = fetchedDescriptors(m, () => {
    ev = recordEvents(
      m,
      () => true,
      () => assert.equal(hostCommandResult(m, 0, 'reset'), 0),
    );
  });
  assert.equal(m.state(0), 'offline');
  const stop = (e: BusEvent) => inFrame(e, 'mic_stop');
  const statusZero = indexOf(
    ev,
    (e) => stop(e) && e.kind === 'mem.write' && e.address === dev.dpHost + dev.vop.vdevs[0].dpOffset + 4,
  );
  const dhpr = indexOf(ev, (e) => stop(e) && hostWrite(R.DHPR(0))(e));
  const disable = indexOf(ev, (e) => stop(e) && hostWrite(R.DCR)(e) && (e.value & 2) === 0, dhpr);
  const mask = indexOf(
    ev,
    (e) => stop(e) && hostWrite(R.DCAR(0))(e) && (e.value & DCAR_MSIX_MASK) !== 0,
    disable,
  );
  const bootparam = indexOf(
    ev,
    (e) => stop(e) && e.kind === 'mem.write' && e.address === dev.dpHost && e.size === BOOTPARAM.SIZE,
  );
  const rgcr = indexOf(ev, (e) => stop(e) && hostWrite(R.RGCR)(e));
  assert.ok(
    statusZero >= 0 &&
      statusZero < dhpr &&
      dhpr < disable &&
      disable < mask &&
      mask < bootparam &&
      bootparam < rgcr,
    `${statusZero} ${dhpr} ${disable} ${mask} ${bootparam} ${rgcr}`,
  );
  assert.ok(inFrame(ev[dhpr], 'mic_dma_free_chan_resources'));
  // The drain: one MEMCPY of length 0 and the fence STATUS (mic_dma_drain_chan).
  const drain = descs.slice(-2);
  assert.deepEqual(
    drain.map((d) => [d.type, d.type === 'memcpy' ? d.len : d.dataLo, d.intr]),
    [
      ['memcpy', 0, false],
      ['status', 0, false],
    ],
  );
  assert.equal(dev.dma.ready, false);
});

// ---- E: SMPT ------------------------------------------------------------------------------------

test('E9 the DMA ring and status destination are mapped only while the card is started (alloc/free_chan_resources)', () => {
  const t = unbootedMachine();
  const m = t.m;
  const offline = smptTotal(m);
  assert.equal(boot(m), 0);
  assert.equal(smptTotal(m) - offline, MIC_DMA_RING_BYTES + MIC_DMA_STATUS_BYTES);
  assert.equal(MIC_DMA_RING_BYTES, 2097088, 'ALIGN(131068 × 16, 64)');
  assert.equal(hostCommandResult(m, 0, 'reset'), 0);
  assert.equal(m.state(0), 'offline');
  assert.equal(smptTotal(m), offline, 'mic_stop released the channel: ring and status unmapped');
  // And again on the next start.
  assert.equal(boot(m), 0);
  assert.equal(smptTotal(m) - offline, MIC_DMA_RING_BYTES + MIC_DMA_STATUS_BYTES);
});

// ---- I: the host DMA channel --------------------------------------------------------------------

test('I23 the fence of every VOP copy is a STATUS writing 0 to the status destination, without an interrupt', () => {
  const t = bootedMachine();
  const m = t.m;
  const dma = m.mics[0].dma;
  let descs: DmaDescriptor[] = [];
  descs = fetchedDescriptors(m, () => typeLine(t, 'echo fence'));
  const status = descs.filter((d) => d.type === 'status');
  assert.ok(status.length >= 2, 'a fence per copy');
  for (const d of status) {
    assert.equal(d.dataLo, 0);
    assert.equal(d.dataHi, 0);
    assert.equal(d.intr, false, 'DMA_PREP_FENCE without DMA_PREP_INTERRUPT');
    assert.equal(d.dst, dma.statusMic);
  }
  assert.equal(m.hostRam.read32(dma.statusHost), 0, 'the status destination stays 0');
  assert.equal(descs.filter((d) => d.type === 'memcpy').length, status.length, 'one MEMCPY per fence here');
});

// ---- K: the sysfs state machine -----------------------------------------------------------------

test('K10 shutdown_status goes back to nop only after a successful reset; a failed one leaves it', () => {
  const t = bootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  m.cards[0].resetNeverCompletes = true;
  let atReset = -1;
  const off = m.spine.observe((e) => {
    if (e.kind === 'state' && e.detail === 'hardware reset') atReset = dev.shutdownStatus;
  });
  typeLine(t, 'poweroff');
  m.run();
  off();
  assert.equal(atReset, 3, 'poweroff is still recorded while the reset runs');
  assert.equal(m.state(0), 'reset_failed');
  assert.equal(dev.shutdownStatus, 3, 'mic_stop returns before mic_set_shutdown_status(NOP)');
  // A reset that succeeds clears it.
  m.cards[0].resetNeverCompletes = false;
  runRoutine(m, 'host.driver', dev.stop(true));
  assert.equal(m.state(0), 'offline');
  assert.equal(dev.shutdownStatus, 0);
});
