// The extension's own log (Output panel → "MIC X100"): failed requests and what the
// breakpoint and memory actions did, for a person wondering why something did not happen.

import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('MIC X100', { log: true });
  return channel;
}
