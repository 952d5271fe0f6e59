// The MIC Timeline page's body: the toolbar, the canvas, the hover card, the status line and the
// charts the webview script (webview/main.ts) fills in. Apart from timelinePanel.ts (no vscode
// here) so that the bench's timeline-paint serves the same page to headless Chromium.

export const TIMELINE_BODY = `
<div class="bar" role="toolbar" aria-label="MIC Timeline">
  <input class="search" type="search" spellcheck="false" aria-label="Search the events and requests loaded (Enter: next match)" placeholder="Search (block.requestq, doorbell, 1450)">
  <div class="filters"></div>
  <button class="all" title="Whole session (0)">Whole session</button>
  <button class="zoomreq" title="Zoom to the selected request (z, or double-click a bar)">Zoom to request</button>
  <label title="While the machine runs, keep the newest events in view"><input class="follow" type="checkbox" checked> Follow live</label>
  <span class="moment" aria-live="polite"></span>
  <span class="where"></span>
</div>
<div class="plotwrap">
  <canvas class="plot" tabindex="0" aria-label="MIC Timeline: lanes over virtual time. Wheel or + and - zoom, drag or Left and Right pan, Home and End go to the ends, 0 shows the whole session; Up and Down choose a lane, Shift+Left and Shift+Right select its events or request bars, Enter goes to the selected event, z zooms to its request, Escape clears."></canvas>
  <div class="hovercard" hidden role="tooltip"></div>
</div>
<div class="status" role="status" aria-live="polite"></div>
<div class="help">Click an event or a request bar to go there (the debugger stops at it); double-click a bar to zoom to it. Search and filters read what is loaded for this window.</div>
<div class="charts" aria-label="Per-queue statistics"></div>
`;
