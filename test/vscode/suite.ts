// The extension's integration suite, run by test/vscode/runTest.mjs (npm run test:vscode) inside
// desktop VS Code's extension host through @vscode/test-electron. VS Code calls run(); a thrown
// error fails the run. Each check prints "ok" or "not ok" and a closing "N passed, N failed" line.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'mic-tools.mic-x100-debugger';
const checks: { name: string; fn: () => Promise<void> }[] = [];
const check = (name: string, fn: () => Promise<void>) => checks.push({ name, fn });

function until<T>(what: string, ms: number, start: (resolve: (v: T) => void) => vscode.Disposable) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const sub = start((v) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}

check('the extension is installed and activates', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in the extension development host`);
  await ext.activate();
  assert.equal(ext.isActive, true);
});

check('every contributed command is registered', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const contributed: string[] = (ext.packageJSON.contributes?.commands ?? []).map(
    (c: { command: string }) => c.command,
  );
  assert.ok(contributed.length > 0, 'package.json contributes no commands');
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = contributed.filter((c) => !registered.has(c));
  assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  console.log(`  commands: ${contributed.join(', ')}`);
});

check('"Boot one card" starts, stops on the function breakpoint doorbell, and ends', async () => {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const bp = new vscode.FunctionBreakpoint('doorbell');
  vscode.debug.addBreakpoints([bp]);
  let stoppedBody: { reason?: string; description?: string; text?: string } | undefined;
  const stopped = until<void>('a stopped event from the mic debug adapter', 60000, (resolve) =>
    vscode.debug.registerDebugAdapterTrackerFactory('mic', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: typeof stoppedBody }) => {
          if (m.type === 'event' && m.event === 'stopped' && !stoppedBody) {
            stoppedBody = m.body;
            resolve();
          }
        },
      }),
    }),
  );
  try {
    const started = await vscode.debug.startDebugging(folder, 'Boot one card');
    assert.equal(started, true, 'startDebugging("Boot one card") returned false');
    await stopped;
    console.log(`  stopped: ${JSON.stringify(stoppedBody)}`);
    assert.match(JSON.stringify(stoppedBody), /doorbell/i);
    const session = vscode.debug.activeDebugSession;
    assert.equal(session?.type, 'mic');
  } finally {
    vscode.debug.removeBreakpoints([bp]);
    const ended = until<void>('the session to end', 30000, (resolve) =>
      vscode.debug.onDidTerminateDebugSession(() => resolve()),
    );
    if (vscode.debug.activeDebugSession) {
      await vscode.debug.stopDebugging();
      await ended;
    }
  }
});

export async function run(): Promise<void> {
  let passed = 0;
  let failed = 0;
  for (const c of checks) {
    try {
      await c.fn();
      passed++;
      console.log(`ok - ${c.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${c.name}\n  ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} of ${checks.length} checks failed`);
}
