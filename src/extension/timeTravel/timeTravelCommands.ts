// The commands of time travel: MIC: Go to Event… (an input box checked as you type → mic/seek;
// with an event number, from a link, straight there)
// and "Who last wrote this?" (mic/lastWrite on a MIC tree row with an address, a Variables entry
// with a memory reference, or an address typed in; the writes in a QuickPick, newest first;
// picking one goes there with mic/seek).

import * as vscode from 'vscode';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import type { VariableContext } from '../memory/memoryView.ts';
import type { MicNode } from '../views/micNode.ts';
import {
  TIME_TRAVEL,
  lastWriteRows,
  lastWriteTitle,
  parseGoto,
  type LastWriteResponse,
  type SeekArgs,
} from '../model/timeTravel.ts';
import type { TimelineWatch } from './timelineWatch.ts';

/** What "Who last wrote this?" asks about: a memory reference or register name, bytes, a name. */
interface Target {
  address: string;
  length?: number;
  name: string;
}

export function registerTimeTravelCommands(
  sessions: MicSessions,
  watch: TimelineWatch,
  selected: () => MicNode | undefined,
): vscode.Disposable {
  const launched = (id?: string): MicSession | undefined => {
    const s = (id ? sessions.all().find((x) => x.id === id) : undefined) ?? sessions.current();
    if (!s?.launched || s.ended) {
      void vscode.window.showWarningMessage(
        'Start a MIC debug session first: time travel needs its recording.',
      );
      return undefined;
    }
    return s;
  };

  const seek = async (s: MicSession, args: SeekArgs): Promise<void> => {
    try {
      await s.request(TIME_TRAVEL.seek, args);
    } catch (e) {
      void vscode.window.showErrorMessage(`MIC: could not go there: ${errorText(e)}`);
    }
  };

  const gotoEvent = async (seq?: unknown): Promise<void> => {
    const s = launched();
    if (!s) return;
    // From a link (an event number in the MIC stop document): straight there.
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) return seek(s, { seq });
    const p = (await watch.ask(s)) ?? watch.known(s);
    const input = await vscode.window.showInputBox({
      title: 'MIC: Go to Event',
      prompt: p
        ? `An event (0 to ${p.head.toLocaleString('en-US')}; now ${p.seq.toLocaleString('en-US')}), -N or +N events from here, or a virtual time (1.5ms, 200us)`
        : 'An event number, -N or +N events from here, or a virtual time (1.5ms, 200us)',
      placeHolder: '1234   -10   +3   1.5ms',
      ignoreFocusOut: true,
      validateInput: (v) => {
        const r = parseGoto(v, p);
        return typeof r === 'string' ? r : undefined;
      },
    });
    if (input === undefined) return;
    const args = parseGoto(input, p);
    if (typeof args === 'string') return void vscode.window.showErrorMessage(`MIC: ${args}`);
    await seek(s, args);
  };

  const lastWrite = async (s: MicSession, t: Target): Promise<void> => {
    let r: LastWriteResponse;
    try {
      r = await s.request<LastWriteResponse>(TIME_TRAVEL.lastWrite, {
        address: t.address,
        ...(t.length ? { length: t.length } : {}),
      });
    } catch (e) {
      void vscode.window.showErrorMessage(`MIC: who last wrote ${t.name}? ${errorText(e)}`);
      return;
    }
    if (!Array.isArray(r?.writes)) {
      void vscode.window.showErrorMessage(
        `MIC: who last wrote ${t.name}? The adapter's answer has no writes.`,
      );
      return;
    }
    if (r.writes.length === 0) {
      void vscode.window.showInformationMessage(`MIC: ${lastWriteTitle(r, t.name)}.`);
      return;
    }
    const pick = await vscode.window.showQuickPick(lastWriteRows(r), {
      title: lastWriteTitle(r, t.name),
      placeHolder: 'Pick a write to go to that moment',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (pick) await seek(s, { seq: pick.seq });
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand('mic.gotoEvent', gotoEvent),
    // From a MIC row (its memory) or a Variables entry (its memory reference).
    vscode.commands.registerCommand('mic.lastWrite', async (arg?: MicNode | VariableContext) => {
      if (arg && 'variable' in arg) {
        const v = arg.variable;
        const s = launched(arg.sessionId);
        if (!s) return;
        if (!v?.memoryReference)
          return void vscode.window.showInformationMessage(
            `${v?.name ?? 'This variable'} has no memory reference.`,
          );
        const bytes = hexBytes(v.value);
        return lastWrite(s, { address: v.memoryReference, length: bytes, name: v.name ?? v.memoryReference });
      }
      const row = (arg as MicNode | undefined) ?? selected();
      const mem = row?.model.memory;
      if (!mem) return void vscode.window.showInformationMessage('Select a MIC row with an address first.');
      const s = launched();
      if (s) await lastWrite(s, { address: mem.reference, length: mem.bytes, name: mem.name });
    }),
    vscode.commands.registerCommand('mic.lastWriteAt', async () => {
      const s = launched();
      if (!s) return;
      const input = await vscode.window.showInputBox({
        title: 'MIC: Who Last Wrote…',
        prompt: 'ADDRESS [LEN]: a register (mic0.SDBIC0), mic0.bar4+0x9004, mic0.gddr+0x1000 8, host+0x2000',
        placeHolder: 'mic0.gddr+0x…  or a register name',
        ignoreFocusOut: true,
        validateInput: (v) => checkTarget(v),
      });
      if (input === undefined || checkTarget(input)) return;
      const [address, len] = input.trim().split(/\s+/);
      await lastWrite(s, { address, ...(len ? { length: Number(len) } : {}), name: address });
    }),
  );
}

/** The byte width a hex value shows (`0x0003` → 2), else undefined (the adapter's default). */
function hexBytes(value: string | undefined): number | undefined {
  const m = /^0x([0-9a-f_]+)$/i.exec(value?.trim() ?? '');
  const digits = m ? m[1].replace(/_/g, '').length : 0;
  return digits >= 2 && digits % 2 === 0 && digits <= 16 ? digits / 2 : undefined;
}

/** ADDRESS [LEN] as typed; the adapter names what it cannot read (an error message). */
function checkTarget(v: string): string | undefined {
  const words = v.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 'Type an address or a register name: mic0.SDBIC0, mic0.gddr+0x1000 8';
  if (words.length > 2) return 'ADDRESS [LEN]: at most two words';
  if (words[1] !== undefined && !/^[1-9]\d{0,5}$/.test(words[1]))
    return `LEN "${words[1]}" is not a byte count (1 to 999999)`;
  return undefined;
}
