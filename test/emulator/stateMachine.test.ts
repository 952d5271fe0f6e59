// The Gen-1 sysfs state machine (reference §4.5, §4.7, §4.8) and its misuse rows (§9 #21, #23):
// state commands and their return codes, card-initiated poweroff/reboot reported through
// shutdown_status and c2h_shutdown_db, host-initiated shutdown through h2c_shutdown_db.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  bootedMachine,
  devicePageBytes,
  recordEvents,
  typeLine,
  type TestMachine,
} from '../helpers/machine.ts';
import type { Machine } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { framePath } from '../../src/emulator/sim/busEvent.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { BOOTPARAM, decodeDevicePage } from '../../src/emulator/virtio/devicePage.ts';
import { MIC_RESET_POLLS } from '../../src/emulator/hostSoftware/micHost/micDevice.ts';
import { VIRTIO_ID_CONSOLE, VIRTIO_ID_NET } from '../../src/emulator/virtio/virtioIds.ts';

const EINVAL = 22;
const PROMPT = '[root@mic0 ~]# ';

/**
 * `echo CMD > /sys/class/mic/mic0/state` as Machine.hostCommand does it (boot goes through
 * mpssd's `micctrl -b`), but keeping the write's return value. Runs the machine to idle.
 */
function stateWrite(m: Machine, cmd: 'boot' | 'reset' | 'shutdown', card = 0): number {
  let rc: number | undefined;
  const r = cmd === 'boot' ? m.mpssd[card].boot() : m.mics[card].writeState(cmd);
  m.sched.spawn(
    `test sysfs state ${cmd}`,
    'host.driver',
    (function* () {
      rc = yield* r;
    })(),
  );
  m.run();
  assert.notEqual(rc, undefined, `state write ${cmd} finished`);
  return rc!;
}

/** §9 rows the machine recorded since `from` (an index into spine.protocolErrors). */
const rulesSince = (m: Machine, from: number) => m.spine.protocolErrors.slice(from).map((p) => p.rule);

const states = (ev: BusEvent[]) => ev.filter((e) => e.kind === 'state').map((e) => e.detail);

/** Events that change the card or its device page: what a refused command must not cause. */
const sideEffect = (m: Machine) => (e: BusEvent) =>
  e.kind === 'state' ||
  e.kind === 'doorbell' ||
  (e.kind === 'mmio.write' && e.space === 'mic0.bar4' && e.initiator.startsWith('host')) ||
  (e.kind === 'mem.write' &&
    e.space === 'host' &&
    e.address >= m.mics[0].dpHost &&
    e.address < m.mics[0].dpHost + 4096 &&
    e.initiator.startsWith('host'));

function shutdownStatusAtShuttingDown(m: Machine): number[] {
  const seen: number[] = [];
  m.spine.observe((e) => {
    if (e.kind === 'state' && e.detail === 'shutting_down') seen.push(m.mics[0].shutdownStatus);
  });
  return seen;
}

test('boot while online is -EINVAL and changes nothing', () => {
  const t = bootedMachine();
  let rc = 0;
  const pe = t.m.spine.protocolErrors.length;
  const ev = recordEvents(t.m, sideEffect(t.m), () => {
    rc = stateWrite(t.m, 'boot');
  });
  assert.equal(rc, -EINVAL);
  assert.deepEqual(ev, [], 'no register write, no doorbell, no state event');
  assert.deepEqual(rulesSince(t.m, pe), [23], 'flagged as §9 #23');
  assert.equal(t.m.state(0), 'online');
  assert.equal(typeLine(t, 'uname -r'), `uname -r\r\n3.13.0-mic\r\n${PROMPT}`);
  // The same through the facade: the task ends, the state stays.
  const task = t.m.hostCommand(0, 'boot');
  let done = false;
  task.onDone = (_t, err) => {
    assert.equal(err, undefined);
    done = true;
  };
  t.m.run();
  assert.ok(done);
  assert.equal(t.m.state(0), 'online');
  assert.deepEqual(t.m.internalErrors, []);
});

test('K5 reset while offline is accepted (0) and queued; mic_stop does nothing on an offline card', () => {
  const t = bootedMachine();
  typeLine(t, 'poweroff');
  assert.equal(t.m.state(0), 'offline');
  let rc = -1;
  const pe = t.m.spine.protocolErrors.length;
  let work: BusEvent[] = [];
  const ev = recordEvents(t.m, sideEffect(t.m), () => {
    work = recordEvents(
      t.m,
      (e) => framePath(e.frames).includes('mic_reset_trigger_work'),
      () => {
        rc = stateWrite(t.m, 'reset');
      },
    );
  });
  assert.equal(rc, 0, 'Gen-1 mic_sysfs.c has no state check for reset');
  assert.deepEqual(ev, [], 'no RGCR, no bootparam write, no state event');
  assert.deepEqual(work, [], 'the queued work ran mic_stop, which touched nothing');
  assert.deepEqual(rulesSince(t.m, pe), [], 'no protocol error: Linux accepts it');
  assert.equal(t.m.state(0), 'offline');
});

test('shutdown while not online is silently ignored (returns 0, no shutdown_card, no doorbell)', () => {
  const t = bootedMachine();
  typeLine(t, 'poweroff');
  assert.equal(t.m.state(0), 'offline');
  let rc = -1;
  const pe = t.m.spine.protocolErrors.length;
  const ev = recordEvents(t.m, sideEffect(t.m), () => {
    rc = stateWrite(t.m, 'shutdown');
  });
  assert.equal(rc, 0);
  assert.deepEqual(ev, []);
  assert.deepEqual(rulesSince(t.m, pe), [], 'Gen-1: silently ignored');
  assert.equal(t.m.state(0), 'offline');
  assert.equal(decodeDevicePage(devicePageBytes(t.m)).shutdown_card, 0);
});

test('a reset that never sets SPAD2 bit 0 ends in reset_failed after 45 one-second polls', () => {
  const t = bootedMachine();
  t.m.cards[0].resetNeverCompletes = true;
  let rc = -1;
  const ev = recordEvents(
    t.m,
    (e) =>
      e.kind === 'state' ||
      (e.kind === 'mmio.read' && e.address === R.SPAD(2) && e.initiator.startsWith('host')) ||
      (e.kind === 'mmio.write' && e.address === R.RGCR && e.initiator.startsWith('host')),
    () => {
      rc = stateWrite(t.m, 'reset');
    },
  );
  assert.equal(rc, 0, 'the state write itself succeeds; the reset is the work it queues');
  assert.equal(t.m.state(0), 'reset_failed');
  const polls = ev.filter((e) => e.kind === 'mmio.read');
  assert.equal(polls.length, MIC_RESET_POLLS);
  assert.equal(MIC_RESET_POLLS, 45);
  assert.ok(polls.every((e) => (e.value & 1) === 0));
  const rgcr = ev.find((e) => e.kind === 'mmio.write')!;
  assert.equal(polls[0].time - rgcr.time, 1e9);
  for (let i = 1; i < polls.length; i++) assert.equal(polls[i].time - polls[i - 1].time, 1e9);
  assert.deepEqual(states(ev), ['hardware reset', 'reset_failed']);
  const failed = ev.find((e) => e.kind === 'state' && e.detail === 'reset_failed')!;
  assert.equal(failed.value, 3, 'reset_failed is Gen-1 state 3');
  assert.ok(failed.time - rgcr.time >= 45e9);
});

test('boot is refused in reset_failed until a reset succeeds', () => {
  const t = bootedMachine();
  t.m.cards[0].resetNeverCompletes = true;
  stateWrite(t.m, 'reset');
  assert.equal(t.m.state(0), 'reset_failed');
  let rc = 0;
  const pe = t.m.spine.protocolErrors.length;
  const ev = recordEvents(t.m, sideEffect(t.m), () => {
    rc = stateWrite(t.m, 'boot');
  });
  assert.equal(rc, -EINVAL);
  assert.deepEqual(ev, [], 'no download, no kick');
  assert.deepEqual(rulesSince(t.m, pe), [21], 'flagged as §9 #21');
  assert.equal(t.m.state(0), 'reset_failed');
  // A second reset that fails again keeps the card refused.
  stateWrite(t.m, 'reset');
  assert.equal(t.m.state(0), 'reset_failed');
  assert.equal(stateWrite(t.m, 'boot'), -EINVAL);
  // The firmware comes back: reset → offline, then boot → online with a working shell.
  t.m.cards[0].resetNeverCompletes = false;
  const ev2 = recordEvents(
    t.m,
    (e) => e.kind === 'state',
    () => {
      assert.equal(stateWrite(t.m, 'reset'), 0);
      assert.equal(t.m.state(0), 'offline');
      assert.equal(stateWrite(t.m, 'boot'), 0);
    },
  );
  assert.deepEqual(states(ev2), ['hardware reset', 'offline', 'online']);
  assert.equal(t.m.state(0), 'online');
  assert.match(typeLine(t, 'uname -a'), /^uname -a\r\nLinux mic0 3\.13\.0-mic /);
  assert.deepEqual(t.m.internalErrors, []);
});

test('card poweroff: shutdown_status 3 through c2h_shutdown_db, shutting_down, mpssd resets to offline and stops', () => {
  const t = bootedMachine();
  const dp = t.m.mics[0].dpHost;
  const before = decodeDevicePage(devicePageBytes(t.m));
  const seen = shutdownStatusAtShuttingDown(t.m);
  const ev = recordEvents(
    t.m,
    (e) =>
      e.kind === 'state' ||
      e.kind === 'doorbell' ||
      (e.kind === 'mem.write' && e.space === 'host' && e.address >= dp && e.address < dp + BOOTPARAM.SIZE),
    () => {
      const out = typeLine(t, 'poweroff');
      assert.ok(out.startsWith('poweroff\r\n'), JSON.stringify(out));
      assert.ok(!out.endsWith(PROMPT), 'no prompt after poweroff');
    },
  );
  // Card: shutdown_status = 3 (poweroff), ring c2h_shutdown_db, h2c_shutdown_db = −1 (§4.4 step 6).
  const status = ev.findIndex(
    (e) =>
      e.initiator === 'mic0.cpu' && e.kind === 'mem.write' && e.address === dp + BOOTPARAM.shutdown_status,
  );
  assert.ok(status >= 0);
  assert.equal(ev[status].value, 3);
  const ring = ev.findIndex((e, i) => i > status && e.kind === 'doorbell' && e.initiator === 'mic0.cpu');
  assert.ok(ring > status);
  assert.equal(ev[ring].detail, `c2h ${before.c2h_shutdown_db}`);
  assert.equal(ev[ring].address, R.SDBIC(before.c2h_shutdown_db));
  const h2cOff = ev.findIndex(
    (e, i) =>
      i > ring &&
      e.initiator === 'mic0.cpu' &&
      e.kind === 'mem.write' &&
      e.address === dp + BOOTPARAM.h2c_shutdown_db,
  );
  assert.ok(h2cOff > ring);
  assert.equal(ev[h2cOff].value, 0xff);
  // Host: records poweroff, → shutting_down; mpssd resets → offline, and does not boot again.
  assert.deepEqual(seen, [3]);
  assert.deepEqual(states(ev), ['shutting_down', 'hardware reset', 'offline']);
  const sd = ev.find((e) => e.kind === 'state' && e.detail === 'shutting_down')!;
  assert.ok(sd.seq > ev[ring].seq);
  assert.equal(sd.value, 2, 'shutting_down is Gen-1 state 2');
  assert.equal(t.m.state(0), 'offline');
  assert.ok(t.m.mpssd[0].stoppedOnPurpose);
  assert.equal(t.m.mics[0].shutdownStatus, 0, 'the reset sets shutdown_status back to nop');
  const after = decodeDevicePage(devicePageBytes(t.m));
  assert.equal(after.magic, 0xc0ffee00, 'bootparam re-initialised by the reset');
  assert.equal(after.h2c_shutdown_db, -1);
  assert.equal(after.h2c_config_db, -1);
  t.m.run();
  assert.equal(t.m.state(0), 'offline');
  assert.equal(t.m.cardOs[0].state, 'firmware', 'firmware waits for a download that does not come');
  assert.deepEqual(t.m.internalErrors, []);
  assert.deepEqual(t.m.spine.protocolErrors, []);
});

test('card reboot: shutdown_status 4 (restart), mpssd resets and boots again, the shell answers', () => {
  const t = bootedMachine();
  const seen = shutdownStatusAtShuttingDown(t.m);
  let out = '';
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'state',
    () => {
      out = typeLine(t, 'reboot');
    },
  );
  assert.deepEqual(seen, [4]);
  assert.deepEqual(states(ev), ['shutting_down', 'hardware reset', 'offline', 'online']);
  assert.equal(t.m.state(0), 'online');
  assert.equal(t.m.mpssd[0].stoppedOnPurpose, false);
  // The new kernel printed a fresh banner and prompt.
  const afterGoingDown = out.slice(out.indexOf('going down'));
  assert.ok(afterGoingDown.includes('Intel(R) Xeon Phi(TM) coprocessor mic0'), JSON.stringify(out));
  assert.ok(out.endsWith(PROMPT));
  assert.equal(
    typeLine(t, 'uname -a'),
    `uname -a\r\nLinux mic0 3.13.0-mic #1 SMP PREEMPT Thu Jan 1 00:00:00 UTC 2015 k1om GNU/Linux\r\n${PROMPT}`,
  );
  const dp = decodeDevicePage(devicePageBytes(t.m));
  assert.equal(dp.devices[0].status, 0x07, 'console DRIVER_OK again after the reboot');
  assert.deepEqual(t.m.internalErrors, []);
  assert.deepEqual(t.m.spine.protocolErrors, []);
});

test('host shutdown: shutdown_card = 1, h2c_shutdown_db rung, card powers off, mpssd leaves it offline', () => {
  const t = bootedMachine();
  const dp = t.m.mics[0].dpHost;
  const before = decodeDevicePage(devicePageBytes(t.m));
  assert.notEqual(before.h2c_shutdown_db, -1);
  const seen: number[] = [];
  const ev = recordEvents(
    t.m,
    (e) =>
      e.kind === 'state' ||
      e.kind === 'doorbell' ||
      (e.kind === 'mem.write' && e.space === 'host' && e.address >= dp && e.address < dp + BOOTPARAM.SIZE),
    () => {
      t.m.hostCommand(0, 'shutdown');
      // Right after the command the card is asked, not yet down.
      t.m.runUntil(() => t.m.state(0) === 'shutting_down');
      seen.push(decodeDevicePage(devicePageBytes(t.m)).shutdown_card);
      t.m.run();
    },
  );
  assert.deepEqual(seen, [1]);
  const req = ev.findIndex(
    (e) =>
      e.initiator === 'host.driver' && e.kind === 'mem.write' && e.address === dp + BOOTPARAM.shutdown_card,
  );
  assert.ok(req >= 0);
  assert.equal(ev[req].value, 1);
  const ring = ev.findIndex((e, i) => i > req && e.kind === 'doorbell');
  assert.equal(ev[ring].detail, `h2c ${before.h2c_shutdown_db}`);
  assert.equal(ev[ring].initiator, 'host.driver');
  assert.ok(framePath(ev[ring].frames).includes('mic_sysfs_state_store'));
  const status = ev.findIndex(
    (e) =>
      e.initiator === 'mic0.cpu' && e.kind === 'mem.write' && e.address === dp + BOOTPARAM.shutdown_status,
  );
  assert.ok(status > ring, 'the card answers after the doorbell');
  assert.equal(ev[status].value, 3, 'an orderly poweroff');
  assert.deepEqual(states(ev), ['shutting_down', 'hardware reset', 'offline']);
  assert.equal(t.m.state(0), 'offline');
  assert.ok(t.m.mpssd[0].stoppedOnPurpose);
  assert.ok(t.take().includes('The system is going down NOW!'));
  assert.deepEqual(t.m.internalErrors, []);
});

test('reset of an online card → offline; boot brings the console back', () => {
  const t: TestMachine = bootedMachine();
  const entries = (dp: ReturnType<typeof decodeDevicePage>) => dp.devices.map((d) => [d.type, d.offset]);
  const booted = decodeDevicePage(devicePageBytes(t.m));
  assert.deepEqual(
    booted.devices.map((d) => d.type),
    [VIRTIO_ID_CONSOLE, VIRTIO_ID_NET],
  );
  const ev = recordEvents(
    t.m,
    (e) => e.kind === 'state',
    () => {
      assert.equal(stateWrite(t.m, 'reset'), 0);
    },
  );
  assert.deepEqual(states(ev), ['hardware reset', 'offline']);
  const dp = decodeDevicePage(devicePageBytes(t.m));
  assert.deepEqual(entries(dp), entries(booted), 'Gen-1: the entries stay for the next boot');
  for (const d of dp.devices)
    assert.equal(d.status, 0, `the host half of the device reset cleared status (type ${d.type})`);
  assert.equal(stateWrite(t.m, 'boot'), 0);
  assert.equal(t.m.state(0), 'online');
  assert.equal(typeLine(t, 'echo back'), `echo back\r\nback\r\n${PROMPT}`);
  assert.deepEqual(t.m.internalErrors, []);
});
