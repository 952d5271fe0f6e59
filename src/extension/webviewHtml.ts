// The HTML of a MIC webview page, without vscode (webviewPage.ts fills it in for a real webview;
// the bench's timeline-paint serves the same page to headless Chromium): a strict
// Content-Security-Policy — the bundled script by nonce, the bundled stylesheet from `cspSource`,
// nothing else — around the view's own body.

export interface PageParts {
  /** The origin the stylesheet and fonts may come from (a webview's cspSource). */
  cspSource: string;
  nonce: string;
  script: string;
  style: string;
  title: string;
  body: string;
}

export function nonce(): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}

export function pageHtml(p: PageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${p.cspSource}; font-src ${p.cspSource}; script-src 'nonce-${p.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${p.style}">
<title>${p.title}</title>
</head>
<body>
${p.body.trim()}
<script nonce="${p.nonce}" src="${p.script}"></script>
</body>
</html>`;
}
