// The §9 rows about adding, using and freeing virtio devices that test/emulator/misuse.test.ts
// leaves out: ADD_DEVICE limits (#4, #5), reuse of a removed slot (#6), COPY_DESC refusals
// (#11), an avail.idx that jumps past num (#14), and SMPT exhaustion (#15). Each provokes the
// misuse in a full machine and checks the return code, the bytes of the device page, what was
// allocated, and the protocol error with its rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Machine } from '../../src/emulator/machine.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';
import type { BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { SMPT_PAGE, SMPT_SLOTS, SMPT_WINDOW_BASE } from '../../src/emulator/card/smpt.ts';
import {
  DEVICE_DESC,
  MIC_DP_SIZE,
  alignedDescSize,
  decodeDevicePage,
  totalSize,
} from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_ID_CONSOLE } from '../../src/emulator/virtio/virtioIds.ts';
import { micRingBlockSize } from '../../src/emulator/virtio/vring.ts';
import { VOP_BOUNCE_SIZE } from '../../src/emulator/hostSoftware/micHost/copyEngine.ts';
import { SMPT_MAX_MAP } from '../../src/emulator/hostSoftware/micHost/smptAllocator.ts';
import { HostRamAllocator } from '../../src/emulator/hostSoftware/hostRamAllocator.ts';
import { consoleDeviceImage } from '../../src/emulator/hostSoftware/mpssd/consoleBackend.ts';
import type { DeviceDescImage, HostVdev } from '../../src/emulator/hostSoftware/micHost/vop.ts';
import { E } from '../../src/emulator/errno.ts';
import {
  bootedMachine,
  devicePageBytes,
  recordEvents,
  runRoutine,
  typeLine,
  unbootedMachine,
} from '../helpers/machine.ts';

const GiB = 2 ** 30;
/** A virtio ID the card OS has no driver for: entries of it are only bytes in the page. */
const VIRTIO_ID_OTHER = 5;

// ---- helpers ----------------------------------------------------------------------------------

function image(over: Partial<DeviceDescImage> = {}): DeviceDescImage {
  const base = { ...consoleDeviceImage(), type: VIRTIO_ID_OTHER };
  const numVq = over.numVq ?? base.numVq;
  return {
    ...base,
    num: Array.from({ length: numVq }, () => 128),
    ...over,
    config: over.config ?? new Uint8Array(over.configLen ?? base.configLen),
  };
}

/** MIC_VIRTIO_ADD_DEVICE as mpssd issues it: the device or −errno. */
function addDevice(m: Machine, d: DeviceDescImage): HostVdev | number {
  return runRoutine(m, 'host.mpssd', m.mics[0].vop.addDevice(d));
}

function consoleVdev(m: Machine): HostVdev {
  const v = m.mics[0].vop.vdevs.find((d) => d.desc.type === VIRTIO_ID_CONSOLE);
  assert.ok(v);
  return v;
}

/** What ADD_DEVICE may allocate: host RAM, SMPT references, interrupt requests. */
function resources(m: Machine) {
  const dev = m.mics[0];
  return {
    ram: m.host.alloc.bytesInUse,
    smpt: dev.smpt.entries.map((e) => e.refCount),
    irqs: dev.intr.requests.map((r) => r.name),
  };
}

const dpWrite = (m: Machine) => (e: BusEvent) =>
  e.kind === 'mem.write' &&
  e.space === 'host' &&
  e.address >= m.mics[0].dpHost &&
  e.address < m.mics[0].dpHost + MIC_DP_SIZE;

function hostLogHas(m: Machine, re: RegExp): boolean {
  return m.host.log.some((l) => re.test(l.text));
}

/** ADD_DEVICE with the device page writes and doorbells it caused. */
function recordedAdd(m: Machine, d: DeviceDescImage): { got: HostVdev | number; ev: BusEvent[] } {
  let got: HostVdev | number = 0;
  const ev = recordEvents(
    m,
    (e) => dpWrite(m)(e) || e.kind === 'doorbell',
    () => (got = addDevice(m, d)),
  );
  return { got, ev };
}

/** An ADD_DEVICE that must fail before it touches anything. */
function refusedAdd(m: Machine, d: DeviceDescImage, rc: number, log: RegExp): void {
  const page = devicePageBytes(m);
  const res = resources(m);
  const from = m.spine.protocolErrors.length;
  const { got, ev } = recordedAdd(m, d);
  assert.equal(got, rc);
  assert.deepEqual(ev, [], 'nothing written to the device page, no doorbell');
  assert.deepEqual(devicePageBytes(m), page);
  assert.deepEqual(resources(m), res, 'nothing allocated, mapped or requested');
  assert.ok(hostLogHas(m, log), `host log has ${log}`);
  assert.equal(m.spine.protocolErrors.length, from);
  assert.deepEqual(m.internalErrors, []);
}

// ---- §9 #4 and #5: ADD_DEVICE limits -----------------------------------------------------------

test('ADD_DEVICE with num_vq 5 (more than MIC_MAX_VRINGS 4) is -EINVAL and writes nothing', () => {
  const t = unbootedMachine();
  refusedAdd(t.m, image({ numVq: 5 }), -E.EINVAL, /virtio-5: num_vq 5 \/ desc size too large: -EINVAL/);
});

test('ADD_DEVICE whose aligned descriptor size is above 256 (config_len 200) is -EINVAL', () => {
  const t = unbootedMachine();
  assert.equal(alignedDescSize(2, 4, 200), 264);
  refusedAdd(t.m, image({ configLen: 200 }), -E.EINVAL, /virtio-5: num_vq 2 \/ desc size too large: -EINVAL/);
});

test('ADD_DEVICE with an aligned descriptor size of exactly 256 is accepted', () => {
  const t = unbootedMachine();
  const m = t.m;
  // 8 + 4·24 + 2·4 + 144 = 256
  assert.equal(alignedDescSize(4, 4, 144), 256);
  const v = addDevice(m, image({ numVq: 4, configLen: 144 }));
  assert.ok(typeof v !== 'number', `got ${String(v)}`);
  const entry = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === v.dpOffset)!;
  assert.equal(entry.type, VIRTIO_ID_OTHER);
  assert.equal(entry.num_vq, 4);
  assert.equal(entry.config_len, 144);
  assert.equal(v.layout.next - v.dpOffset, 256 + 16);
  assert.ok(entry.vqconfig.every((q) => q.num === 128 && q.address >= SMPT_WINDOW_BASE));
  assert.deepEqual(m.internalErrors, []);
});

test('ADD_DEVICE with num 256 (more than 128 entries) is -EINVAL', () => {
  const t = unbootedMachine();
  refusedAdd(t.m, image({ num: [128, 256] }), -E.EINVAL, /virtio-5: vring num 256 > 128: -EINVAL/);
});

/**
 * F16: an ADD_DEVICE that vringh_init_kern refuses. The driver has already copied the entry into
 * the page (with type 0, so the card never sees it) and initialised its device_ctrl, and mapped
 * the rings up to the failing one; its error path frees the ring blocks before the failing vring
 * only, so the failing vring's block and the earlier bounce buffers stay allocated and mapped.
 */
function refusedByVringh(m: Machine, d: DeviceDescImage, bad: number, log: RegExp): void {
  const res = resources(m);
  const from = m.spine.protocolErrors.length;
  const { got, ev } = recordedAdd(m, d);
  assert.equal(got, -E.EINVAL);
  assert.ok(ev.length > 0, 'the entry was written before vringh refused the ring');
  assert.deepEqual(
    ev.filter((e) => e.kind === 'doorbell'),
    [],
    'no doorbell',
  );
  const page = devicePageBytes(m);
  const vdevs = m.mics[0].vop.vdevs;
  const slot = vdevs[vdevs.length - 1].layout.next;
  assert.equal(page[slot + DEVICE_DESC.type], 0, 'type stays 0: the card does not see the entry');
  assert.equal(page[slot + DEVICE_DESC.num_vq], d.numVq, 'but the rest of the entry is there');
  assert.equal(decodeDevicePage(page).devices.length, vdevs.length);
  const leaked = micRingBlockSize(d.num[bad]) + bad * VOP_BOUNCE_SIZE;
  const now = resources(m);
  assert.equal(now.ram - res.ram, leaked, 'the failing ring block and earlier bounce buffers');
  assert.equal(
    now.smpt.reduce((x, y) => x + y, 0) - res.smpt.reduce((x, y) => x + y, 0),
    leaked,
    'and their SMPT references',
  );
  assert.deepEqual(now.irqs, res.irqs, 'no interrupt requested');
  assert.ok(hostLogHas(m, log), `host log has ${log}`);
  assert.equal(m.spine.protocolErrors.length, from);
  assert.deepEqual(m.internalErrors, []);
}

test('F16 ADD_DEVICE with num 100 (not a power of two) is -EINVAL: vringh "Bad ring size" after the entry is in the page', () => {
  const t = unbootedMachine();
  refusedByVringh(t.m, image({ num: [100, 128] }), 0, /virtio-5: vringh: Bad ring size 100: -EINVAL/);
});

test('F16 ADD_DEVICE with num 0 on the second vring is -EINVAL: vringh wants a non-zero power of two', () => {
  const t = unbootedMachine();
  refusedByVringh(t.m, image({ num: [128, 0] }), 1, /virtio-5: vringh: Bad ring size 0: -EINVAL/);
});

test('ADD_DEVICE when the device page has no slot left is -EINVAL', () => {
  const t = unbootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  // A host without MSI-X (MSI or INTx): every interrupt source shares vector 0, so only the
  // 4 KiB device page limits how many devices fit.
  dev.intr.request = function* (name, sourceBit, handler): Routine<number> {
    dev.intr.requests.push({ name, sourceBit, vector: 0, handler });
    const a = dev.bar4 + R.MXAR(0);
    const old: number = yield m.hostIo.read32(a);
    yield m.hostIo.write32(a, (old | (1 << sourceBit)) >>> 0);
    return 0;
  };
  const page0 = decodeDevicePage(devicePageBytes(m));
  const last = page0.devices[page0.devices.length - 1];
  const end = last.ctrl.offset + 16;
  const size = totalSize(2, 4, 12);
  // Slots are taken while off < 4096 − size (§5.2).
  const fits = Math.ceil((MIC_DP_SIZE - size - end) / size);
  const added: HostVdev[] = [];
  for (;;) {
    const v = addDevice(m, image());
    if (typeof v === 'number') break;
    added.push(v);
    assert.ok(added.length <= 64, 'the page must fill up');
  }
  assert.equal(added.length, fits);
  assert.deepEqual(
    added.map((v) => v.dpOffset),
    Array.from({ length: fits }, (_, k) => end + k * size),
  );
  const lastEnd = added[added.length - 1].layout.next;
  assert.ok(lastEnd >= MIC_DP_SIZE - size, `the next slot at 0x${lastEnd.toString(16)} leaves no room`);
  refusedAdd(m, image(), -E.EINVAL, /virtio-5: no free slot in the device page: -EINVAL/);
  // Every entry is in the page, each with its rings.
  const page = decodeDevicePage(devicePageBytes(m));
  assert.equal(page.devices.length, page0.devices.length + fits);
  assert.ok(page.devices.every((d) => d.vqconfig.every((q) => q.address >= SMPT_WINDOW_BASE)));
});

test('C9 ADD_DEVICE with none of the 8 MSI-X vectors left is -ENOSPC and frees its ring blocks (not its bounce buffers)', () => {
  const t = unbootedMachine();
  const m = t.m;
  // The DMA-era Gen-1 driver has MIC_MIN_MSIX = 8 vectors: the shutdown doorbell and the
  // console and net devices hold 3 while the card is offline (the DMA channels take 4 at boot).
  assert.equal(m.mics[0].intr.requests.length, 3);
  let rc: HostVdev | number = 0;
  let n = 0;
  while (typeof (rc = addDevice(m, image())) !== 'number') assert.ok(++n <= 5);
  assert.equal(n, 5);
  assert.equal(m.mics[0].intr.requests.length, 8);
  assert.equal(rc, -E.ENOSPC);
  assert.ok(hostLogHas(m, /virtio-5: No MSIx vectors available for use: -28/));
  // The same again: the failed add gives its ring blocks back; its error path leaves the two
  // bounce buffers allocated and mapped (mic_virtio_add_device, label err).
  const res = resources(m);
  const slot = m.mics[0].vop.vdevs[m.mics[0].vop.vdevs.length - 1].layout.next;
  assert.equal(addDevice(m, image()), -E.ENOSPC);
  const now = resources(m);
  assert.equal(now.ram - res.ram, 2 * VOP_BOUNCE_SIZE, 'only the bounce buffers stay');
  assert.equal(
    now.smpt.reduce((x, y) => x + y, 0) - res.smpt.reduce((x, y) => x + y, 0),
    2 * VOP_BOUNCE_SIZE,
  );
  assert.deepEqual(now.irqs, res.irqs);
  const bytes = devicePageBytes(m);
  assert.equal(bytes[slot + DEVICE_DESC.type], 0, 'the type was never published');
  assert.equal(decodeDevicePage(bytes).devices.length, m.mics[0].vop.vdevs.length);
  assert.deepEqual(m.internalErrors, []);
});

// ---- §9 #6: reuse of a removed slot with a bigger entry ----------------------------------------

test('reusing a removed slot with a bigger entry overlaps the next entry: rule 6 names both offsets', () => {
  const t = unbootedMachine();
  const m = t.m;
  const dev = m.mics[0];
  const con = consoleVdev(m);
  // Make sure something follows the console (mpssd may already have added more devices).
  const extra = addDevice(m, image({ numVq: 1, configLen: 0 }));
  assert.ok(typeof extra !== 'number');
  const next = con.layout.next;
  const page0 = devicePageBytes(m);
  const nextEntry = decodeDevicePage(page0).devices.find((d) => d.offset === next);
  assert.ok(nextEntry, `an entry follows the console at 0x${next.toString(16)}`);
  const nextBytes = page0.slice(next, nextEntry.ctrl.offset + 16);

  runRoutine(m, 'host.mpssd', dev.vop.removeDevice(con));
  assert.equal(devicePageBytes(m)[con.dpOffset], 0xff);
  const big = image({ configLen: 100, config: new Uint8Array(100).fill(0xab) });
  const bigSize = totalSize(2, 4, 100);
  assert.equal(bigSize, 184);
  const from = m.spine.protocolErrors.length;
  const v = addDevice(m, big);
  assert.ok(typeof v !== 'number');
  assert.equal(v.dpOffset, con.dpOffset, 'the driver takes the first removed slot');

  const errs = m.spine.protocolErrors.slice(from);
  assert.deepEqual(
    errs.map((e) => e.rule),
    [6],
  );
  const e = errs[0];
  assert.equal(e.where, 'mic0');
  assert.match(
    e.message,
    new RegExp(
      `virtio-5 \\(184 bytes\\) reuses the removed slot at dp offset 0x${con.dpOffset.toString(16)}, which held only 96 bytes; the new entry overlaps the entry at 0x${next.toString(16)}`,
    ),
  );
  // The overlap is real: the following entry's bytes now hold the new entry's config space.
  const after = devicePageBytes(m).slice(next, next + nextBytes.length);
  assert.notDeepEqual(after, nextBytes);
  assert.equal(after[0], 0xab, "the next entry's type byte is now a config byte of the new one");
  // A walker steps from the new entry to 0x10 + 184, inside what was the old next entry, reads
  // a zero there and stops: the overlapped entry and everything after it are lost.
  const walked = decodeDevicePage(devicePageBytes(m)).devices.map((d) => d.offset);
  assert.equal(devicePageBytes(m)[con.dpOffset + bigSize], 0);
  assert.deepEqual(walked, [con.dpOffset]);
  assert.deepEqual(m.internalErrors, []);
});

test('reusing a removed slot with an entry of the same size is no protocol error', () => {
  const t = unbootedMachine();
  const m = t.m;
  const con = consoleVdev(m);
  runRoutine(m, 'host.mpssd', m.mics[0].vop.removeDevice(con));
  const v = addDevice(m, consoleDeviceImage());
  assert.ok(typeof v !== 'number');
  assert.equal(v.dpOffset, con.dpOffset);
  assert.deepEqual(m.spine.protocolErrors, []);
});

// ---- §9 #11: COPY_DESC refusals --------------------------------------------------------------

test('COPY_DESC with vr_idx ≥ num_vq is -EINVAL and touches nothing', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const buf = new Uint8Array(64);
  for (const vrIdx of [2, 3, 255]) {
    let rc = 0;
    const ev = recordEvents(
      m,
      (e) => e.initiator === 'host.mpssd',
      () => (rc = runRoutine(m, 'host.mpssd', m.mics[0].vop.copyDesc(vdev, [{ buf, len: 64 }], vrIdx, true))),
    );
    assert.equal(rc, -E.EINVAL, `vr_idx ${vrIdx}`);
    assert.deepEqual(ev, [], 'no bus access at all');
  }
  assert.equal(typeLine(t, 'echo ok'), 'echo ok\r\nok\r\n[root@mic0 ~]# ');
  assert.deepEqual(m.internalErrors, []);
});

test('COPY_DESC before DRIVER_OK (status 0) is -ENODEV', () => {
  const t = unbootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  assert.equal(devicePageBytes(m)[vdev.dpOffset + DEVICE_DESC.status], 0);
  const buf = new Uint8Array(64);
  for (const q of [0, 1]) {
    let rc = 0;
    const ev = recordEvents(
      m,
      (e) => e.initiator === 'host.mpssd',
      () => (rc = runRoutine(m, 'host.mpssd', m.mics[0].vop.copyDesc(vdev, [{ buf, len: 64 }], q, true))),
    );
    assert.equal(rc, -E.ENODEV);
    // The status read is the only access: no ring is looked at.
    assert.deepEqual(
      ev.map((e) => [e.kind, e.address - m.mics[0].dpHost, e.size]),
      [['mem.read', vdev.dpOffset + DEVICE_DESC.status, 1]],
    );
  }
  assert.ok(vdev.vrings.every((vr) => vr.lastAvailIdx === 0 && vr.chain === null));
  assert.deepEqual(m.internalErrors, []);
});

// ---- §9 #14: avail.idx jumps by more than num ---------------------------------------------------

test('avail.idx that jumps by more than num is flagged (rule 14); the host goes on with the next head', () => {
  const t = bootedMachine();
  const m = t.m;
  const vdev = consoleVdev(m);
  const rx = vdev.vrings[0];
  const cardRx = m.cardOs[0].driver!.consoleDevice()!.vqs[0];
  const last = rx.lastAvailIdx;
  const jumped = (last + 200) & 0xffff;
  // The card publishes a bogus index through the SMPT window, as its driver would.
  const ev = recordEvents(
    m,
    (e) => e.kind === 'mem.write' && e.initiator === 'mic0.cpu',
    () =>
      runRoutine(
        m,
        'mic0.cpu',
        (function* (): Routine {
          yield m.cardOs[0].io.write16(cardRx.addrs.avail + 2, jumped);
        })(),
      ),
  );
  assert.equal(ev.length, 1);
  assert.equal(ev[0].space, 'host');
  assert.equal(ev[0].address, rx.addrs.avail + 2, 'the write lands in the host ring block');
  assert.equal(m.hostRam.read16(rx.addrs.avail + 2), jumped);
  const head = m.hostRam.read16(rx.addrs.avail + 4 + 2 * (last % rx.num));

  // Typing makes mpssd take the next receive buffer.
  assert.equal(typeLine(t, 'echo jump'), 'echo jump\r\njump\r\n[root@mic0 ~]# ');
  assert.equal(m.spine.protocolErrors.length, 1);
  const e = m.spine.protocolErrors[0];
  assert.equal(e.rule, 14);
  assert.equal(e.where, 'mic0');
  assert.equal(
    e.message,
    `mic0 virtio-console queue 0: avail.idx jumped from ${last} to ${jumped}, 200 entries at once but the ring has only 128. vringh does not check this; the emulator flags it and goes on with the next head.`,
  );
  assert.equal(rx.lastAvailIdx, (last + 1) & 0xffff, 'one head consumed');
  // The card re-posted the buffer and wrote its own index over the bogus one: no more errors.
  assert.equal(m.hostRam.read16(rx.addrs.avail + 2), cardRx.availIdx);
  assert.equal(cardRx.broken, false);
  assert.ok(head < rx.num);
  assert.equal(typeLine(t, 'echo calm'), 'echo calm\r\ncalm\r\n[root@mic0 ~]# ');
  assert.equal(m.spine.protocolErrors.length, 1);
  assert.deepEqual(m.internalErrors, []);
});

// ---- §9 #15: SMPT exhausted, sizes mic_map refuses ---------------------------------------------

test('SMPT exhausted: ADD_DEVICE whose ring needs a 33rd 16 GiB page is -ENOMEM and leaves nothing behind', () => {
  const t = unbootedMachine({ hostRamBytes: 64 * GiB });
  const m = t.m;
  const dev = m.mics[0];
  // The host hands out driver memory above 16 GiB from now on (a NUMA node's high memory):
  // ring blocks need a page the SMPT does not map yet.
  const high = new HostRamAllocator(16 * GiB + 256 * 2 ** 20, GiB);
  m.host.alloc.alloc = (size, align) => high.alloc(size, align);
  m.host.alloc.release = (addr) => high.release(addr);
  // Fill the other 31 SMPT entries with distinct 16 GiB pages (2 … 32).
  assert.ok(dev.smpt.entries[0].refCount > 0, 'entry 0 maps the device page');
  const fillers: number[] = [];
  for (let k = 2; k <= SMPT_SLOTS; k++) {
    const mic = dev.smpt.map(k * SMPT_PAGE, 4096);
    assert.notEqual(mic, 0, `page ${k} mapped`);
    fillers.push(mic);
  }
  assert.ok(
    dev.smpt.entries.every((e) => e.refCount > 0),
    'all 32 entries in use',
  );
  const smpt = dev.smpt.entries.map((e) => ({ ...e }));

  const page = devicePageBytes(m);
  let rc: HostVdev | number = 0;
  const ev = recordEvents(
    m,
    (e) => e.kind === 'doorbell',
    () => (rc = addDevice(m, image())),
  );
  assert.equal(rc, -E.ENOMEM);
  assert.ok(hostLogHas(m, /virtio-5: cannot allocate or map ring 0 \(SMPT exhausted\?\): -ENOMEM/));
  assert.deepEqual(dev.smpt.entries, smpt, 'refcounts unchanged');
  assert.equal(high.bytesInUse, 0, 'the ring block and bounce buffer went back');
  assert.deepEqual(ev, [], 'no config doorbell');
  // Nothing was published: the walk finds the same devices as before.
  assert.deepEqual(
    decodeDevicePage(devicePageBytes(m)).devices.map((d) => [d.offset, d.type]),
    decodeDevicePage(page).devices.map((d) => [d.offset, d.type]),
  );

  // Free one filler page: the same ADD_DEVICE now gets that SMPT entry.
  const freed = Math.floor((fillers[0] - SMPT_WINDOW_BASE) / SMPT_PAGE);
  dev.smpt.unmap(fillers[0], 4096);
  assert.equal(dev.smpt.entries[freed].refCount, 0);
  const v = addDevice(m, image());
  assert.ok(typeof v !== 'number', `got ${String(v)}`);
  const entry = decodeDevicePage(devicePageBytes(m)).devices.find((d) => d.offset === v.dpOffset)!;
  for (const q of entry.vqconfig)
    assert.equal(
      Math.floor((q.address - SMPT_WINDOW_BASE) / SMPT_PAGE),
      freed,
      `ring mapped through entry ${freed}`,
    );
  assert.equal(dev.smpt.entries[freed].base, SMPT_PAGE, `entry ${freed} now maps host page 1 (16–32 GiB)`);
  assert.equal(dev.smpt.entries[freed].refCount, 2 * (micRingBlockSize(128) + VOP_BOUNCE_SIZE));
  assert.deepEqual(m.internalErrors, []);
});

test('mic_map of size 0 or of more than 512 GiB returns 0 and maps nothing', () => {
  const t = unbootedMachine();
  const dev = t.m.mics[0];
  const before = dev.smpt.entries.map((e) => ({ ...e }));
  assert.equal(dev.smpt.map(dev.dpHost, 0), 0);
  assert.equal(dev.smpt.map(0, SMPT_MAX_MAP + 4096), 0);
  assert.equal(dev.smpt.map(4096, SMPT_MAX_MAP), 0, '512 GiB that does not start on a page needs 33 entries');
  assert.deepEqual(dev.smpt.entries, before);
});
