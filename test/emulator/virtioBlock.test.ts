import { spawnSync } from 'node:child_process';
// virtio-block end to end (reference §6.3 Block, §6.2 COPY_DESC, §9 #26): a real disk image
// file behind mpssd's back-end, the card's virtio_blk driver, and dd / hexdump / sync on the
// card's console. Checked on bytes in the image file, on the device page, and on events.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { DiskConfig } from '../../src/emulator/machine.ts';
import { frame, sleep, type Routine } from '../../src/emulator/sim/scheduler.ts';
import type { BusEvent, Frame } from '../../src/emulator/sim/busEvent.ts';
import { decodeDevicePage } from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_ID_BLOCK } from '../../src/emulator/virtio/virtioIds.ts';
import { BlockBackend } from '../../src/emulator/hostSoftware/mpssd/blockBackend.ts';
import {
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  blockDevice,
  stringGetSize,
  type BlkResult,
  type VirtioBlock,
} from '../../src/emulator/cardSoftware/virtioBlock.ts';
import { ddSummary, parseDdNumber } from '../../src/emulator/cardSoftware/shell/dd.ts';
import { formatG, humanBytes, humanRate } from '../../src/emulator/cardSoftware/shell/format.ts';
import { HexdumpFormatter } from '../../src/emulator/lib/hexdump.ts';
import {
  bootedMachine,
  devicePageBytes,
  newMachine,
  recordEvents,
  typeLine,
  type TestMachine,
} from '../helpers/machine.ts';

const MiB = 2 ** 20;
const DISK_BYTES = 8 * MiB;
const PROMPT = '[root@mic0 ~]# ';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-vblk-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let imageCount = 0;

/** A fresh image path in the test's tmp dir; written sparse with `writes` if given. */
function image(writes: [number, Uint8Array][] = [], size = DISK_BYTES, create = true): string {
  const p = path.join(tmpRoot, `disk${imageCount++}.img`);
  if (create) {
    const fd = fs.openSync(p, 'w');
    fs.ftruncateSync(fd, size);
    for (const [off, b] of writes) fs.writeSync(fd, b, 0, b.length, off);
    fs.closeSync(fd);
  }
  return p;
}

function diskCfg(p: string, more: Partial<DiskConfig> = {}): () => DiskConfig {
  return () => ({ path: p, sizeBytes: DISK_BYTES, readonly: false, ...more });
}

/** Console output of one command without the echo and the next prompt (CRLF → LF). */
function sh(t: TestMachine, line: string): string {
  const out = typeLine(t, line);
  assert.ok(out.startsWith(line + '\r\n'), `echo missing: ${JSON.stringify(out)}`);
  assert.ok(out.endsWith(PROMPT), `no prompt after ${line}: ${JSON.stringify(out)}`);
  return out.slice(line.length + 2, out.length - PROMPT.length).replace(/\r\n/g, '\n');
}

function exitStatus(t: TestMachine): number {
  return Number(sh(t, 'echo $?').trim());
}

function backend(t: TestMachine): BlockBackend {
  const b = t.m.mpssd[0].backend<BlockBackend>('block');
  assert.ok(b instanceof BlockBackend);
  return b;
}

/** Run a routine on the card (a kernel thread) against /dev/vda and return its result. */
function onCard<T>(t: TestMachine, body: (blk: VirtioBlock) => Routine<T>): T {
  const cos = t.m.cardOs[0];
  const blk = blockDevice(cos, 'vda');
  assert.ok(blk, 'vda is up');
  let result: T | undefined;
  let finished = false;
  cos.spawn(
    'test',
    (function* (): Routine {
      result = yield* body(blk);
      finished = true;
    })(),
  );
  t.m.run();
  assert.ok(finished, 'the card routine finished');
  return result as T;
}

/** The dd transfer line with time and rate masked. */
function maskTime(text: string): string {
  return text.replace(/copied, [0-9.e+-]+ s, (?:[0-9.]+ [kMGT]?B|Infinity B)\/s/g, 'copied, T s, R/s');
}

function blockDevice0(t: TestMachine) {
  const dp = decodeDevicePage(devicePageBytes(t.m));
  const d = dp.devices.find((x) => x.type === VIRTIO_ID_BLOCK);
  assert.ok(d, 'a virtio-block entry in the device page');
  return d;
}

function findFrame(f: Frame | null, fn: string): Frame | null {
  for (; f; f = f.parent) if (f.fn === fn) return f;
  return null;
}

// ---- device page, features, config -------------------------------------------------------------

test('L5 device page entry: type 2, 1 queue of 128, SEG_MAX only, config_len 36 (3.17+ virtio_blk_config), capacity and seg_max 126', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  const d = blockDevice0(t);
  assert.equal(d.num_vq, 1);
  assert.equal(d.vqconfig[0].num, 128);
  assert.equal(d.feature_len, 4);
  assert.equal(d.config_len, 36, 'sizeof(struct virtio_blk_config) with num_queues: never 32');
  assert.equal(d.ctrl.offset + 16 - d.offset, 96, 'the whole entry is 96 bytes');
  assert.deepEqual(d.host_features, [1 << 2, 0, 0, 0]);
  assert.deepEqual(d.guest_features, [1 << 2, 0, 0, 0]);
  assert.equal(d.status, 0x07, 'ACKNOWLEDGE|DRIVER|DRIVER_OK');
  const cfg = new DataView(Uint8Array.from(d.config).buffer);
  assert.equal(cfg.getBigUint64(0, true), BigInt(DISK_BYTES / 512));
  assert.equal(cfg.getUint32(12, true), 126);
  assert.deepEqual(d.config.slice(16), new Array(20).fill(0), 'geometry … num_queues stay 0');
  const blk = blockDevice(t.m.cardOs[0], 'vda')!;
  assert.equal(blk.capacity, 16384);
  assert.equal(blk.segMax, 126);
  assert.equal(blk.readOnly, false);
  assert.match(
    t.m.cardOs[0].dmesg(),
    /virtio_blk virtio2: \[vda\] 16384 512-byte logical blocks \(8\.39 MB\/8\.00 MiB\)\n/,
  );
  assert.deepEqual(t.m.internalErrors, []);
});

test('capacity is ceil(file size / 512) for an image that is not a whole number of sectors', () => {
  const p = image([], 1000);
  const t = newMachine({ disk: diskCfg(p) });
  const b = backend(t);
  assert.equal(b.capacity, 2);
  const cfg = new DataView(b.deviceImage().config.buffer);
  assert.equal(cfg.getBigUint64(0, true), 2n);
  t.m.dispose();
});

test('a missing image is created sparse at sizeBytes', () => {
  const p = image([], 0, false);
  assert.equal(fs.existsSync(p), false);
  const t = newMachine({ disk: () => ({ path: p, sizeBytes: 3 * MiB, readonly: false }) });
  assert.equal(fs.statSync(p).size, 3 * MiB);
  assert.equal(backend(t).capacity, (3 * MiB) / 512);
  t.m.dispose();
});

test('ls /dev lists vda once the block device is up', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  assert.match(sh(t, 'ls /dev'), /^vda$/m);
  const plain = bootedMachine();
  assert.doesNotMatch(sh(plain, 'ls /dev'), /vda/);
});

// ---- data path ----------------------------------------------------------------------------------

test('dd a pattern onto /dev/vda, sync, dispose: the image file has the bytes at seek·bs', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  const out = sh(t, 'dd if=pattern:deadbeef of=/dev/vda bs=512 count=1024 seek=8');
  assert.equal(
    maskTime(out),
    '1024+0 records in\n1024+0 records out\n524288 bytes (524 kB, 512 KiB) copied, T s, R/s\n',
  );
  const flushes = backend(t).stats.flushes;
  assert.equal(sh(t, 'sync'), '');
  assert.equal(backend(t).stats.flushes, flushes + 1, 'sync sent one FLUSH');
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
  const b = fs.readFileSync(p);
  assert.equal(b.length, DISK_BYTES);
  assert.ok(
    b.subarray(0, 4096).every((x) => x === 0),
    'before seek untouched',
  );
  for (let i = 4096; i < 4096 + 524288; i += 4)
    assert.deepEqual([...b.subarray(i, i + 4)], [0xde, 0xad, 0xbe, 0xef]);
  assert.ok(
    b.subarray(4096 + 524288).every((x) => x === 0),
    'after the copy untouched',
  );
});

test('a write the card saw completed is already in the file, before any sync or close', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  sh(t, 'dd if=pattern:0102 of=/dev/vda bs=100 count=3 seek=1');
  const b = fs.readFileSync(p);
  assert.deepEqual([...b.subarray(98, 104)], [0, 0, 1, 2, 1, 2]);
  assert.deepEqual([...b.subarray(398, 402)], [1, 2, 0, 0], 'unaligned writes are read-modify-write');
  t.m.dispose();
});

test('dd from /dev/vda to /dev/null counts records and bytes like coreutils', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null bs=4K count=100')),
    '100+0 records in\n100+0 records out\n409600 bytes (410 kB, 400 KiB) copied, T s, R/s\n',
  );
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null bs=3M')),
    '2+1 records in\n2+1 records out\n8388608 bytes (8.4 MB, 8.0 MiB) copied, T s, R/s\n',
  );
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null count=2 skip=16383')),
    '1+0 records in\n1+0 records out\n512 bytes copied, T s, R/s\n',
  );
  assert.equal(backend(t).stats.writtenBytes, 0);
  assert.deepEqual(t.m.internalErrors, []);
});

test('hexdump prints hexdump -C lines, * for repeats, and the final offset', () => {
  const hello = new TextEncoder().encode('Hello, MIC X100!\n');
  const p = image([
    [0x200, hello],
    [0x211, Uint8Array.from({ length: 32 }, (_, i) => i)],
  ]);
  const t = bootedMachine({ disk: diskCfg(p) });
  assert.equal(
    sh(t, 'hexdump /dev/vda 0x1f8 0x40'),
    '000001f8  00 00 00 00 00 00 00 00  48 65 6c 6c 6f 2c 20 4d  |........Hello, M|\n' +
      '00000208  49 43 20 58 31 30 30 21  0a 00 01 02 03 04 05 06  |IC X100!........|\n' +
      '00000218  07 08 09 0a 0b 0c 0d 0e  0f 10 11 12 13 14 15 16  |................|\n' +
      '00000228  17 18 19 1a 1b 1c 1d 1e  1f 00 00 00 00 00 00 00  |................|\n' +
      '00000238\n',
  );
  assert.equal(
    sh(t, 'hexdump /dev/vda'),
    '00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000100\n',
  );
  assert.equal(
    sh(t, 'hexdump /dev/vda 512 5'),
    '00000200  48 65 6c 6c 6f                                    |Hello|\n00000205\n',
  );
  assert.equal(sh(t, 'hexdump /dev/vda 8388600 100').split('\n').at(-2), '00800000', 'stops at the end');
  assert.equal(
    sh(t, 'hexdump /dev/vdz'),
    'hexdump: /dev/vdz: No such file or directory\nhexdump: all input file arguments failed\n',
  );
  assert.deepEqual(t.m.internalErrors, []);
});

test('each request is mpssd’s three COPY_DESC calls: header, data, status (update_used 0, 0, 1)', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  const dev = t.m.mics[0];
  const statusAddr = dev.dpHost + blockDevice0(t).offset + 4;
  const calls: { update: number; req: string }[] = [];
  recordEvents(
    t.m,
    (e: BusEvent) => e.initiator === 'host.mic0.block' && e.kind === 'mem.read' && e.address === statusAddr,
    () => sh(t, 'dd if=pattern:cafe of=/dev/vda bs=512 count=1 seek=3'),
  ).forEach((e) => {
    const cd = findFrame(e.frames, 'mic_virtio_copy_desc');
    if (!cd) return; // the back-end's own DRIVER_OK check
    // The request's frame starts once the header told the back-end what it is.
    const req = findFrame(e.frames, 'virtio_blk_OUT');
    calls.push({
      update: Number(cd.args?.update_used),
      req: req ? `${req.args?.sector}+${req.args?.len}` : 'header',
    });
  });
  assert.deepEqual(calls, [
    { update: 0, req: 'header' },
    { update: 0, req: '3+512' },
    { update: 1, req: '3+512' },
  ]);
  assert.deepEqual(t.m.internalErrors, []);
});

test('requests larger than seg_max · 4 KiB are split: 1 MiB is 504 KiB + 504 KiB + 16 KiB', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  const lens: number[] = [];
  const seen = new Set<Frame>();
  recordEvents(
    t.m,
    (e) => e.initiator === 'host.mic0.block',
    () => sh(t, 'dd if=pattern:5a of=/dev/vda bs=1M count=1'),
  ).forEach((e) => {
    const f = findFrame(e.frames, 'virtio_blk_OUT');
    if (f && !seen.has(f)) {
      seen.add(f);
      lens.push(Number(f.args?.len));
    }
  });
  assert.deepEqual(lens, [126 * 4096, 126 * 4096, MiB - 2 * 126 * 4096]);
  t.m.dispose();
  assert.ok(
    fs
      .readFileSync(p)
      .subarray(0, MiB)
      .every((x) => x === 0x5a),
  );
});

test('writing past the end: what fits is written, then No space left on device', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/zero of=/dev/vda bs=1M seek=7')),
    "dd: error writing '/dev/vda': No space left on device\n2+0 records in\n1+0 records out\n1048576 bytes (1.0 MB, 1.0 MiB) copied, T s, R/s\n",
  );
  assert.equal(exitStatus(t), 1);
  // A block that straddles the end: 2 MiB of the 3 MiB fit; bytes count, records do not.
  assert.equal(
    maskTime(sh(t, 'dd if=pattern:ab of=/dev/vda bs=3M seek=2')),
    "dd: error writing '/dev/vda': No space left on device\n1+0 records in\n0+0 records out\n2097152 bytes (2.1 MB, 2.0 MiB) copied, T s, R/s\n",
  );
  // Without bs= dd reblocks to obs and says "writing to", as coreutils' write_output does.
  assert.equal(
    maskTime(sh(t, 'dd if=pattern:cd of=/dev/vda seek=16383')),
    "dd: writing to '/dev/vda': No space left on device\n2+0 records in\n1+0 records out\n512 bytes copied, T s, R/s\n",
  );
  t.m.dispose();
  const b = fs.readFileSync(p);
  assert.equal(b.length, DISK_BYTES, 'the image never grows');
  assert.ok(b.subarray(6 * MiB, DISK_BYTES - 512).every((x) => x === 0xab));
  assert.ok(b.subarray(DISK_BYTES - 512).every((x) => x === 0xcd));
});

test('dd operand errors read like coreutils', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  assert.equal(sh(t, 'dd foo'), "dd: unrecognized operand 'foo'\nTry 'dd --help' for more information.\n");
  assert.equal(exitStatus(t), 1);
  assert.equal(
    sh(t, 'dd if=/dev/foo of=/dev/null'),
    "dd: failed to open '/dev/foo': No such file or directory\n",
  );
  assert.equal(sh(t, 'dd if=/dev/zero of=/dev/vda bs=12q'), "dd: invalid number: '12q'\n");
  assert.equal(sh(t, 'dd if=/dev/zero of=/dev/vda bs=0'), "dd: invalid number: '0'\n");
  assert.equal(
    sh(t, 'dd if=pattern:xyz of=/dev/null'),
    "dd: failed to open 'pattern:xyz': Invalid argument\n",
  );
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null skip=20000')),
    'dd: /dev/vda: cannot skip to specified offset\n0+0 records in\n0+0 records out\n0 bytes copied, T s, R/s\n',
  );
  assert.equal(
    maskTime(sh(t, 'dd if=pattern:41 bs=4 count=1')),
    'AAAA1+0 records in\n1+0 records out\n4 bytes copied, T s, R/s\n',
    'no of=: the console is the output',
  );
  assert.deepEqual(t.m.internalErrors, []);
});

test('Ctrl-C stops an endless dd, which prints its statistics and exits 130', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  t.take();
  t.m.consoleInput(0, new TextEncoder().encode('dd if=/dev/zero of=/dev/null bs=4K\r'));
  assert.equal(t.m.run(20_000), 'limit', 'dd keeps going');
  t.m.consoleInput(0, Uint8Array.of(3));
  t.m.run();
  const out = t.take().replace(/\r\n/g, '\n');
  assert.match(
    out,
    /\^C(\d+)\+0 records in\n\1\+0 records out\n\d+ bytes \(.*\) copied, [0-9.e-]+ s, .*\/s\n/,
  );
  assert.equal(exitStatus(t), 130);
  assert.deepEqual(t.m.internalErrors, []);
});

test('conv=fsync sends a FLUSH after the copy', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  const before = backend(t).stats.flushes;
  assert.match(sh(t, 'dd if=pattern:01 of=/dev/vda bs=4K count=1 conv=fsync'), /^1\+0 records in/);
  assert.equal(backend(t).stats.flushes, before + 1);
  assert.equal(sh(t, 'sync /dev/vda'), '');
  assert.equal(sh(t, 'sync /dev/vdq'), "sync: error opening '/dev/vdq': No such file or directory\n");
});

// ---- read-only images -------------------------------------------------------------------------

function checkReadOnly(p: string, cfg: () => DiskConfig): void {
  const before = fs.readFileSync(p);
  const t = bootedMachine({ disk: cfg });
  assert.equal(backend(t).readOnly, true);
  const d = blockDevice0(t);
  assert.deepEqual(d.host_features, [(1 << 2) | (1 << 5), 0, 0, 0], 'SEG_MAX and RO');
  assert.deepEqual(d.guest_features, [(1 << 2) | (1 << 5), 0, 0, 0]);
  assert.equal(blockDevice(t.m.cardOs[0], 'vda')!.readOnly, true);
  assert.equal(
    maskTime(sh(t, 'dd if=pattern:deadbeef of=/dev/vda bs=512 count=4')),
    "dd: error writing '/dev/vda': Read-only file system\n1+0 records in\n0+0 records out\n0 bytes copied, T s, R/s\n",
  );
  assert.equal(exitStatus(t), 1);
  // Around the driver's check, a raw OUT reaches the host, which refuses it with IOERR.
  const res = onCard(t, (blk) =>
    blk.submit({ type: VIRTIO_BLK_T_OUT, sector: 0, out: new Uint8Array(512).fill(7) }),
  );
  assert.equal((res as BlkResult).status, VIRTIO_BLK_S_IOERR);
  // Reading still works.
  assert.match(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null bs=4K count=2')),
    /^2\+0 records in\n2\+0 records out\n/,
  );
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
  assert.ok(fs.readFileSync(p).equals(before), 'the image is byte-identical');
}

test('readonly: true opens the image read-only, offers RO, and no write reaches the file', () => {
  const p = image([[0, Uint8Array.of(1, 2, 3, 4)]]);
  checkReadOnly(p, diskCfg(p, { readonly: true }));
});

const NOT_WRITABLE = 'an image file that is not writable (0444) is opened read-only too';
test(NOT_WRITABLE, () => {
  if (process.getuid?.() === 0) {
    // Root may write a 0444 file (and the back-end would rightly open it read-write), so as
    // root this test runs itself again as the unprivileged user nobody.
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-name-pattern=${NOT_WRITABLE.replace(/[()]/g, '.')}`, __filename],
      {
        uid: 65534,
        gid: 65534,
        env: { ...process.env, HOME: os.tmpdir(), NODE_TEST_CONTEXT: undefined },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, `the test as user nobody failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /# pass 1\b/);
    return;
  }
  const p = image([[0, Uint8Array.of(9, 9)]]);
  fs.chmodSync(p, 0o444);
  checkReadOnly(p, diskCfg(p, { readonly: false }));
});

// ---- protocol-compat answers (§9 #26) ---------------------------------------------------------

test('an out-of-range sector is IOERR without touching the file (mpssd would crash)', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  const b = backend(t);
  const reads = b.stats.readBytes;
  const r = onCard(t, function* (blk): Routine<(BlkResult | number)[]> {
    return [
      yield* blk.submit({ type: VIRTIO_BLK_T_IN, sector: 16384, inLen: 512 }),
      yield* blk.submit({ type: VIRTIO_BLK_T_IN, sector: 16383, inLen: 1024 }),
      yield* blk.submit({ type: VIRTIO_BLK_T_OUT, sector: 20000, out: new Uint8Array(512).fill(1) }),
      yield* blk.submit({ type: VIRTIO_BLK_T_IN, sector: 16383, inLen: 512 }),
    ];
  });
  assert.deepEqual(
    r.map((x) => (x as BlkResult).status),
    [VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK],
  );
  assert.equal(b.stats.readBytes, reads + 512, 'only the in-range read touched the file');
  // The driver itself never sends such a request: the block layer stops it.
  const rc = onCard(t, (blk) => blk.read(16380, 8));
  assert.equal(rc, -5);
  assert.match(
    t.m.cardOs[0].dmesg(),
    /attempt to access beyond end of device\n.*vda: rw=0, want=16388, limit=16384/,
  );
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
  assert.equal(fs.statSync(p).size, DISK_BYTES);
});

test('an unsupported request type is UNSUPP (mpssd would say OK)', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  const r = onCard(t, function* (blk): Routine<(BlkResult | number)[]> {
    return [
      yield* blk.submit({ type: 2 /* SCSI_CMD */, sector: 0, inLen: 96 }),
      yield* blk.submit({ type: 0x55, sector: 0 }),
    ];
  });
  assert.deepEqual(
    r.map((x) => (x as BlkResult).status),
    [VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_S_UNSUPP],
  );
  assert.equal(backend(t).stats.unsupported, 2);
  assert.deepEqual(t.m.internalErrors, []);
});

test('GET_ID answers the 20-byte serial mic-emu-<card>-<inode>, NUL-padded', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  const want = `mic-emu-0-${fs.statSync(p, { bigint: true }).ino.toString(16)}`.slice(0, 20);
  assert.equal(
    onCard(t, (blk) => blk.getId()),
    want,
  );
  const raw = onCard(t, (blk) =>
    blk.submit({ type: VIRTIO_BLK_T_GET_ID, sector: 0, inLen: 20 }),
  ) as BlkResult;
  assert.equal(raw.status, VIRTIO_BLK_S_OK);
  assert.equal(raw.data.length, 20);
  assert.equal(new TextDecoder().decode(raw.data.subarray(0, want.length)), want);
  assert.ok(raw.data.subarray(want.length).every((x) => x === 0));
  assert.equal(raw.usedLen, 16 + 20 + 1, 'used.len is every byte consumed (mpssd/vringh)');
});

test('a malformed request header is failed with IOERR and the back-end goes on', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  const cos = t.m.cardOs[0];
  const status = onCard(t, function* (blk): Routine<number> {
    const base = cos.gddrAlloc.alloc(4096);
    yield cos.io.write(base, new Uint8Array(8));
    yield cos.io.write8(base + 64, 0x77);
    const tok = { done: false, usedLen: 0, error: 0 };
    const vq = blk.vdev.vqs[0];
    yield* vq.add(
      [
        { addr: base, len: 8, write: false },
        { addr: base + 64, len: 1, write: true },
      ],
      tok,
    );
    yield* vq.kick();
    while (!tok.done) yield sleep(1_000_000);
    const s: number = yield cos.io.read8(base + 64);
    cos.gddrAlloc.release(base, 4096);
    return s;
  });
  assert.equal(status, VIRTIO_BLK_S_IOERR);
  assert.ok(t.m.host.log.some((l) => /virtio-block: malformed request/.test(l.text)));
  assert.match(sh(t, 'dd if=/dev/vda of=/dev/null bs=512 count=1'), /^1\+0 records in/);
  assert.deepEqual(t.m.internalErrors, []);
});

test('injected EIO sectors: IOERR, dd reports Input/output error, the file is unchanged', () => {
  const p = image([[8192, new Uint8Array(8192).fill(0x11)]]);
  const before = fs.readFileSync(p);
  const t = bootedMachine({ disk: diskCfg(p, { eioSectors: [16, 31] }) });
  assert.equal(
    maskTime(sh(t, 'dd if=pattern:deadbeef of=/dev/vda bs=4096 seek=2 count=2')),
    "dd: error writing '/dev/vda': Input/output error\n1+0 records in\n0+0 records out\n0 bytes copied, T s, R/s\n",
  );
  assert.equal(exitStatus(t), 1);
  assert.equal(
    maskTime(sh(t, 'dd if=/dev/vda of=/dev/null bs=512 skip=20 count=1')),
    "dd: error reading '/dev/vda': Input/output error\n0+0 records in\n0+0 records out\n0 bytes copied, T s, R/s\n",
  );
  assert.match(
    sh(t, 'dd if=/dev/vda of=/dev/null bs=512 skip=15 count=1'),
    /^1\+0 records in/,
    'neighbours read',
  );
  assert.equal(sh(t, 'hexdump /dev/vda 8192 16'), 'hexdump: /dev/vda: Input/output error\n');
  const r = onCard(t, (blk) => blk.submit({ type: VIRTIO_BLK_T_IN, sector: 31, inLen: 512 })) as BlkResult;
  assert.equal(r.status, VIRTIO_BLK_S_IOERR);
  assert.match(t.m.cardOs[0].dmesg(), /end_request: I\/O error, dev vda, sector 16\n/);
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
  assert.ok(fs.readFileSync(p).equals(before));
});

test('data survives a card reboot: the device is rediscovered and hexdump shows it', () => {
  const p = image();
  const t = bootedMachine({ disk: diskCfg(p) });
  sh(t, 'dd if=pattern:c0ffee00 of=/dev/vda bs=16 count=2 seek=64');
  typeLine(t, 'reboot');
  t.m.run();
  assert.equal(t.m.state(0), 'online');
  assert.ok(t.m.cardOs[0].shell !== null);
  assert.ok(blockDevice(t.m.cardOs[0], 'vda'), 'vda is back');
  assert.equal(
    sh(t, 'hexdump /dev/vda 1024 32'),
    '00000400  c0 ff ee 00 c0 ff ee 00  c0 ff ee 00 c0 ff ee 00  |................|\n*\n00000420\n',
  );
  assert.match(t.m.cardOs[0].dmesg(), /\[vda\] 16384 512-byte logical blocks/);
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
});

test('close() fsyncs and closes the image once; a second close does nothing', () => {
  const t = newMachine({ disk: diskCfg(image()) });
  const b = backend(t);
  t.m.dispose();
  b.close();
  assert.throws(() => fs.fstatSync((b as unknown as { fd: number }).fd));
});

test('an image that cannot be opened gives capacity 0 and IOERR, never an exception', () => {
  const p = path.join(tmpRoot, 'no-such-dir', 'disk.img');
  const t = bootedMachine({ disk: diskCfg(p) });
  assert.ok(backend(t).openError);
  assert.equal(blockDevice(t.m.cardOs[0], 'vda')!.capacity, 0);
  const r = onCard(t, (blk) => blk.submit({ type: VIRTIO_BLK_T_IN, sector: 0, inLen: 512 })) as BlkResult;
  assert.equal(r.status, VIRTIO_BLK_S_IOERR);
  assert.deepEqual(t.m.internalErrors, []);
});

test('data moves between the image and the bounce buffer directly; a file error mid-copy is IOERR and the back-end goes on', () => {
  const pat = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) & 0xff);
  const p = image([[64 * 512, pat]]);
  const t = bootedMachine({ disk: diskCfg(p) });
  const b = backend(t);
  const stats = { ...b.stats };
  const r = onCard(t, (blk) => blk.read(64, 16)) as Uint8Array;
  assert.deepEqual([...r], [...pat], 'the card reads what the file holds');
  assert.equal(b.stats.readBytes - stats.readBytes, 8192);
  // The descriptor the back-end reads from is gone (a failing disk): reads and writes fail.
  const bb = b as unknown as { fd: number };
  const fd = bb.fd;
  bb.fd = 1_000_000;
  assert.equal(
    onCard(t, (blk) => blk.read(64, 16)),
    -5,
    'EIO for the read',
  );
  assert.equal(
    onCard(t, (blk) => blk.write(64, new Uint8Array(8192))),
    -5,
    'EIO for the write',
  );
  assert.ok(b.stats.ioErrors >= 2);
  bb.fd = fd;
  assert.deepEqual(
    [...(onCard(t, (blk) => blk.read(64, 16)) as Uint8Array)],
    [...pat],
    'the file is unchanged',
  );
  // The image shrinks under the back-end: what is no longer there reads as zeros, status OK.
  fs.truncateSync(p, 64 * 512 + 4096);
  const cut = onCard(t, (blk) => blk.read(64, 16)) as Uint8Array;
  assert.deepEqual([...cut.subarray(0, 4096)], [...pat.subarray(0, 4096)]);
  assert.ok(cut.subarray(4096).every((x) => x === 0));
  assert.deepEqual(t.m.internalErrors, []);
  t.m.dispose();
});

test('card-side request routines carry the Linux driver frames', () => {
  const t = bootedMachine({ disk: diskCfg(image()) });
  const fns = new Set<string>();
  recordEvents(
    t.m,
    (e) => e.initiator === 'mic0.cpu' && e.kind === 'doorbell',
    () => {
      onCard(t, (blk) => frame(t.m.sched, 'test', undefined, blk.read(0, 1)));
    },
  ).forEach((e) => {
    for (let f = e.frames; f; f = f.parent) fns.add(f.fn);
  });
  for (const fn of ['virtblk_read', 'virtio_queue_rq', 'virtqueue_kick', 'mic_notify'])
    assert.ok(fns.has(fn), fn);
});

// ---- formatting, as coreutils / util-linux / Linux print it -------------------------------------

test('dd sizes and rates match coreutils (values from a real dd 9.1)', () => {
  const cases: [number, string][] = [
    [999, '999 B|999 B'],
    [1000, '1.0 kB|1000 B'],
    [1023, '1.0 kB|1023 B'],
    [1024, '1.0 kB|1.0 KiB'],
    [52428, '52 kB|51 KiB'],
    [99999, '100 kB|98 KiB'],
    [999499, '999 kB|976 KiB'],
    [999500, '1.0 MB|976 KiB'],
    [524288, '524 kB|512 KiB'],
    [8388608, '8.4 MB|8.0 MiB'],
    [1000000000, '1.0 GB|954 MiB'],
  ];
  for (const [n, want] of cases)
    assert.equal(`${humanBytes(n, 1000)}|${humanBytes(n, 1024)}`, want, String(n));
  assert.equal(humanRate(524288, 1_270_000), '413 MB/s');
  assert.equal(humanRate(1000, 14_958), '66.9 MB/s');
  assert.equal(humanRate(1, 18_183), '55.0 kB/s');
  assert.equal(humanRate(0, 11_036), '0.0 kB/s');
  assert.equal(humanRate(2097152000, 35_923_600), '58.4 GB/s');
  assert.equal(formatG(0.000243557), '0.000243557');
  assert.equal(formatG(1.4958e-5), '1.4958e-05');
  assert.equal(formatG(1.73525), '1.73525');
  assert.equal(
    ddSummary({ rFull: 1024, rPartial: 0, wFull: 1024, wPartial: 0, bytes: 524288 }, 1_270_000),
    '1024+0 records in\n1024+0 records out\n524288 bytes (524 kB, 512 KiB) copied, 0.00127 s, 413 MB/s\n',
  );
  assert.equal(
    ddSummary({ rFull: 0, rPartial: 1, wFull: 0, wPartial: 1, bytes: 1 }, 18_183),
    '0+1 records in\n0+1 records out\n1 byte copied, 1.8183e-05 s, 55.0 kB/s\n',
  );
});

test('dd number suffixes: c w b kB K KiB MB M G and x products', () => {
  const want: [string, number | null][] = [
    ['512', 512],
    ['1c', 1],
    ['2w', 4],
    ['3b', 1536],
    ['1kB', 1000],
    ['1K', 1024],
    ['1k', 1024],
    ['1KiB', 1024],
    ['2MB', 2_000_000],
    ['2M', 2 * MiB],
    ['1G', 2 ** 30],
    ['2x512', 1024],
    ['1m', null],
    ['abc', null],
    ['-1', null],
    ['', null],
  ];
  for (const [s, n] of want) assert.equal(parseDdNumber(s), n, s);
});

test('Linux string_get_size: 3 significant digits in both units', () => {
  assert.equal(stringGetSize(64 * MiB, 1000), '67.1 MB');
  assert.equal(stringGetSize(64 * MiB, 1024), '64.0 MiB');
  assert.equal(stringGetSize(8 * MiB, 1000), '8.39 MB');
  assert.equal(stringGetSize(8 * MiB, 1024), '8.00 MiB');
  assert.equal(stringGetSize(1024, 1024), '1.00 KiB');
  assert.equal(stringGetSize(0, 1000), '0 B');
});

test('hexdump -C formatter: partial lines pad to the ASCII column, fed in any pieces', () => {
  const f = new HexdumpFormatter(0);
  f.push(new TextEncoder().encode('ABC'));
  f.push(new TextEncoder().encode('DE'));
  assert.equal(
    f.text() + f.finish(),
    '00000000  41 42 43 44 45                                    |ABCDE|\n00000005\n',
  );
  const g = new HexdumpFormatter(8);
  g.push(new Uint8Array(50));
  assert.equal(
    g.text() + g.finish(),
    '00000008  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n' +
      '00000038  00 00                                             |..|\n0000003a\n',
  );
});
