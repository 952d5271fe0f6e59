// A recording you can share: one file with what it takes to run a session again, identically,
// on another machine — the machine's configuration, the timed inputs, the hash checkpoints that
// check the replay, the head, and per disk image its size, a SHA-256 of its starting content and
// the starting bytes of every 4 KiB chunk the session read before writing it. docs/time-travel.md
// ("Recordings") describes the format field by field.
//
// The file: a header line of JSON text, then the body, packed.
//   1. {"format":"mic-emu-recording","version":2,"cards":1,"events":N,"inputs":K,"writer":"…",
//      "bytes":B,"sha256":"…"}\n — `format` tells a recording from any other file, `version`
//      the layout of the body; cards/events/inputs/writer are for people (`head -1 FILE`);
//      `bytes` and `sha256` are the length and hash of everything after the newline, so damage,
//      a cut included, is caught before anything is unpacked;
//   2. the body: JSON (Body below), deflate-raw packed.
// JSON, because the fields are then self-describing and any tool reads them once unpacked; packed,
// because a scripted session types an input every few hundred events and their text would
// otherwise pass the size target (1 MB per 10 M events) several times over. Inputs count their
// seq and time from the previous input, which packs far better. The disk bytes are packed apart
// (deflate-raw, then base64) inside the JSON.

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { HOST_COMMANDS, type HostCommand, type MachineInput, type TimedInput } from '../machineInput.ts';
import type { RecordedTimeline } from './timeline.ts';
import { CHUNK } from './imageReads.ts';

export const RECORDING_FORMAT = 'mic-emu-recording';
/**
 * 2: an input's `quiet` counts the places a step ended or could have ended since the last event
 * (spine.ts), not the steps alone — version 1 files place some inputs elsewhere, so are refused.
 */
export const RECORDING_VERSION = 2;
/** The first bytes of every recording (what the file policy checks before replacing a file). */
export const RECORDING_MAGIC = `{"format":"${RECORDING_FORMAT}"`;

/** The machine a recording runs on: no host paths (they mean nothing on another computer). */
export interface RecordedMachine {
  cards: number;
  memoryBytes: number;
  stepping: string;
  autoBoot: boolean;
  diskSizeBytes: number;
  diskReadonly: boolean;
  diskEio: [number, number] | null;
  netDropEvery: number;
}

/** One disk image: its starting size and hash, and the starting bytes of what was read. */
export interface RecordedDisk {
  card: number;
  /** Bytes when the session began. */
  size: number;
  /** SHA-256 of the whole starting content, hex (tells which image the recording was made on). */
  sha256: string;
  /** The back-end had it read-only (asked for, or the file was not writable). */
  readonly: boolean;
  /** [offset, length] of the ranges kept, ascending, in whole 4 KiB chunks (the last may be cut by the size). */
  ranges: [number, number][];
  /** The bytes of the ranges, one after the other: deflate-raw, then base64. */
  data: string;
}

export interface Recording {
  machine: RecordedMachine;
  timeline: RecordedTimeline;
  disks: RecordedDisk[];
}

/** A recording that cannot be read: the message names the file and what is wrong. */
export class RecordingError extends Error {}

// ---- inputs --------------------------------------------------------------------------------

/**
 * Every input: its event number, the quiet steps (steps that made no event) after it before the
 * input entered (0 when absent), and the virtual time (ns) it entered at, when known.
 */
type InputJson = { seq: number; quiet?: number; time?: number } & (
  | { seq: number; kind: 'console'; card: number; text: string }
  | { seq: number; kind: 'host'; card: number; command: HostCommand }
  | { seq: number; kind: 'resizeDisk'; card: number; bytes: number }
  | {
      seq: number;
      kind: 'debugWrite';
      region: 'host' | 'gddr' | 'mmio';
      card: number;
      address: number;
      side: 'host' | 'card';
      hex: string;
    }
);

/** Console bytes as latin1 text (one char per byte: exact, and readable for typed text). */
function encodeInput(t: TimedInput): InputJson {
  const j: InputJson = encodeKind(t);
  if (t.quiet) j.quiet = t.quiet;
  if (t.time !== undefined) j.time = t.time;
  return j;
}

function encodeKind(t: TimedInput): InputJson {
  const i = t.input;
  switch (i.kind) {
    case 'console':
      return { seq: t.seq, kind: 'console', card: i.card, text: Buffer.from(i.bytes).toString('latin1') };
    case 'host':
      return { seq: t.seq, kind: 'host', card: i.card, command: i.command };
    case 'resizeDisk':
      return { seq: t.seq, kind: 'resizeDisk', card: i.card, bytes: i.bytes };
    case 'debugWrite':
      return {
        seq: t.seq,
        kind: 'debugWrite',
        region: i.region,
        card: i.card,
        address: i.address,
        side: i.side,
        hex: Buffer.from(i.data).toString('hex'),
      };
    case 'swapDisk':
      // The image swapped in is a host file of its own, not followed by the timeline (limits).
      throw new RecordingError(
        `the session swapped mic${i.card}'s disk image (to ${i.disk.path}) at event ${t.seq}; recordings of disk swaps are not supported`,
      );
  }
}

function decodeInput(j: unknown, where: string, cards: number): TimedInput {
  const bad = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  if (!j || typeof j !== 'object') bad('not an object');
  const o = j as Record<string, unknown>;
  const seq = o.seq;
  if (!isCount(seq)) bad('seq is not an event number');
  if (!isCount(o.card) || (o.card as number) >= cards)
    bad(`card ${JSON.stringify(o.card)} is not one of the ${cards}`);
  const card = o.card as number;
  let input: MachineInput;
  switch (o.kind) {
    case 'console':
      if (typeof o.text !== 'string') bad('console text is missing');
      input = { kind: 'console', card, bytes: new Uint8Array(Buffer.from(o.text as string, 'latin1')) };
      break;
    case 'host':
      if (!(HOST_COMMANDS as readonly unknown[]).includes(o.command))
        bad(`${JSON.stringify(o.command)} is not a host command`);
      input = { kind: 'host', card, command: o.command as HostCommand };
      break;
    case 'resizeDisk':
      if (!isCount(o.bytes)) bad('bytes is not a size');
      input = { kind: 'resizeDisk', card, bytes: o.bytes as number };
      break;
    case 'debugWrite':
      if (!['host', 'gddr', 'mmio'].includes(o.region as string)) bad('region is not host, gddr or mmio');
      if (!['host', 'card'].includes(o.side as string)) bad('side is not host or card');
      if (!isCount(o.address)) bad('address is not a number');
      if (typeof o.hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(o.hex)) bad('hex is not hex bytes');
      input = {
        kind: 'debugWrite',
        region: o.region as 'host',
        card,
        address: o.address as number,
        side: o.side as 'host',
        data: new Uint8Array(Buffer.from(o.hex as string, 'hex')),
      };
      break;
    default:
      return bad(`kind ${JSON.stringify(o.kind)} is not an input kind`);
  }
  if (o.time !== undefined && !isCount(o.time)) bad('time is not a virtual time in ns');
  if (o.quiet !== undefined && !isCount(o.quiet)) bad('quiet is not a count of steps');
  const quiet = (o.quiet as number | undefined) ?? 0;
  return o.time === undefined
    ? { seq: seq as number, quiet, input }
    : { seq: seq as number, quiet, input, time: o.time as number };
}

/**
 * In the file, an input's seq and time count from the previous input's (the first's from 0):
 * small, repetitive numbers that pack far better than absolute ones. sign −1 makes them
 * relative, +1 absolute again.
 */
function relative(list: InputJson[], sign: 1 | -1): InputJson[] {
  let seq = 0;
  let time = 0;
  return list.map((j) => {
    const out = { ...j, seq: sign > 0 ? seq + j.seq : j.seq - seq };
    seq = sign > 0 ? out.seq : j.seq;
    if (typeof j.time === 'number') {
      out.time = sign > 0 ? time + j.time : j.time - time;
      time = sign > 0 ? out.time : j.time;
    }
    return out;
  });
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// ---- disks ---------------------------------------------------------------------------------

/** Chunk numbers → merged [offset, length] ranges, each cut at `size`. */
export function chunkRanges(chunks: Iterable<number>, size: number): [number, number][] {
  const sorted = [...chunks].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const c of sorted) {
    const pos = c * CHUNK;
    if (pos >= size) break;
    const len = Math.min(CHUNK, size - pos);
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === pos) last[1] += len;
    else out.push([pos, len]);
  }
  return out;
}

/** The bytes of a disk's ranges, packed as the file keeps them. */
export function packDiskData(parts: Uint8Array[]): string {
  return deflateRawSync(Buffer.concat(parts), { level: 9 }).toString('base64');
}

/** Create `path` as the disk's starting image: its size, the recorded ranges, zeros elsewhere. */
export function writeStartingImage(d: RecordedDisk, path: string): void {
  const data = inflateRawSync(Buffer.from(d.data, 'base64'));
  const fd = fs.openSync(path, 'wx', 0o644);
  try {
    fs.ftruncateSync(fd, d.size);
    let at = 0;
    for (const [pos, len] of d.ranges) {
      fs.writeSync(fd, data, at, len, pos);
      at += len;
    }
    // Not writable (as the original was not): the back-end falls back to read-only the same way.
    fs.fchmodSync(fd, d.readonly ? 0o444 : 0o644);
  } finally {
    fs.closeSync(fd);
  }
}

// ---- the file ------------------------------------------------------------------------------

interface Body {
  machine: RecordedMachine;
  head: number;
  headHash: number;
  /** [event number, running hash], ascending. */
  checkpoints: [number, number][];
  inputs: InputJson[];
  disks: RecordedDisk[];
}

/** The file's bytes. Throws RecordingError when the session cannot be recorded (a disk swap). */
export function encodeRecording(r: Recording, writer = 'mic-emu 0.1.0'): Buffer {
  const body: Body = {
    machine: r.machine,
    head: r.timeline.head,
    headHash: r.timeline.headHash,
    checkpoints: r.timeline.checkpoints,
    inputs: relative(r.timeline.inputs.map(encodeInput), -1),
    disks: r.disks,
  };
  const packed = deflateRawSync(JSON.stringify(body), { level: 9 });
  const sha256 = createHash('sha256').update(packed).digest('hex');
  // The header says what the file holds in words a person can read without unpacking it.
  const summary = `"cards":${r.machine.cards},"events":${r.timeline.head},"inputs":${body.inputs.length}`;
  const header = `${RECORDING_MAGIC},"version":${RECORDING_VERSION},${summary},"writer":${JSON.stringify(writer)},"bytes":${packed.length},"sha256":"${sha256}"}\n`;
  return Buffer.concat([Buffer.from(header), packed]);
}

/** Write a recording to `path` (an fd opened by the file policy, or a path). */
export function writeRecording(fdOrPath: number | string, r: Recording): number {
  const b = encodeRecording(r);
  if (typeof fdOrPath === 'number') {
    for (let done = 0; done < b.length;) done += fs.writeSync(fdOrPath, b, done, b.length - done);
  } else fs.writeFileSync(fdOrPath, b);
  return b.length;
}

/** Read and check a recording; RecordingError names the file and what is wrong with it. */
export function readRecording(path: string): Recording {
  let raw: Buffer;
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new RecordingError(`the recording ${path} is not a regular file`);
    raw = fs.readFileSync(path);
  } catch (e) {
    if (e instanceof RecordingError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new RecordingError(
      code === 'ENOENT'
        ? `the recording ${path} does not exist`
        : `the recording ${path} cannot be read (${code ?? (e as Error).message})`,
    );
  }
  return decodeRecording(raw, path);
}

export function decodeRecording(raw: Buffer, path: string): Recording {
  const fail = (what: string): never => {
    throw new RecordingError(`${path} ${what}`);
  };
  const nl = raw.indexOf(0x0a);
  let header: Record<string, unknown> | null = null;
  try {
    header = JSON.parse(raw.subarray(0, nl < 0 ? raw.length : nl).toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    header = null;
  }
  if (!header || typeof header !== 'object' || header.format !== RECORDING_FORMAT)
    fail(
      `is not a mic-emu recording (its first line is not a recording header: {"format":"${RECORDING_FORMAT}",…})`,
    );
  const h = header!;
  if (h.version !== RECORDING_VERSION)
    fail(
      `is a recording of version ${JSON.stringify(h.version)}; this mic-emu reads version ${RECORDING_VERSION}`,
    );
  const rest = raw.subarray(nl + 1);
  if (rest.length !== h.bytes)
    fail(
      `is damaged: the header says ${String(h.bytes)} bytes follow it, the file has ${rest.length} (cut short or appended to)`,
    );
  const sum = createHash('sha256').update(rest).digest('hex');
  if (sum !== h.sha256) fail(`is damaged: its SHA-256 is ${sum}, the header says ${String(h.sha256)}`);
  let b: Body;
  try {
    b = JSON.parse(inflateRawSync(rest).toString('utf8')) as Body;
  } catch (e) {
    return fail(`is damaged: its body does not unpack to JSON (${(e as Error).message})`);
  }
  try {
    return checkBody(b);
  } catch (e) {
    return fail(`is not a valid recording: ${(e as Error).message}`);
  }
}

/** The body's fields, checked one by one (a file with a right checksum can still be hand-made). */
function checkBody(b: Body): Recording {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };
  need(!!b && typeof b === 'object', 'the body is not an object');
  const m = b.machine;
  need(!!m && typeof m === 'object', 'machine is missing');
  need(isCount(m.cards) && m.cards >= 1 && m.cards <= 8, 'machine.cards is not 1–8');
  need(isCount(m.memoryBytes) && m.memoryBytes > 0, 'machine.memoryBytes is not a size');
  need(typeof m.stepping === 'string', 'machine.stepping is missing');
  need(typeof m.autoBoot === 'boolean', 'machine.autoBoot is not true or false');
  need(isCount(m.diskSizeBytes), 'machine.diskSizeBytes is not a size');
  need(typeof m.diskReadonly === 'boolean', 'machine.diskReadonly is not true or false');
  need(
    m.diskEio === null || (Array.isArray(m.diskEio) && m.diskEio.length === 2 && m.diskEio.every(isCount)),
    'machine.diskEio is not null or [first, last]',
  );
  need(isCount(m.netDropEvery), 'machine.netDropEvery is not a count');
  need(isCount(b.head), 'head is not an event number');
  need(isCount(b.headHash) && b.headHash <= 0xffffffff, 'headHash is not a 32-bit hash');
  need(Array.isArray(b.checkpoints), 'checkpoints is not a list');
  for (const c of b.checkpoints)
    need(
      Array.isArray(c) && c.length === 2 && isCount(c[0]) && isCount(c[1]),
      'a checkpoint is not [seq, hash]',
    );
  need(Array.isArray(b.inputs), 'inputs is not a list');
  for (const j of b.inputs) need(!!j && typeof j === 'object' && isCount(j.seq), 'an input has no seq');
  const inputs = relative(b.inputs, 1).map((j, i) => decodeInput(j, `input ${i}`, m.cards));
  for (let i = 1; i < inputs.length; i++)
    need(inputs[i].seq >= inputs[i - 1].seq, `input ${i} comes before input ${i - 1}`);
  need(inputs.length === 0 || inputs[inputs.length - 1].seq <= b.head, 'an input lies past the head');
  need(Array.isArray(b.disks), 'disks is not a list');
  for (const d of b.disks) {
    need(isCount(d.card) && d.card < m.cards, `disk of card ${JSON.stringify(d.card)}: no such card`);
    need(isCount(d.size), `disk of mic${d.card}: size is not a size`);
    need(
      typeof d.sha256 === 'string' && /^[0-9a-f]{64}$/.test(d.sha256),
      `disk of mic${d.card}: sha256 is not a SHA-256`,
    );
    need(typeof d.readonly === 'boolean', `disk of mic${d.card}: readonly is not true or false`);
    need(typeof d.data === 'string', `disk of mic${d.card}: data is missing`);
    need(Array.isArray(d.ranges), `disk of mic${d.card}: ranges is not a list`);
    let end = 0;
    let total = 0;
    for (const r of d.ranges) {
      need(
        Array.isArray(r) &&
          r.length === 2 &&
          isCount(r[0]) &&
          isCount(r[1]) &&
          r[0] >= end &&
          r[0] + r[1] <= d.size,
        `disk of mic${d.card}: a range is not [offset, length] inside the image, in order`,
      );
      end = r[0] + r[1];
      total += r[1];
    }
    let n: number;
    try {
      n = inflateRawSync(Buffer.from(d.data, 'base64')).length;
    } catch {
      throw new Error(`disk of mic${d.card}: data does not unpack`);
    }
    need(n === total, `disk of mic${d.card}: data has ${n} bytes, its ranges ${total}`);
  }
  return {
    machine: m,
    timeline: {
      inputs,
      checkpoints: b.checkpoints,
      head: b.head,
      headHash: b.headHash,
    },
    disks: b.disks,
  };
}
