// package.json's extension contributions agree with the code they describe: the launch
// attributes are the adapter's LAUNCH_ATTRIBUTES, the configurations are valid launches,
// activation is never `*`, every command is registered and every menu names a real command,
// and `vscode` is imported only by the extension.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { LAUNCH_ATTRIBUTES, parseLaunchConfig } from '../../src/debugAdapter/launchConfig.ts';
import {
  CONFIGURATION_SNIPPETS,
  INITIAL_CONFIGURATIONS,
  dynamicConfigurations,
} from '../../src/extension/model/launchConfigurations.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const contributes = pkg.contributes;
const debuggerMic = contributes.debuggers.find((d: { type: string }) => d.type === 'mic');
const commandIds: string[] = contributes.commands.map((c: { command: string }) => c.command);

/** The ids the end-to-end harness and the issue rely on. */
const REQUIRED_COMMANDS = [
  'mic.bootCard',
  'mic.resetCard',
  'mic.shutdownCard',
  'mic.suspendCard',
  'mic.resumeCard',
  'mic.openConsole',
  'mic.exportTrace',
  'mic.breakOnWrite',
  'mic.breakOnAccess',
  'mic.showInMemory',
  'mic.copyValue',
  'mic.refreshViews',
];
const VIEWS = ['mic.cards', 'mic.virtqueues', 'mic.dma'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** A snippet body as VS Code inserts it: `^"\${workspaceFolder}/x"` → the string `/ws/x`. */
function fromSnippet(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    out[k] =
      typeof v === 'string' && v.startsWith('^')
        ? (JSON.parse(v.slice(1).replace(/\\\$/g, '$')) as string).replace('${workspaceFolder}', '/ws')
        : v;
  }
  return out;
}

test('the launch attributes in package.json are the adapter’s LAUNCH_ATTRIBUTES', () => {
  assert.equal(debuggerMic.label, 'Intel MIC X100 (emulated)');
  assert.deepEqual(
    debuggerMic.configurationAttributes.launch.properties,
    JSON.parse(JSON.stringify(LAUNCH_ATTRIBUTES)),
  );
});

test('initial configurations and snippets are the extension’s and launch as they are', () => {
  assert.deepEqual(debuggerMic.initialConfigurations, JSON.parse(JSON.stringify(INITIAL_CONFIGURATIONS)));
  assert.deepEqual(debuggerMic.configurationSnippets, JSON.parse(JSON.stringify(CONFIGURATION_SNIPPETS)));
  assert.deepEqual(
    CONFIGURATION_SNIPPETS.map((s) => s.body.name),
    ['Boot one card', 'Two cards with disk and pcap', 'Stop on entry'],
  );
  for (const s of CONFIGURATION_SNIPPETS) {
    const c = fromSnippet(s.body);
    assert.equal(c.type, 'mic');
    assert.equal(c.request, 'launch');
    parseLaunchConfig(c); // throws LaunchError on a bad attribute
  }
  const two = parseLaunchConfig(fromSnippet(CONFIGURATION_SNIPPETS[1].body));
  assert.deepEqual([two.cards, two.disk, two.pcap], [2, '/ws/mic.img', '/ws/mic.pcap']);
  assert.equal(parseLaunchConfig(fromSnippet(CONFIGURATION_SNIPPETS[2].body)).stopOnEntry, true);
  for (const c of [...INITIAL_CONFIGURATIONS, ...dynamicConfigurations(false)]) parseLaunchConfig(c);
});

test('activation: only debug, view and command events — never *', () => {
  const events: string[] = pkg.activationEvents;
  assert.ok(!events.includes('*'), 'activationEvents contains *');
  assert.ok(events.includes('onDebugResolve:mic'));
  assert.ok(events.includes('onDebugDynamicConfigurations:mic'));
  for (const v of VIEWS) assert.ok(events.includes(`onView:${v}`), `no onView:${v}`);
  for (const c of commandIds) assert.ok(events.includes(`onCommand:${c}`), `no onCommand:${c}`);
  for (const e of events) {
    const ok =
      /^onDebug(Resolve|DynamicConfigurations):mic$/.test(e) ||
      (e.startsWith('onView:') && VIEWS.includes(e.slice(7))) ||
      (e.startsWith('onCommand:') && commandIds.includes(e.slice(10)));
    assert.ok(ok, `unexpected activation event ${e}`);
  }
});

test('the MIC view container holds the Cards, Virtqueues and DMA views, with an icon', () => {
  const container = contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'mic');
  assert.equal(container.title, 'MIC');
  assert.ok(existsSync(container.icon), `${container.icon} is missing`);
  assert.deepEqual(
    contributes.views.mic.map((v: { id: string; name: string }) => [v.id, v.name]),
    [
      ['mic.cards', 'Cards'],
      ['mic.virtqueues', 'Virtqueues'],
      ['mic.dma', 'DMA'],
    ],
  );
  assert.ok(existsSync(pkg.icon), `${pkg.icon} is missing`);
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.engines.vscode, '^1.90.0');
});

test('untrusted workspaces: the debugger is disabled, with a reason', () => {
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, false);
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /disk image/);
});

test('every contributed command is registered by the extension, and every menu names one', () => {
  for (const id of REQUIRED_COMMANDS) assert.ok(commandIds.includes(id), `${id} is not contributed`);
  const source = files('src/extension')
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const registered = new Set(
    [...source.matchAll(/registerCommand\(\s*'([^']+)'/g)]
      .map((m) => m[1])
      .concat(
        // the five host commands are registered from one table
        [...source.matchAll(/'(mic\.\w+Card)': '\w+'/g)].map((m) => m[1]),
      ),
  );
  assert.deepEqual([...registered].sort(), [...commandIds].sort());
  for (const [menu, items] of Object.entries(contributes.menus) as [string, { command: string }[]][])
    for (const item of items) assert.ok(commandIds.includes(item.command), `${menu} names ${item.command}`);
  const context = contributes.menus['view/item/context'].map((i: { command: string }) => i.command);
  for (const id of ['mic.breakOnWrite', 'mic.breakOnAccess', 'mic.showInMemory', 'mic.copyValue'])
    assert.ok(context.includes(id), `${id} is not in the tree rows' context menu`);
});

test('settings: external adapter and refresh rate (4 per second)', () => {
  const props = contributes.configuration.properties;
  assert.equal(props['mic.debugAdapter.external'].default, false);
  assert.equal(props['mic.views.refreshRate'].default, 4);
});

test('only src/extension imports vscode, and its pure model does not', () => {
  const importsVscode = (f: string) => /from 'vscode'|require\('vscode'\)/.test(readFileSync(f, 'utf8'));
  for (const f of files('src')) {
    const inExtension = f.startsWith(join('src', 'extension') + '/');
    const inModel = f.startsWith(join('src', 'extension', 'model') + '/');
    if (!inExtension || inModel) assert.ok(!importsVscode(f), `${f} imports vscode`);
  }
});
