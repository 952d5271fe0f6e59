// Where the MIC debug adapter runs. By default inside the extension host
// (DebugAdapterInlineImplementation: no extra process). With `mic.debugAdapter.external` the
// bundled dist/debugAdapter.js runs as its own process on stdio: with `node` from PATH when it is
// Node 20 or newer, else with the editor's own runtime (process.execPath) as plain Node
// (ELECTRON_RUN_AS_NODE=1; harmless where execPath already is Node, as in code-server).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MicDebugSession } from '../../debugAdapter/session.ts';
import { useExternalAdapter } from '../settings.ts';

const MIN_NODE_MAJOR = 20;

export class MicAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  private node: { command: string; env?: Record<string, string> } | undefined;

  constructor(private readonly adapterScript: string) {}

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    if (!useExternalAdapter()) return new vscode.DebugAdapterInlineImplementation(new MicDebugSession());
    this.node ??= findNode();
    return new vscode.DebugAdapterExecutable(this.node.command, [this.adapterScript], {
      ...(this.node.env ? { env: this.node.env } : {}),
    });
  }
}

function findNode(): { command: string; env?: Record<string, string> } {
  const onPath = nodeOnPath();
  if (onPath && nodeMajor(onPath) >= MIN_NODE_MAJOR) return { command: onPath };
  return { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } };
}

function nodeOnPath(): string | undefined {
  const exe = process.platform === 'win32' ? 'node.exe' : 'node';
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function nodeMajor(command: string): number {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 5000 });
  const m = /^v(\d+)\./.exec(r.stdout ?? '');
  return m ? Number(m[1]) : 0;
}
