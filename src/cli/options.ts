// Command-line options of the headless runner. Bad input → one clear line and exit code 2.

export interface CliOptions {
  cards: number;
  memoryBytes: number;
  trace: string | null;
  /** --perfetto FILE: the session as Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing). */
  perfetto: string | null;
  console: number;
  stepping: string;
  /** Disk image of mic0 (micN: PATH-micN.ext); null = the default image in the cache dir. */
  disk: string | null;
  diskSizeBytes: number;
  diskReadonly: boolean;
  /** Fault injection: sectors [first, last] answer EIO. */
  diskEio: [number, number] | null;
  pcap: string | null;
  netDropEvery: number;
  /** --overwrite: --pcap/--trace may replace a file the emulator did not write. */
  overwrite: boolean;
  /** --record FILE: the session's recording, written at exit (docs/time-travel.md, "Recordings"). */
  record: string | null;
  /** --replay FILE: run a recording to its end, its console output as it was, then exit. */
  replay: string | null;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {}

import { STEPPING_REVISION } from '../emulator/card/pciConfig.ts';

export const HELP = `Usage: npm start -- [options]
       mic-emu [options]

Boots an emulated host with Intel MIC X100 cards and connects this terminal to a card's
virtio console. On a terminal: raw mode; Ctrl-] opens the host command prompt (boot, reset,
shutdown, suspend, resume, status, console micN, quit), Ctrl-] twice quits. With stdin from a
pipe or file: each line is typed into the console, and a line starting with ~ is a host
command (e.g. ~suspend); at end of input every card is shut down in order (poweroff) and the
process exits once the cards are offline again.

Options:
  --cards N          number of cards, 1–8 (default 1)
  --memory SIZE      GDDR per card, e.g. 8G, 512M (default 8G; 64M–64G)
  --console micN     whose console this terminal shows (default mic0)
  --stepping S       card stepping: A0, B0, B1 or C0 (default C0)
  --trace FILE       write every bus event as a JSON line to FILE
  --perfetto FILE    write the session, start to exit, as Chrome Trace Event JSON for
                     ui.perfetto.dev or chrome://tracing (docs/timeline.md)
  --disk PATH        virtio-block image of mic0 (created sparse if missing; micN uses
                     PATH-micN.ext). Default: mic0-disk.img in ~/.cache/mic-emu, reused
  --disk-size SIZE   size of a newly created image, e.g. 64M (default 64M)
  --disk-readonly    expose the disk read-only (VIRTIO_BLK_F_RO)
  --disk-eio A-B     fault injection: sectors A..B answer EIO
  --pcap FILE        write every virtio-net frame, both directions, to FILE (micN: FILE-micN.ext)
  --net-drop-every N fault injection: the network drops every Nth frame
  --record FILE      record the session (configuration, inputs, the disk bytes it read) and
                     write the recording to FILE at exit (docs/time-travel.md, "Recordings")
  --replay FILE      replay a recording to its end on fresh disk images, the console output
                     as it was, then exit (1 if the replay went another way); the machine
                     comes from the recording, so machine and disk options are refused
  --overwrite        let --pcap/--trace/--perfetto/--record replace an existing file that is not a
                     capture, trace or export the emulator wrote (refused by default)
  -h, --help         show this help
  --version          show the version
`;

function parseSize(text: string, opt = '--memory'): number {
  const m = /^(\d+)([KMGkmg]?)(i?[Bb])?$/.exec(text);
  if (!m) throw new UsageError(`${opt}: '${text}' is not a size (examples: 8G, 512M)`);
  const mult = { '': 2 ** 20, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2].toUpperCase()]!;
  return Number(m[1]) * mult;
}

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = {
    cards: 1,
    memoryBytes: 8 * 2 ** 30,
    trace: null,
    perfetto: null,
    console: 0,
    stepping: 'C0',
    disk: null,
    diskSizeBytes: 64 * 2 ** 20,
    diskReadonly: false,
    diskEio: null,
    pcap: null,
    netDropEvery: 0,
    overwrite: false,
    record: null,
    replay: null,
    help: false,
    version: false,
  };
  /** The machine options given (refused with --replay: the recording has the machine). */
  const machineOpts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const need = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (/^--(cards|memory|stepping|disk|disk-size|disk-readonly|disk-eio|net-drop-every|record)$/.test(arg))
      machineOpts.push(arg);
    switch (arg) {
      case '--record':
        o.record = need();
        break;
      case '--replay':
        o.replay = need();
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--version':
        o.version = true;
        break;
      case '--cards': {
        const v = need();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 8)
          throw new UsageError(`--cards: '${v}' is not a number from 1 to 8`);
        o.cards = n;
        break;
      }
      case '--memory': {
        const v = need();
        const b = parseSize(v, '--memory');
        if (b < 64 * 2 ** 20 || b > 64 * 2 ** 30 || b % (1 << 20) !== 0)
          throw new UsageError(`--memory: '${v}' must be a whole number of MiB from 64M to 64G`);
        o.memoryBytes = b;
        break;
      }
      case '--trace':
        o.trace = need();
        break;
      case '--perfetto':
        o.perfetto = need();
        break;
      case '--console': {
        const v = need();
        const m = /^mic(\d)$/.exec(v);
        if (!m) throw new UsageError(`--console: '${v}' is not a card name like mic0`);
        o.console = Number(m[1]);
        break;
      }
      case '--stepping': {
        const v = need().toUpperCase();
        if (!(v in STEPPING_REVISION))
          throw new UsageError(`--stepping: '${v}' is not one of A0, B0, B1, C0`);
        o.stepping = v;
        break;
      }
      case '--disk':
        o.disk = need();
        break;
      case '--disk-size': {
        const v = need();
        const b = parseSize(v, '--disk-size');
        if (b < 512 || b % 512 !== 0)
          throw new UsageError(`--disk-size: '${v}' must be a positive multiple of 512 bytes`);
        o.diskSizeBytes = b;
        break;
      }
      case '--disk-readonly':
        o.diskReadonly = true;
        break;
      case '--overwrite':
        o.overwrite = true;
        break;
      case '--disk-eio': {
        const v = need();
        const m = /^(\d+)(?:-(\d+))?$/.exec(v);
        if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
          throw new UsageError(`--disk-eio: '${v}' is not a sector range like 100-199`);
        o.diskEio = [Number(m[1]), Number(m[2] ?? m[1])];
        break;
      }
      case '--pcap':
        o.pcap = need();
        break;
      case '--net-drop-every': {
        const v = need();
        if (!/^\d+$/.test(v) || Number(v) < 1)
          throw new UsageError(`--net-drop-every: '${v}' is not a whole number ≥ 1`);
        o.netDropEvery = Number(v);
        break;
      }
      default:
        throw new UsageError(`unknown option '${argv[i]}' (see --help)`);
    }
  }
  if (o.replay !== null && machineOpts.length > 0)
    throw new UsageError(
      `--replay: the recording has the machine and its disks; leave out ${[...new Set(machineOpts)].join(', ')}`,
    );
  if (o.replay === null && o.console >= o.cards)
    throw new UsageError(`--console: mic${o.console} does not exist with --cards ${o.cards}`);
  return o;
}
