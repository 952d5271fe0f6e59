// The virtio rows of the Linux audit (../shared/reference/linux-audit.md) the emulator now
// follows, one test per row, named after it: vringh and the VOP data path (G), the card driver
// (J), mpssd (L), and the debugfs files of a session with console, block and net traffic (M4,
// M5). The era is the DMA-era Gen-1 stack of 3.17–3.19 (docs/faithfulness.md).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Machine } from '../../src/emulator/machine.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { framePath } from '../../src/emulator/sim/busEvent.ts';
import {
  BOOTPARAM,
  DEVICE_CTRL,
  DEVICE_DESC,
  MIC_VIRTIO_PARAM_DEV_REMOVE,
  VQCONFIG,
  decodeDevicePage,
} from '../../src/emulator/virtio/devicePage.ts';
import {
  VIRTIO_ID_BLOCK,
  VIRTIO_ID_CONSOLE,
  VIRTIO_ID_NET,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
} from '../../src/emulator/virtio/virtioIds.ts';
import { E } from '../../src/emulator/errno.ts';
import type { HostVdev, HostVring } from '../../src/emulator/hostSoftware/micHost/vop.ts';
import { consoleDeviceImage } from '../../src/emulator/hostSoftware/mpssd/consoleBackend.ts';
import {
  NetBackend,
  cardDefaultIp,
  hostEndpointIp,
} from '../../src/emulator/hostSoftware/mpssd/netBackend.ts';
import { ipToString } from '../../src/emulator/net/wire.ts';
import {
  KERNEL_VIRT_BASE,
  LOG_BUF_LEN,
  LOG_BUF_LEN_VAR_PHYS,
  LOG_BUF_PHYS,
} from '../../src/emulator/cardSoftware/cardOs.ts';
import { dp, vdevInfo } from '../../src/emulator/inspect/debugfs.ts';
import {
  bootedMachine,
  devicePageBytes,
  newMachine,
  recordEvents,
  runRoutine,
  typeLine,
  type TestMachine,
} from '../helpers/machine.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-faithful-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let disks = 0;
const withDisk = () => {
  const disk = { path: path.join(tmpRoot, `d${disks++}.img`), sizeBytes: 2 ** 20, readonly: false };
  return { disk: () => disk };
};

/** GDDR nobody uses while the card is idle (above the card OS heap's early blocks). */
const SPARE = 0x3000_0000;
/** A virtio ID the card has no driver for: the test plays the card's part on it. */
const VIRTIO_ID_OTHER = 5;

function dpOff(m: Machine, e: BusEvent): number {
  const dp = m.mics[0].dpHost;
  return e.space === 'host' && e.address >= dp && e.address < dp + 4096 ? e.address - dp : -1;
}

function indexOf(ev: BusEvent[], pred: (e: BusEvent) => boolean, from = 0): number {
  for (let i = Math.max(0, from); i < ev.length; i++) if (pred(ev[i])) return i;
  return -1;
}

function vdevOf(m: Machine, type: number): HostVdev {
  const v = m.mics[0].vop.vdevs.find((d) => d.desc.type === type);
  assert.ok(v, `device of type ${type}`);
  return v;
}

// ---- a device with no card driver: the test writes its rings -----------------------------------

interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** ADD_DEVICE of a two-queue device the card has no driver for, marked DRIVER_OK by hand. */
function manualDevice(m: Machine, hostFeatures = 0): HostVdev {
  const img = { ...consoleDeviceImage(), type: VIRTIO_ID_OTHER };
  img.hostFeatures = new Uint8Array(4);
  new DataView(img.hostFeatures.buffer).setUint32(0, hostFeatures, true);
  const v = runRoutine(m, 'host.mpssd', m.mics[0].vop.addDevice(img));
  assert.ok(typeof v !== 'number', `ADD_DEVICE: ${String(v)}`);
  m.hostRam.write8(m.mics[0].dpHost + v.dpOffset + DEVICE_DESC.status, 7);
  return v;
}

function descBytes(d: Desc): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(d.addr), true);
  dv.setUint32(8, d.len, true);
  dv.setUint16(12, d.flags, true);
  dv.setUint16(14, d.next, true);
  return b;
}

/** Put descriptors into queue `vr`'s table and make `head` available. */
function offer(m: Machine, vr: HostVring, head: number, descs: Record<number, Desc>): void {
  for (const [i, d] of Object.entries(descs)) m.hostRam.write(vr.addrs.desc + 16 * Number(i), descBytes(d));
  const idx = m.hostRam.read16(vr.addrs.avail + 2);
  m.hostRam.write16(vr.addrs.avail + 4 + 2 * (idx % vr.num), head);
  m.hostRam.write16(vr.addrs.avail + 2, (idx + 1) & 0xffff);
}

/** An indirect table in card memory. */
function table(m: Machine, at: number, descs: Desc[]): void {
  descs.forEach((d, k) => m.cards[0].gddr.write(at + 16 * k, descBytes(d)));
}

function copyDesc(m: Machine, v: HostVdev, q: number, buf: Uint8Array, update = true): number {
  return runRoutine(m, 'host.mpssd', m.mics[0].vop.copyDesc(v, [{ buf, len: buf.length }], q, update));
}

const enc = (s: string) => new TextEncoder().encode(s);

// ---- G: vringh and the VOP data path -------------------------------------------------------------

test('G11 the bottom half switches relocated used rings before it answers a device reset', () => {
  const t = bootedMachine();
  const m = t.m;
  const v = manualDevice(m);
  const dp = m.mics[0].dpHost;
  const l = v.layout;
  for (const vr of v.vrings)
    m.hostRam.write64(
      dp + l.vq + vr.index * VQCONFIG.SIZE + VQCONFIG.used_address,
      SPARE + 0x1000 * vr.index,
    );
  m.hostRam.write8(dp + l.ctrl + DEVICE_CTRL.used_address_updated, 1);
  m.hostRam.write8(dp + l.ctrl + DEVICE_CTRL.vdev_reset, 1);
  const ev = recordEvents(
    m,
    (e) => e.kind === 'mem.read' && dpOff(m, e) >= 0,
    () => runRoutine(m, 'host.driver', m.mics[0].vop.bottomHalf(v)),
  );
  const updated = indexOf(ev, (e) => dpOff(m, e) === l.ctrl + DEVICE_CTRL.used_address_updated);
  const reset = indexOf(ev, (e) => dpOff(m, e) === l.ctrl + DEVICE_CTRL.vdev_reset);
  assert.ok(updated >= 0 && reset > updated, 'mic_bh_handler: init_post first, then the device reset');
  assert.equal(m.hostRam.read8(dp + l.ctrl + DEVICE_CTRL.used_address_updated), 0);
  assert.equal(m.hostRam.read8(dp + l.ctrl + DEVICE_CTRL.vdev_reset), 0);
  assert.equal(m.hostRam.read8(dp + l.ctrl + DEVICE_CTRL.host_ack), 1);
  for (const vr of v.vrings) assert.equal(vr.addrs.used, m.mics[0].bar0 + SPARE + 0x1000 * vr.index);
});

test('G12 a device reset zeroes the vringh indices and keeps the used pointer in GDDR', () => {
  const t = bootedMachine();
  const m = t.m;
  typeLine(t, 'echo before');
  const v = vdevOf(m, VIRTIO_ID_CONSOLE);
  const used = v.vrings.map((vr) => vr.addrs.used);
  assert.ok(v.vrings.every((vr) => vr.usedRelocated && vr.lastAvailIdx > 0));
  runRoutine(m, 'host.driver', m.mics[0].vop.hostResetDevice(v));
  for (const [q, vr] of v.vrings.entries()) {
    assert.deepEqual([vr.lastAvailIdx, vr.lastUsedIdx, vr.completed, vr.chain], [0, 0, 0, null]);
    assert.equal(vr.addrs.used, used[q], 'still the card-relocated ring');
    assert.equal(vr.usedRelocated, true);
    assert.equal(m.hostRam.read16(vr.infoHost), 0, '_mic_vring_info.avail_idx = 0');
  }
});

test('G16 without EVENT_IDX vringh leaves last_used_idx at 0 and counts every completed chain in completed', () => {
  const t = bootedMachine();
  const m = t.m;
  typeLine(t, 'echo counted');
  const v = vdevOf(m, VIRTIO_ID_CONSOLE);
  for (const vr of v.vrings) {
    assert.equal(vr.eventIndices, false, 'mpssd offers no VIRTIO_RING_F_EVENT_IDX');
    assert.equal(vr.lastUsedIdx, 0);
    assert.ok(vr.completed > 0);
    assert.equal(
      m.cards[0].gddr.read16(vr.addrs.used - m.mics[0].bar0 + 2),
      vr.completed,
      'used.idx = completed',
    );
  }
  const tx = v.vrings[1];
  assert.match(
    vdevInfo(m, 0),
    new RegExp(
      `^vrh i 1 weak_barriers 0 last_avail_idx ${tx.lastAvailIdx} last_used_idx 0 completed ${tx.completed}$`,
      'm',
    ),
  );
});

test('G16 with EVENT_IDX offered vringh folds completed into last_used_idx at each need_notify', () => {
  const t = bootedMachine();
  const m = t.m;
  const v = manualDevice(m, 1 << VIRTIO_RING_F_EVENT_IDX);
  const vr = v.vrings[1];
  assert.equal(vr.eventIndices, true);
  m.cards[0].gddr.write(SPARE, enc('one'));
  offer(m, vr, 0, { 0: { addr: SPARE, len: 3, flags: 0, next: 0 } });
  assert.equal(copyDesc(m, v, 1, new Uint8Array(16)), 3);
  assert.deepEqual([vr.lastUsedIdx, vr.completed, vr.usedIdx], [1, 0, 1]);
  assert.equal(m.hostRam.read16(vr.addrs.used + 2), 1);
});

test('G19 vringh follows INDIRECT tables in card memory, readable and writable, and back to the main chain', () => {
  const t = bootedMachine();
  const m = t.m;
  const v = manualDevice(m);
  const gddr = m.cards[0].gddr;
  // card → host: two readable pieces in a table, then the main chain's descriptor 7.
  gddr.write(SPARE + 0x100, enc('hello, '));
  gddr.write(SPARE + 0x205, enc('indirect '));
  gddr.write(SPARE + 0x300, enc('world'));
  table(m, SPARE, [
    { addr: SPARE + 0x100, len: 7, flags: VRING_DESC_F_NEXT, next: 1 },
    { addr: SPARE + 0x205, len: 9, flags: 0, next: 0 },
  ]);
  const tx = v.vrings[1];
  offer(m, tx, 3, {
    3: { addr: SPARE, len: 32, flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, next: 7 },
    7: { addr: SPARE + 0x300, len: 5, flags: 0, next: 0 },
  });
  const buf = new Uint8Array(64);
  const before = v.inBytes;
  assert.equal(copyDesc(m, v, 1, buf), 21);
  assert.equal(new TextDecoder().decode(buf.subarray(0, 21)), 'hello, indirect world');
  assert.equal(m.hostRam.read32(tx.addrs.used + 4), 3, 'used.ring[0].id is the head');
  assert.equal(m.hostRam.read32(tx.addrs.used + 8), 21, 'used.len: every byte consumed');
  // G23: in_bytes counts from the rounded-down source: the piece at +0x205 brings a 5-byte lead.
  assert.equal(v.inBytes - before, 21 + 5);
  // host → card: a table with a readable header and two writable pieces (block-read shape).
  gddr.write(SPARE + 0x400, enc('HDR!'));
  table(m, SPARE + 0x800, [
    { addr: SPARE + 0x400, len: 4, flags: VRING_DESC_F_NEXT, next: 1 },
    { addr: SPARE + 0x440, len: 6, flags: VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, next: 2 },
    { addr: SPARE + 0x480, len: 6, flags: VRING_DESC_F_WRITE, next: 0 },
  ]);
  const rx = v.vrings[0];
  offer(m, rx, 9, { 9: { addr: SPARE + 0x800, len: 48, flags: VRING_DESC_F_INDIRECT, next: 0 } });
  const io = new Uint8Array(16);
  io.set(enc('....data12 rest!'));
  assert.equal(copyDesc(m, v, 0, io), 16);
  assert.equal(new TextDecoder().decode(io.subarray(0, 4)), 'HDR!', 'the header came to the host');
  const got = new Uint8Array(12);
  gddr.read(SPARE + 0x440, got.subarray(0, 6));
  gddr.read(SPARE + 0x480, got.subarray(6));
  assert.equal(new TextDecoder().decode(got), 'data12 rest!', 'the data went into the writable pieces');
  assert.deepEqual(m.spine.protocolErrors, []);
});

test('G19 an INDIRECT inside an indirect table or a table length not a multiple of 16 is -EINVAL', () => {
  const t = bootedMachine();
  const m = t.m;
  const v = manualDevice(m);
  const tx = v.vrings[1];
  table(m, SPARE, [{ addr: SPARE + 0x100, len: 16, flags: VRING_DESC_F_INDIRECT, next: 0 }]);
  offer(m, tx, 0, { 0: { addr: SPARE, len: 16, flags: VRING_DESC_F_INDIRECT, next: 0 } });
  assert.equal(copyDesc(m, v, 1, new Uint8Array(16)), -E.EINVAL);
  assert.match(
    m.spine.protocolErrors[0].message,
    /INDIRECT inside an indirect table \(vringh: "Multilevel indirect", -EINVAL\)/,
  );
  // vringh did not consume the head: it is met again. Make its descriptor a 24-byte table.
  m.hostRam.write(tx.addrs.desc, descBytes({ addr: SPARE, len: 24, flags: VRING_DESC_F_INDIRECT, next: 0 }));
  assert.equal(copyDesc(m, v, 1, new Uint8Array(16)), -E.EINVAL);
  assert.match(
    m.spine.protocolErrors[1].message,
    /INDIRECT with length 24, not a multiple of 16 \(vringh: "Strange indirect len", -EINVAL\)/,
  );
  assert.deepEqual(
    m.spine.protocolErrors.map((e) => e.rule),
    [12, 12],
  );
});

test('G19 the card driver uses indirect tables when the host offers VIRTIO_RING_F_INDIRECT_DESC: a ping both ways', () => {
  const tm = newMachine();
  const m = tm.m;
  const net = m.mpssd[0].backend<NetBackend>('net')!;
  net.extraHostFeatures = 1 << VIRTIO_RING_F_INDIRECT_DESC;
  m.start();
  assert.ok(m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle));
  m.run();
  const v = vdevOf(m, VIRTIO_ID_NET);
  const page = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.type === VIRTIO_ID_NET)!;
  assert.ok(
    page.guest_features[3] & (1 << (VIRTIO_RING_F_INDIRECT_DESC - 24)),
    'the card accepted INDIRECT_DESC',
  );
  const out = typeLine(tm, 'ping -c 2 172.31.0.254');
  assert.match(out, /2 packets transmitted, 2 received, 0% packet loss/);
  for (const vr of v.vrings) {
    const flags = m.hostRam.read16(vr.addrs.desc + 12);
    assert.ok(flags & VRING_DESC_F_INDIRECT, `queue ${vr.index}: chains are indirect`);
    assert.ok(vr.completed > 0);
  }
  assert.ok(v.inBytes > 0 && v.outBytes > 0, 'frames went both ways');
  assert.deepEqual(m.spine.protocolErrors, []);
  // Without the offer (Gen-1 mpssd), every chain is direct.
  const plain = bootedMachine();
  typeLine(plain, 'ping -c 1 172.31.0.254');
  for (const vr of vdevOf(plain.m, VIRTIO_ID_NET).vrings)
    assert.equal(plain.m.hostRam.read16(vr.addrs.desc + 12) & VRING_DESC_F_INDIRECT, 0);
});

test('G23 vdev_info counts card→host bytes as in and host→card bytes as out, for the console and the block device', () => {
  const t = bootedMachine(withDisk());
  const m = t.m;
  const con = vdevOf(m, VIRTIO_ID_CONSOLE);
  const blk = vdevOf(m, VIRTIO_ID_BLOCK);
  const snap = () => [con.inBytes, con.outBytes, blk.inBytes, blk.outBytes];
  let s0 = snap();
  const echoed = typeLine(t, 'echo hello');
  let d = snap().map((x, i) => x - s0[i]);
  assert.equal(d[1], 'echo hello\r'.length, 'typed bytes went to the card: out');
  assert.equal(d[0], echoed.length, 'console output came from the card: in');
  // A block write: header and data come from the card (in), the status byte goes to it (out).
  s0 = snap();
  typeLine(t, 'dd if=pattern:deadbeef of=/dev/vda bs=4096 count=1');
  d = snap().map((x, i) => x - s0[i]);
  assert.deepEqual(d.slice(2), [16 + 4096, 1]);
  // A block read: the header is in; the data and the status byte are out.
  s0 = snap();
  typeLine(t, 'dd if=/dev/vda of=/dev/null bs=4096 count=1');
  d = snap().map((x, i) => x - s0[i]);
  assert.deepEqual(d.slice(2), [16, 4096 + 1]);
  assert.match(
    vdevInfo(m, 0),
    new RegExp(`^VDEV type 2 state UP in ${blk.inBytes} out ${blk.outBytes}$`, 'm'),
  );
  m.dispose();
});

// ---- J: the card driver --------------------------------------------------------------------------

test('J11 an orderly card shutdown sets h2c_config_db = −1 before it removes the devices and reports', () => {
  const t = bootedMachine();
  const m = t.m;
  const con = vdevOf(m, VIRTIO_ID_CONSOLE);
  const card = (e: BusEvent) => e.kind === 'mem.write' && e.initiator === 'mic0.cpu' && dpOff(m, e) >= 0;
  const ev = recordEvents(m, card, () => typeLine(t, 'poweroff'));
  const configDb = indexOf(ev, (e) => dpOff(m, e) === BOOTPARAM.h2c_config_db && e.value === 0xff);
  const remove = indexOf(
    ev,
    (e) =>
      dpOff(m, e) === con.layout.ctrl + DEVICE_CTRL.config_change && e.value === MIC_VIRTIO_PARAM_DEV_REMOVE,
  );
  const status = indexOf(ev, (e) => dpOff(m, e) === BOOTPARAM.shutdown_status);
  assert.ok(configDb >= 0 && configDb < remove && remove < status, `${configDb} ${remove} ${status}`);
  assert.equal(configDb, 0, 'the first thing the card writes to the page');
  // mic_remove_device acknowledges even at shutdown; the entries keep their type.
  assert.ok(ev.some((e) => dpOff(m, e) === con.layout.ctrl + DEVICE_CTRL.guest_ack && e.value === 1));
  assert.ok(!ev.some((e) => dpOff(m, e) === con.dpOffset && e.value === 0xff));
});

// ---- L: mpssd ------------------------------------------------------------------------------------

test('L6 mpssd adds console, net, block: dp offsets 0x10, 0x70, 0xd0, c2h doorbells 1, 2, 3', () => {
  const t = bootedMachine(withDisk());
  const m = t.m;
  const page = decodeDevicePage(devicePageBytes(m));
  assert.deepEqual(
    page.devices.map((d) => [d.type, d.offset, d.ctrl.c2h_vdev_db]),
    [
      [VIRTIO_ID_CONSOLE, 0x10, 1],
      [VIRTIO_ID_NET, 0x70, 2],
      [VIRTIO_ID_BLOCK, 0xd0, 3],
    ],
  );
  assert.deepEqual(
    m.mpssd[0].backends.map((b) => b.kind),
    ['console', 'net', 'block'],
  );
  m.dispose();
});

test('L7 after a card shutdown mpssd hot-removes every device, resets, and adds them back: same slots, new doorbells', () => {
  const t = bootedMachine(withDisk());
  const m = t.m;
  const before = m.mics[0].vop.vdevs.slice();
  const ev = recordEvents(
    m,
    (e) => e.kind === 'state' || (e.kind === 'mem.write' && dpOff(m, e) >= 0 && e.initiator === 'host.mpssd'),
    () => {
      typeLine(t, 'reboot');
      assert.ok(m.runUntil(() => m.cardOs[0].shell !== null && m.sched.idle));
      m.run();
    },
  );
  // The child's devices went away one by one (type −1), before the reset.
  const removed = ev.filter(
    (e) =>
      e.value === 0xff &&
      before.some((v) => dpOff(m, e) === v.dpOffset) &&
      framePath(e.frames).includes('mpssd.kill_child'),
  );
  assert.deepEqual(
    removed.map((e) => dpOff(m, e)),
    [0x10, 0x70, 0xd0],
  );
  const reset = indexOf(ev, (e) => e.kind === 'state' && e.detail === 'hardware reset');
  assert.ok(ev.indexOf(removed[2]) < reset);
  // A new child added them again, in the same slots, each with the next round-robin doorbell.
  const after = m.mics[0].vop.vdevs;
  assert.ok(
    after.every((v) => !before.includes(v)),
    'new devices',
  );
  const page = decodeDevicePage(devicePageBytes(m));
  assert.deepEqual(
    page.devices.map((d) => [d.type, d.offset, d.ctrl.c2h_vdev_db]),
    [
      [VIRTIO_ID_CONSOLE, 0x10, 0],
      [VIRTIO_ID_NET, 0x70, 1],
      [VIRTIO_ID_BLOCK, 0xd0, 2],
    ],
  );
  assert.equal(m.state(0), 'online');
  assert.match(typeLine(t, 'echo back'), /echo back\r\nback\r\n/);
  assert.match(typeLine(t, 'ping -c 1 172.31.0.254'), /1 received/);
  assert.match(typeLine(t, 'dd if=/dev/vda of=/dev/null bs=512 count=1'), /1\+0 records in/);
  assert.deepEqual(m.spine.protocolErrors, []);
  assert.deepEqual(m.internalErrors, []);
  m.dispose();
});

test('L8 micN is 172.31.N.1 and its host end 172.31.N.254, as Gen-1 mpssd configures them', () => {
  const t = bootedMachine({ cards: 2 });
  for (const n of [0, 1]) {
    assert.equal(ipToString(cardDefaultIp(n)), `172.31.${n}.1`);
    assert.equal(ipToString(hostEndpointIp(n)), `172.31.${n}.254`);
    assert.match(
      t.m.mics[n].sysfs.cmdline,
      new RegExp(`ifcfg=static;address,172\\.31\\.${n}\\.1;netmask,255\\.255\\.255\\.0`),
    );
  }
  assert.match(typeLine(t, 'ping -c 1 172.31.1.254', 1), /1 received/);
});

test('L9 mpssd sets log_buf_addr and log_buf_len from the card System.map; without the file they stay 0', () => {
  const t = bootedMachine();
  const dev = t.m.mics[0];
  assert.equal(dev.sysfs.log_buf_addr, KERNEL_VIRT_BASE + LOG_BUF_PHYS);
  assert.equal(dev.sysfs.log_buf_len, KERNEL_VIRT_BASE + LOG_BUF_LEN_VAR_PHYS);
  assert.equal(t.m.cards[0].gddr.read32(LOG_BUF_LEN_VAR_PHYS), LOG_BUF_LEN, 'the card kernel variable');
  const map = new TextDecoder().decode(t.m.firmware.get('mic/System.map'));
  assert.match(map, /^ffffffff82000000 b __log_buf$/m);
  const t2 = newMachine({ autoBoot: false });
  t2.m.firmware.delete('mic/System.map');
  t2.m.start();
  t2.m.run();
  assert.equal(t2.m.mics[0].sysfs.log_buf_addr, 0);
  assert.equal(t2.m.mics[0].sysfs.log_buf_len, 0);
  assert.ok(t2.m.host.log.some((l) => /Opening System\.map failed/.test(l.text)));
});

// ---- M: debugfs of a session with console, block and net traffic ---------------------------------

function session(): TestMachine {
  const t = bootedMachine(withDisk());
  typeLine(t, 'echo hello');
  typeLine(t, 'dd if=pattern:deadbeef of=/dev/vda bs=4096 count=2');
  typeLine(t, 'hexdump /dev/vda 0 64');
  typeLine(t, 'ping -c 2 172.31.0.254');
  return t;
}

test('M4 dp of a console, net and block session: Gen-1 mpssd features, config lengths and offsets', () => {
  const t = session();
  const text = dp(t.m, 0);
  const heads = [
    ...text.matchAll(/^Type (\d) Num VQ (\d) Feature Len 4\nConfig Len (\d+) Shutdown Status 7$/gm),
  ];
  assert.deepEqual(
    heads.map((h) => [Number(h[1]), Number(h[2]), Number(h[3])]),
    [
      [VIRTIO_ID_CONSOLE, 2, 12],
      [VIRTIO_ID_NET, 2, 10],
      [VIRTIO_ID_BLOCK, 1, 36],
    ],
  );
  assert.deepEqual(
    [...text.matchAll(/^Features: Host (0x[0-9a-f]+) Guest (0x[0-9a-f]+)$/gm)].map((f) => [f[1], f[2]]),
    [
      ['0x0', '0x0'],
      ['0x7c1', '0x1'],
      ['0x4', '0x4'],
    ],
  );
  assert.deepEqual(
    [...text.matchAll(/^c2h doorbell (\d+) h2c doorbell (\d+)$/gm)].map((f) => [Number(f[1]), Number(f[2])]),
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
  );
  assert.match(text, /^Bootparam: h2c_config_db 4$/m);
  t.m.dispose();
});

test('M5 vdev_info of a console, net and block session: in = card→host bytes, out = host→card, last_used_idx 0', () => {
  const t = session();
  const m = t.m;
  const text = vdevInfo(m, 0);
  const vdevs = [...text.matchAll(/^VDEV type (\d) state UP in (\d+) out (\d+)$/gm)].map((x) =>
    x.slice(1).map(Number),
  );
  const [con, net, blk] = vdevs;
  assert.deepEqual(
    vdevs.map((x) => x[0]),
    [VIRTIO_ID_CONSOLE, VIRTIO_ID_NET, VIRTIO_ID_BLOCK],
  );
  assert.ok(con[1] > con[2], 'the console prints more than it is typed');
  assert.ok(net[1] > 0 && net[2] > 0, 'ping frames both ways');
  assert.ok(blk[1] >= 2 * 4096 && blk[2] >= 64, 'dd data in, hexdump data out');
  const vrh = [
    ...text.matchAll(/^vrh i \d weak_barriers 0 last_avail_idx (\d+) last_used_idx (\d+) completed (\d+)$/gm),
  ];
  assert.equal(vrh.length, 5, 'two + two + one vrings');
  for (const r of vrh) {
    assert.equal(r[2], '0', 'no EVENT_IDX: last_used_idx stays 0');
    assert.equal(r[1], r[3], 'every chain taken is completed');
  }
  t.m.dispose();
});
