// How a changed value looks: rows whose value changed since the last stop get a `resourceUri`
// in the `mic-changed` scheme, and this FileDecorationProvider colours their label with
// `mic.changedValueForeground` (package.json contributes.colors) and adds a "●" badge. The
// row's tooltip says what the value was. Unchanged rows have no resourceUri, so no decoration.

import * as vscode from 'vscode';

export const CHANGED_SCHEME = 'mic-changed';

export function changedUri(view: string, id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CHANGED_SCHEME, path: `/${view}/${id}` });
}

export function registerChangeDecorations(): vscode.Disposable {
  const decoration = new vscode.FileDecoration(
    '●',
    'Changed since the last stop',
    new vscode.ThemeColor('mic.changedValueForeground'),
  );
  return vscode.window.registerFileDecorationProvider({
    provideFileDecoration: (uri) => (uri.scheme === CHANGED_SCHEME ? decoration : undefined),
  });
}
