// The `mic` launch attributes: every one has a default, so `{}` boots one card. Invalid values
// are rejected with a message that names the attribute and what is allowed; nothing starts.
// Files are checked here too, before anything opens them (hostSoftware/filePolicy.ts).

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { checkFiles, expandPath, type NamedFile } from '../emulator/hostSoftware/filePolicy.ts';
import { defaultDiskPath, perCardPath } from '../emulator/hostSoftware/hostFiles.ts';

export interface LaunchConfig {
  cards: number;
  cardMemoryMiB: number;
  /** Disk image for mic0's virtio-block (other cards get PATH with -micN before the extension). */
  disk: string | null;
  diskSizeMiB: number;
  diskReadonly: boolean;
  pcap: string | null;
  trace: string | null;
  stopOnEntry: boolean;
  autoBoot: boolean;
  stepping: 'A0' | 'B0' | 'B1' | 'C0';
  /** The folder relative paths resolve against (null: the adapter's working folder). */
  cwd: string | null;
  /** Replace an existing pcap/trace file that the emulator did not write. */
  overwrite: boolean;
  /** A recording to replay (its machine and disks replace cards, disk…): docs/time-travel.md. */
  replay: string | null;
}

export const LAUNCH_DEFAULTS: LaunchConfig = {
  cards: 1,
  cardMemoryMiB: 8192,
  disk: null,
  diskSizeMiB: 64,
  diskReadonly: false,
  pcap: null,
  trace: null,
  stopOnEntry: false,
  autoBoot: true,
  stepping: 'C0',
  cwd: null,
  overwrite: false,
  replay: null,
};

/** JSON-schema-like description, used for validation and for package.json. */
export const LAUNCH_ATTRIBUTES = {
  cards: {
    type: 'integer',
    minimum: 1,
    maximum: 8,
    default: 1,
    description: 'Number of emulated X100 cards (1–8).',
  },
  cardMemoryMiB: {
    type: 'integer',
    minimum: 64,
    maximum: 65536,
    default: 8192,
    description: 'GDDR per card in MiB (64–65536). Sparse: costs nothing until written.',
  },
  disk: {
    type: ['string', 'null'],
    default: null,
    description:
      'Disk image file for virtio-block (created sparse if missing; card N > 0 uses PATH-micN.ext). Default (null): mic0-disk.img in the user cache directory (~/.cache/mic-emu), created once and reused, as the CLI does.',
  },
  diskSizeMiB: {
    type: 'integer',
    minimum: 1,
    maximum: 1048576,
    default: 64,
    description: 'Size of a newly created disk image, in MiB.',
  },
  diskReadonly: {
    type: 'boolean',
    default: false,
    description: 'Expose the disk read-only (VIRTIO_BLK_F_RO).',
  },
  pcap: {
    type: ['string', 'null'],
    default: null,
    description: 'Write every virtio-net frame (both directions) to this pcap file.',
  },
  trace: {
    type: ['string', 'null'],
    default: null,
    description: 'Write every bus event as a JSON line to this file.',
  },
  stopOnEntry: { type: 'boolean', default: false, description: 'Stop before the first bus transaction.' },
  autoBoot: { type: 'boolean', default: true, description: 'Boot the cards at launch (mpssd `micctrl -b`).' },
  stepping: {
    type: 'string',
    enum: ['A0', 'B0', 'B1', 'C0'],
    default: 'C0',
    description: 'Card stepping (PCI revision ID).',
  },
  cwd: {
    type: ['string', 'null'],
    default: null,
    description:
      "Folder that relative disk, pcap and trace paths resolve against (and that symbolic links among them must stay inside). Default (null): the workspace folder in VS Code, else the adapter's working folder.",
  },
  overwrite: {
    type: 'boolean',
    default: false,
    description:
      'Let pcap and trace replace an existing file that is not a capture or trace the emulator wrote (refused by default).',
  },
  replay: {
    type: ['string', 'null'],
    default: null,
    description:
      'A recording to open (MIC: Save Recording…, or the CLI\'s --record): the session replays it to its end on fresh disk images and stops there, with time travel over the whole recording. The machine (cards, memory, stepping, disk sizes) comes from the recording; cards, cardMemoryMiB, stepping, autoBoot and the disk attributes are not used. See docs/time-travel.md, "Recordings".',
  },
} as const;

export class LaunchError extends Error {}

/** Validate raw launch arguments; throws LaunchError naming the attribute and allowed values. */
export function parseLaunchConfig(raw: unknown): LaunchConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new LaunchError(
      'launch arguments must be an object of launch attributes (see README: Launch attributes).',
    );
  const cfg: LaunchConfig = { ...LAUNCH_DEFAULTS };
  const out = cfg as unknown as Record<string, unknown>;
  for (const [key, spec] of Object.entries(LAUNCH_ATTRIBUTES)) {
    const v = (raw as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const types = (Array.isArray(spec.type) ? spec.type : [spec.type]) as string[];
    const bad = (allowed: string) => {
      throw new LaunchError(
        `launch attribute '${key}': ${JSON.stringify(v)} is not allowed; expected ${allowed}.`,
      );
    };
    if (v === null) {
      if (!types.includes('null')) bad(describe(spec));
      out[key] = null;
      continue;
    }
    if (types.includes('integer')) {
      if (typeof v !== 'number' || !Number.isInteger(v)) bad(describe(spec));
      const s = spec as { minimum: number; maximum: number };
      if ((v as number) < s.minimum || (v as number) > s.maximum) bad(describe(spec));
    } else if (types.includes('boolean')) {
      if (typeof v !== 'boolean') bad(describe(spec));
    } else if (types.includes('string')) {
      if (typeof v !== 'string' || v === '') bad(describe(spec));
      const e = (spec as { enum?: readonly string[] }).enum;
      if (e && !e.includes(v as string)) bad(describe(spec));
    }
    out[key] = v;
  }
  return cfg;
}

function describe(spec: {
  type: unknown;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
}): string {
  if (spec.enum) return `one of ${spec.enum.map((e) => `'${e}'`).join(', ')}`;
  const types = (Array.isArray(spec.type) ? spec.type : [spec.type]) as string[];
  if (types.includes('integer')) return `a whole number from ${spec.minimum} to ${spec.maximum}`;
  if (types.includes('boolean')) return 'true or false';
  if (types.includes('string'))
    return types.includes('null') ? 'a file path (a non-empty string) or null' : 'a non-empty string';
  return types.join(' or ');
}

export { perCardPath as diskPathFor } from '../emulator/hostSoftware/hostFiles.ts';

/**
 * Make `disk`, `pcap` and `trace` absolute (`~`, `${workspaceFolder}` and relative paths against
 * `cwd`), give the default disk its place, and check every file each card will use by the file
 * policy. Returns the configuration with absolute paths, or throws LaunchError naming the
 * attribute and the path. Nothing is opened.
 */
export function resolveLaunchFiles(
  cfg: LaunchConfig,
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
  processCwd: string = process.cwd(),
): LaunchConfig {
  const workspace = cfg.cwd ? expandPath(cfg.cwd, processCwd, home) : processCwd;
  const abs = (p: string | null) => (p === null ? null : expandPath(p, workspace, home));
  const out: LaunchConfig = {
    ...cfg,
    cwd: workspace,
    disk: abs(cfg.disk),
    pcap: abs(cfg.pcap),
    trace: abs(cfg.trace),
    replay: abs(cfg.replay),
  };
  const files: NamedFile[] = [];
  const diskBase = out.disk ?? defaultDiskPath(env, home);
  if (!out.disk) {
    try {
      mkdirSync(dirname(diskBase), { recursive: true });
    } catch (e) {
      throw new LaunchError(
        `launch attribute 'disk': cannot create ${dirname(diskBase)} for the default image: ${(e as Error).message}`,
      );
    }
  }
  const label = (attr: string, card: number) =>
    card === 0 ? `launch attribute '${attr}'` : `launch attribute '${attr}' (mic${card}'s file)`;
  // A replay brings its own disk images (made fresh from the recording).
  for (let i = 0; i < out.cards; i++) {
    if (!out.replay) files.push({ label: label('disk', i), path: perCardPath(diskBase, i), role: 'disk' });
    if (out.pcap) files.push({ label: label('pcap', i), path: perCardPath(out.pcap, i), role: 'pcap' });
  }
  if (out.trace) files.push({ label: `launch attribute 'trace'`, path: out.trace, role: 'trace' });
  const bad = checkFiles(files, { workspace, overwrite: out.overwrite, readonly: out.diskReadonly });
  if (bad) throw new LaunchError(bad);
  if (!out.disk) out.disk = null; // the runtime places the default image itself
  return out;
}
