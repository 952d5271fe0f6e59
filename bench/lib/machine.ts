// Machines for the benchmarks: a booted card with a real disk image in a temporary directory,
// and a way to run a routine as a card task (a kernel thread on mic0) to completion.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine, type MachineConfig } from '../../src/emulator/machine.ts';
import { blockDevice, type VirtioBlock } from '../../src/emulator/cardSoftware/virtioBlock.ts';
import type { Routine } from '../../src/emulator/sim/scheduler.ts';

export const MiB = 2 ** 20;

/** A temporary directory removed when the process exits. */
export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `mic-bench-${tag}-`));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Bytes that differ everywhere (so a misplaced copy shows), the same every run. */
export function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

/** A disk image of `bytes` filled with pattern(), written and fsynced (so it sits in the page cache). */
export function makeImage(dir: string, name: string, bytes: number): string {
  const p = path.join(dir, name);
  const fd = fs.openSync(p, 'w');
  for (let off = 0; off < bytes; off += MiB) {
    const b = pattern(Math.min(MiB, bytes - off), off / MiB + 1);
    fs.writeSync(fd, b, 0, b.length, off);
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return p;
}

/** Run until mic0's shell is up and nothing is scheduled; throws if it never gets there. */
export function bootToShell(m: Machine): void {
  m.start();
  const ok = m.runUntil(() => m.cardOs.every((o) => o.shell !== null) && m.sched.idle);
  if (!ok) throw new Error(`machine did not boot: ${m.mics.map((d) => d.state).join(',')}`);
  m.run();
}

export interface DiskMachine {
  m: Machine;
  blk: VirtioBlock;
  image: string;
  /** Console output of mic0 (decoded). */
  out: string[];
}

/** A booted one-card machine whose virtio-block device is `image`. */
export function diskMachine(image: string, extra: Partial<MachineConfig> = {}): DiskMachine {
  const out: string[] = [''];
  const dec = new TextDecoder();
  const m = new Machine({
    disk: () => ({ path: image, sizeBytes: fs.statSync(image).size, readonly: false }),
    terminal: () => ({ write: (b) => (out[0] += dec.decode(b)) }),
    ...extra,
  });
  bootToShell(m);
  const blk = blockDevice(m.cardOs[0], 'vda');
  if (!blk) throw new Error('no /dev/vda on mic0');
  return { m, blk, image, out };
}

/** Run `body` as a task of mic0's OS until the machine is idle; return what it returned. */
export function onCard<T>(m: Machine, body: () => Routine<T>): T {
  const box: { done: boolean; value?: T } = { done: false };
  m.cardOs[0].spawn(
    'bench',
    (function* (): Routine {
      box.value = yield* body();
      box.done = true;
    })(),
  );
  m.run();
  if (!box.done) throw new Error(`the card task did not finish (stop: ${m.spine.stopRequested ?? 'none'})`);
  return box.value as T;
}

/**
 * The card reader's buffer, reused from read to read as a program reuses its read(2) buffer
 * (and as the plain-fs baselines reuse theirs).
 */
const readBuffers = new Map<number, Uint8Array>();
function readBuffer(len: number): Uint8Array {
  let b = readBuffers.get(len);
  if (!b) readBuffers.set(len, (b = new Uint8Array(len)));
  return b;
}

/** Sequential card-side reads of `bytes` from byte offset `start` in `chunk`-byte requests. */
export function cardRead(d: DiskMachine, start: number, bytes: number, chunk: number, check?: Buffer): void {
  const { blk } = d;
  const into = readBuffer(chunk);
  onCard(d.m, function* (): Routine {
    for (let off = 0; off < bytes; off += chunk) {
      const r: Uint8Array | number = yield* blk.read((start + off) / 512, chunk / 512, into);
      if (typeof r === 'number') throw new Error(`virtblk_read at ${start + off}: ${r}`);
      if (check && Buffer.compare(r, check.subarray(off, off + chunk)) !== 0)
        throw new Error(`card read at ${start + off} returned other bytes than the file holds`);
    }
  });
}

/** Sequential card-side writes of `data` at byte offset `start` in `chunk`-byte requests, then FLUSH. */
export function cardWrite(d: DiskMachine, start: number, data: Uint8Array, chunk: number): void {
  const { blk } = d;
  onCard(d.m, function* (): Routine {
    for (let off = 0; off < data.length; off += chunk) {
      const rc: number = yield* blk.write((start + off) / 512, data.subarray(off, off + chunk));
      if (rc !== 0) throw new Error(`virtblk_write at ${start + off}: ${rc}`);
    }
    const rc: number = yield* blk.flush();
    if (rc !== 0) throw new Error(`virtblk_flush: ${rc}`);
  });
}

/** Random 512-byte card reads at the given sectors. */
export function cardRead512(d: DiskMachine, sectors: readonly number[]): void {
  const { blk } = d;
  const into = readBuffer(512);
  onCard(d.m, function* (): Routine {
    for (const s of sectors) {
      const r: Uint8Array | number = yield* blk.read(s, 1, into);
      if (typeof r === 'number') throw new Error(`virtblk_read of sector ${s}: ${r}`);
    }
  });
}
