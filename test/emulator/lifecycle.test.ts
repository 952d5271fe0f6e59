// The card lifecycle of reference §4.4–§4.8 and the §5.5 handshakes, in a full machine: host
// power management (suspend/resume through mpssd), card halt/poweroff/reboot/panic reported
// through shutdown_status and c2h_shutdown_db, host shutdown through h2c_shutdown_db, a card that
// stops answering, config change, device reset, hot remove and re-add, and several cards at once.
// Assertions are on bytes in the device page, bus events and states; the machine never throws
// out of its loop (m.internalErrors stays empty).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Machine } from '../../src/emulator/machine.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';
import { framePath, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import {
  BOOTPARAM,
  DEVICE_CTRL,
  DEVICE_DESC,
  MIC_MAGIC,
  decodeDevicePage,
} from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_ID_CONSOLE } from '../../src/emulator/virtio/virtioIds.ts';
import { micRingBlockSize } from '../../src/emulator/virtio/vring.ts';
import { VOP_BOUNCE_SIZE } from '../../src/emulator/hostSoftware/micHost/copyEngine.ts';
import type { HostVdev } from '../../src/emulator/hostSoftware/micHost/vop.ts';
import type { CardVdev } from '../../src/emulator/cardSoftware/cardVirtio.ts';
import { E } from '../../src/emulator/errno.ts';
import {
  bootedMachine,
  devicePageBytes,
  hostCommandResult,
  recordEvents,
  runRoutine,
  stateDetails,
  typeLine,
  unbootedMachine,
  type TestMachine,
} from '../helpers/machine.ts';

const prompt = (card = 0) => `[root@mic${card} ~]# `;
const SECOND = 1e9;

// ---- helpers ----------------------------------------------------------------------------------

function consoleVdev(m: Machine, card = 0): HostVdev {
  const v = m.mics[card].vop.vdevs.find((d) => d.desc.type === VIRTIO_ID_CONSOLE);
  assert.ok(v, `mic${card} has a console device`);
  return v;
}

function cardConsole(m: Machine, card = 0): CardVdev {
  const v = m.cardOs[card].driver?.consoleDevice();
  assert.ok(v, `mic${card}'s card driver knows its console`);
  return v;
}

/** Device page offset of an event in host RAM, or −1 when it is elsewhere. */
function dpOff(m: Machine, e: BusEvent, card = 0): number {
  const dp = m.mics[card].dpHost;
  return e.space === 'host' && e.address >= dp && e.address < dp + 4096 ? e.address - dp : -1;
}

/** A write to the device page of card N (any initiator). */
const dpWrite =
  (m: Machine, card = 0) =>
  (e: BusEvent) =>
    e.kind === 'mem.write' && dpOff(m, e, card) >= 0;

/** Events of interest for the lifecycle: states, doorbells and device page writes. */
const lifecycle = (m: Machine) => (e: BusEvent) =>
  e.kind === 'state' || e.kind === 'doorbell' || dpWrite(m)(e);

/** "initiator wrote value to dp+off" as a compact string, for ordered comparisons. */
function show(m: Machine, e: BusEvent): string {
  if (e.kind === 'state') return `state ${e.detail}`;
  if (e.kind === 'doorbell') return `${e.initiator} doorbell ${e.detail}`;
  return `${e.initiator} dp+0x${dpOff(m, e).toString(16)}=${e.value}`;
}

/** Index of the first event at or after `from` that matches, asserting there is one. */
function indexOf(ev: BusEvent[], pred: (e: BusEvent) => boolean, from = 0, what = 'event'): number {
  const i = ev.findIndex((e, k) => k >= from && pred(e));
  assert.ok(i >= 0, `no ${what} after index ${from}`);
  return i;
}

function bootparamWrite(m: Machine, field: number, initiator: string, value?: number) {
  return (e: BusEvent) =>
    e.kind === 'mem.write' &&
    dpOff(m, e) === field &&
    e.initiator === initiator &&
    (value === undefined || e.value === value);
}

function ctrlWrite(m: Machine, vdev: HostVdev, field: number) {
  return (e: BusEvent) => e.kind === 'mem.write' && dpOff(m, e) === vdev.layout.ctrl + field;
}

/** Tasks of card N's hvc console writer (one per console). */
function hvcWriters(m: Machine, card = 0): number {
  return [...m.sched.tasks].filter((t) => t.name === `mic${card} hvc_console`).length;
}

function noInternalErrors(m: Machine): void {
  assert.deepEqual(m.internalErrors, []);
}

// ---- host power management (§4.5 host PM suspend / resume, §4.8 mpssd) ------------------------

test('host PM suspend of an online card: suspending, mpssd writes suspend, the card powers off and is reset, it stays suspended', () => {
  const t = bootedMachine();
  const m = t.m;
  const before = decodeDevicePage(devicePageBytes(m));
  assert.notEqual(before.h2c_shutdown_db, -1);
  const resets = m.mics[0].resetsDone;
  let doneAt = -1;
  const task = m.hostCommand(0, 'suspend');
  task.onDone = () => (doneAt = m.sched.now);
  const ev = recordEvents(m, lifecycle(m), () => m.run());
  assert.equal(task.state, 'done');
  assert.equal(task.result, 0, 'the PM callback returns 0');
  assert.deepEqual(stateDetails(ev), ['suspending', 'suspended', 'hardware reset']);

  // suspending → mpssd writes `suspend`: shutdown_card = 1, ring h2c_shutdown_db → suspended.
  const suspending = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'suspending');
  assert.equal(ev[suspending].value, 4, 'suspending is Gen-1 state 4');
  const req = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_card, 'host.mpssd', 1), suspending);
  assert.ok(framePath(ev[req].frames).includes('mic_sysfs_state_store'), 'through the sysfs state write');
  const ring = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd', req);
  assert.equal(ev[ring].detail, `h2c ${before.h2c_shutdown_db}`);
  assert.equal(ev[ring].initiator, 'host.mpssd');
  const suspended = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'suspended', ring);
  assert.equal(ev[suspended].value, 5, 'suspended is Gen-1 state 5');
  // The card's shutdown ISR reads shutdown_card and powers off in order (§4.4 steps 6 and 7).
  const status = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_status, 'mic0.cpu'), ring);
  assert.equal(ev[status].value, 3, 'poweroff');
  const c2h = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'mic0.cpu', status);
  assert.equal(ev[c2h].detail, `c2h ${before.c2h_shutdown_db}`);
  const dbOff = indexOf(ev, bootparamWrite(m, BOOTPARAM.h2c_shutdown_db, 'mic0.cpu', 0xff), c2h);
  // mpssd sees the status and writes reset; the driver's queued work resets the card (K5);
  // the state stays suspended.
  const reset = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'hardware reset', dbOff);
  assert.equal(ev[reset].initiator, 'host.driver');
  assert.ok(framePath(ev[reset].frames).includes('mic_reset_trigger_work'), framePath(ev[reset].frames));
  assert.equal(m.state(0), 'suspended');
  assert.equal(m.mics[0].resetsDone, resets + 1, 'exactly one reset');
  assert.ok(doneAt >= ev[reset].time + SECOND, 'the PM callback returns once the reset completed');
  assert.ok(m.host.log.some((l) => l.text === 'mic0: card reports shutdown_status poweroff'));
  assert.equal(m.mpssd[0].bootOnResume, true);
  assert.equal(m.cardOs[0].state, 'firmware', 'the card waits in its firmware, not booted');
  const after = decodeDevicePage(devicePageBytes(m));
  assert.equal(after.magic, MIC_MAGIC, 'bootparam re-initialised by the reset');
  assert.equal(after.h2c_shutdown_db, -1);
  assert.equal(after.h2c_config_db, -1);
  assert.equal(after.shutdown_card, 0);
  assert.ok(t.take().includes('The system is going down NOW!'));

  // While suspended nobody boots it: boot is refused (§9 #23) and the state stays.
  const from = m.spine.protocolErrors.length;
  assert.equal(hostCommandResult(m, 0, 'boot'), -E.EINVAL);
  assert.equal(m.state(0), 'suspended');
  assert.deepEqual(
    m.spine.protocolErrors.slice(from).map((e) => e.rule),
    [23],
  );
  assert.equal(m.spine.protocolErrors.length, 1);
  noInternalErrors(m);
});

test('host PM resume of a suspended card: offline, mpssd boots it again, the console answers', () => {
  const t = bootedMachine();
  const m = t.m;
  assert.equal(hostCommandResult(m, 0, 'suspend'), 0);
  assert.equal(m.state(0), 'suspended');
  t.take();
  let rc: unknown;
  const ev = recordEvents(m, lifecycle(m), () => (rc = hostCommandResult(m, 0, 'resume')));
  assert.equal(rc, 0);
  // Firmware was ready (the suspend's reset completed): no further reset, offline, then mpssd boots.
  assert.deepEqual(stateDetails(ev), ['offline', 'online']);
  const offline = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'offline');
  assert.equal(ev[offline].initiator, 'host.driver');
  const online = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'online');
  assert.equal(ev[online].initiator, 'host.mpssd', 'mpssd boots the card on resume');
  assert.equal(m.mpssd[0].bootOnResume, false);
  assert.ok(m.host.log.some((l) => l.text === 'mpssd: mic0: host resumed: booting the card again'));
  // The card publishes its doorbells again and the console comes up.
  const page = decodeDevicePage(devicePageBytes(m));
  assert.notEqual(page.h2c_shutdown_db, -1);
  assert.notEqual(page.h2c_config_db, -1);
  assert.equal(page.devices.find((d) => d.type === VIRTIO_ID_CONSOLE)?.status, 0x07);
  assert.ok(t.take().endsWith(prompt()));
  assert.equal(typeLine(t, 'echo x'), `echo x\r\nx\r\n${prompt()}`);
  assert.deepEqual(m.spine.protocolErrors, []);
  noInternalErrors(m);
});

test('host PM resume with the firmware not ready: reset while still suspended, then offline, then one boot', () => {
  const t = bootedMachine();
  const m = t.m;
  hostCommandResult(m, 0, 'suspend');
  // The host slept and the card lost its firmware state: SPAD2 bit 0 is clear.
  m.cards[0].setReg(R.SPAD(2), 0);
  const ev = recordEvents(
    m,
    (e) =>
      e.kind === 'state' ||
      (e.kind === 'mmio.write' && e.space === 'mic0.bar4' && e.address === R.RGCR) ||
      (e.kind === 'doorbell' && e.detail === 'h2c 7'),
    () => assert.equal(hostCommandResult(m, 0, 'resume'), 0),
  );
  const rgcr = ev.filter((e) => e.kind === 'mmio.write');
  assert.equal(rgcr.length, 1, `one reset, got ${rgcr.map((e) => e.initiator).join(', ')}`);
  assert.equal(rgcr[0].initiator, 'host.driver');
  // §4.5: "force a reset if firmware is not ready, → offline": the reset comes first, so mpssd
  // sees offline only once the firmware is ready and its boot needs no reset of its own.
  assert.deepEqual(stateDetails(ev), ['hardware reset', 'offline', 'online']);
  assert.equal(m.state(0), 'online');
  assert.equal(typeLine(t, 'echo x'), `echo x\r\nx\r\n${prompt()}`);
  noInternalErrors(m);
});

test('host PM suspend of an offline card: suspended at once, no doorbell, no reset; resume leaves it offline', () => {
  const t = unbootedMachine();
  const m = t.m;
  assert.equal(m.state(0), 'offline');
  let rc: unknown;
  const ev = recordEvents(
    m,
    (e) =>
      e.kind === 'state' || e.kind === 'doorbell' || (e.kind === 'mmio.write' && e.space === 'mic0.bar4'),
    () => (rc = hostCommandResult(m, 0, 'suspend')),
  );
  assert.equal(rc, 0);
  assert.deepEqual(stateDetails(ev), ['suspended']);
  assert.deepEqual(
    ev.filter((e) => e.kind !== 'state'),
    [],
    'no register write, no doorbell',
  );
  assert.equal(m.mpssd[0].bootOnResume, false);
  // A suspended card refuses boot; resume makes it offline and mpssd does not boot it.
  assert.equal(hostCommandResult(m, 0, 'boot'), -E.EINVAL);
  const ev2 = recordEvents(
    m,
    (e) => e.kind === 'state',
    () => (rc = hostCommandResult(m, 0, 'resume')),
  );
  assert.equal(rc, 0);
  assert.deepEqual(stateDetails(ev2), ['offline']);
  assert.equal(m.state(0), 'offline');
  // It can be booted by hand afterwards.
  assert.equal(hostCommandResult(m, 0, 'boot'), 0);
  assert.equal(typeLine(t, 'echo up'), `echo up\r\nup\r\n${prompt()}`);
  noInternalErrors(m);
});

test('host PM suspend while the card is shutting down: suspended at once, mpssd finishes the reset, resume leaves it offline', () => {
  const t = bootedMachine();
  const m = t.m;
  m.consoleInput(0, new TextEncoder().encode('poweroff\r'));
  assert.ok(m.runUntil(() => m.state(0) === 'shutting_down'));
  const resets = m.mics[0].resetsDone;
  let doneAt = -1;
  const task = m.hostCommand(0, 'suspend');
  task.onDone = () => (doneAt = m.sched.now);
  const ev = recordEvents(
    m,
    (e) => e.kind === 'state' || (e.kind === 'mmio.write' && e.space === 'mic0.bar4' && e.address === R.RGCR),
    () => m.run(),
  );
  assert.equal(task.result, 0);
  // §4.5: shutting_down → suspended, then the same wait for a completed reset (mpssd's).
  assert.deepEqual(stateDetails(ev), ['suspended', 'hardware reset']);
  const rgcr = ev.filter((e) => e.kind === 'mmio.write');
  assert.deepEqual(
    rgcr.map((e) => [e.initiator, framePath(e.frames).includes('mic_reset_trigger_work')]),
    [['host.driver', true]],
    'one reset, the work mpssd queued with `reset`; the host did not force one',
  );
  assert.equal(m.mics[0].resetsDone, resets + 1);
  assert.ok(doneAt >= rgcr[0].time + SECOND, 'the PM callback waited for the reset');
  assert.equal(m.state(0), 'suspended');
  assert.equal(m.mpssd[0].bootOnResume, false, 'the card was going down anyway');
  assert.equal(hostCommandResult(m, 0, 'resume'), 0);
  m.run();
  assert.equal(m.state(0), 'offline', 'nothing boots it again');
  assert.deepEqual(m.spine.protocolErrors, []);
  noInternalErrors(m);
});

test('host PM resume of a card that is not suspended does nothing', () => {
  const t = bootedMachine();
  const m = t.m;
  let rc: unknown;
  const ev = recordEvents(
    m,
    () => true,
    () => (rc = hostCommandResult(m, 0, 'resume')),
  );
  assert.equal(rc, 0);
  assert.deepEqual(
    ev.filter((e) => e.kind !== 'input'),
    [],
    'no bus access, no state change',
  );
  assert.equal(m.state(0), 'online');
  assert.equal(typeLine(t, 'echo still'), `echo still\r\nstill\r\n${prompt()}`);
  noInternalErrors(m);
});

test('host PM suspend of a card that does not answer: after 60 s the host forces suspended and a reset', () => {
  const t = bootedMachine();
  const m = t.m;
  const { h2c_shutdown_db: h2cShutdownDb, h2c_config_db: h2cConfigDb } = decodeDevicePage(devicePageBytes(m));
  m.cardOs[0].hang();
  const t0 = m.sched.now;
  let doneAt = -1;
  const ev = recordEvents(
    m,
    (e) =>
      e.kind === 'state' ||
      e.kind === 'doorbell' ||
      (e.kind === 'mmio.write' && e.space === 'mic0.bar4' && e.address === R.RGCR) ||
      (e.kind === 'mmio.read' && e.space === 'mic0.bar4' && e.address === R.SPAD(2) && (e.value & 1) === 1),
    () => {
      const task = m.hostCommand(0, 'suspend');
      task.onDone = () => (doneAt = m.sched.now);
      m.run();
    },
  );
  // mpssd asked (shutdown_card, h2c_shutdown_db) but the card never reported a status. After
  // 60 s mpssd kills its child anyway: the hung card never cleared h2c_config_db, so every
  // device's hot remove rings it and waits 100 × 100 ms for a guest_ack that never comes (L7).
  assert.deepEqual(
    ev.filter((e) => e.kind === 'doorbell' && /^(host\.mpssd|host\.driver|mic0\.cpu)$/.test(e.initiator)),
    ev.filter(
      (e) =>
        e.kind === 'doorbell' &&
        (e.detail === `h2c ${h2cShutdownDb}` ||
          (e.detail === `h2c ${h2cConfigDb}` && framePath(e.frames).includes('mpssd.kill_child'))),
    ),
    'mpssd rings h2c_shutdown_db, then h2c_config_db per hot remove; the card rings nothing',
  );
  assert.deepEqual(
    ev.filter((e) => e.kind === 'doorbell' && e.detail === `h2c ${h2cShutdownDb}`).map((e) => e.initiator),
    ['host.mpssd'],
  );
  // (The host's forced reset re-initialises the bootparam meanwhile: later removes see −1.)
  assert.ok(
    ev.some((e) => e.kind === 'doorbell' && e.detail === `h2c ${h2cConfigDb}`),
    'a hot-remove request',
  );
  assert.equal(m.mics[0].shutdownStatus, 0);
  const forced = m.host.log.find((l) => /suspend: no completed reset within 60 s, forcing one/.test(l.text));
  assert.ok(forced, 'the host says it forces the reset');
  assert.ok(
    forced.time - t0 >= 60 * SECOND && forced.time - t0 < 61 * SECOND,
    `${(forced.time - t0) / SECOND} s`,
  );
  const rgcr = ev.filter((e) => e.kind === 'mmio.write');
  assert.ok(rgcr.length >= 1);
  assert.ok(
    rgcr.every((e) => e.time - t0 >= 60 * SECOND),
    'no reset before the 60 s are up',
  );
  assert.ok(
    rgcr.some((e) => e.initiator === 'host.driver' && framePath(e.frames).includes('mic_suspend')),
    'the PM path resets the card itself',
  );
  // Resets are serialised (mic_mutex): each completes (SPAD2 ready) before the next one starts.
  const resets = ev.filter((e) => e.kind === 'mmio.write' || e.kind === 'mmio.read');
  for (let i = 1; i < rgcr.length; i++) {
    const k = resets.indexOf(rgcr[i]);
    assert.equal(resets[k - 1].kind, 'mmio.read', `reset ${i + 1} starts while reset ${i} is still running`);
  }
  assert.equal(m.state(0), 'suspended');
  assert.ok(doneAt > forced.time, 'the PM callback returns after the forced reset');
  assert.equal(m.cards[0].reg(R.SPAD(2)) & 1, 1, 'firmware ready again');
  // Resume: the card boots again and answers.
  assert.equal(hostCommandResult(m, 0, 'resume'), 0);
  assert.equal(m.state(0), 'online');
  assert.equal(typeLine(t, 'echo x'), `echo x\r\nx\r\n${prompt()}`);
  noInternalErrors(m);
});

// ---- card-initiated shutdown and panic (§4.4 steps 5–6, §4.7, §9 #25) --------------------------

for (const [cmd, status, name] of [
  ['halt', 2, 'halted'],
  ['poweroff', 3, 'poweroff'],
] as const) {
  test(`card ${cmd}: shutdown_status ${status} (${name}) through c2h_shutdown_db, mpssd resets it to offline and does not boot it`, () => {
    const t = bootedMachine();
    const m = t.m;
    const before = decodeDevicePage(devicePageBytes(m));
    let out = '';
    const ev = recordEvents(m, lifecycle(m), () => (out = typeLine(t, cmd)));
    assert.equal(out, `${cmd}\r\n\r\nThe system is going down NOW!\r\n`);
    // Card: devices removed, status, ring, then h2c_shutdown_db = −1 (§4.4 step 6).
    const st = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_status, 'mic0.cpu'));
    assert.equal(ev[st].value, status);
    const ring = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'mic0.cpu', st);
    assert.equal(ev[ring].detail, `c2h ${before.c2h_shutdown_db}`);
    indexOf(ev, bootparamWrite(m, BOOTPARAM.h2c_shutdown_db, 'mic0.cpu', 0xff), ring);
    const consoleCtrl = consoleVdev(m).layout.ctrl;
    const forced = ev.findIndex(
      (e) =>
        e.initiator === 'mic0.cpu' &&
        dpOff(m, e) === consoleCtrl + DEVICE_CTRL.config_change &&
        e.value === 1,
    );
    assert.ok(forced >= 0 && forced < st, 'the card removed its devices first (config_change forced to 1)');
    // Host: shutting_down, reset, offline; nothing restarts the card.
    assert.deepEqual(stateDetails(ev), ['shutting_down', 'hardware reset', 'offline']);
    assert.ok(m.host.log.some((l) => l.text === `mic0: card reports shutdown_status ${name}`));
    assert.ok(m.host.log.some((l) => l.text === `mpssd: mic0: shutdown status ${name}`));
    assert.equal(m.state(0), 'offline');
    assert.equal(m.mpssd[0].stoppedOnPurpose, true);
    m.run();
    assert.equal(m.state(0), 'offline');
    assert.equal(m.cardOs[0].state, 'firmware');
    assert.equal(typeLine(t, 'echo nobody'), '', 'nobody answers');
    assert.deepEqual(m.spine.protocolErrors, []);
    noInternalErrors(m);
  });
}

test('card reboot: shutdown_status 4 (restart), mpssd resets and boots it again, the console answers', () => {
  const t = bootedMachine();
  const m = t.m;
  let out = '';
  const ev = recordEvents(m, lifecycle(m), () => (out = typeLine(t, 'reboot')));
  const st = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_status, 'mic0.cpu'));
  assert.equal(ev[st].value, 4);
  assert.deepEqual(stateDetails(ev), ['shutting_down', 'hardware reset', 'offline', 'online']);
  const online = ev.find((e) => e.kind === 'state' && e.detail === 'online')!;
  assert.equal(online.initiator, 'host.mpssd');
  assert.ok(m.host.log.some((l) => l.text === 'mpssd: mic0: restarting the card'));
  assert.equal(m.mpssd[0].stoppedOnPurpose, false);
  assert.ok(out.startsWith('reboot\r\n\r\nThe system is going down NOW!\r\n'));
  assert.ok(out.endsWith(prompt()), 'a fresh prompt from the new kernel');
  assert.equal(typeLine(t, 'echo again'), `echo again\r\nagain\r\n${prompt()}`);
  noInternalErrors(m);
});

test('card panic: console shows the panic, doorbells −1, shutdown_status crashed, c2h_shutdown_db rung; mpssd resets to offline', () => {
  const t = bootedMachine();
  const m = t.m;
  const before = decodeDevicePage(devicePageBytes(m));
  const seen: ReturnType<typeof decodeDevicePage>[] = [];
  let out = '';
  const ev = recordEvents(
    m,
    (e) => {
      // The device page as the card left it, the moment its doorbell reaches the host.
      if (e.kind === 'doorbell' && e.initiator === 'mic0.cpu' && e.detail === `c2h ${before.c2h_shutdown_db}`)
        seen.push(decodeDevicePage(devicePageBytes(m)));
      return lifecycle(m)(e);
    },
    () => (out = typeLine(t, 'panic')),
  );
  assert.equal(out, 'panic\r\n\r\nKernel panic - not syncing: sysrq triggered crash\r\n');
  assert.match(m.cardOs[0].dmesg(), /Kernel panic - not syncing: sysrq triggered crash/);
  assert.equal(seen.length, 1, 'the card rang c2h_shutdown_db once');
  const p = seen[0];
  assert.equal(p.h2c_config_db, -1);
  assert.equal(p.h2c_shutdown_db, -1);
  assert.equal(p.shutdown_status, 1, 'crashed');
  // Order on the bus (§4.4 step 5): both doorbell fields 0xff, status 1, then the ring.
  const card = ev.filter((e) => e.initiator === 'mic0.cpu' && (dpWrite(m)(e) || e.kind === 'doorbell'));
  const tail = card.slice(-4).map((e) => show(m, e));
  assert.deepEqual(tail, [
    `mic0.cpu dp+0x${BOOTPARAM.h2c_config_db.toString(16)}=255`,
    `mic0.cpu dp+0x${BOOTPARAM.h2c_shutdown_db.toString(16)}=255`,
    `mic0.cpu dp+0x${BOOTPARAM.shutdown_status.toString(16)}=1`,
    `mic0.cpu doorbell c2h ${before.c2h_shutdown_db}`,
  ]);
  // Host: a 'crashed' state event, then shutting_down; mpssd resets; the card stays down.
  assert.deepEqual(stateDetails(ev), ['crashed', 'shutting_down', 'hardware reset', 'offline']);
  const crashed = ev.find((e) => e.kind === 'state' && e.detail === 'crashed')!;
  assert.equal(crashed.value, 1);
  assert.ok(m.host.log.some((l) => l.text === 'mic0: card reports shutdown_status crashed'));
  assert.equal(m.state(0), 'offline');
  assert.equal(m.mpssd[0].stoppedOnPurpose, true);
  assert.equal(typeLine(t, 'echo dead'), '');
  noInternalErrors(m);

  // A host `boot` brings the card back with a working console.
  assert.equal(hostCommandResult(m, 0, 'boot'), 0);
  assert.equal(m.state(0), 'online');
  assert.ok(t.take().endsWith(prompt()));
  assert.equal(typeLine(t, 'echo back'), `echo back\r\nback\r\n${prompt()}`);
  assert.deepEqual(m.spine.protocolErrors, []);
  noInternalErrors(m);
});

test('config change after a panic (h2c_config_db −1) is -EIO and rings nothing', () => {
  const t = bootedMachine();
  const m = t.m;
  m.cardOs[0].panic('test');
  assert.ok(m.runUntil(() => m.state(0) === 'shutting_down'));
  assert.equal(decodeDevicePage(devicePageBytes(m)).h2c_config_db, -1);
  const vdev = consoleVdev(m);
  let rc = 0;
  const ev = recordEvents(
    m,
    (e) => e.initiator === 'host.test' && (e.kind === 'doorbell' || e.kind === 'mem.write'),
    () => (rc = runRoutine(m, 'host.test', m.mics[0].vop.configChange(vdev, new Uint8Array(12).fill(9)))),
  );
  assert.equal(rc, -E.EIO);
  assert.deepEqual(ev, [], 'no config bytes, no config_change, no doorbell');
  noInternalErrors(m);
});

// ---- host shutdown (§4.5 write `shutdown`) and a card that stops answering -------------------

test('host shutdown through the facade: 0, shutting_down, shutdown_card 1, card powers off, offline; again when offline: 0, ignored', () => {
  const t = bootedMachine();
  const m = t.m;
  let rc: unknown;
  const ev = recordEvents(m, lifecycle(m), () => (rc = hostCommandResult(m, 0, 'shutdown')));
  assert.equal(rc, 0);
  const req = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_card, 'host.driver', 1));
  const sd = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'shutting_down', req);
  const st = indexOf(ev, bootparamWrite(m, BOOTPARAM.shutdown_status, 'mic0.cpu'), sd);
  assert.equal(ev[st].value, 3, 'the card powers off');
  assert.deepEqual(stateDetails(ev), ['shutting_down', 'hardware reset', 'offline']);
  assert.equal(m.state(0), 'offline');
  const ev2 = recordEvents(m, lifecycle(m), () => (rc = hostCommandResult(m, 0, 'shutdown')));
  assert.equal(rc, 0);
  assert.deepEqual(ev2, [], 'silently ignored');
  assert.equal(m.state(0), 'offline');
  noInternalErrors(m);
});

test('host shutdown of a card that does not answer: mpssd waits 60 s for shutdown_status, then resets anyway', () => {
  const t = bootedMachine();
  const m = t.m;
  m.cardOs[0].hang();
  const t0 = m.sched.now;
  const ev = recordEvents(m, lifecycle(m), () => assert.equal(hostCommandResult(m, 0, 'shutdown'), 0));
  assert.deepEqual(stateDetails(ev), ['shutting_down', 'hardware reset', 'offline']);
  const sd = ev.find((e) => e.kind === 'state' && e.detail === 'shutting_down')!;
  const reset = ev.find((e) => e.kind === 'state' && e.detail === 'hardware reset')!;
  assert.equal(reset.initiator, 'host.driver', 'the reset work mpssd queued');
  // 60 s for shutdown_status, then the hot removes of the child's devices: the card never
  // cleared h2c_config_db, so each waits 100 × 100 ms for guest_ack (L7).
  const devices = m.mpssd[0].backends.length;
  const waited = reset.time - sd.time;
  assert.ok(
    waited >= (60 + 10 * devices) * SECOND && waited < (60.5 + 10 * devices) * SECOND,
    `mpssd waited ${waited / SECOND} s`,
  );
  assert.ok(sd.time - t0 < SECOND);
  assert.deepEqual(
    ev.filter((e) => e.initiator === 'mic0.cpu'),
    [],
    'the card never wrote or rang anything',
  );
  assert.ok(m.host.log.some((l) => l.text === 'mpssd: mic0: shutdown status nop'));
  assert.equal(m.state(0), 'offline');
  assert.equal(m.mpssd[0].stoppedOnPurpose, true);
  // The reset brought the firmware back; a boot works.
  assert.equal(hostCommandResult(m, 0, 'boot'), 0);
  assert.equal(typeLine(t, 'echo x'), `echo x\r\nx\r\n${prompt()}`);
  noInternalErrors(m);
});

// ---- config change (§5.5, §6.2 CONFIG_CHANGE, §9 #10) -----------------------------------------

test('config change: new bytes in config space, config_change 2, h2c_config_db rung, card sets guest_ack 1, host clears both, 0', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const page0 = decodeDevicePage(devicePageBytes(m));
  const cfg = new Uint8Array([80, 0, 25, 0, 1, 0, 0, 0, 0, 0, 0, 0]); // cols 80, rows 25, 1 port
  let rc = -1;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || dpWrite(m)(e),
    () => (rc = runRoutine(m, 'host.mpssd', m.mics[0].vop.configChange(vdev, cfg))),
  );
  assert.equal(rc, 0);
  const page = decodeDevicePage(devicePageBytes(m));
  const dev = page.devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.deepEqual(dev.config, [...cfg]);
  assert.equal(dev.ctrl.config_change, 0);
  assert.equal(dev.ctrl.guest_ack, 0);
  assert.equal(dev.status, 0x07, 'the device stays DRIVER_OK');
  // The handshake on the bus, in order.
  const ctrl = (f: number) => ctrlWrite(m, vdev, f);
  const cfgWrite = indexOf(ev, (e) => dpOff(m, e) === vdev.layout.config && e.initiator === 'host.mpssd');
  assert.equal(ev[cfgWrite].size, 12);
  const cc2 = indexOf(ev, (e) => ctrl(DEVICE_CTRL.config_change)(e) && e.value === 2, cfgWrite);
  const ring = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd', cc2);
  assert.equal(ev[ring].detail, `h2c ${page0.h2c_config_db}`);
  const ack = indexOf(ev, (e) => ctrl(DEVICE_CTRL.guest_ack)(e) && e.initiator === 'mic0.cpu', ring);
  assert.equal(ev[ack].value, 1);
  assert.ok(framePath(ev[ack].frames).includes('mic_scan_devices'), 'the card scan answers');
  const cc0 = indexOf(ev, (e) => ctrl(DEVICE_CTRL.config_change)(e) && e.value === 0, ack);
  const ack0 = indexOf(ev, (e) => ctrl(DEVICE_CTRL.guest_ack)(e) && e.value === 0, cc0);
  assert.equal(ev[cc0].initiator, 'host.mpssd');
  assert.equal(ev[ack0].initiator, 'host.mpssd');
  assert.deepEqual(
    ev.filter((e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd').map((e) => e.detail),
    [`h2c ${page0.h2c_config_db}`],
    'one doorbell only',
  );
  assert.deepEqual(vdev.desc.config, cfg, "the host's copy follows");
  assert.deepEqual(m.spine.protocolErrors, []);
  assert.equal(typeLine(t, 'echo x'), `echo x\r\nx\r\n${prompt()}`);
  noInternalErrors(m);
});

test('config change the card never acknowledges: the host gives up after 100 × 100 ms (rule 10) and returns 0', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  m.cardOs[0].hang();
  const cfg = new Uint8Array(12).fill(0x42);
  let rc = -1;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || (ctrlWrite(m, vdev, DEVICE_CTRL.config_change)(e) && e.value === 0),
    () => (rc = runRoutine(m, 'host.mpssd', m.mics[0].vop.configChange(vdev, cfg))),
  );
  assert.equal(rc, 0, 'Gen-1 returns 0 even after the time-out');
  const ring = ev.find((e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd')!;
  const clear = ev.find((e) => e.kind === 'mem.write')!;
  const waited = clear.time - ring.time;
  assert.ok(waited >= 10 * SECOND && waited < 10.2 * SECOND, `waited ${waited / SECOND} s`);
  assert.equal(m.spine.protocolErrors.length, 1);
  const e = m.spine.protocolErrors[0];
  assert.equal(e.rule, 10);
  assert.equal(e.where, 'mic0');
  assert.match(e.message, /^mic0 virtio-console: the card never set guest_ack for a config change/);
  assert.match(e.message, /100 × 100 ms/);
  const dev = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.deepEqual(dev.config, [...cfg], 'the new bytes are in place anyway');
  assert.equal(dev.ctrl.config_change, 0);
  assert.equal(dev.ctrl.guest_ack, 0);
  noInternalErrors(m);
});

// ---- device reset (§5.5: vdev_reset / host_ack, §9 #9) ----------------------------------------

test('card device reset: host_ack 0, vdev_reset 1, c2h_vdev_db; the host bottom half answers: status 0, vdev_reset 0, host_ack 1, info.avail_idx 0', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const cv = cardConsole(m);
  for (const vr of vdev.vrings) assert.equal(vr.infoHost - vr.blockHost, 0x1406);
  const tx = vdev.vrings[1];
  assert.ok(m.hostRam.read16(tx.infoHost) > 0, 'the transmit queue has been used');
  const ctrl = vdev.layout.ctrl;
  const ev = recordEvents(
    m,
    (e) =>
      e.kind === 'doorbell' ||
      dpWrite(m)(e) ||
      (e.kind === 'mem.read' &&
        dpOff(m, e) === ctrl + DEVICE_CTRL.vdev_reset &&
        e.initiator === 'host.driver') ||
      (e.kind === 'mem.write' && vdev.vrings.some((vr) => e.space === 'host' && e.address === vr.infoHost)),
    () => runRoutine(m, 'mic0.cpu', cv.reset()),
  );
  const seen = ev.map((e) =>
    e.kind === 'mem.read'
      ? `${e.initiator} read vdev_reset=${e.value}`
      : vdev.vrings.some((vr) => e.address === vr.infoHost)
        ? `${e.initiator} info.avail_idx=${e.value}`
        : show(m, e),
  );
  const rel = (f: number) => `0x${(ctrl + f).toString(16)}`;
  const status = `0x${(vdev.dpOffset + DEVICE_DESC.status).toString(16)}`;
  assert.deepEqual(seen, [
    `mic0.cpu dp+${rel(DEVICE_CTRL.host_ack)}=0`,
    `mic0.cpu dp+${rel(DEVICE_CTRL.vdev_reset)}=1`,
    `mic0.cpu doorbell c2h ${vdev.c2hDb}`,
    'host.driver read vdev_reset=1',
    `host.driver dp+${status}=0`,
    `host.driver dp+${rel(DEVICE_CTRL.vdev_reset)}=0`,
    `host.driver dp+${rel(DEVICE_CTRL.host_ack)}=1`,
    'host.driver info.avail_idx=0',
    'host.driver info.avail_idx=0',
    `mic0.cpu dp+${status}=0`,
  ]);
  const bh = ev.find((e) => e.kind === 'mem.read')!;
  assert.ok(framePath(bh.frames).includes('mic_virtio_bh'), 'seen by the bottom half');
  const dev = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.equal(dev.status, 0);
  assert.equal(dev.ctrl.vdev_reset, 0);
  assert.equal(dev.ctrl.host_ack, 1);
  for (const vr of vdev.vrings) {
    assert.equal(m.hostRam.read16(vr.infoHost), 0);
    assert.deepEqual([vr.lastAvailIdx, vr.lastUsedIdx, vr.completed, vr.chain], [0, 0, 0, null]);
  }
  // No time-out: the card went on right after host_ack.
  assert.ok(ev[ev.length - 1].time - ev[0].time < 200_000_000);
  assert.deepEqual(m.spine.protocolErrors, []);
  // Data copies are refused while status is 0 (§5.6).
  const buf = new Uint8Array(16);
  assert.equal(
    runRoutine(m, 'host.mpssd', m.mics[0].vop.copyDesc(vdev, [{ buf, len: 16 }], 1, true)),
    -E.ENODEV,
  );
  noInternalErrors(m);
});

test('card device reset the host never answers: the card proceeds after 100 × 100 ms (rule 9) and forces status 0', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const vop = m.mics[0].vop;
  // A host whose bottom half does nothing at all.
  // eslint-disable-next-line require-yield
  vop.bottomHalf = function* (): Routine {
    return;
  };
  const ctrl = vdev.layout.ctrl;
  const statusAt = vdev.dpOffset + DEVICE_DESC.status;
  const ev = recordEvents(
    m,
    (e) => dpWrite(m)(e) && e.initiator === 'mic0.cpu',
    () => runRoutine(m, 'mic0.cpu', cardConsole(m).reset()),
  );
  const resetAt = ev.find((e) => dpOff(m, e) === ctrl + DEVICE_CTRL.vdev_reset && e.value === 1)!;
  const forced = ev.find((e) => dpOff(m, e) === statusAt)!;
  assert.equal(forced.value, 0);
  const waited = forced.time - resetAt.time;
  assert.ok(waited >= 10 * SECOND && waited < 10.2 * SECOND, `the card waited ${waited / SECOND} s`);
  assert.equal(m.spine.protocolErrors.length, 1);
  const e = m.spine.protocolErrors[0];
  assert.equal(e.rule, 9);
  assert.match(e.message, /^mic0 virtio-console: the host never set host_ack after vdev_reset/);
  assert.match(e.message, /forces status = 0/);
  const dev = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.equal(dev.status, 0);
  assert.equal(dev.ctrl.vdev_reset, 1, 'nobody cleared it');
  assert.equal(dev.ctrl.host_ack, 0);
  noInternalErrors(m);
});

// ---- hot remove and re-add (§5.5 hot remove, device add, §6.1 close()) -------------------------

test('hot remove of the console: config_change 1, card removes it and acks, type −1, doorbell IRQ and rings freed; COPY_DESC -ENODEV', () => {
  const t = bootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  const vdev = consoleVdev(m);
  const page0 = decodeDevicePage(devicePageBytes(m));
  const entry0 = page0.devices.find((d) => d.offset === vdev.dpOffset)!;
  const req = dev.intr.requests.find((r) => r.name === `virtio-console-${vdev.dpOffset}`);
  assert.ok(req, 'the console has its doorbell IRQ');
  assert.equal(req.sourceBit, vdev.c2hDb);
  assert.notEqual(m.cards[0].reg(R.MXAR(req.vector)) & (1 << vdev.c2hDb), 0);
  const ramBefore = m.host.alloc.bytesInUse;
  const smptBefore = dev.smpt.entries[0].refCount;
  const cardDb = cardConsole(m).h2cDb;
  const cardDbUse = m.cardOs[0].driver!.dbUsage[cardDb];

  const ctrl = vdev.layout.ctrl;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || dpWrite(m)(e),
    () => runRoutine(m, 'host.mpssd', dev.vop.removeDevice(vdev)),
  );
  const at = (off: number, initiator: string, value: number, from = 0) =>
    indexOf(
      ev,
      (e) => dpOff(m, e) === off && e.initiator === initiator && e.value === value,
      from,
      `${initiator} dp+0x${off.toString(16)}=${value}`,
    );
  const cc = at(ctrl + DEVICE_CTRL.config_change, 'host.mpssd', 1);
  const ring = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd', cc);
  assert.equal(ev[ring].detail, `h2c ${page0.h2c_config_db}`);
  // The card: it was DRIVER_OK, so it resets the device first (vdev_reset handshake), then acks.
  const vreset = at(ctrl + DEVICE_CTRL.vdev_reset, 'mic0.cpu', 1, ring);
  const ack = at(ctrl + DEVICE_CTRL.guest_ack, 'mic0.cpu', 1, vreset);
  const cardType = at(vdev.dpOffset + DEVICE_DESC.type, 'mic0.cpu', 0xff, ack);
  const cc0 = at(ctrl + DEVICE_CTRL.config_change, 'host.mpssd', 0, cardType);
  const ack0 = at(ctrl + DEVICE_CTRL.guest_ack, 'host.mpssd', 0, cc0);
  at(vdev.dpOffset + DEVICE_DESC.type, 'host.mpssd', 0xff, ack0);

  // The entry: type −1 (0xff) with its size fields kept, so the walker skips it.
  const bytes = devicePageBytes(m);
  assert.equal(bytes[vdev.dpOffset + DEVICE_DESC.type], 0xff);
  const page = decodeDevicePage(bytes);
  const entry = page.devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.equal(entry.type, -1);
  assert.deepEqual(
    [entry.num_vq, entry.feature_len, entry.config_len],
    [entry0.num_vq, entry0.feature_len, entry0.config_len],
  );
  assert.equal(page.devices.length, page0.devices.length, 'the entries after it are still found');
  // Host resources: the doorbell IRQ (MXAR bit cleared), the ring blocks and bounce buffers.
  assert.equal(vdev.removed, true);
  assert.ok(!dev.vop.vdevs.includes(vdev));
  assert.equal(
    dev.intr.requests.find((r) => r.name === req.name),
    undefined,
  );
  assert.equal(m.cards[0].reg(R.MXAR(req.vector)) & (1 << vdev.c2hDb), 0);
  const freed = 2 * (micRingBlockSize(128) + VOP_BOUNCE_SIZE);
  assert.equal(ramBefore - m.host.alloc.bytesInUse, freed);
  assert.equal(smptBefore - dev.smpt.entries[0].refCount, freed);
  // Card resources: its device and its h2c_vdev_db.
  assert.equal(m.cardOs[0].driver!.consoleDevice(), undefined);
  assert.equal(m.cardOs[0].driver!.dbUsage[cardDb], cardDbUse - 1);
  assert.deepEqual(m.spine.protocolErrors, []);

  // The removed device: COPY_DESC is -ENODEV (§9 #11), config change -EIO (type −1).
  const buf = new Uint8Array(8);
  assert.equal(runRoutine(m, 'host.mpssd', dev.vop.copyDesc(vdev, [{ buf, len: 8 }], 1, true)), -E.ENODEV);
  assert.equal(runRoutine(m, 'host.mpssd', dev.vop.configChange(vdev, new Uint8Array(12))), -E.EIO);
  // Removing it again does nothing.
  const again = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || dpWrite(m)(e),
    () => runRoutine(m, 'host.mpssd', dev.vop.removeDevice(vdev)),
  );
  assert.deepEqual(again, []);
  assert.equal(typeLine(t, 'echo gone'), '', 'no console any more');
  noInternalErrors(m);
});

test('console re-added after a hot remove: same dp offset, the card finds it through the config doorbell, new prompt, typing works', () => {
  const t = bootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  const old = consoleVdev(m);
  const configDb = decodeDevicePage(devicePageBytes(m)).h2c_config_db;
  runRoutine(m, 'host.mpssd', dev.vop.removeDevice(old));
  t.take();
  let rc = -1;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || dpWrite(m)(e),
    () => (rc = runRoutine(m, 'host.mpssd', m.mpssd[0].addBackend(m.mpssd[0].console))),
  );
  assert.equal(rc, 0);
  const vdev = consoleVdev(m);
  assert.notEqual(vdev, old);
  assert.equal(vdev.dpOffset, old.dpOffset, 'the removed slot is reused');
  // Host publishes type last, then rings h2c_config_db; the card's scan discovers the device.
  const type = indexOf(
    ev,
    (e) => dpOff(m, e) === vdev.dpOffset && e.initiator === 'host.mpssd' && e.value === 3,
  );
  const ring = indexOf(ev, (e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd', type);
  assert.equal(ev[ring].detail, `h2c ${configDb}`);
  const h2c = indexOf(
    ev,
    (e) => dpOff(m, e) === vdev.layout.ctrl + DEVICE_CTRL.h2c_vdev_db && e.initiator === 'mic0.cpu',
    ring,
  );
  assert.ok(framePath(ev[h2c].frames).includes('mic_scan_devices'));
  const entry = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === vdev.dpOffset)!;
  assert.equal(entry.type, VIRTIO_ID_CONSOLE);
  assert.equal(entry.status, 0x07, 'DRIVER_OK again');
  assert.equal(entry.ctrl.h2c_vdev_db, ev[h2c].value);
  assert.equal(entry.ctrl.c2h_vdev_db, vdev.c2hDb);
  // A new shell on the new hvc0.
  assert.equal(
    t.take(),
    '\r\nIntel(R) Xeon Phi(TM) coprocessor mic0\r\nKernel 3.13.0-mic on an k1om (hvc0)\r\n\r\n' + prompt(),
  );
  assert.equal(typeLine(t, 'echo again'), `echo again\r\nagain\r\n${prompt()}`);
  // One hvc writer for the one console, and long output still flows without ring errors.
  assert.equal(hvcWriters(m), 1);
  const out = typeLine(t, 'cat /proc/cpuinfo');
  assert.ok(out.length > 100_000 && out.endsWith(prompt()));
  assert.deepEqual(m.spine.protocolErrors, []);
  // And it can go through the cycle again.
  runRoutine(m, 'host.mpssd', dev.vop.removeDevice(vdev));
  assert.equal(runRoutine(m, 'host.mpssd', m.mpssd[0].addBackend(m.mpssd[0].console)), 0);
  assert.equal(consoleVdev(m).dpOffset, old.dpOffset);
  assert.equal(hvcWriters(m), 1);
  t.take();
  assert.equal(typeLine(t, 'echo third'), `echo third\r\nthird\r\n${prompt()}`);
  assert.deepEqual(m.spine.protocolErrors, []);
  noInternalErrors(m);
});

test('hot remove while the card does not answer: the host gives up after 100 × 100 ms (rule 10) and frees the device anyway', () => {
  const t = bootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  const vdev = consoleVdev(m);
  m.cardOs[0].hang();
  const ramBefore = m.host.alloc.bytesInUse;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell' || (dpWrite(m)(e) && dpOff(m, e) === vdev.dpOffset),
    () => runRoutine(m, 'host.mpssd', dev.vop.removeDevice(vdev)),
  );
  const ring = ev.find((e) => e.kind === 'doorbell' && e.initiator === 'host.mpssd')!;
  const typeGone = ev.find((e) => e.kind === 'mem.write')!;
  assert.equal(typeGone.value, 0xff);
  assert.equal(typeGone.initiator, 'host.mpssd');
  const waited = typeGone.time - ring.time;
  assert.ok(waited >= 10 * SECOND && waited < 10.2 * SECOND, `waited ${waited / SECOND} s`);
  assert.deepEqual(
    m.spine.protocolErrors.map((e) => e.rule),
    [10],
  );
  assert.match(m.spine.protocolErrors[0].message, /never set guest_ack for a hot remove/);
  assert.equal(vdev.removed, true);
  assert.ok(m.host.alloc.bytesInUse < ramBefore, 'rings freed');
  assert.equal(
    decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === vdev.dpOffset)?.type,
    -1,
  );
  noInternalErrors(m);
});

// ---- several cards -----------------------------------------------------------------------------

test('three cards: each its own device page, doorbells and console; suspending mic1 leaves mic0 and mic2 alone', () => {
  const t: TestMachine = bootedMachine({ cards: 3 });
  const m = t.m;
  const dps = m.mics.map((d) => d.dpHost);
  assert.equal(new Set(dps).size, 3, 'three device pages');
  for (let i = 0; i < 3; i++) {
    const page = decodeDevicePage(devicePageBytes(m, i));
    assert.equal(page.magic, MIC_MAGIC);
    assert.notEqual(page.h2c_shutdown_db, -1);
    assert.notEqual(page.h2c_config_db, -1);
    const c = page.devices.find((d) => d.type === VIRTIO_ID_CONSOLE)!;
    assert.equal(c.status, 0x07);
    // Ring blocks are distinct host memory for each card.
    assert.equal(consoleVdev(m, i).vrings.length, 2);
  }
  const rings = m.mics.flatMap((d) => consoleVdev(m, m.mics.indexOf(d)).vrings.map((vr) => vr.blockHost));
  assert.equal(new Set(rings).size, 6);
  for (let i = 0; i < 3; i++)
    assert.equal(typeLine(t, 'uname -n', i), `uname -n\r\nmic${i}\r\n${prompt(i)}`, `mic${i} answers`);
  // Typing on card 2 shows on card 2 only.
  t.take(0);
  t.take(1);
  assert.equal(typeLine(t, 'echo two', 2), `echo two\r\ntwo\r\n[root@mic2 ~]# `);
  assert.equal(t.take(0), '');
  assert.equal(t.take(1), '');

  // Suspend mic1: nothing on mic0 or mic2 moves.
  const pages = [0, 2].map((i) => devicePageBytes(m, i));
  const ev = recordEvents(
    m,
    () => true,
    () => assert.equal(hostCommandResult(m, 1, 'suspend'), 0),
  );
  assert.deepEqual(stateDetails(ev, 1), ['suspending', 'suspended', 'hardware reset']);
  assert.deepEqual(stateDetails(ev, 0), []);
  assert.deepEqual(stateDetails(ev, 2), []);
  assert.deepEqual(
    ev.filter(
      (e) =>
        /^mic[02]\b/.test(e.space) || /^mic[02]\b/.test(e.initiator) || /^host\.mic[02]\b/.test(e.initiator),
    ),
    [],
    'no access by or to mic0 and mic2',
  );
  assert.deepEqual(devicePageBytes(m, 0), pages[0]);
  assert.deepEqual(devicePageBytes(m, 2), pages[1]);
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['online', 'suspended', 'online'],
  );
  assert.equal(typeLine(t, 'echo zero', 0), `echo zero\r\nzero\r\n${prompt(0)}`);
  assert.equal(typeLine(t, 'echo two', 2), `echo two\r\ntwo\r\n${prompt(2)}`);
  // Resume mic1: it boots again and answers; the others stay online.
  assert.equal(hostCommandResult(m, 1, 'resume'), 0);
  t.take(1);
  assert.equal(typeLine(t, 'echo one', 1), `echo one\r\none\r\n${prompt(1)}`);
  assert.deepEqual(
    m.mics.map((d) => d.state),
    ['online', 'online', 'online'],
  );
  assert.deepEqual(m.spine.protocolErrors, []);
  noInternalErrors(m);
});
