// The `mic` launch configurations the extension offers: package.json's initialConfigurations and
// configurationSnippets (test/extension/packageJson.test.ts checks they are these), the dynamic
// configurations F5 offers in a folder without launch.json, and what fills an empty one.
// The attributes themselves are the adapter's (src/debugAdapter/launchConfig.ts, LAUNCH_ATTRIBUTES).

import { LAUNCH_ATTRIBUTES, LAUNCH_DEFAULTS } from '../../debugAdapter/launchConfig.ts';

export const DEBUG_TYPE = 'mic';

export interface MicConfiguration {
  type: typeof DEBUG_TYPE;
  request: 'launch';
  name: string;
  [attribute: string]: unknown;
}

const launch = (name: string, attrs: Record<string, unknown> = {}): MicConfiguration => ({
  type: DEBUG_TYPE,
  request: 'launch',
  name,
  ...attrs,
});

export const BOOT_ONE_CARD = launch('Boot one card');
export const STOP_ON_ENTRY = launch('Stop on entry', { stopOnEntry: true });
export const TWO_CARDS = launch('Two cards with disk and pcap', {
  cards: 2,
  disk: '${workspaceFolder}/mic.img',
  pcap: '${workspaceFolder}/mic.pcap',
});

/** What "create a launch.json file" writes. */
export const INITIAL_CONFIGURATIONS: readonly MicConfiguration[] = [BOOT_ONE_CARD];

/** Offered by F5 / the Run and Debug dropdown without a launch.json (two cards needs a folder for its files). */
export function dynamicConfigurations(hasFolder: boolean): MicConfiguration[] {
  return hasFolder ? [BOOT_ONE_CARD, STOP_ON_ENTRY, TWO_CARDS] : [BOOT_ONE_CARD, STOP_ON_ENTRY];
}

export interface Snippet {
  label: string;
  description: string;
  body: Record<string, unknown>;
}

/**
 * package.json snippet bodies: a `${…}` variable is written `^"\${…}"` there (`^` = the raw
 * JSON text, `\$` = not a snippet placeholder).
 */
function snippetBody(c: MicConfiguration): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c))
    out[k] = typeof v === 'string' && v.includes('${') ? `^"${v.replace(/\$\{/g, '\\${')}"` : v;
  return out;
}

export const CONFIGURATION_SNIPPETS: readonly Snippet[] = [
  {
    label: 'MIC: Boot one card',
    description: 'Boot one emulated X100 card; its console opens in the terminal panel.',
    body: snippetBody(BOOT_ONE_CARD),
  },
  {
    label: 'MIC: Two cards with disk and pcap',
    description: 'Two cards, a virtio-block disk image per card and a pcap of every virtio-net frame.',
    body: snippetBody(TWO_CARDS),
  },
  {
    label: 'MIC: Stop on entry',
    description: 'One card, stopped before the first bus transaction.',
    body: snippetBody(STOP_ON_ENTRY),
  },
];

/**
 * Resolve a configuration VS Code hands over: an empty one (F5 without launch.json) becomes
 * "Boot one card"; the card consoles always go to the extension's terminals (consoleTerminal),
 * and the Debug Console does not open over them unless the configuration asks.
 */
export function resolveConfiguration(config: Record<string, unknown>): Record<string, unknown> {
  const empty = !config.type && !config.request && !config.name;
  const out: Record<string, unknown> = empty ? { ...BOOT_ONE_CARD } : { ...config };
  out.type ??= DEBUG_TYPE;
  out.request ??= 'launch';
  out.name ??= BOOT_ONE_CARD.name;
  out.consoleTerminal = true;
  // The card console (a terminal) is where a person types; VS Code's default
  // (debug.internalConsoleOptions: openOnFirstSessionStart) would put the Debug Console over it
  // and take the keyboard at the first start. A configuration that says otherwise wins.
  out.internalConsoleOptions ??= 'neverOpen';
  return out;
}

/** The launch attributes that name files: relative paths are taken from the workspace folder. */
export const PATH_ATTRIBUTES = ['disk', 'pcap', 'trace'] as const;

/** `config` with relative file paths made absolute against `folder` (after variable substitution). */
export function absolutePaths(
  config: Record<string, unknown>,
  folder: string | undefined,
  join: (a: string, b: string) => string,
  isAbsolute: (p: string) => boolean,
): Record<string, unknown> {
  if (!folder) return config;
  const out = { ...config };
  for (const k of PATH_ATTRIBUTES) {
    const v = out[k];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) out[k] = join(folder, v);
  }
  // The workspace of the adapter's file policy (symbolic links must stay inside it).
  if (out.cwd === undefined || out.cwd === null) out.cwd = folder;
  return out;
}

/** How many cards a configuration boots (its consoles open at launch). */
export function cardCount(config: Record<string, unknown>): number {
  const n = config.cards;
  const { minimum, maximum } = LAUNCH_ATTRIBUTES.cards;
  return typeof n === 'number' && Number.isInteger(n) && n >= minimum && n <= maximum
    ? n
    : LAUNCH_DEFAULTS.cards;
}
