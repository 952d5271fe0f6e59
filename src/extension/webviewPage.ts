// The page of a MIC webview (the memory view, the timeline): a strict Content-Security-Policy —
// the bundled script by nonce, the bundled stylesheet from the extension's dist/, nothing else —
// around the view's own body (the HTML itself: webviewHtml.ts).

import * as vscode from 'vscode';
import { nonce, pageHtml } from './webviewHtml.ts';

/** `bundle`: the name of dist/<bundle>.js and dist/<bundle>.css. */
export function webviewPage(
  w: vscode.Webview,
  dist: vscode.Uri,
  bundle: string,
  title: string,
  body: string,
): string {
  return pageHtml({
    cspSource: w.cspSource,
    nonce: nonce(),
    script: String(w.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.js`))),
    style: String(w.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.css`))),
    title,
    body,
  });
}
