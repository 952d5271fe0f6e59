// Launch configurations for `mic`: what a new launch.json gets, what F5 offers in a folder
// without one (dynamic), and the last word on every configuration before it starts: an empty one
// boots one card, card consoles go to the extension's terminals, and relative disk / pcap /
// trace paths are taken from the workspace folder.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DEBUG_TYPE,
  INITIAL_CONFIGURATIONS,
  absolutePaths,
  dynamicConfigurations,
  resolveConfiguration,
} from '../model/launchConfigurations.ts';

class InitialConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return INITIAL_CONFIGURATIONS.map((c) => ({ ...c }));
  }

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
    return dynamicConfigurations(folder !== undefined).map((c) => ({ ...c }));
  }
}

export function registerConfigurationProviders(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      new InitialConfigurations(),
      vscode.DebugConfigurationProviderTriggerKind.Initial,
    ),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      new DynamicConfigurations(),
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );
}
