// Boot, Reset, Shutdown, Suspend, Resume a card (mic/hostCommand: what mpssd and micctrl write to
// /sys/class/mic/micN/state, and host power management) and Open Card Console. From a card row
// they act on that card; from the palette or a view title on the only card, or the one picked.

import * as vscode from 'vscode';
import { ACT, type HostCommand, type HostCommandResponse } from '../model/requests.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import type { CardConsoles } from '../console/cardConsoles.ts';
import type { MicNode } from '../views/micNode.ts';
import { allowed, refusal } from '../model/cardActions.ts';
import { HOST_COMMANDS } from '../../emulator/machine.ts';

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
    const card = await pickCard(s, row, `${command} which card?`, command);
    if (card === undefined) return;
    const no = refusal(card, s.cardStates[card] ?? 'starting', command);
    if (no) {
      void vscode.window.showInformationMessage(no);
      return;
    }
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

/**
 * `mic.can.boot` … `mic.can.resume` (package.json `when` clauses): some card of the current
 * session is in a state where the command makes sense. Set whenever card states change.
 */
export function registerCardContext(sessions: MicSessions): vscode.Disposable {
  const update = () => {
    const states = sessions.current()?.cardStates ?? [];
    for (const c of HOST_COMMANDS)
      void vscode.commands.executeCommand(
        'setContext',
        `mic.can.${c}`,
        states.some((st) => allowed(c, st)),
      );
  };
  update();
  return vscode.Disposable.from(
    sessions.onDidChangeCards(update),
    sessions.onDidChangeCurrent(update),
    sessions.onDidEnd(update),
    sessions.onDidStart(update),
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

async function pickCard(
  s: MicSession,
  row: MicNode | undefined,
  title: string,
  command?: HostCommand,
): Promise<number | undefined> {
  if (row?.model.card !== undefined) return row.model.card;
  if (s.cards === 1) return 0;
  // Cards where the command makes sense first; the others say why not.
  const cards = s.cardStates.map((state, card) => ({
    label: `mic${card}`,
    description: state,
    detail: command ? (refusal(card, state, command) ?? undefined) : undefined,
    card,
  }));
  const pick = await vscode.window.showQuickPick(
    command ? [...cards.filter((c) => !c.detail), ...cards.filter((c) => c.detail)] : cards,
    { placeHolder: title },
  );
  return pick?.card;
}
