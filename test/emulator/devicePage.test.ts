// The device page after boot (reference §5.1–§5.5): bootparam layout A, the console and net
// entries mpssd added, the host ring blocks and their _mic_vring_info, and the used rings the card
// relocated into GDDR. Decoded from the bytes in host RAM with the one decoder the views use.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootedMachine, devicePageBytes, typeLine } from '../helpers/machine.ts';
import { SMPT_WINDOW_BASE } from '../../src/emulator/card/smpt.ts';
import {
  BOOTPARAM,
  DEVICE_CTRL,
  MIC_MAGIC,
  alignedDescSize,
  decodeDevicePage,
  descSize,
  entryLayout,
  totalSize,
} from '../../src/emulator/virtio/devicePage.ts';
import {
  micRingBlockSize,
  usedRingBytes,
  vringInfoMagic,
  vringInfoOffset,
  vringSize,
  vringUsedOffset,
} from '../../src/emulator/virtio/vring.ts';
import { VIRTIO_ID_CONSOLE, VIRTIO_ID_NET } from '../../src/emulator/virtio/virtioIds.ts';

const hostU16 = (m: ReturnType<typeof bootedMachine>['m'], a: number) => m.hostRam.read16(a);

/** §2.4, host side: c2h doorbells 0–3 round robin, in the order they are requested. */
function roundRobin(users: number): number[] {
  return Array.from({ length: users }, (_, i) => i % 4);
}

/** §2.4, card side: each user takes the h2c doorbell with the smallest usage count, lowest index on ties. */
function leastUsed(users: number): number[] {
  const count = new Array<number>(16).fill(0);
  const out: number[] = [];
  for (let u = 0; u < users; u++) {
    let best = 0;
    for (let d = 1; d < count.length; d++) if (count[d] < count[best]) best = d;
    count[best]++;
    out.push(best);
  }
  return out;
}

// The host asks for mic_shutdown_db at probe, then mpssd adds the console and then virtio-net.
const [C2H_SHUTDOWN, C2H_CONSOLE, C2H_NET] = roundRobin(3);
// The card driver takes its shutdown doorbell, scans the devices (console, net), then takes
// h2c_config_db.
const [H2C_SHUTDOWN, H2C_CONSOLE, H2C_NET, H2C_CONFIG] = leastUsed(4);

test('bootparam after boot: magic, c2h_shutdown_db 0, h2c_shutdown_db 0, h2c_config_db 3', () => {
  const { m } = bootedMachine();
  const page = devicePageBytes(m);
  const dp = decodeDevicePage(page);
  assert.equal(dp.magic, 0xc0ffee00);
  assert.equal(dp.magic, MIC_MAGIC);
  assert.equal(dp.c2h_shutdown_db, C2H_SHUTDOWN, 'first host doorbell handed out at probe (round robin)');
  assert.equal(C2H_SHUTDOWN, 0);
  assert.equal(dp.h2c_shutdown_db, H2C_SHUTDOWN, 'card picks the least-used doorbell, lowest index');
  assert.equal(H2C_SHUTDOWN, 0);
  assert.equal(
    dp.h2c_config_db,
    H2C_CONFIG,
    'after the shutdown db (0), the console h2c_vdev_db (1) and the net h2c_vdev_db (2)',
  );
  assert.equal(H2C_CONFIG, 3);
  assert.equal(dp.shutdown_status, 0);
  assert.equal(dp.shutdown_card, 0);
  // Raw little-endian bytes as the layout table puts them.
  assert.deepEqual([...page.subarray(0, 4)], [0x00, 0xee, 0xff, 0xc0]);
  assert.equal(page[BOOTPARAM.h2c_config_db], H2C_CONFIG);
  assert.equal(m.mics[0].c2hShutdownDb, C2H_SHUTDOWN);
  assert.equal(m.cardOs[0].driver?.h2cShutdownDb, H2C_SHUTDOWN);
  assert.equal(m.cardOs[0].driver?.h2cConfigDb, H2C_CONFIG);
});

test('console entry at offset 0x10: type 3, 2 queues, 4-byte bitmaps, 12-byte config, 96 bytes; net right after', () => {
  const { m } = bootedMachine();
  const page = devicePageBytes(m);
  const dp = decodeDevicePage(page);
  assert.deepEqual(
    dp.devices.map((x) => x.type),
    [VIRTIO_ID_CONSOLE, VIRTIO_ID_NET],
    'mpssd adds the console, then virtio-net',
  );
  const d = dp.devices.find((x) => x.type === VIRTIO_ID_CONSOLE)!;
  assert.equal(d.offset, 0x10, 'first entry right after the 16-byte bootparam');
  assert.equal(d.type, VIRTIO_ID_CONSOLE);
  assert.equal(d.num_vq, 2);
  assert.equal(d.feature_len, 4);
  assert.equal(d.config_len, 12);
  assert.equal(totalSize(d.num_vq, d.feature_len, d.config_len), 96, 'the reference example: 76 → 80 + 16');
  assert.equal(d.ctrl.offset, 0x10 + 80);
  // The net entry follows the console's; type 0 after it ends the list.
  const net = dp.devices.find((x) => x.type === VIRTIO_ID_NET)!;
  assert.equal(net.offset, 0x10 + 96, 'the net entry starts where the console entry ends');
  assert.equal(page[net.offset], VIRTIO_ID_NET);
  assert.equal(
    page[net.offset + totalSize(net.num_vq, net.feature_len, net.config_len)],
    0,
    'type 0 after the net entry ends the list',
  );
  assert.equal(net.ctrl.c2h_vdev_db, C2H_NET);
  assert.equal(net.ctrl.h2c_vdev_db, H2C_NET);
  assert.equal(d.status, 0x07, 'ACKNOWLEDGE | DRIVER | DRIVER_OK');
  assert.deepEqual(d.host_features, [0, 0, 0, 0], 'mpssd offers no console features');
  assert.deepEqual(d.guest_features, [0, 0, 0, 0]);
  assert.deepEqual(d.config, new Array(12).fill(0), 'virtio_console_config all zero');
  assert.equal(d.ctrl.c2h_vdev_db, C2H_CONSOLE);
  assert.equal(d.ctrl.h2c_vdev_db, H2C_CONSOLE);
  assert.deepEqual([C2H_CONSOLE, H2C_CONSOLE], [1, 1]);
  assert.equal(d.ctrl.used_address_updated, 0, 'host cleared it after switching used rings');
  assert.equal(d.ctrl.config_change, 0);
  assert.equal(d.ctrl.vdev_reset, 0);
  assert.equal(d.ctrl.guest_ack, 0);
  assert.notEqual(d.ctrl.vdev, 0, 'the card wrote its cookie');
  assert.equal(page[d.ctrl.offset + DEVICE_CTRL.h2c_vdev_db], H2C_CONSOLE);
});

test('vqconfig: SMPT address of an 8 KiB host ring block, num 128, used ring in GDDR', () => {
  const { m } = bootedMachine();
  const d = decodeDevicePage(devicePageBytes(m)).devices[0];
  const card = m.cards[0];
  const vdev = m.mics[0].vop.vdevs[0];
  assert.equal(micRingBlockSize(128), 8192);
  const used = new Set<number>();
  for (const q of [0, 1]) {
    const vq = d.vqconfig[q];
    assert.equal(vq.num, 128);
    assert.ok(vq.address >= SMPT_WINDOW_BASE, `queue ${q} ring at a MIC address in the SMPT window`);
    const vr = vdev.vrings[q];
    assert.equal(vq.address, vr.blockMic);
    assert.equal(card.smptToHost(vq.address), vr.blockHost);
    assert.equal(vr.blockHost % 4096, 0);
    // The whole 8 KiB block is reachable through the same SMPT slot.
    assert.equal(card.smptToHost(vq.address + 8191), vr.blockHost + 8191);
    assert.notEqual(vq.used_address, 0);
    assert.equal(vq.used_address % 4096, 0, 'used ring is page aligned');
    assert.ok(vq.used_address < card.gddr.size, 'used ring lives in GDDR');
    used.add(vq.used_address);
  }
  assert.equal(used.size, 2, 'each queue has its own used ring');
  assert.notEqual(vdev.vrings[0].blockHost, vdev.vrings[1].blockHost);
});

test('ring block: _mic_vring_info.magic at +0x140A = 0xC0FFEE00 + type + queue index', () => {
  const { m } = bootedMachine();
  const vdev = m.mics[0].vop.vdevs[0];
  assert.equal(vringSize(128), 0x1406);
  assert.equal(vringInfoOffset(128) + 4, 0x140a);
  for (const q of [0, 1]) {
    const b = new Uint8Array(4);
    m.hostRam.read(vdev.vrings[q].blockHost + 0x140a, b);
    const magic = new DataView(b.buffer).getUint32(0, true);
    assert.equal(magic, 0xc0ffee00 + 3 + q);
    assert.equal(magic, vringInfoMagic(VIRTIO_ID_CONSOLE, q));
  }
});

test('layout helpers follow the reference formula', () => {
  // descSize = 8 + 24·num_vq + 2·feature_len + config_len; aligned to 8; + 16 for device_ctrl.
  assert.equal(descSize(2, 4, 12), 76);
  assert.equal(alignedDescSize(2, 4, 12), 80);
  assert.equal(totalSize(2, 4, 12), 96);
  for (const nvq of [1, 2, 3, 4])
    for (const fl of [0, 1, 4, 8])
      for (const cl of [0, 1, 7, 8, 12, 20, 33]) {
        const ds = 8 + 24 * nvq + 2 * fl + cl;
        const ads = Math.ceil(ds / 8) * 8;
        assert.equal(descSize(nvq, fl, cl), ds);
        assert.equal(alignedDescSize(nvq, fl, cl), ads);
        assert.equal(alignedDescSize(nvq, fl, cl) % 8, 0);
        assert.equal(totalSize(nvq, fl, cl), ads + 16);
        const l = entryLayout(0x10, nvq, fl, cl);
        assert.equal(l.vq, 0x18);
        assert.equal(l.hostFeatures, 0x18 + 24 * nvq);
        assert.equal(l.guestFeatures, l.hostFeatures + fl);
        assert.equal(l.config, l.guestFeatures + fl);
        assert.equal(l.ctrl, 0x10 + ads);
        assert.equal(l.next, 0x10 + ads + 16);
      }
  // Ring sizes for num = 128 (§5.3) and the card's used ring (§5.5).
  assert.equal(vringUsedOffset(128), 0x1000);
  assert.equal(usedRingBytes(128), 4096);
});

test('host used ring is relocated to BAR0 + used_address, and the host writes used.idx there', () => {
  const t = bootedMachine();
  const { m } = t;
  const dev = m.mics[0];
  const vdev = dev.vop.vdevs[0];
  const d = decodeDevicePage(devicePageBytes(m)).devices[0];
  for (const q of [0, 1]) {
    const vr = vdev.vrings[q];
    assert.equal(vr.usedRelocated, true, `queue ${q} relocated`);
    assert.equal(vr.addrs.used, dev.bar0 + d.vqconfig[q].used_address);
    assert.equal(vr.addrs.desc, vr.blockHost);
    assert.equal(vr.addrs.avail, vr.blockHost + 16 * 128);
  }
  typeLine(t, 'echo relocated');
  const gddr = m.cards[0].gddr;
  for (const q of [0, 1]) {
    const vr = vdev.vrings[q];
    assert.ok(vr.completed > 0, `queue ${q} has completed chains`);
    assert.equal(gddr.read16(d.vqconfig[q].used_address + 2), vr.usedIdx, 'used.idx in GDDR');
    assert.equal(hostU16(m, vr.blockHost + 0x1000 + 2), 0, "the block's own used ring stays unused");
    // _mic_vring_info.avail_idx mirrors the host's next avail index.
    assert.equal(hostU16(m, vr.blockHost + 0x1406), vr.lastAvailIdx);
  }
  // The card's own view agrees: it reads used.idx from the same GDDR ring.
  const cvq = m.cardOs[0].driver!.consoleDevice()!.vqs;
  assert.equal(cvq[0].addrs.used, d.vqconfig[0].used_address);
  assert.equal(cvq[1].lastUsedIdx, vdev.vrings[1].usedIdx);
});

test('each card has its own device page with the same layout', () => {
  const { m } = bootedMachine({ cards: 2 });
  const a = decodeDevicePage(devicePageBytes(m, 0));
  const b = decodeDevicePage(devicePageBytes(m, 1));
  assert.notEqual(m.mics[0].dpHost, m.mics[1].dpHost);
  for (const dp of [a, b]) {
    assert.equal(dp.magic, MIC_MAGIC);
    assert.deepEqual(
      dp.devices.map((x) => [x.type, x.offset, x.status]),
      [
        [VIRTIO_ID_CONSOLE, 0x10, 0x07],
        [VIRTIO_ID_NET, 0x10 + 96, 0x07],
      ],
    );
    assert.equal(dp.h2c_config_db, H2C_CONFIG);
  }
  assert.notEqual(a.devices[0].vqconfig[0].address, b.devices[0].vqconfig[0].address);
});
