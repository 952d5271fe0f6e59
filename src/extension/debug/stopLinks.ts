// Event numbers in the MIC stop document are links: a click goes to that event (MIC: Go to Event
// with the number, which sends mic/seek), so the stop's cause is one click away.

import * as vscode from 'vscode';
import { eventMentions } from '../model/eventLinks.ts';
import { STOP_SCHEME } from './stopView.ts';

export function registerStopLinks(): vscode.Disposable {
  return vscode.languages.registerDocumentLinkProvider(
    { scheme: STOP_SCHEME },
    {
      provideDocumentLinks: (doc) =>
        eventMentions(doc.getText()).map((m) => {
          const link = new vscode.DocumentLink(
            new vscode.Range(m.line, m.start, m.line, m.end),
            vscode.Uri.parse(`command:mic.gotoEvent?${encodeURIComponent(JSON.stringify([m.seq]))}`),
          );
          link.tooltip = m.tooltip;
          return link;
        }),
    },
  );
}
