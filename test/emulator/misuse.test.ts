// Misuse cases of reference §9, each provoked in a full machine (host, mpssd, card, card OS):
// the documented reaction (return codes, state, bytes in memory, doorbells), one protocol error
// with the §9 rule and a sentence a person can act on, and the rest of the machine running on
// (nothing thrown out of the event loop, the console still answering where the card is up).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Machine } from '../../src/emulator/machine.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';
import type { ProtocolError } from '../../src/emulator/sim/spine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { MIC_MMIO_CARD_BASE, R, SICR0_ERR } from '../../src/emulator/card/sboxRegisters.ts';
import { SMPT_PAGE, SMPT_WINDOW_BASE } from '../../src/emulator/card/smpt.ts';
import { DCHERR_ALIGN, DCHERR_DHPR, DCHERR_SMPT } from '../../src/emulator/card/dma/dmaEngine.ts';
import { MIC_DOWNLOAD_ADDR } from '../../src/emulator/cardSoftware/bootstrap.ts';
import { BOOTPARAM, DEVICE_CTRL, MIC_MAGIC, decodeDevicePage } from '../../src/emulator/virtio/devicePage.ts';
import { vringInfoMagic } from '../../src/emulator/virtio/vring.ts';
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_ID_CONSOLE,
  VIRTIO_ID_NET,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  deviceName,
} from '../../src/emulator/virtio/virtioIds.ts';
import type { HostVdev, HostVring } from '../../src/emulator/hostSoftware/micHost/vop.ts';
import { E } from '../../src/emulator/errno.ts';
import {
  bootedMachine,
  devicePageBytes,
  newMachine,
  recordEvents,
  typeLine,
  type TestMachine,
} from '../helpers/machine.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** A GDDR address in the card OS heap that no driver uses while the console is idle. */
const SPARE_GDDR = 0x3000_0000;

// ---- helpers ----------------------------------------------------------------------------------

/** Run `r` as a task of `initiator` until the machine is idle again; return what it returned. */
function call<T>(m: Machine, initiator: string, r: Routine<T>): T {
  const box: { done: boolean; value?: T } = { done: false };
  m.sched.spawn(`test ${initiator}`, initiator, wrap(r, box));
  m.run();
  assert.ok(box.done, `the ${initiator} routine did not finish`);
  return box.value as T;
}
function* wrap<T>(r: Routine<T>, box: { done: boolean; value?: T }): Routine {
  box.value = yield* r;
  box.done = true;
}

/** `echo CMD > /sys/class/mic/mic0/state`: the write(2) result. */
function sysfsState(m: Machine, cmd: string): number {
  return call(m, 'host.driver', m.mics[0].writeState(cmd));
}

/** Protocol errors recorded since `from` (an index into spine.protocolErrors). */
function errorsSince(m: Machine, from = 0): ProtocolError[] {
  return m.spine.protocolErrors.slice(from);
}

/** Exactly one new protocol error, with this rule; returns it for message checks. */
function oneError(m: Machine, rule: number, from = 0): ProtocolError {
  const got = errorsSince(m, from);
  assert.deepEqual(
    got.map((e) => e.rule),
    [rule],
    `expected one protocol error of rule ${rule}, got ${JSON.stringify(got, null, 1)}`,
  );
  return got[0];
}

/** Nothing threw out of the event loop, and the card's console shell still answers. */
function assertAlive(t: TestMachine): void {
  assert.deepEqual(t.m.internalErrors, []);
  assert.match(typeLine(t, 'echo alive'), /echo alive\r\nalive\r\n/);
  assert.deepEqual(t.m.internalErrors, []);
}

/** A machine powered on with its card firmware ready, devices added, not booted (offline). */
function offlineMachine(cfg: Parameters<typeof newMachine>[0] = {}): TestMachine {
  const t = newMachine({ autoBoot: false, ...cfg });
  t.m.start();
  assert.equal(t.m.run(), 'idle');
  assert.equal(t.m.state(0), 'offline');
  return t;
}

/** Boot through mpssd (`micctrl -b`) and run until the machine is idle again. */
function boot(m: Machine): number {
  return call(m, 'host.mpssd', m.mpssd[0].boot());
}

const isDoorbell = (e: BusEvent) => e.kind === 'doorbell';
const h2cDoorbell = (e: BusEvent) => e.kind === 'doorbell' && e.detail.startsWith('h2c');
const c2hDoorbell = (e: BusEvent) => e.kind === 'doorbell' && e.detail.startsWith('c2h');
const hostMsix = (e: BusEvent) => e.kind === 'irq' && e.space === 'mic0.msix';

// ---- virtqueue helpers: the test plays the card's part in host RAM ---------------------------

interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

function consoleVdev(m: Machine): HostVdev {
  const v = m.mics[0].vop.vdevs[0];
  assert.equal(v.desc.type, VIRTIO_ID_CONSOLE);
  return v;
}

function writeDesc(m: Machine, vr: HostVring, i: number, d: Desc): void {
  const a = vr.addrs.desc + 16 * i;
  m.hostRam.write64(a, d.addr);
  m.hostRam.write32(a + 8, d.len);
  m.hostRam.write16(a + 12, d.flags);
  m.hostRam.write16(a + 14, d.next);
}

/**
 * As the card's driver would: put `descs` into the descriptor table of console queue `q`,
 * publish `head` in avail.ring and bump avail.idx. Returns a function that withdraws the entry
 * again (avail.idx back), so the card's own next add lands where it expects.
 */
function offer(m: Machine, q: number, head: number, descs: Record<number, Desc>): () => void {
  const vr = consoleVdev(m).vrings[q];
  const cardVq = m.cardOs[0].driver!.consoleDevice()!.vqs[q];
  // Precondition: the card is idle on this queue, so the descriptors we scribble on are free.
  assert.equal(cardVq.numFree, cardVq.num, 'the card has transmit chains in flight');
  for (const [i, d] of Object.entries(descs)) writeDesc(m, vr, Number(i), d);
  const idx = m.hostRam.read16(vr.addrs.avail + 2);
  assert.equal(idx, vr.lastAvailIdx, 'the host has unconsumed chains');
  m.hostRam.write16(vr.addrs.avail + 4 + 2 * (idx % vr.num), head);
  m.hostRam.write16(vr.addrs.avail + 2, (idx + 1) & 0xffff);
  return () => m.hostRam.write16(vr.addrs.avail + 2, idx);
}

/** MIC_VIRTIO_COPY_DESC on console queue q as mpssd makes it: returns out_len or −errno. */
function copyDesc(m: Machine, q: number, len = 4096): number {
  const buf = new Uint8Array(len);
  return call(m, 'host.mpssd', m.mics[0].vop.copyDesc(consoleVdev(m), [{ buf, len }], q, true));
}

/** The relocated used ring's idx for console queue q, read from GDDR (no bus event). */
function usedIdx(m: Machine, q: number): number {
  const used = m.cardOs[0].driver!.consoleDevice()!.vqs[q].addrs.used;
  return m.cards[0].gddr.read16(used + 2);
}

/**
 * Offer a bad chain on the console transmit queue, run COPY_DESC, and check what every §9 #12/#13
 * case has in common: the ioctl fails, the request stops (no used entry, no index moved, no
 * doorbell to the card), and exactly one protocol error is recorded. Then withdraw the chain
 * and check that the console still answers.
 */
function badChain(
  t: TestMachine,
  head: number,
  descs: Record<number, Desc>,
  want: { rc: number; rule: number },
): { error: ProtocolError; events: BusEvent[] } {
  const m = t.m;
  const vr = consoleVdev(m).vrings[1];
  const before = { last: vr.lastAvailIdx, used: usedIdx(m, 1), info: m.hostRam.read16(vr.infoHost) };
  const from = m.spine.protocolErrors.length;
  const withdraw = offer(m, 1, head, descs);
  let rc = 0;
  const events = recordEvents(
    m,
    () => true,
    () => {
      rc = copyDesc(m, 1);
    },
  );
  assert.equal(rc, want.rc);
  const error = oneError(m, want.rule, from);
  assert.equal(error.where, 'mic0');
  assert.match(error.message, /^mic0 virtio-console queue 1: /);
  // The request stops: nothing consumed, nothing completed, nobody notified.
  assert.equal(vr.lastAvailIdx, before.last);
  assert.equal(vr.chain, null);
  assert.equal(usedIdx(m, 1), before.used);
  assert.equal(m.hostRam.read16(vr.infoHost), before.info);
  assert.deepEqual(events.filter(isDoorbell), []);
  // A second attempt meets the same chain and fails the same way (vringh does not skip it).
  assert.equal(copyDesc(m, 1), want.rc);
  assert.equal(errorsSince(m, from).length, 2);
  withdraw();
  assertAlive(t);
  assert.equal(errorsSince(m, from).length, 2, 'the console works without further errors');
  return { error, events };
}

// ---- §9 #1 and #2: device page magic, −1 doorbells --------------------------------------------

test('device page magic other than 0xC0FFEE00 fails the card driver with -EIO: no doorbells, no devices', () => {
  const t = offlineMachine();
  const m = t.m;
  const dp = m.mics[0].dpHost;
  assert.equal(m.hostRam.read32(dp + BOOTPARAM.magic), MIC_MAGIC);
  // After probe, before the card driver reads it.
  m.hostRam.write32(dp + BOOTPARAM.magic, 0xdeadbeef);
  let rc = 0;
  const events = recordEvents(
    m,
    () => true,
    () => (rc = boot(m)),
  );
  assert.equal(rc, 0);
  assert.equal(m.state(0), 'online'); // Gen-1: online right after the kick
  assert.equal(m.cardOs[0].state, 'running');
  assert.equal(m.cardOs[0].driver?.up, false);

  const e = oneError(m, 1);
  assert.equal(e.where, 'mic0');
  assert.match(e.message, /device page magic is 0xdeadbeef, not 0xc0ffee00/);
  assert.match(e.message, /-EIO/);
  assert.match(e.message, /no devices, no doorbells published/);
  assert.match(
    m.cardOs[0].dmesg(),
    /magic 0xdeadbeef, expected 0xc0ffee00: mic_driver_init failed with -EIO/,
  );

  // Nothing published: the bootparam doorbells and every device's h2c_vdev_db stay −1.
  const page = decodeDevicePage(devicePageBytes(m));
  assert.equal(page.h2c_shutdown_db, -1);
  assert.equal(page.h2c_config_db, -1);
  assert.deepEqual(
    page.devices.map((d) => d.type),
    [VIRTIO_ID_CONSOLE, VIRTIO_ID_NET],
    'mpssd added the console and virtio-net',
  );
  for (const d of page.devices) {
    assert.equal(d.ctrl.h2c_vdev_db, -1, `type ${d.type}`);
    assert.equal(d.status, 0, `type ${d.type}`);
    assert.equal(d.vqconfig[0].used_address, 0, `type ${d.type}`);
  }
  // The card never rang the host; the only doorbell is the host's bootstrap kick.
  assert.deepEqual(events.filter(c2hDoorbell), []);
  assert.deepEqual(events.filter(hostMsix), []);
  assert.deepEqual(
    events.filter(isDoorbell).map((x) => x.detail),
    ['h2c 7'],
  );
  assert.equal(m.cardOs[0].shell, null);
  assert.equal(m.cardOs[0].console, null);
  assert.deepEqual(m.internalErrors, []);

  // The host can still reset the card (bootparam is rewritten with the right magic) and boot it.
  assert.equal(sysfsState(m, 'reset'), 0);
  assert.equal(m.state(0), 'offline');
  assert.equal(m.hostRam.read32(dp + BOOTPARAM.magic), MIC_MAGIC);
  assert.equal(boot(m), 0);
  assert.equal(m.state(0), 'online');
  assertAlive(t);
  assert.equal(errorsSince(m, 1).length, 0);
});

test('shutdown while h2c_shutdown_db is -1 is silently ignored: no doorbell, state unchanged', () => {
  const t = offlineMachine();
  const m = t.m;
  const dp = m.mics[0].dpHost;
  m.hostRam.write32(dp + BOOTPARAM.magic, 0xdeadbeef);
  boot(m);
  assert.equal(m.state(0), 'online');
  assert.equal(m.hostRam.read8(dp + BOOTPARAM.h2c_shutdown_db), 0xff);
  const from = m.spine.protocolErrors.length;

  let rc = -1;
  const events = recordEvents(
    m,
    () => true,
    () => (rc = sysfsState(m, 'shutdown')),
  );
  assert.equal(rc, 0);
  assert.equal(m.state(0), 'online');
  assert.deepEqual(events.filter(isDoorbell), []);
  assert.deepEqual(
    events.filter((e) => e.kind === 'mmio.write'),
    [],
    'no APICICR/RDMASR write at all',
  );
  assert.equal(m.hostRam.read8(dp + BOOTPARAM.shutdown_card), 0, 'shutdown_card is not requested either');
  // The host checks the field before ringing: nothing reaches the bus, so nothing to flag.
  assert.deepEqual(
    errorsSince(m, from).filter((e) => e.rule !== 2),
    [],
  );
  assert.deepEqual(m.internalErrors, []);
});

test('config change while h2c_config_db is -1 is -EIO and rings nothing', () => {
  const t = offlineMachine();
  const m = t.m;
  const dp = m.mics[0].dpHost;
  m.hostRam.write32(dp + BOOTPARAM.magic, 0xdeadbeef);
  boot(m);
  assert.equal(m.hostRam.read8(dp + BOOTPARAM.h2c_config_db), 0xff);
  const vdev = consoleVdev(m);
  const configAt = dp + vdev.layout.config;
  const from = m.spine.protocolErrors.length;
  let rc = 0;
  const events = recordEvents(
    m,
    () => true,
    () => (rc = call(m, 'host.mpssd', m.mics[0].vop.configChange(vdev, new Uint8Array(12).fill(7)))),
  );
  assert.equal(rc, -E.EIO);
  assert.deepEqual(events.filter(isDoorbell), []);
  assert.equal(m.hostRam.read8(configAt), 0, 'config space untouched');
  assert.equal(m.hostRam.read8(dp + vdev.layout.ctrl + DEVICE_CTRL.config_change), 0);
  assert.deepEqual(
    errorsSince(m, from).filter((e) => e.rule !== 2),
    [],
  );
  assert.deepEqual(m.internalErrors, []);
});

test('host ringCard(-1) rings nothing', () => {
  const t = bootedMachine();
  const m = t.m;
  const from = m.spine.protocolErrors.length;
  const events = recordEvents(
    m,
    () => true,
    () => call(m, 'host.driver', m.mics[0].ringCard(-1)),
  );
  assert.deepEqual(events.filter(isDoorbell), []);
  assert.deepEqual(
    events.filter((e) => e.kind === 'mmio.read' || e.kind === 'mmio.write'),
    [],
  );
  assert.deepEqual(
    errorsSince(m, from).filter((e) => e.rule !== 2),
    [],
  );
  assertAlive(t);
});

// ---- §9 #3: SDBIC4..8 ------------------------------------------------------------------------

test('card write to SDBIC5 is flagged as an invalid hardware access: SICR0 unchanged, no host interrupt', () => {
  const t = bootedMachine();
  const m = t.m;
  const card = m.cards[0];
  const os = m.cardOs[0];
  const sicr0 = card.reg(R.SICR0);
  const events = recordEvents(
    m,
    () => true,
    () => {
      os.spawn('intr_test', sdbicWrite(os.io, 5));
      m.run();
    },
  );
  const e = oneError(m, 3);
  assert.equal(e.where, 'mic0');
  assert.match(e.message, /SDBIC5 \(BAR4\+0x1cca4\)/);
  assert.match(e.message, /only card→host doorbells 0–3/);
  assert.equal(card.reg(R.SICR0), sicr0);
  assert.equal(card.reg(R.SDBIC(0) + 4 * 5), 0, 'the phantom register keeps nothing');
  assert.deepEqual(events.filter(isDoorbell), []);
  assert.deepEqual(events.filter(hostMsix), []);
  // The write itself is on the bus, from the card CPU.
  const w = events.filter((x) => x.kind === 'mmio.write');
  assert.equal(w.length, 1);
  assert.equal(w[0].initiator, 'mic0.cpu');
  assert.equal(w[0].address, R.SDBIC(0) + 4 * 5);

  // Every index the driver would accept beyond the hardware's four: 4 … 8.
  for (const idx of [4, 6, 7, 8]) card.mmioWrite(R.SDBIC(0) + 4 * idx, 0x8000_0000, 'card');
  assert.deepEqual(
    errorsSince(m, 1).map((x) => [x.rule, /SDBIC(\d)/.exec(x.message)?.[1]]),
    [
      [3, '4'],
      [3, '6'],
      [3, '7'],
      [3, '8'],
    ],
  );
  assert.equal(card.reg(R.SICR0), sicr0);
  assertAlive(t);
});

function* sdbicWrite(io: { write32(a: number, v: number): number }, idx: number): Routine {
  yield io.write32(MIC_MMIO_CARD_BASE + R.SDBIC(0) + 4 * idx, 0x8000_0000);
}

// ---- §9 #7: ring magic -------------------------------------------------------------------------

test('ring magic other than 0xC0FFEE00+type+index fails the queue with -EIO: console not DRIVER_OK', () => {
  const t = offlineMachine();
  const m = t.m;
  const vr = consoleVdev(m).vrings[1];
  const magicAt = vr.infoHost + 4;
  assert.equal(magicAt - vr.blockHost, 0x140a);
  assert.equal(m.hostRam.read32(magicAt), vringInfoMagic(VIRTIO_ID_CONSOLE, 1));
  m.hostRam.write32(magicAt, 0x12345678);
  assert.equal(boot(m), 0);

  const e = oneError(m, 7);
  assert.equal(e.where, 'mic0');
  assert.match(
    e.message,
    /^mic0 virtio-console queue 1: _mic_vring_info\.magic is 0x12345678, expected 0xc0ffee04/,
  );
  assert.match(e.message, /-EIO/);
  assert.match(m.cardOs[0].dmesg(), /virtio-console vq 1: magic mismatch 0x12345678: -EIO/);
  assert.match(m.cardOs[0].dmesg(), /probe failed: -5/);

  const page = decodeDevicePage(devicePageBytes(m));
  const dev = page.devices[0];
  assert.equal(dev.status & VIRTIO_CONFIG_S_DRIVER_OK, 0);
  assert.equal(dev.ctrl.used_address_updated, 0, 'the card stopped before announcing used rings');
  assert.equal(dev.vqconfig[1].used_address, 0);
  assert.equal(m.cardOs[0].shell, null);
  assert.equal(m.mpssd[0].console.bytesOut, 0);
  assert.deepEqual(m.internalErrors, []);

  // The card driver itself is up: it published its doorbells and obeys a shutdown request.
  assert.notEqual(page.h2c_shutdown_db, -1);
  assert.notEqual(page.h2c_config_db, -1);
  assert.equal(sysfsState(m, 'shutdown'), 0);
  assert.equal(m.state(0), 'offline', 'the card powered off and mpssd reset it');
  assert.ok(m.host.log.some((l) => /mic0: card reports shutdown_status poweroff/.test(l.text)));

  // With the magic put right the next boot brings the console up.
  m.hostRam.write32(magicAt, vringInfoMagic(VIRTIO_ID_CONSOLE, 1));
  assert.equal(boot(m), 0);
  assertAlive(t);
  assert.equal(errorsSince(m, 1).length, 0);
});

// ---- §9 #8: used_address_updated --------------------------------------------------------------

test('host that never clears used_address_updated: the card gives up after 100 × 100 ms with -ENODEV', () => {
  const t = offlineMachine();
  const m = t.m;
  const vop = m.mics[0].vop;
  const vdev = consoleVdev(m);
  const flagAt = m.mics[0].dpHost + vdev.layout.ctrl + DEVICE_CTRL.used_address_updated;
  const original = vop.bottomHalf;
  // A bottom half that wakes pollers but never switches used rings nor clears the flag.
  vop.bottomHalf = function* (v: HostVdev): Routine {
    yield m.hostIo.read8(flagAt);
    v.pollPending = true;
    v.poll.signal();
    v.onPoll?.();
  };
  // The bottom half serves every device, so each device mpssd added (the console, then
  // virtio-net) runs into §9 #8: one error per device, each after its own flag was set.
  const vdevs = vop.vdevs;
  assert.deepEqual(
    vdevs.map((v) => v.desc.type),
    [VIRTIO_ID_CONSOLE, VIRTIO_ID_NET],
  );
  const flagOf = (v: HostVdev) => m.mics[0].dpHost + v.layout.ctrl + DEVICE_CTRL.used_address_updated;
  const setAt = new Map<number, number>();
  const off = m.spine.observe((e) => {
    if (e.kind === 'mem.write' && e.space === 'host' && e.value === 1 && !setAt.has(e.address))
      if (vdevs.some((v) => flagOf(v) === e.address)) setAt.set(e.address, e.time);
  });
  boot(m);
  off();

  const errors = errorsSince(m);
  assert.deepEqual(
    errors.map((x) => x.rule),
    vdevs.map(() => 8),
    `expected one protocol error of rule 8 per device, got ${JSON.stringify(errors, null, 1)}`,
  );
  const dp = decodeDevicePage(devicePageBytes(m));
  vdevs.forEach((v, i) => {
    const name = deviceName(v.desc.type);
    const e = errors[i];
    assert.equal(e.where, 'mic0');
    assert.ok(e.message.startsWith(`mic0 ${name}: `), e.message);
    assert.match(e.message, /never cleared used_address_updated/);
    assert.match(e.message, /100 × 100 ms/);
    assert.match(e.message, /-ENODEV/);
    const at = setAt.get(flagOf(v));
    assert.ok(at !== undefined, `the card set used_address_updated of ${name}`);
    assert.ok(e.time - at >= 10e9 && e.time - at < 10.5e9, `${name} gave up after ${(e.time - at) / 1e9} s`);
    assert.equal(m.hostRam.read8(flagOf(v)), 1);
    assert.equal(v.vrings[0].usedRelocated, false);
    assert.ok(m.cardOs[0].dmesg().includes(`${name} probe failed: -19`), name);
    const dev = dp.devices.find((d) => d.type === v.desc.type)!;
    assert.equal(dev.status & VIRTIO_CONFIG_S_DRIVER_OK, 0);
  });
  assert.equal(m.cardOs[0].shell, null);
  assert.deepEqual(m.internalErrors, []);

  // The rest runs on: shutdown, reset, and with a working bottom half the console comes up.
  assert.equal(sysfsState(m, 'shutdown'), 0);
  assert.equal(m.state(0), 'offline');
  vop.bottomHalf = original;
  assert.equal(boot(m), 0);
  assertAlive(t);
  assert.equal(errorsSince(m, errors.length).length, 0);
});

// ---- §9 #12 and #13: chains the host back-end refuses -----------------------------------------

test('avail.ring head ≥ num is -EINVAL and stops the request', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const vr = vdev.vrings[1];
  const from = m.spine.protocolErrors.length;
  // First the way it happens: the card publishes head 200 and kicks; mpssd's back-end runs.
  const withdraw = offer(m, 1, 200, {});
  t.take();
  const events = recordEvents(
    m,
    () => true,
    () => {
      m.cards[0].mmioWrite(R.SDBIC(vdev.c2hDb), 0x8000_0000, 'card');
      m.run();
    },
  );
  assert.ok(events.some(hostMsix), 'the kick reached the host');
  const e = oneError(m, 12, from);
  assert.match(e.message, /avail\.ring\[\d+\] = head 200 ≥ num 128 \(vringh: -EINVAL\)/);
  assert.equal(vr.lastAvailIdx, (m.hostRam.read16(vr.addrs.avail + 2) - 1) & 0xffff, 'head not consumed');
  assert.equal(t.take(), '', 'nothing reached the terminal');
  assert.deepEqual(events.filter(h2cDoorbell), []);
  withdraw();
  assert.deepEqual(m.internalErrors, []);
  // Then COPY_DESC itself, with its return code.
  badChain(t, 200, {}, { rc: -E.EINVAL, rule: 12 });
});

test('descriptor next ≥ num is -EINVAL and stops the request', () => {
  const t = bootedMachine();
  const { error } = badChain(
    t,
    5,
    { 5: { addr: SPARE_GDDR, len: 64, flags: VRING_DESC_F_NEXT, next: 131 } },
    { rc: -E.EINVAL, rule: 12 },
  );
  assert.match(error.message, /descriptor 5 chains to 131 ≥ num 128 \(vringh: -EINVAL\)/);
});

test('chain loop longer than num is -ELOOP and stops the request', () => {
  const t = bootedMachine();
  const { error } = badChain(
    t,
    5,
    {
      5: { addr: SPARE_GDDR, len: 64, flags: VRING_DESC_F_NEXT, next: 6 },
      6: { addr: SPARE_GDDR + 64, len: 64, flags: VRING_DESC_F_NEXT, next: 5 },
    },
    { rc: -E.ELOOP, rule: 12 },
  );
  assert.match(error.message, /chain from head 5 has more than 128 links: a loop \(vringh: -ELOOP\)/);
});

test('readable descriptor after a writable one is -EINVAL and stops the request', () => {
  const t = bootedMachine();
  const { error } = badChain(
    t,
    5,
    {
      5: { addr: SPARE_GDDR, len: 64, flags: VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, next: 6 },
      6: { addr: SPARE_GDDR + 64, len: 64, flags: 0, next: 0 },
    },
    { rc: -E.EINVAL, rule: 12 },
  );
  assert.match(
    error.message,
    /descriptor 6 is readable after a writable one in the chain from head 5 \(vringh: -EINVAL\)/,
  );
});

test('descriptor address beyond GDDR is trapped with -EFAULT before any access', () => {
  const t = bootedMachine();
  const m = t.m;
  const size = m.cards[0].gddr.size;
  assert.equal(size, 8 * GiB);
  const { error, events } = badChain(
    t,
    5,
    {
      5: { addr: SPARE_GDDR, len: 64, flags: VRING_DESC_F_NEXT, next: 6 },
      6: { addr: size - 32, len: 64, flags: 0, next: 0 },
    },
    { rc: -E.EFAULT, rule: 13 },
  );
  assert.match(error.message, /descriptor 6 points at 0x1ffffffe0\+64, beyond the card's 8192 MiB of GDDR/);
  assert.match(error.message, /-EFAULT/);
  // Validation comes first: no byte of either descriptor was read or copied, no DMA issued.
  assert.deepEqual(
    events.filter(
      (e) => e.space === 'mic0.gddr' || e.kind === 'dma.desc' || (e.kind === 'protocol' && e.value !== 13),
    ),
    [],
  );
  assert.deepEqual(
    events.filter((e) => e.kind === 'protocol').map((e) => e.space),
    ['mic0'],
    'no master abort on the host bus',
  );
});

// ---- §9 #16–18: the host DMA channel -----------------------------------------------------------

/** The bounce buffer of console queue 0: a host RAM target the host channel may write. */
function bounce(m: Machine): { host: number; mic: number } {
  return consoleVdev(m).vrings[0].bounce;
}

function dmaMisuse(
  src: (m: Machine) => number,
  dst: (m: Machine) => number,
  len: number,
  want: { rule: number; bit: number; message: RegExp },
): void {
  const t = bootedMachine();
  const m = t.m;
  const card = m.cards[0];
  const dma = m.mics[0].dma;
  assert.equal(dma.ready, true);
  assert.ok(m.mics[0].copy.stats.dmaBytes > 0, 'the console moved its data by DMA so far');
  const b = bounce(m);
  m.hostRam.write(b.host, new Uint8Array(4096).fill(0xa5));
  card.gddr.write(SPARE_GDDR, new Uint8Array(4096).fill(0x5a));
  assert.equal(card.reg(R.SICR0) & (1 << SICR0_ERR), 0);

  const rc = call(m, 'host.driver', dma.memcpySync(src(m), dst(m), len));
  assert.equal(rc, -E.EIO);
  const e = oneError(m, want.rule);
  assert.equal(e.where, 'mic0.dma0');
  assert.match(e.message, want.message);
  assert.equal(card.reg(R.DCHERR(0)) & want.bit, want.bit);
  assert.notEqual(card.reg(R.SICR0) & (1 << SICR0_ERR), 0, 'SICR0 bit 30 (SBOX error) is set');
  const hostBytes = new Uint8Array(4096);
  m.hostRam.read(b.host, hostBytes);
  assert.ok(
    hostBytes.every((x) => x === 0xa5),
    'nothing was written to host RAM',
  );
  afterDmaError(t);
}

/**
 * I29: the DMA-era driver has no CPU fallback. With the channel stopped on an error every VOP
 * copy fails (COPY_DESC −EIO): the console stops moving data. A reset clears the channel, the
 * next boot sets it up again, and the console works.
 */
function afterDmaError(t: TestMachine): void {
  const m = t.m;
  const stats = { ...m.mics[0].copy.stats };
  const errors = m.spine.protocolErrors.length;
  assert.equal(typeLine(t, 'echo alive'), '', 'nothing reaches the terminal');
  assert.ok(m.mpssd[0].console.pendingInput > 0, 'the typed line waits in mpssd');
  assert.equal(m.mics[0].copy.stats.cpuBytes, stats.cpuBytes, 'no CPU copy through BAR0');
  assert.equal(m.mics[0].copy.stats.dmaBytes, stats.dmaBytes);
  assert.ok(
    m.host.log.some((l) => /dma ch0: DCHERR 0x[0-9a-f]+: copy failed/.test(l.text)),
    'the host driver logs the failed copy',
  );
  assert.equal(errorsSince(m, errors).length, 0, 'a stopped channel is no new protocol error');
  // Recovery: reset (the work item runs mic_stop), boot; the typed line is delivered then.
  assert.equal(sysfsState(m, 'reset'), 0);
  assert.equal(m.state(0), 'offline');
  assert.equal(m.cards[0].reg(R.DCHERR(0)), 0, 'the card reset cleared DCHERR');
  t.take();
  assert.equal(boot(m), 0);
  assert.ok(m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle));
  m.run();
  assert.match(t.take(), /echo alive\r\nalive\r\n/);
  assertAlive(t);
  assert.ok(m.mics[0].copy.stats.dmaBytes > stats.dmaBytes, 'copies go by DMA again');
}

test('I29 DMA source not 64-byte aligned sets DCHERR and raises the SBOX error; VOP copies fail until a reset', () => {
  dmaMisuse(
    () => SPARE_GDDR + 0x20,
    (m) => bounce(m).mic,
    64,
    { rule: 16, bit: DCHERR_ALIGN, message: /MEMCPY source 0x30000020 is not a multiple of 64/ },
  );
});

test('I29 DMA to an SMPT window that maps no host memory sets DCHERR; VOP copies fail until a reset', () => {
  dmaMisuse(
    () => SPARE_GDDR,
    () => SMPT_WINDOW_BASE + 5 * SMPT_PAGE,
    64,
    {
      rule: 17,
      bit: DCHERR_SMPT,
      message: /goes through SMPT slot 5, which maps host .*beyond the host's 16 GiB of RAM/,
    },
  );
});

test('I29 writing the same DHPR value twice is a hardware error: DCHERR, SBOX error, VOP copies fail until a reset', () => {
  const t = bootedMachine();
  const m = t.m;
  const card = m.cards[0];
  const dma = m.mics[0].dma;
  const head = dma.head;
  assert.ok(head > 0, 'the channel has been used');
  assert.equal(card.dma.channelView(0).head, head);
  const bar4 = m.mics[0].bar4;
  call(m, 'host.driver', hostWrite32(m, bar4 + R.DHPR(0), head));
  const e = oneError(m, 18);
  assert.equal(e.where, 'mic0.dma0');
  assert.match(e.message, new RegExp(`^mic0 DMA channel 0: DHPR written with ${head} again`));
  assert.equal(card.reg(R.DCHERR(0)) & DCHERR_DHPR, DCHERR_DHPR);
  assert.notEqual(card.reg(R.SICR0) & (1 << SICR0_ERR), 0);
  // The next synchronous copy sees the stopped channel and fails.
  const b = bounce(m);
  assert.equal(call(m, 'host.driver', dma.memcpySync(SPARE_GDDR, b.mic, 64)), -E.EIO);
  assert.equal(errorsSince(m).length, 1, 'no further DMA error is recorded');
  afterDmaError(t);
});

function* hostWrite32(m: Machine, addr: number, v: number): Routine {
  yield m.hostIo.write32(addr, v);
}

// ---- §9 #21–23: state machine misuse -----------------------------------------------------------

test('boot while online is -EINVAL and the card stays online', () => {
  const t = bootedMachine();
  const m = t.m;
  const events = recordEvents(
    m,
    () => true,
    () => assert.equal(sysfsState(m, 'boot'), -E.EINVAL),
  );
  assert.equal(m.state(0), 'online');
  assert.deepEqual(events.filter(isDoorbell), [], 'no bootstrap kick');
  assert.deepEqual(
    events.filter((e) => e.space === 'mic0.gddr' && e.kind === 'mem.write'),
    [],
    'no image download',
  );
  const e = oneError(m, 23);
  assert.match(e.message, /boot/);
  assert.match(e.message, /online/);
  assert.match(e.message, /-EINVAL/);
  assertAlive(t);
});

test('K5 reset while offline is accepted and queued (§9 #23 as the audit corrected it): RGCR untouched', () => {
  const t = offlineMachine();
  const m = t.m;
  const from = m.spine.protocolErrors.length;
  const events = recordEvents(
    m,
    () => true,
    () => assert.equal(sysfsState(m, 'reset'), 0),
  );
  assert.equal(m.state(0), 'offline');
  assert.deepEqual(
    events.filter((e) => e.space === 'mic0.bar4' && e.kind === 'mmio.write'),
    [],
  );
  assert.deepEqual(errorsSince(m, from), [], 'Linux does not complain');
  // The card can still be booted normally.
  assert.equal(boot(m), 0);
  assertAlive(t);
});

test('reset that never sets SPAD2 bit 0 ends in reset_failed after 45 polls; boot refused until a reset succeeds', () => {
  const t = bootedMachine();
  const m = t.m;
  const card = m.cards[0];
  card.resetNeverCompletes = true;
  const t0 = m.sched.now;
  let rc = -1;
  const events = recordEvents(
    m,
    (e) => e.kind === 'mmio.read' && e.space === 'mic0.bar4' && e.address === R.SPAD(2),
    () => (rc = sysfsState(m, 'reset')),
  );
  assert.equal(rc, 0);
  assert.equal(m.state(0), 'reset_failed');
  assert.ok(m.sched.now - t0 >= 46e9, `reset gave up after ${(m.sched.now - t0) / 1e9} s`);
  assert.equal(events.length, 45, 'SPAD2 polled 45 times');
  assert.equal(card.reg(R.SPAD(2)) & 1, 0);
  const e = oneError(m, 21);
  assert.match(e.message, /SPAD2/);
  assert.match(e.message, /45/);
  assert.match(e.message, /reset_failed/);
  assert.deepEqual(m.internalErrors, []);

  // boot is refused while the card is in reset_failed.
  assert.equal(sysfsState(m, 'boot'), -E.EINVAL);
  assert.equal(m.state(0), 'reset_failed');
  const refused = oneError(m, 21, 1);
  assert.match(refused.message, /boot/);
  assert.match(refused.message, /reset_failed/);

  // Once the hardware behaves, a reset succeeds and boot works again.
  card.resetNeverCompletes = false;
  assert.equal(sysfsState(m, 'reset'), 0);
  assert.equal(m.state(0), 'offline');
  assert.equal(boot(m), 0);
  assert.equal(m.state(0), 'online');
  assertAlive(t);
  assert.equal(errorsSince(m, 2).length, 0);
});

test('SPAD2 download address above 2 GiB: boot is -EINVAL and the card stays offline', () => {
  const t = offlineMachine();
  const m = t.m;
  const card = m.cards[0];
  const spad2 = card.reg(R.SPAD(2));
  assert.equal(spad2 & 0xfffff000, MIC_DOWNLOAD_ADDR);
  card.setReg(R.SPAD(2), ((spad2 & 0xfff) | 0x8000_1000) >>> 0);
  const events = recordEvents(
    m,
    () => true,
    () => assert.equal(sysfsState(m, 'boot'), -E.EINVAL),
  );
  assert.equal(m.state(0), 'offline');
  const e = oneError(m, 22);
  assert.match(e.message, /SPAD2 download address 0x80001000 is above 2 GiB/);
  assert.match(e.message, /-EINVAL/);
  assert.deepEqual(events.filter(isDoorbell), [], 'no bootstrap kick');
  assert.deepEqual(
    events.filter((x) => x.space === 'mic0.gddr'),
    [],
    'nothing downloaded',
  );
  // With SPAD2 cleared the host resets the card before the next boot; the firmware then offers
  // its own download address again and the card boots.
  card.setReg(R.SPAD(2), 0);
  assert.equal(boot(m), 0);
  assertAlive(t);
});

test('image larger than BAR0 − bootaddr: boot is -EINVAL and the card stays offline', () => {
  const t = newMachine({ cardMemoryBytes: 64 * MiB });
  const m = t.m;
  const big = new Uint8Array(64 * MiB + 4096);
  big.set(m.firmware.get('mic/uos.img')!);
  m.firmware.set('mic/uos.img', big);
  const events = recordEvents(
    m,
    () => true,
    () => {
      m.start();
      assert.equal(m.run(), 'idle');
    },
  );
  assert.equal(m.state(0), 'offline');
  const e = oneError(m, 22);
  assert.equal(e.where, 'mic0');
  assert.match(
    e.message,
    new RegExp(`image of ${big.length} bytes at 0x4000000 does not fit in BAR0 \\(${64 * MiB} bytes\\)`),
  );
  assert.match(e.message, /-EINVAL/);
  assert.ok(m.host.log.some((l) => /mpssd: mic0: boot failed: -EINVAL/.test(l.text)));
  assert.deepEqual(
    events.filter((x) => x.kind === 'doorbell'),
    [],
    'no bootstrap kick',
  );
  assert.deepEqual(
    events.filter((x) => x.space === 'mic0.gddr' && x.kind === 'mem.write'),
    [],
    'nothing downloaded',
  );
  assert.equal(m.cardOs[0].state, 'firmware');
  assert.deepEqual(m.internalErrors, []);
});
