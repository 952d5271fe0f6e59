// Config change end to end (reference §5.5 "Config change", §6.2 MIC_VIRTIO_CONFIG_CHANGE): the
// host grows the disk image, writes the new capacity into the device's config space, sets
// config_change = 2 and rings h2c_config_db; the card's virtio_blk driver re-reads the capacity
// and acknowledges with guest_ack; the host then clears both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootedMachine, devicePageBytes, recordEvents, typeLine } from '../helpers/machine.ts';
import { decodeDevicePage, DEVICE_CTRL } from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_ID_BLOCK } from '../../src/emulator/virtio/virtioIds.ts';
import { runHostCommand } from '../../src/cli/hostCommands.ts';

function diskMachine() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-resize-'));
  const p = path.join(dir, 'disk.img');
  const t = bootedMachine({ disk: () => ({ path: p, sizeBytes: 8 * 2 ** 20, readonly: false }) });
  return { t, p };
}

const capacityOf = (bytes: number[]) =>
  Number(new DataView(Uint8Array.from(bytes).buffer).getBigUint64(0, true));

test('growing the image sends a config change the card acknowledges and applies', () => {
  const { t, p } = diskMachine();
  const m = t.m;
  const blk = () => decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.type === VIRTIO_ID_BLOCK)!;
  assert.equal(capacityOf(blk().config), 16384);
  const ctrl = blk().ctrl.offset;
  const writes = recordEvents(
    m,
    (e) =>
      e.kind === 'mem.write' &&
      e.space === 'host' &&
      e.address >= m.mics[0].dpHost + ctrl + DEVICE_CTRL.config_change &&
      e.address <= m.mics[0].dpHost + ctrl + DEVICE_CTRL.guest_ack,
    () => {
      const task = m.resizeDisk(0, 16 * 2 ** 20)!;
      m.run();
      assert.equal(task.result, 0);
    },
  );
  // config_change = 2 (host), guest_ack = 1 (card), then both cleared by the host.
  assert.deepEqual(
    writes.map((e) => [e.address - (m.mics[0].dpHost + ctrl), e.value, e.initiator]),
    [
      [DEVICE_CTRL.config_change, 2, 'host.mpssd'],
      [DEVICE_CTRL.guest_ack, 1, 'mic0.cpu'],
      [DEVICE_CTRL.config_change, 0, 'host.mpssd'],
      [DEVICE_CTRL.guest_ack, 0, 'host.mpssd'],
    ],
  );
  assert.equal(capacityOf(blk().config), 32768);
  assert.equal(fs.statSync(p).size, 16 * 2 ** 20);
  assert.match(
    m.cardOs[0].dmesg(),
    /virtio_blk virtio\d: new size: 32768 512-byte logical blocks \(16\.8 MB\/16\.0 MiB\)/,
  );
  assert.match(m.cardOs[0].dmesg(), /vda: detected capacity change from 8388608 to 16777216/);
  // The new sectors are usable from the card.
  assert.match(typeLine(t, 'dd if=pattern:aa of=/dev/vda bs=512 count=1 seek=30000'), /1\+0 records out/);
  assert.deepEqual(m.spine.protocolErrors, []);
  assert.deepEqual(m.internalErrors, []);
  m.dispose();
  const b = Buffer.alloc(1);
  const fd = fs.openSync(p, 'r');
  fs.readSync(fd, b, 0, 1, 30000 * 512);
  fs.closeSync(fd);
  assert.equal(b[0], 0xaa);
});

test('the disk-resize host command parses its size and reports refusals', () => {
  const { t } = diskMachine();
  const lines: string[] = [];
  const ctx = { machine: t.m, consoleCard: 0, print: (l: string) => lines.push(l), quit: () => {} };
  assert.equal(runHostCommand(ctx, 'disk-resize mic0 12M'), true);
  t.m.run();
  assert.equal(t.m.cardOs[0].dmesg().includes('new size: 24576'), true);
  assert.equal(runHostCommand(ctx, 'disk-resize mic0 1000'), false);
  assert.match(lines.at(-1)!, /multiple of 512/);
  assert.equal(runHostCommand(ctx, 'disk-resize mic0'), false);
  assert.match(lines.at(-1)!, /usage: disk-resize micN SIZE/);
  t.m.dispose();
});
