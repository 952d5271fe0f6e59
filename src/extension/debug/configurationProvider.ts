// Launch configurations for `mic`: what F5 offers in a folder without launch.json (dynamic), and
// the last word on every configuration before it starts: an empty one boots one card, card
// consoles go to the extension's terminals, and relative disk / pcap / trace paths are taken
// from the workspace folder. What a new launch.json gets is package.json's
// initialConfigurations alone: VS Code adds a provider's provideDebugConfigurations to those,
// so providing them here too wrote every configuration twice.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DEBUG_TYPE,
  absolutePaths,
  dynamicConfigurations,
  resolveConfiguration,
} from '../model/launchConfigurations.ts';

class ResolveConfigurations implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    return resolveConfiguration(config) as vscode.DebugConfiguration;
  }

  resolveDebugConfigurationWithSubstitutedVariables(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    const base = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    return absolutePaths(config, base, path.join, path.isAbsolute) as vscode.DebugConfiguration;
  }
}

class DynamicConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    // VS Code asks once per workspace folder and once more for "User Settings" (no folder): with
    // a folder open, answering both listed every configuration twice.
    if (!folder && (vscode.workspace.workspaceFolders?.length ?? 0) > 0) return [];
    return dynamicConfigurations(folder !== undefined).map((c) => ({ ...c }));
  }
}

export function registerConfigurationProviders(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      new ResolveConfigurations(),
      vscode.DebugConfigurationProviderTriggerKind.Initial,
    ),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      new DynamicConfigurations(),
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );
}
