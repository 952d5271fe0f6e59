// End-to-end test of the packaged extension in a real VS Code workbench: code-server (VS Code 1.139
// server + web workbench) driven by playwright-core and Debian's chromium. Started by
// scripts/e2e/run.sh (npm run test:e2e), which installs the .vsix and serves the sample workspace.
//
// Each step takes a screenshot into MIC_E2E_SHOTS and asserts on text read from the DOM, never on
// pixels. The steps depend on each other: once one fails, the later ones are skipped with a
// message naming it, and the failing step leaves a "-FAILED" screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const BASE = process.env.MIC_E2E_URL;
const WS = process.env.MIC_E2E_WS;
if (!BASE || !WS) {
  throw new Error(
    'MIC_E2E_URL and MIC_E2E_WS are not set: run this test with scripts/e2e/run.sh (npm run test:e2e)',
  );
}
const URL = `${BASE}/?folder=${encodeURI(WS)}`;
const SHOTS = path.resolve(process.env.MIC_E2E_SHOTS || 'test-results/e2e-screenshots');
const PROFILE = process.env.MIC_E2E_PROFILE || path.join(SHOTS, '..', 'e2e-chrome-profile');
const CONSOLE = 'mic0 console';
const PROMPT = '[root@mic0 ~]#';

fs.mkdirSync(SHOTS, { recursive: true });
console.log(`screenshots: ${SHOTS}`);

let ctx;
let page;
let shotNo = 0;
let failedStep = null;
const pageErrors = [];

async function shot(name) {
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.mouse.move(1100, 12).catch(() => {}); // no hover tooltips in the picture (empty title bar)
  await page.screenshot({ path: file });
  console.log(`screenshot ${file}`);
  return file;
}

/**
 * One step of the scenario: skipped when an earlier step failed; a failure leaves a screenshot.
 * An `independent` step leaves the workbench as it found it (it cleans up after itself, also on
 * failure), so its failure does not skip the steps after it.
 */
function step(name, timeoutMs, fn, { independent = false, cleanup } = {}) {
  test(name, { timeout: timeoutMs }, async (t) => {
    if (failedStep) {
      t.skip(`skipped: the earlier step "${failedStep}" failed`);
      return;
    }
    try {
      await fn();
    } catch (e) {
      if (!independent) failedStep = name;
      const file = await shot(`${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-FAILED`).catch(
        () => '(none)',
      );
      if (independent && cleanup)
        await cleanup().catch((c) => console.log(`cleanup after "${name}": ${c.message}`));
      if (pageErrors.length > 0) console.log(`page errors so far:\n  ${pageErrors.join('\n  ')}`);
      throw new Error(`step "${name}" failed: ${e.message}\n    screenshot: ${file}`, { cause: e });
    }
  });
}

/** Polls fn until it returns something truthy; the error names what was awaited and the last value. */
async function waitFor(fn, ms, what) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > ms) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${String(detail).slice(0, 300)})`);
    }
    await sleep(200);
  }
}

const text = async (locator) => ((await locator.count()) > 0 ? locator.first().innerText() : '');

/** Runs a command from the palette (F1) by its exact label. Retries: the palette can swallow keys. */
async function runCommand(label, { attempts = 3, keepOpen = false } = {}) {
  for (let i = 1; ; i++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10000 });
      await input.fill('>' + label);
      const rows = page.locator('.quick-input-list .monaco-list-row');
      const row = rows.filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }),
      });
      await row.first().waitFor({ state: 'visible', timeout: 10000 });
      await row.first().click();
      if (!keepOpen) await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5000 });
      return;
    } catch (e) {
      if (i >= attempts)
        throw new Error(`could not run the command "${label}" from the palette: ${e.message}`);
      await sleep(1000);
    }
  }
}
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pane (section) of a view in the side bar, expanded. */
async function pane(title) {
  const header = page.locator('.pane-header', { has: page.locator('h3.title', { hasText: title }) }).first();
  await header.waitFor({ state: 'visible', timeout: 30000 });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  return page.locator('.pane', { has: header }).first();
}

/** The Breakpoints view with room to show its rows: its list is virtual (rows out of sight are not in
 *  the page), and below the exception filters there is little room, so the panes above it fold
 *  (callStackText and variablesText unfold theirs). */
async function breakpointsView() {
  await runCommand('View: Show Run and Debug');
  for (const title of ['Variables', 'Watch', 'Call Stack']) {
    const header = page
      .locator('.pane-header', { has: page.locator('h3.title', { hasText: title }) })
      .first();
    if ((await header.getAttribute('aria-expanded').catch(() => null)) === 'true') await header.click();
  }
  return (await pane('Breakpoints')).locator('.debug-breakpoints');
}

/** Expands collapsed rows of a tree whose label matches `which`, until `done()` says so. */
async function expandTree(paneLocator, which, done, what) {
  const t0 = Date.now();
  for (;;) {
    if (await done()) return;
    const collapsed = paneLocator.locator('.monaco-list-row[aria-expanded="false"]');
    const labels = await collapsed.evaluateAll((rows) => rows.map((r) => r.innerText.replace(/\s+/g, ' ')));
    const i = labels.findIndex((l) => which.test(l));
    if (i >= 0) {
      await collapsed.nth(i).locator('.monaco-tl-twistie').click();
      await sleep(300);
    } else {
      await sleep(500);
    }
    if (Date.now() - t0 > 60000) {
      const all = await paneLocator.locator('.monaco-list-row').allInnerTexts();
      throw new Error(`timed out expanding the tree for ${what}; rows:\n  ${all.join('\n  ')}`);
    }
  }
}

const terminalRows = () => page.locator('.terminal-wrapper.active .xterm-rows');

/** Types a line into the active terminal. In code-server's terminal in headless Chromium the first
 *  key after the terminal regains focus is lost (seen with any terminal, not only ours), so a
 *  Ctrl-U goes first: lost, or it clears the (empty) line. */
async function typeInConsole(line, { enter = true } = {}) {
  await page.locator('.terminal-wrapper.active .xterm-helper-textarea').focus();
  await page.keyboard.press('Control+U');
  await page.keyboard.type(line, { delay: 20 });
  if (enter) await page.keyboard.press('Enter');
}
const terminalText = async () => text(terminalRows());
/** Unfold a side bar pane if it is shown and folded (the Breakpoints steps fold some). */
async function unfold(title) {
  const header = page.locator('.pane-header', { has: page.locator('h3.title', { hasText: title }) }).first();
  if ((await header.getAttribute('aria-expanded', { timeout: 1000 }).catch(() => null)) === 'false')
    await header.click();
}
const callStackText = async () => {
  await unfold('Call Stack');
  const p = page.locator('.pane', { has: page.locator('.pane-header h3.title', { hasText: 'Call Stack' }) });
  return text(p);
};
const debugPaused = async () => (await page.locator('.debug-toolbar .codicon-debug-continue').count()) > 0;

/** The launch.json VS Code writes into the workspace (line comments stripped before parsing). */
const LAUNCH_JSON = path.join(WS, '.vscode', 'launch.json');
function readLaunchJson() {
  try {
    const t = fs.readFileSync(LAUNCH_JSON, 'utf8');
    return JSON.parse(t.replace(/^\s*\/\/.*$/gm, ''));
  } catch {
    return null;
  }
}
const quickPickRows = () => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
/** Everything the workbench says in notifications and dialogs. */
const messagesText = async () =>
  `${await text(page.locator('.notifications-toasts'))}\n${await text(page.locator('.monaco-dialog-box'))}`;
async function closeNotifications() {
  await runCommand('Notifications: Clear All Notifications', { attempts: 1 }).catch(() => {});
}
/** The element that has the keyboard: in the card console's terminal, or where else. */
const keyboardOwner = () =>
  page.evaluate(() => {
    // eslint-disable-next-line no-undef -- runs in the page
    const a = document.activeElement;
    if (!a) return 'nothing';
    if (a.closest('.terminal-wrapper')) return 'terminal';
    if (a.closest('.editor-instance')) return 'editor';
    if (a.tagName === 'IFRAME') return 'webview';
    return `${a.tagName.toLowerCase()}.${String(a.className).split(' ')[0]}`;
  });
/** The Variables view's text (the pane unfolded first: the Breakpoints steps fold it). */
const variablesText = async () => {
  await unfold('Variables');
  return (await text(page.locator('.debug-variables'))).replace(/\n/g, ' ');
};
const replText = async () => text(page.locator('.repl .monaco-list-rows'));
const matches = (t, re) => (t.match(new RegExp(re.source, 'g')) ?? []).length;
/**
 * Runs a Debug Console line and returns the REPL's text once it holds one more `answer` than
 * before. The input is a Monaco editor (in 1.139 with the EditContext API, not a textarea that
 * takes keys): a click on its lines gives it the keyboard.
 */
async function debugConsole(line, answer) {
  const before = matches(await replText(), answer);
  const input = page.locator('.repl .repl-input-wrapper .monaco-editor');
  await input.waitFor({ state: 'visible', timeout: 10000 });
  await input.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(line, { delay: 10 });
  await page.keyboard.press('Enter');
  return waitFor(
    async () => {
      const now = await replText();
      return matches(now, answer) > before && now;
    },
    15000,
    `the Debug Console's answer to ${line} (${answer})`,
  );
}
/** Gives the keyboard back to the card console: the panel's Terminal, our terminal, its input. */
async function focusCardConsole() {
  await runCommand('Terminal: Focus Terminal');
  const tabEntry = page.locator('.terminal-tabs-entry', { hasText: CONSOLE }).first();
  if (await tabEntry.isVisible().catch(() => false)) await tabEntry.click();
  await waitFor(async () => (await terminalText()).includes(PROMPT), 15000, `the ${CONSOLE} terminal shown`);
  await page.locator('.terminal-wrapper.active .xterm-helper-textarea').focus();
  await waitFor(async () => (await keyboardOwner()) === 'terminal', 10000, 'the keyboard in the terminal');
}
async function continueIfPaused() {
  if (await debugPaused()) {
    await runCommand('Debug: Continue');
    await waitFor(async () => !(await debugPaused()), 20000, 'the debugger to run again');
  }
}
async function removeAllBreakpoints() {
  await runCommand('Remove All Breakpoints');
}
/** The webview of the MIC memory view (VS Code puts each webview in an iframe in an iframe). */
const memoryView = () => page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');

before(async () => {
  fs.rmSync(PROFILE, { recursive: true, force: true });
  ctx = await chromium.launchPersistentContext(PROFILE, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  ctx.setDefaultTimeout(30000);
  page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e).slice(0, 300)));
});

after(async () => {
  if (page) await page.screenshot({ path: path.join(SHOTS, 'zz-final-state.png') }).catch(() => {});
  await ctx?.close();
});

step('workbench opens the sample workspace', 120000, async () => {
  const t0 = Date.now();
  await page.goto(URL, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await page
    .locator('.explorer-folders-view .monaco-list-row', { hasText: 'README.md' })
    .waitFor({ timeout: 60000 });
  console.log(`workbench and explorer rendered ${Date.now() - t0} ms after page load`);
  await sleep(1000); // let notifications and layout settle
  // The side bar keeps VS Code's default width: the MIC views must be readable there (issue 14, item 8).
  await shot('workbench');
});

step(
  'item 5: "create a launch.json file" writes one configuration; F5\'s list has each once',
  90000,
  async () => {
    await runCommand('View: Show Run and Debug');
    // Without a selected configuration the view offers "create a launch.json file"; with F5's
    // dynamic "Boot one card" selected, the gear next to it does the same.
    const link = page.locator('.part.sidebar a', { hasText: /create a launch\.json file/i }).first();
    const gear = page.locator('.part.sidebar .action-label.codicon-debug-configure').first();
    await waitFor(
      async () => (await link.isVisible()) || (await gear.isVisible()),
      20000,
      'a way to create launch.json',
    );
    await ((await link.isVisible()) ? link : gear).click();
    const pick = quickPickRows()
      .filter({ hasText: /Intel MIC X100/ })
      .first();
    await waitFor(
      async () => fs.existsSync(LAUNCH_JSON) || (await pick.isVisible()),
      20000,
      'the debugger picker or a launch.json',
    );
    if (!fs.existsSync(LAUNCH_JSON)) await pick.click();
    const launch = await waitFor(readLaunchJson, 20000, `${LAUNCH_JSON} written`);
    const names = launch.configurations.map((c) => c.name);
    console.log(`launch.json configurations: ${JSON.stringify(names)}`);
    await sleep(500);
    await shot('item5-launch-json-created');
    await runCommand('View: Close All Editors');
    // "Debug: Select and Start Debugging" → "Intel MIC X100 (emulated)…" lists the dynamic ones.
    await runCommand('Debug: Select and Start Debugging', { keepOpen: true });
    await quickPickRows()
      .filter({ hasText: /Intel MIC X100/ })
      .first()
      .click();
    await waitFor(
      async () => (await quickPickRows().allInnerTexts()).some((r) => /Boot one card/.test(r)),
      20000,
      'the dynamic configurations',
    );
    await sleep(300);
    const rows = (await quickPickRows().allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
    console.log(`dynamic configurations:\n  ${rows.join('\n  ')}`);
    await shot('item5-dynamic-configurations');
    await page.keyboard.press('Escape');
    assert.deepEqual(names, ['Boot one card'], 'launch.json should get one configuration');
    assert.equal(rows.filter((r) => /Boot one card/.test(r)).length, 1, 'each dynamic configuration once');
  },
  { independent: true, cleanup: async () => page.keyboard.press('Escape') },
);

const MISSING_DISK = 'Disk in a missing folder';
step(
  'item 4: a launch whose disk folder does not exist is refused, naming disk and the path',
  90000,
  async () => {
    const launch = readLaunchJson() ?? { version: '0.2.0', configurations: [] };
    launch.configurations.push({
      type: 'mic',
      request: 'launch',
      name: MISSING_DISK,
      disk: '${workspaceFolder}/no-such-folder/mic.img',
    });
    fs.mkdirSync(path.dirname(LAUNCH_JSON), { recursive: true });
    fs.writeFileSync(LAUNCH_JSON, JSON.stringify(launch, null, 2));
    // VS Code reads the launch.json written behind its back a moment later: open the list again
    // until the configuration is in it.
    const row = quickPickRows().filter({ hasText: MISSING_DISK }).first();
    await waitFor(
      async () => {
        await runCommand('Debug: Select and Start Debugging', { keepOpen: true });
        return row.waitFor({ state: 'visible', timeout: 3000 }).then(
          () => true,
          () => false,
        );
      },
      30000,
      `"${MISSING_DISK}" in the list of configurations`,
    );
    await row.click();
    const said = await waitFor(
      async () => {
        const t = await messagesText();
        return /no-such-folder/.test(t) && t;
      },
      30000,
      'a message naming the missing folder',
    ).catch(() => '');
    await sleep(500);
    await shot('item4-missing-disk-folder');
    const started = await page.locator('.debug-toolbar').isVisible();
    console.log(`launch with a missing disk folder: session started ${started}; said: ${said.trim()}`);
    assert.ok(!started, 'the session should not start');
    assert.match(said, /\bdisk\b/);
    assert.match(said, /no-such-folder/);
  },
  {
    independent: true,
    cleanup: async () => {
      if (await page.locator('.debug-toolbar').isVisible()) {
        await runCommand('Debug: Stop');
        await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30000 });
      }
    },
  },
);

step('item 4: (the missing-disk configuration is removed again)', 30000, async () => {
  await page.keyboard.press('Escape');
  await closeNotifications();
  const launch = readLaunchJson();
  if (launch) {
    launch.configurations = launch.configurations.filter((c) => c.name !== MISSING_DISK);
    fs.writeFileSync(LAUNCH_JSON, JSON.stringify(launch, null, 2));
  }
  if (await page.locator('.debug-toolbar').isVisible()) {
    await runCommand('Debug: Stop');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30000 });
  }
  await runCommand('View: Close All Editors');
  await sleep(1000);
});

step('the "Boot one card" configuration starts', 120000, async () => {
  await runCommand('View: Show Run and Debug');
  const config = page.locator('.start-debug-action-item-label');
  await waitFor(
    async () => (await text(config)).includes('Boot one card'),
    30000,
    'the "Boot one card" configuration',
  );
  await page.locator('.start-debug-action-item .codicon-debug-start').click();
  await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: 60000 });
  // the status bar shows the card (the extension's item) once the session runs
  await waitFor(
    async () => (await text(page.locator('.part.statusbar'))).includes('mic0'),
    60000,
    'mic0 in the status bar',
  );
  await shot('debug-session-started');
});

step(`the "${CONSOLE}" terminal shows the card's shell prompt`, 120000, async () => {
  await waitFor(
    async () =>
      (
        await page
          .locator('.part.panel')
          .innerText()
          .catch(() => '')
      ).includes(CONSOLE),
    60000,
    `a terminal named "${CONSOLE}" in the panel`,
  );
  // with several terminals open, show ours (with one, the tab list is hidden)
  const tabEntry = page.locator('.terminal-tabs-entry', { hasText: CONSOLE }).first();
  if (await tabEntry.isVisible()) await tabEntry.click();
  await waitFor(
    async () => (await terminalText()).includes(PROMPT),
    90000,
    `the prompt ${PROMPT} in the terminal`,
  );
  console.log(`console:\n${(await terminalText()).trimEnd()}`);
  await shot('console-prompt');
});

step('typing uname -a in the console answers from the card', 90000, async () => {
  let answer;
  for (let attempt = 1; !answer; attempt++) {
    await typeInConsole('uname -a');
    answer = await waitFor(
      async () => /Linux mic0 .*k1om GNU\/Linux/.exec(await terminalText())?.[0],
      attempt < 2 ? 20000 : 40000,
      'the answer of uname -a (Linux mic0 ... k1om GNU/Linux)',
    ).catch((e) => {
      if (attempt >= 2) throw e;
      return undefined;
    });
  }
  console.log(`uname -a: ${answer}`);
  assert.match(answer, /^Linux mic0 \S+ .* k1om GNU\/Linux$/);
  await shot('console-uname');
});

const TYPED = 'echo ring';
const TYPED_AFTER = '-tail';
step(
  'item 1 and 2: a stop while typing in the console keeps the keyboard there; its badge is short',
  120000,
  async () => {
    await runCommand('View: Show Run and Debug');
    await runCommand('Add Function Breakpoint');
    const input = page.locator('.debug-breakpoints input[aria-label="Type function breakpoint."]');
    await input.waitFor({ state: 'visible', timeout: 10000 });
    await input.fill('doorbell');
    await input.press('Enter');
    const bp = page.locator('.debug-breakpoints .monaco-list-row', { hasText: 'doorbell' });
    await bp.first().waitFor({ timeout: 10000 });
    // A person types a command into the card console. The card's shell is idle at its prompt: the
    // first key makes the host ring a doorbell (the console's receive queue), and the machine stops
    // while the person goes on typing.
    await page.locator('.terminal-wrapper.active .xterm-helper-textarea').focus();
    await page.keyboard.press('Control+U');
    await page.keyboard.type(TYPED, { delay: 60 });
    await waitFor(debugPaused, 30000, 'the debugger to stop (Continue in the debug toolbar)');
    await sleep(1500); // VS Code has handled the stop (threads, stack, focus) by now
    const owner = await keyboardOwner();
    await page.keyboard.type(TYPED_AFTER, { delay: 40 });
    await sleep(500);
    const refused = await page.locator('.monaco-editor-overlaymessage').count();
    await shot('item1-stop-while-typing');
    console.log(`keyboard after the stop: ${owner}; "read-only" refusals: ${refused}`);
    assert.equal(owner, 'terminal', 'the keyboard should stay in the card console');
    assert.equal(refused, 0, 'no key may go to a read-only editor');
    // The stop is visible without a click: Call Stack and Variables show it.
    await runCommand('View: Show Run and Debug');
    const stack = await waitFor(
      async () => {
        const t = await callStackText();
        return /doorbell/i.test(t) && t;
      },
      30000,
      'the doorbell in the Call Stack',
    );
    console.log(`call stack:\n${stack.trimEnd()}`);
    const vars = await waitFor(
      async () => {
        const v = await variablesText();
        return /kind\s*=\s*doorbell/.test(v) && v;
      },
      15000,
      'kind = doorbell in the Variables view, without selecting a frame',
    );
    console.log(`variables: ${vars.slice(0, 300)}`);
    const thread = page
      .locator('.debug-call-stack .monaco-list-row', { has: page.locator('.thread') })
      .first();
    const badge = (await text(thread.locator('.state'))).trim();
    const name = thread.locator('.thread .name');
    const nameCut = await name.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
    console.log(
      `thread: ${(await text(thread)).replace(/\s+/g, ' ')}; badge "${badge}"; name cut: ${nameCut}`,
    );
    await shot('item2-call-stack-badge');
    assert.ok(badge.length > 0 && badge.length <= 24, `the badge should be short, not "${badge}"`);
    assert.ok(!nameCut, 'the thread name should not be pushed out of view');
  },
  {
    independent: true,
    cleanup: async () => {
      await removeAllBreakpoints();
      await continueIfPaused();
    },
  },
);

step(
  'item 10: the stopped event names BAR4 one way and writes hex one way',
  60000,
  async () => {
    if (!(await debugPaused())) throw new Error('not stopped (the step before failed)');
    const vars = await variablesText();
    console.log(`variables: ${vars.slice(0, 400)}`);
    await shot('item10-event-names');
    assert.doesNotMatch(vars, /mic0\.(mmio|sbox)/, 'the register window is mic0.bar4');
    assert.match(vars, /space\s*=\s*"?mic0\.bar4/);
  },
  {
    independent: true,
    cleanup: async () => {
      await removeAllBreakpoints();
      await continueIfPaused();
    },
  },
);

step('continue: no key typed during the stop is lost', 60000, async () => {
  await removeAllBreakpoints();
  await continueIfPaused();
  await page.locator('.terminal-wrapper.active .xterm-helper-textarea').focus();
  const got = await waitFor(
    async () => (await terminalText()).includes(TYPED + TYPED_AFTER),
    20000,
    `"${TYPED + TYPED_AFTER}" on the console line`,
  ).catch(() => false);
  await page.keyboard.press('Control+U');
  await page.keyboard.press('Enter');
  await shot('item1-console-after-continue');
  assert.ok(got, `every key typed across the stop reaches the card ("${TYPED + TYPED_AFTER}")`);
});

step(
  'item 3: MIC: Boot Card on an online card is refused in words, with no stop and no spinning progress',
  60000,
  async () => {
    let ran = true;
    await runCommand('MIC: Boot Card', { attempts: 1 }).catch(() => (ran = false));
    await sleep(3000);
    const said = await messagesText();
    await shot('item3-boot-online-card');
    console.log(`Boot Card offered: ${ran}; paused: ${await debugPaused()}; said: ${said.trim()}`);
    assert.ok(!(await debugPaused()), 'our own command must not stop the session');
    assert.doesNotMatch(said, /Booting mic0/, 'no boot progress for a refused boot');
    if (ran) assert.match(said, /mic0 is online/);
  },
  {
    independent: true,
    cleanup: async () => {
      await continueIfPaused();
      await closeNotifications();
    },
  },
);

step(
  'item 9: the Debug Console answers in words (unknown command, no such card, filtered vdev_info)',
  90000,
  async () => {
    // The Debug Console does not open by itself (the card console keeps the panel): open it.
    if (!(await page.locator('.repl .repl-input-wrapper').isVisible()))
      await runCommand('View: Toggle Debug Console');
    await page.locator('.repl .repl-input-wrapper').waitFor({ timeout: 10000 });
    const unknown = await debugConsole('frobnicate', /unknown command 'frobnicate'/);
    const card = await debugConsole('mic7.SICR0', /no such card: mic7/);
    const all = await debugConsole('vdev_info mic0', /vdev_info mic0: \d+ lines? follow/);
    const vdev = await debugConsole('vdev_info mic0 console', /vdev_info mic0 console\b.*\blines? follow/);
    await shot('item9-debug-console');
    const tail = (t) => t.split('\n').slice(-6).join(' | ');
    console.log(`frobnicate: ${tail(unknown)}\nmic7.SICR0: ${tail(card)}`);
    assert.match(unknown, /unknown command 'frobnicate'; type help/);
    assert.match(card, /no such card: mic7/);
    const lines = vdev.split('\n');
    const head = lines.findIndex((l) => /vdev_info mic0 console/.test(l));
    console.log(
      `vdev_info mic0 console: ${lines.slice(head, head + 4).join(' | ')} … (${lines.length - head} lines)`,
    );
    const follow = /\b(\d+) lines? follow/.exec(lines.slice(head).join('\n'));
    assert.ok(follow, 'vdev_info says how many lines follow');
    const every = Number(/vdev_info mic0: (\d+) lines? follow/.exec(all)[1]);
    console.log(`vdev_info mic0: ${every} lines; vdev_info mic0 console: ${follow[1]} lines`);
    // The debugfs format is kept (one device's vrings are still hundreds of lines): the filter
    // shows the console device alone, fewer lines than every device.
    assert.ok(
      Number(follow[1]) < every,
      `the console device alone, not every device (${follow[1]} of ${every})`,
    );
  },
  {
    independent: true,
    cleanup: focusCardConsole,
  },
);

/** The console device's queues in the Virtqueues view: { name: { avail, used } } from rows like
 *  "tx avail 27 · used 27" under "virtio-console". */
function consoleQueues(rowTexts) {
  const start = rowTexts.findIndex((r) => /virtio-console/.test(r));
  const queues = {};
  for (let i = start + 1; start >= 0 && i < rowTexts.length && !/virtio-/.test(rowTexts[i]); i++) {
    // innerText joins label and description without a space: "txavail 27 · used 27"
    const q = /^\s*(\w+?)\s*avail\s/.exec(rowTexts[i]);
    const avail = /avail\s+(0x[0-9a-f]+|\d+)/i.exec(rowTexts[i]);
    const used = /\bused\s+(0x[0-9a-f]+|\d+)/i.exec(rowTexts[i]);
    if (q && avail && used)
      queues[q[1]] = { avail: Number(avail[1]), used: Number(used[1]), row: rowTexts[i] };
  }
  return queues;
}

step('the MIC views show a virtqueue with live indices', 120000, async () => {
  await runCommand('View: Show MIC');
  const vq = await pane('Virtqueues');
  const rows = async () => vq.locator('.monaco-list-row').allInnerTexts();
  await waitFor(async () => (await rows()).length > 0, 30000, 'rows in the Virtqueues view');
  await expandTree(
    vq,
    /^\s*mic0|virtio-console/,
    async () => consoleQueues(await rows()).tx,
    'the tx queue of virtio-console with its avail/used indices',
  );
  const before = consoleQueues(await rows());
  console.log(`Virtqueues view (stopped):\n  ${(await rows()).join('\n  ')}`);
  assert.ok(before.rx && before.tx, `virtio-console should have rx and tx queues: ${JSON.stringify(before)}`);
  // The card has printed a banner and answered uname -a through tx: its indices have moved.
  assert.ok(before.tx.used > 0 && before.tx.avail > 0, `console tx indices still 0: ${before.tx.row}`);
  await shot('virtqueues-view-stopped');

  // Live: continue without the breakpoint, make the card print, and watch tx move in the view.
  await runCommand('Remove All Breakpoints');
  await waitFor(
    async () => !/doorbell/.test(await text(page.locator('.debug-breakpoints'))),
    10000,
    'the doorbell breakpoint to be removed',
  );
  await continueIfPaused(); // the steps before may have continued already
  await focusCardConsole(); // whatever the steps before left in the panel
  await typeInConsole('echo live');
  const after = await waitFor(
    async () => {
      const q = consoleQueues(await rows());
      return q.tx && q.tx.used > before.tx.used && q.tx.avail > before.tx.avail && q;
    },
    30000,
    `console tx avail/used to move past ${before.tx.avail}/${before.tx.used} while running`,
  );
  console.log(
    `console tx: avail ${before.tx.avail} -> ${after.tx.avail}, used ${before.tx.used} -> ${after.tx.used}`,
  );
  await waitFor(
    async () => /\nlive\b/.test(await terminalText()),
    20000,
    'the echo of "echo live" in the console',
  );
  await shot('virtqueues-view-live');
});

step(
  'item 8: the MIC views are readable at the default side bar width',
  90000,
  async () => {
    await runCommand('View: Show MIC');
    const cut = [];
    for (const title of ['Cards', 'Virtqueues', 'DMA']) {
      const p = await pane(title);
      await waitFor(async () => (await p.locator('.monaco-list-row').count()) > 0, 30000, `rows in ${title}`);
      if (title === 'Virtqueues')
        await expandTree(
          p,
          /^\s*mic0|virtio-console|console/,
          async () => (await p.locator('.monaco-list-row[aria-level="3"]').count()) >= 2,
          'the console queues',
        );
      // The rows a person reads first: cards, devices, queues, channels (levels 1–3).
      const rows = await p.locator('.monaco-list-row').evaluateAll((els) =>
        els
          .filter((r) => Number(r.getAttribute('aria-level')) <= 3)
          .map((r) => {
            const c = r.querySelector('.monaco-icon-label-container');
            return {
              text: r.innerText.replace(/\s+/g, ' '),
              cut: c ? c.scrollWidth > c.clientWidth + 1 : false,
            };
          }),
      );
      for (const r of rows) if (r.cut) cut.push(`${title}: ${r.text}`);
    }
    await shot('item8-mic-views-default-width');
    console.log(`rows cut at the default width:\n  ${cut.join('\n  ') || '(none)'}`);
    assert.deepEqual(cut, [], 'rows whose value does not fit');
  },
  { independent: true },
);

step(
  'item 6: "Show in Memory" on a register opens the MIC memory view: hex, ASCII, names, edits',
  120000,
  async () => {
    await runCommand('View: Show MIC');
    const cards = await pane('Cards');
    await waitFor(async () => (await cards.locator('.monaco-list-row').count()) > 0, 30000, 'rows in Cards');
    const row = (re) => cards.locator('.monaco-list-row').filter({ hasText: re }).first();
    const expand = async (r) => {
      if ((await r.getAttribute('aria-expanded')) === 'false') await r.locator('.monaco-tl-twistie').click();
    };
    await expand(row(/^\s*mic0/));
    const bar4 = row(/^\s*BAR4/);
    await bar4.waitFor({ timeout: 15000 });
    await expand(bar4);
    const scratch = row(/^\s*Scratchpads/);
    await scratch.waitFor({ timeout: 15000 });
    await expand(scratch);
    // By its label: the row's text runs label and value together ("SPAD00x0"), so no \b after SPAD0.
    const spad0 = cards
      .locator('.monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: /^SPAD0$/ }) })
      .first();
    await spad0.waitFor({ timeout: 15000 });
    const before = (await spad0.innerText()).replace(/\s+/g, ' ');
    console.log(`SPAD0 row: ${before}`);
    for (let attempt = 1; ; attempt++) {
      await spad0.click({ button: 'right' });
      const item = page.locator('.context-view .action-label', { hasText: 'Show in Memory' }).first();
      await item.waitFor({ state: 'visible', timeout: 10000 });
      await sleep(700);
      await item.click();
      const opened = await waitFor(
        async () => (await page.locator('iframe.webview.ready').count()) > 0,
        10000,
        'a webview',
      ).catch(() => false);
      if (opened || attempt >= 2) break;
    }
    const view = memoryView();
    await view.locator('.grid').waitFor({ timeout: 20000 });
    const target = view.locator('.byte.target');
    await waitFor(async () => (await target.count()) === 4, 15000, 'four highlighted bytes (SPAD0)');
    const names = await view.locator('.reg-name').allInnerTexts();
    console.log(`register names on the page: ${names.slice(0, 12).join(', ')}`);
    assert.ok(
      names.some((n) => /SPAD0/.test(n)),
      'the register names are overlaid',
    );
    // Edit: the first byte of SPAD0 becomes 0x5a (keyboard only), written through writeMemory.
    await target.first().click();
    await page.keyboard.type('5a');
    await page.keyboard.press('Enter');
    await waitFor(
      async () => /^5a$/i.test((await target.first().innerText()).trim()),
      10000,
      'the edited byte',
    );
    await waitFor(
      async () => /0x[0-9a-f_]*5a\b/i.test((await spad0.innerText()).replace(/\s+/g, ' ')),
      10000,
      'SPAD0 in the Cards view to show the edit',
    );
    // Keyboard: the cursor moved on past the edited byte; Ctrl+G goes to another address.
    assert.equal(await view.locator('.byte.cursor').count(), 1, 'one cursor');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Control+g');
    const go = view.locator('input.goto');
    await waitFor(
      async () => go.evaluate((e) => e === e.ownerDocument.activeElement),
      5000,
      'Ctrl+G to focus Go to',
    );
    await page.keyboard.type('mic0.gddr+0x1000');
    await page.keyboard.press('Enter');
    await waitFor(
      async () => /mic0\.gddr\+0x0*1000/.test(await view.locator('.addr').first().innerText()),
      10000,
      'the page at mic0.gddr+0x1000',
    );
    await shot('item6-memory-view');
  },
  {
    independent: true,
    cleanup: async () => {
      await runCommand('View: Close All Editors');
    },
  },
);

/** Opens the Virtqueues view down to a console queue's `which` row (avail.idx, used.idx), right-clicks it
 *  and runs the context-menu entry `entry`; returns the row's text. */
async function consoleQueueRowCommand(which, entry) {
  await runCommand('View: Show MIC');
  const vq = await pane('Virtqueues');
  await expandTree(
    vq,
    /^\s*mic0|virtio-console|console|^\s*tx(?=avail|\s)/,
    async () => (await vq.locator('.monaco-list-row', { hasText: which }).count()) > 0,
    `${which.source} of a console queue`,
  );
  const row = vq.locator('.monaco-list-row', { hasText: which }).first();
  const rowText = (await row.innerText()).replace(/\s+/g, ' ');
  await row.click({ button: 'right' });
  const item = page.locator('.context-view .action-label', { hasText: entry }).first();
  await item.waitFor({ state: 'visible', timeout: 10000 });
  await sleep(700);
  await item.click();
  return rowText;
}

step(
  'item 7: data breakpoints from the MIC tree and from MIC: Add Data Breakpoint are in the Breakpoints view',
  120000,
  async () => {
    // The command: an input box that says what is wrong as you type.
    await runCommand('MIC: Add Data Breakpoint…', { keepOpen: true });
    const box = page.locator('.quick-input-widget input');
    await box.fill('mic0.bar4+0xzz');
    const msg = page.locator('.quick-input-widget .quick-input-message');
    // The error, not the prompt (which names bar4 too): validation runs a moment after typing.
    await waitFor(
      async () => /'0xzz' is not an offset/.test(await text(msg)),
      10000,
      'the validation message',
    );
    await shot('item7-add-data-breakpoint-validation');
    await box.fill('mic0.SPAD1');
    await waitFor(async () => !/not an offset/.test(await text(msg)), 10000, 'the message to clear');
    await box.press('Enter');
    // Then the access (write is the default, first): wait for the pick, as a person would.
    await waitFor(async () => /write/i.test(await text(quickPickRows())), 10000, 'the access pick');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5000 });
    let bps = await breakpointsView();
    await waitFor(async () => /SPAD1/.test(await text(bps)), 10000, 'SPAD1 in the Breakpoints view');
    // From the tree: Break on Write on the console tx queue's avail.idx; typing makes the card echo.
    await consoleQueueRowCommand(/avail\.idx/, 'Break on Write');
    bps = await breakpointsView();
    await waitFor(async () => /avail\.idx|write/i.test(await text(bps)), 10000, "the tree's breakpoint");
    const listed = (await text(bps)).replace(/\s+/g, ' ');
    console.log(`Breakpoints view: ${listed}`);
    await shot('item7-breakpoints-view');
  },
  {
    independent: true,
    cleanup: async () => {
      await page.keyboard.press('Escape');
      await removeAllBreakpoints();
      await continueIfPaused();
      // The Breakpoints view folded the panes above it: a stop selects its top frame only in a
      // Call Stack that is open.
      await runCommand('View: Show Run and Debug');
      for (const title of ['Variables', 'Watch', 'Call Stack']) await unfold(title);
    },
  },
);

// ---- time travel (issue 16): the toolbar's Reverse Continue and Step Back, the status bar's
// position, "Who last wrote this?" on a virtqueue index. Each step pauses if it needs a stop.

/** The status bar's time-travel position: { seq, head, past } from "event 1,234 of 56,789 · past". */
async function statusPosition() {
  const t = await text(page.locator('.part.statusbar'));
  const m = /event ([\d,]+) of ([\d,]+)( · past)?/.exec(t);
  return m && { seq: Number(m[1].replace(/,/g, '')), head: Number(m[2].replace(/,/g, '')), past: !!m[3] };
}
async function pauseIfRunning() {
  if (!(await debugPaused())) {
    await runCommand('Debug: Pause');
    await waitFor(debugPaused, 20000, 'the debugger to pause');
  }
}
/** A button of the debug toolbar by its codicon (`debug-reverse-continue`, `debug-step-back`). */
async function toolbarButton(icon) {
  const b = page.locator(`.debug-toolbar .action-label.codicon-${icon}`).first();
  await b.waitFor({ state: 'visible', timeout: 10000 });
  return b;
}
const timeTravelCleanup = async () => {
  await page.keyboard.press('Escape');
  await closeNotifications();
  await removeAllBreakpoints();
  await continueIfPaused();
};

step(
  'issue 16: Reverse Continue in the toolbar lands on the previous doorbell',
  180000,
  async () => {
    await removeAllBreakpoints();
    await continueIfPaused();
    // A command typed at the card: the host rings doorbells for its keys, the card for its echo.
    await focusCardConsole();
    await typeInConsole('echo back-in-time');
    await waitFor(
      async () => /\nback-in-time\b/.test(await terminalText()),
      20000,
      'the echo of the command',
    );
    await pauseIfRunning();
    const here = await waitFor(statusPosition, 20000, 'the position ("event N of M") in the status bar');
    console.log(`paused at ${JSON.stringify(here)}`);
    // The breakpoint is armed after the fact: reverse continue finds its previous hit.
    await runCommand('View: Show Run and Debug');
    await runCommand('Add Function Breakpoint');
    const input = page.locator('.debug-breakpoints input[aria-label="Type function breakpoint."]');
    await input.waitFor({ state: 'visible', timeout: 10000 });
    await input.fill('doorbell');
    await input.press('Enter');
    await page.locator('.debug-breakpoints .monaco-list-row', { hasText: 'doorbell' }).first().waitFor();
    await (await toolbarButton('debug-reverse-continue')).click();
    const back = await waitFor(
      async () => {
        const p = await statusPosition();
        return p && p.seq < here.seq && p;
      },
      60000,
      `the status bar to go back from event ${here.seq}`,
    );
    // The replay agreed with the recording: a divergence would be said in the Debug Console.
    if (!(await page.locator('.repl .repl-input-wrapper').isVisible()))
      await runCommand('View: Toggle Debug Console');
    const repl = await debugConsole('where', /event [\d,]+ of [\d,]+/);
    console.log(`Debug Console after reverse continue:\n  ${repl.split('\n').slice(-8).join('\n  ')}`);
    assert.doesNotMatch(repl, /went another way/, 'the replay went the recorded way');
    await focusCardConsole();
    const stack = await waitFor(
      async () => {
        const t = await callStackText();
        return /doorbell/i.test(t) && t;
      },
      30000,
      'the doorbell in the Call Stack',
    );
    const vars = await waitFor(
      async () => {
        const v = await variablesText();
        return /kind\s*=\s*doorbell/.test(v) && v;
      },
      15000,
      'kind = doorbell in the Variables view',
    );
    const seqVar = /\bseq\s*=\s*(\d+)/.exec(vars);
    console.log(
      `reverse continue: ${JSON.stringify(back)}; call stack: ${stack.replace(/\s+/g, ' ').slice(0, 200)}; ` +
        `variables: ${vars.slice(0, 300)}`,
    );
    console.log(
      `console after the seek:\n${(await terminalText()).trimEnd().split('\n').slice(-6).join('\n')}`,
    );
    await shot('issue16-reverse-continue-doorbell');
    assert.ok(back.past, 'the status bar says "past"');
    if (seqVar)
      assert.ok(Number(seqVar[1]) < here.seq, `the doorbell's seq ${seqVar[1]} is before ${here.seq}`);
  },
  { independent: true, cleanup: timeTravelCleanup },
);

step(
  "issue 16: Step Back moves the status bar's event number back",
  120000,
  async () => {
    await removeAllBreakpoints();
    await pauseIfRunning();
    const before = await waitFor(statusPosition, 20000, 'the position in the status bar');
    if (before.seq === 0) throw new Error('at event 0: nothing to step back to');
    await (await toolbarButton('debug-step-back')).click();
    const after = await waitFor(
      async () => {
        const p = await statusPosition();
        return p && p.seq < before.seq && p;
      },
      30000,
      `the status bar's event number to go back from ${before.seq}`,
    );
    console.log(`step back: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    await shot('issue16-step-back-status-bar');
    assert.ok(after.past, 'the status bar says "past"');
    assert.equal(after.head, before.head, 'stepping back keeps the recording');
  },
  { independent: true, cleanup: timeTravelCleanup },
);

step(
  "issue 16: the stop's cause in the MIC stop document is a link that goes there",
  120000,
  async () => {
    await pauseIfRunning();
    const before = await waitFor(statusPosition, 20000, 'the position in the status bar');
    // The MIC stop document shows the stop's event, with its cause (events as data).
    const causeLine = page.locator('.monaco-editor .view-line', { hasText: /^cause\s+\d+/ }).first();
    await waitFor(async () => (await causeLine.count()) > 0, 20000, 'a cause line in the MIC stop document');
    const cause = Number(/cause\s+(\d+)/.exec(await causeLine.innerText())[1]);
    const link = causeLine.locator('.detected-link').first();
    await waitFor(async () => (await link.count()) > 0, 10000, 'the cause as a link');
    await shot('issue16-stop-cause-link');
    const stopLine = async () => /stop\s*=\s*[^\n]*/.exec(await variablesText())?.[0] ?? '';
    const stopBefore = await stopLine();
    // An overlay of the workbench (a hover, a notification's toast) can take the pointer for a
    // moment ("<html> intercepts pointer events"): close it and click again.
    for (let attempt = 1; ; attempt++) {
      try {
        await link.click({ modifiers: ['Control'], timeout: 5000 });
        break;
      } catch (e) {
        if (attempt >= 4) throw e;
        await page.keyboard.press('Escape');
        await page.mouse.move(5, 5);
        await sleep(500);
      }
    }
    // The cause's moment, or the end of the access it is in: that can be where the session is
    // already (the cause and the stop made by one access), and the new stop then says so.
    const after = await waitFor(
      async () => {
        const p = await statusPosition();
        const line = await stopLine();
        return p && (p.seq !== before.seq || (line !== stopBefore && /goto/.test(line))) && { ...p, line };
      },
      60000,
      `the session to go from event ${before.seq} to the cause ${cause}`,
    );
    console.log(`cause link: ${JSON.stringify(before)} -> event ${cause}: ${JSON.stringify(after)}`);
    assert.ok(
      after.seq >= cause && after.seq <= before.seq,
      `at ${after.seq}, the cause ${cause} or its access's end`,
    );
    if (after.seq !== cause) assert.match(after.line, new RegExp(`goto event ${cause} \\(inside an access`));
  },
  { independent: true, cleanup: timeTravelCleanup },
);

step(
  '(issue 16: MIC: Go to Event… refuses a bad event as you type)',
  60000,
  async () => {
    await pauseIfRunning();
    await runCommand('MIC: Go to Event…', { keepOpen: true });
    const box = page.locator('.quick-input-widget input');
    await box.fill('soon');
    const msg = page.locator('.quick-input-widget .quick-input-message');
    await waitFor(async () => /not an event or a time/.test(await text(msg)), 5000, 'a validation message');
    await shot('issue16-goto-event-validation');
    await box.fill('0');
    await box.press('Enter');
    const p = await waitFor(
      async () => {
        const q = await statusPosition();
        return q && q.seq === 0 && q;
      },
      60000,
      'the status bar at event 0',
    );
    console.log(`goto 0: ${JSON.stringify(p)}`);
  },
  { independent: true, cleanup: timeTravelCleanup },
);

step(
  '"Who last wrote this?" on a virtqueue\'s used.idx lists the back-end\'s writes',
  120000,
  async () => {
    await continueIfPaused();
    await pauseIfRunning();
    const row = await consoleQueueRowCommand(/used\.idx/, 'Who Last Wrote This?');
    console.log(`row: ${row}`);
    const rows = await waitFor(
      async () => {
        // Our QuickPick, not the rows the palette left in the page.
        const title = await text(page.locator('.quick-input-widget:visible .quick-input-title'));
        const r = await quickPickRows().allInnerTexts();
        if (/who last wrote/i.test(title) && r.length > 0) return r.map((x) => x.replace(/\s+/g, ' '));
        const said = await messagesText();
        if (/who last wrote/i.test(said)) throw new Error(`the adapter answered: ${said.trim()}`);
        return false;
      },
      20000,
      'the writes in a QuickPick',
    );
    const title = await text(page.locator('.quick-input-widget .quick-input-title'));
    console.log(`${title}\n  ${rows.join('\n  ')}`);
    await shot('issue16-who-last-wrote-used-idx');
    assert.ok(
      rows.every((r) => /^event [\d,]+/.test(r)),
      'each row names its event',
    );
    // The event number from each row's label alone (its description, the time, follows with no
    // space in the row's text: "event 3,7062.350006 s").
    // (A row's detail is a label-name too: only the "event N" ones.)
    const labels = (await quickPickRows().locator('.label-name').allInnerTexts())
      .map((l) => l.trim())
      .filter((l) => /^event [\d,]+$/.test(l));
    assert.equal(labels.length, rows.length, `one "event N" label a row: ${labels.join(' | ')}`);
    const seqs = labels.map((l) => Number(l.slice('event '.length).replace(/,/g, '')));
    assert.deepEqual(
      [...seqs].sort((a, b) => b - a),
      seqs,
      'newest first',
    );
    assert.ok(
      rows.some((r) => /host|mpssd|back-end|backend/i.test(r)),
      "the back-end's writes",
    );
    // Picking one goes there.
    await quickPickRows().first().click();
    const p = await waitFor(
      async () => {
        const q = await statusPosition();
        return q && q.seq === seqs[0] && q;
      },
      60000,
      `the status bar at event ${seqs[0]}`,
    );
    console.log(`picked: ${JSON.stringify(p)}`);
  },
  { independent: true, cleanup: timeTravelCleanup },
);

// ---- the MIC Timeline (issue 17 §1): after a dd, the block request's bar; a click seeks to its avail.

/** The MIC Timeline's webview (the newest webview: the step closes the editors first). */
const timelineView = () => page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');

step(
  "issue 17: the timeline shows the dd's block request; clicking its bar goes to its avail event",
  240000,
  async () => {
    await removeAllBreakpoints();
    await continueIfPaused();
    // The headless terminal sometimes drops a key (a run saw `ddif=/dev/vda`): type again then.
    for (let attempt = 1; ; attempt++) {
      await focusCardConsole();
      const before = (await terminalText()).length;
      const seen = matches(await terminalText(), /records out/);
      await typeInConsole('dd if=/dev/vda of=/dev/null bs=512 count=1');
      const t = await waitFor(
        async () => {
          const x = await terminalText();
          return (
            (matches(x, /records out/) > seen ||
              /command not found/.test(x.slice(Math.max(0, before - 20)))) &&
            x
          );
        },
        30000,
        "dd's records out",
      );
      if (matches(t, /records out/) > seen) break;
      if (attempt >= 3) throw new Error(`dd was not typed right 3 times:\n${t.slice(-300)}`);
    }
    await pauseIfRunning();
    // The pause's MIC stop document opens by itself (beside a MIC panel, over an editor): let it
    // come before the editors are closed, so that the timeline then has the editor area alone.
    await page
      .locator('.tabs-container .tab', { hasText: 'MIC stop' })
      .first()
      .waitFor({ state: 'visible', timeout: 10000 })
      .catch(() => {});
    await sleep(1000);
    await runCommand('View: Close All Editors');
    await runCommand('MIC: Show Timeline');
    const view = timelineView();
    const canvas = view.locator('canvas.plot');
    await canvas.waitFor({ state: 'visible', timeout: 30000 });
    await waitFor(
      async () => (await canvas.getAttribute('data-frame')) !== null,
      30000,
      'the first frame drawn',
    );
    // Whatever opened beside it meanwhile goes: the search below reads what the window's frame
    // lists, which depends on the canvas's width.
    await runCommand('View: Close Editors in Other Groups');
    await sleep(800);
    await shot('issue17-timeline-whole-session');
    // The dd's request: the back-end's read of its avail entry is listed even zoomed out (few events
    // on that lane); search it, Shift+Enter = the last match, then z zooms to its request.
    const search = view.locator('input.search');
    await search.fill('vring.avail block.requestq');
    await search.press('Shift+Enter');
    const said = await waitFor(
      async () => {
        const t = await text(view.locator('.status'));
        return /vring\.avail block\.requestq/.test(t) && t;
      },
      10000,
      "the block request's avail event selected by the search",
    );
    console.log(`search: ${said}`);
    const before = await canvas.getAttribute('data-window');
    await canvas.focus();
    await page.keyboard.press('z');
    await waitFor(
      async () => (await canvas.getAttribute('data-window')) !== before,
      20000,
      'the frame of the zoomed window',
    );
    await sleep(800);
    const sel = JSON.parse(
      await waitFor(async () => canvas.getAttribute('data-selection'), 10000, 'the selected bar drawn'),
    );
    console.log(`selected bar: ${JSON.stringify(sel)}`);
    assert.equal(sel.type, 'request', 'zoom to request selects the bar');
    const availSeq = sel.seq;
    assert.ok(sel.w >= 20, `the zoomed bar is wide enough to see (${sel.w} px)`);
    // Hover shows the request's card; the click seeks.
    const at = { x: sel.x + sel.w / 2, y: sel.y + sel.h / 2 };
    await canvas.hover({ position: at });
    await waitFor(
      async () => /block\.requestq/.test(await text(view.locator('.hovercard'))),
      5000,
      'the hover card',
    );
    await shot('issue17-timeline-block-request');
    await canvas.click({ position: at });
    // At the avail event, or at the end of the bus access it is part of (a machine stops between
    // accesses only; the stop then says "goto event N (inside an access; stopped at its end)").
    const p = await waitFor(
      async () => {
        const q = await statusPosition();
        return q && q.seq >= availSeq && q.seq <= availSeq + 8 && q;
      },
      60000,
      `the status bar at event ${availSeq} (the request's avail) or its access's end`,
    );
    await runCommand('View: Show Run and Debug');
    const vars = await waitFor(
      async () => {
        const v = await variablesText();
        const seqVar = /\bseq\s*=\s*(\d+)/.exec(v);
        return seqVar && Number(seqVar[1]) === p.seq && /stop\s*=\s*goto/.test(v) && v;
      },
      15000,
      `the stop at event ${p.seq} in the Variables view`,
    );
    console.log(`after the click: ${JSON.stringify(p)}; variables: ${vars.slice(0, 300)}`);
    await sleep(500);
    await shot('issue17-timeline-seek-to-avail');
    if (p.seq === availSeq)
      assert.match(vars, /vring\.avail|avail/, 'the Variables view shows the avail event');
    else
      assert.match(
        vars,
        new RegExp(`goto event ${availSeq} \\(inside an access`),
        'the stop says where it is',
      );
  },
  {
    independent: true,
    cleanup: async () => {
      await runCommand('View: Close All Editors').catch(() => {});
      await timeTravelCleanup();
    },
  },
);

step('(breakpoints removed, running)', 30000, async () => {
  await removeAllBreakpoints();
  await continueIfPaused();
});

step('the session stops', 60000, async () => {
  await runCommand('Debug: Stop');
  await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30000 });
  // the console says why it closed, and the status bar no longer shows the card
  await waitFor(
    async () => /ended|offline|gone/i.test(await terminalText()),
    20000,
    'a closing message in the console',
  );
  await waitFor(
    async () => !/mic0/.test(await text(page.locator('.part.statusbar'))),
    20000,
    'mic0 to leave the status bar',
  );
  console.log(`console at the end:\n${(await terminalText()).trimEnd()}`);
  await sleep(500);
  await shot('session-stopped');
});
