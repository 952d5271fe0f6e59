// The page of a MIC webview (the memory view, the timeline): a strict Content-Security-Policy —
// the bundled script by nonce, the bundled stylesheet from the extension's dist/, nothing else —
// around the view's own body.

import * as vscode from 'vscode';

function nonce(): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}

/** `bundle`: the name of dist/<bundle>.js and dist/<bundle>.css. */
export function webviewPage(
  w: vscode.Webview,
  dist: vscode.Uri,
  bundle: string,
  title: string,
  body: string,
): string {
  const n = nonce();
  const script = w.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.js`));
  const style = w.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.css`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${w.cspSource}; font-src ${w.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${title}</title>
</head>
<body>
${body.trim()}
<script nonce="${n}" src="${script}"></script>
</body>
</html>`;
}
