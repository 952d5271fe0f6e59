// Boot, Reset, Shutdown, Suspend, Resume a card (mic/hostCommand: what mpssd and micctrl write to
// /sys/class/mic/micN/state, and host power management) and Open Card Console. From a card row
// they act on that card; from the palette or a view title on the only card, or the one picked.

import * as vscode from 'vscode';
import { ACT, type HostCommand, type HostCommandResponse } from '../model/requests.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import type { CardConsoles } from '../console/cardConsoles.ts';
import type { MicNode } from '../views/micNode.ts';

export const CARD_COMMANDS: Readonly<Record<string, HostCommand>> = {
  'mic.bootCard': 'boot',
  'mic.resetCard': 'reset',
  'mic.shutdownCard': 'shutdown',
  'mic.suspendCard': 'suspend',
  'mic.resumeCard': 'resume',
};

export function registerCardCommands(sessions: MicSessions, consoles: CardConsoles): vscode.Disposable {
  const hostCommand = async (command: HostCommand, row?: MicNode) => {
    const s = needSession(sessions);
    if (!s) return;
    const card = await pickCard(s, row, `${command} which card?`);
    if (card === undefined) return;
    try {
      const r = await s.request<HostCommandResponse>(ACT.hostCommand, { card, command });
      vscode.window.setStatusBarMessage(
        `MIC: ${r.name} ${command} (was ${r.state})${r.running ? '' : ' — takes effect when you continue'}`,
        6000,
      );
      if (!r.running)
        void vscode.window.showInformationMessage(
          `${r.name}: "${command}" is queued for the host driver; it runs when the machine continues.`,
        );
    } catch (e) {
      void vscode.window.showErrorMessage(`MIC ${command}: ${errorText(e)}`);
    }
  };
  return vscode.Disposable.from(
    ...Object.entries(CARD_COMMANDS).map(([id, command]) =>
      vscode.commands.registerCommand(id, (row?: MicNode) => hostCommand(command, row)),
    ),
    vscode.commands.registerCommand('mic.openConsole', async (row?: MicNode) => {
      const s = needSession(sessions);
      if (!s) return;
      const card = await pickCard(s, row, 'Open the console of which card?');
      if (card !== undefined) consoles.show(s, card);
    }),
  );
}

export function needSession(sessions: MicSessions): MicSession | undefined {
  const s = sessions.current();
  if (!s)
    void vscode.window.showWarningMessage(
      'No MIC debug session: start one (Run and Debug, "Boot one card").',
    );
  return s;
}

async function pickCard(s: MicSession, row: MicNode | undefined, title: string): Promise<number | undefined> {
  if (row?.model.card !== undefined) return row.model.card;
  if (s.cards === 1) return 0;
  const pick = await vscode.window.showQuickPick(
    s.cardStates.map((state, card) => ({ label: `mic${card}`, description: state, card })),
    { placeHolder: title },
  );
  return pick?.card;
}
