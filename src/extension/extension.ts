// The MIC X100 debugger's VS Code extension: registers the `mic` debugger (configurations and
// adapter), the MIC views, the card consoles, the commands and the status bar. Activated only by
// a `mic` debug session, its views or its commands (package.json activationEvents).

import * as vscode from 'vscode';
import { DEBUG_TYPE } from './model/launchConfigurations.ts';
import { WatchList } from './model/watchList.ts';
import { MicSessions } from './debug/micSessions.ts';
import { registerConfigurationProviders } from './debug/configurationProvider.ts';
import { MicAdapterFactory } from './debug/adapterFactory.ts';
import { registerChangeDecorations } from './views/changeDecorations.ts';
import { CardsView } from './views/cardsView.ts';
import { VirtqueuesView } from './views/virtqueuesView.ts';
import { DmaView } from './views/dmaView.ts';
import { ViewRefresher } from './views/viewRefresher.ts';
import { CardConsoles } from './console/cardConsoles.ts';
import { RowBreakpoints } from './breakpoints/rowBreakpoints.ts';
import { MemoryView } from './memory/memoryView.ts';
import { StopView } from './debug/stopView.ts';
import { registerStopLinks } from './debug/stopLinks.ts';
import { registerCardCommands, registerCardContext } from './commands/cardCommands.ts';
import { registerRowCommands } from './commands/rowCommands.ts';
import { registerExportTrace } from './commands/exportTrace.ts';
import { registerSaveRecording } from './commands/saveRecording.ts';
import { registerStatusBar } from './statusBar.ts';
import { log } from './log.ts';
import { TimelineWatch } from './timeTravel/timelineWatch.ts';
import { ForkGuard } from './timeTravel/forkGuard.ts';
import { registerTimelineStatus } from './timeTravel/timelineStatus.ts';
import { registerTimeTravelCommands } from './timeTravel/timeTravelCommands.ts';
import { TimelinePanel } from './timeline/timelinePanel.ts';

export function activate(context: vscode.ExtensionContext): void {
  const sessions = new MicSessions();
  const watches = new WatchList();
  const views = [
    new CardsView(sessions, watches, context.workspaceState),
    new VirtqueuesView(sessions, watches, context.workspaceState),
    new DmaView(sessions, watches, context.workspaceState),
  ];
  const refresher = new ViewRefresher(sessions, views);
  const timeline = new TimelineWatch(sessions);
  const forkGuard = new ForkGuard(timeline);
  const consoles = new CardConsoles(sessions, (s) => forkGuard.allows(s));
  const breakpoints = new RowBreakpoints(watches, () => views.forEach((v) => v.rerender()));
  const stops = new StopView(sessions);
  const memory = new MemoryView(sessions, context.extensionUri);
  const timelinePanel = new TimelinePanel(sessions, context.extensionUri);
  const selectedRow = () => views.map((v) => v.selectedRow).find((r) => r);
  context.subscriptions.push(
    log(),
    sessions,
    registerStopLinks(),
    registerConfigurationProviders(),
    vscode.debug.registerDebugAdapterDescriptorFactory(
      DEBUG_TYPE,
      new MicAdapterFactory(context.asAbsolutePath('dist/debugAdapter.js')),
    ),
    registerChangeDecorations(),
    ...views,
    refresher,
    consoles,
    breakpoints,
    stops,
    memory,
    registerCardCommands(sessions, consoles),
    registerCardContext(sessions),
    registerRowCommands(breakpoints, memory, refresher, selectedRow),
    registerExportTrace(sessions),
    registerSaveRecording(sessions),
    registerStatusBar(sessions),
    timeline,
    forkGuard,
    registerTimelineStatus(sessions, timeline),
    registerTimeTravelCommands(sessions, timeline, selectedRow),
    timelinePanel,
    vscode.commands.registerCommand('mic.showTimeline', () => timelinePanel.show()),
  );
}

export function deactivate(): void {}
