// The MIC Timeline's script, run inside the webview (bundled by esbuild into dist/timelineView.js
// with dist/timelineView.css; no library, nothing from a CDN). It draws the frames the extension
// host fetches (timelinePanel.ts, mic/timelineData) on one <canvas> — never a DOM node per event —
// and asks for the next frame when the window moves (throttled: one in flight, the last answer
// drawn meanwhile). Pure logic (scale, layout, hit-testing, search) is in ../timelineModel.ts.
import './timelineView.css';
import {
  BAR_H,
  Throttle,
  barEnd,
  barRows,
  chainOf,
  clampView,
  deviceOf,
  followView,
  hitTest,
  kindMask,
  layoutLanes,
  noFilters,
  panBy,
  requestText,
  requestView,
  search,
  selectables,
  step,
  ticks,
  timeAt,
  timeLabel,
  visibleLanes,
  xOf,
  zoomAt,
  type FromView,
  type Hit,
  type LaneInfo,
  type LaneRow,
  type TimelineData,
  type TimelineEvent,
  type TimelinePosition,
  type TimelineStats,
  type ToView,
  type View,
} from '../timelineModel.ts';
import { drawStats } from './charts.ts';

declare function acquireVsCodeApi(): { postMessage(m: FromView): void };
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const canvas = $<HTMLCanvasElement>('canvas.plot');
const wrap = $<HTMLDivElement>('.plotwrap');
const card = $<HTMLDivElement>('.hovercard');
const status = $<HTMLDivElement>('.status');
const where = $<HTMLSpanElement>('.where');
const searchBox = $<HTMLInputElement>('input.search');
const followBox = $<HTMLInputElement>('input.follow');
const filtersEl = $<HTMLDivElement>('.filters');
const charts = $<HTMLDivElement>('.charts');
const ctx = canvas.getContext('2d')!;

const LABEL_W = 170;
const AXIS_H = 22;
/** Frames asked for at most this often while the window moves (ms). */
const FRAME_MS = 50;

let lanes: LaneInfo[] = [];
let kinds: string[] = [];
const filters = noFilters();
let shownKinds = -1;
let rows: LaneRow[] = [];
let stacks = new Map<number, number>();
let view: View = { from: 0, to: 1 };
let end = 1;
let frame: TimelineData | undefined;
let position: TimelinePosition | undefined;
let running = false;
let selected: Hit | undefined;
let selectedLane = 0;
let chain = new Set<number>();
let matches: Hit[] = [];
let matchSet = new Set<number>();
let hoverSeq: number | undefined;
let hoverTimer: ReturnType<typeof setTimeout> | undefined;
let firstFrame = true;
const events = new Map<number, TimelineEvent>();
const throttle = new Throttle(FRAME_MS);
let pumpTimer: ReturnType<typeof setTimeout> | undefined;
let colors: Record<string, string> = {};
let stats: TimelineStats | undefined;

const post = (m: FromView) => vscode.postMessage(m);
const plotW = () => Math.max(10, canvas.clientWidth - LABEL_W);

// ---- colours from the theme ----

function readColors(): void {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  colors = {
    fg: v('--vscode-foreground', '#ccc'),
    dim: v('--vscode-descriptionForeground', '#999'),
    bg: v('--vscode-editor-background', '#1e1e1e'),
    grid: v('--vscode-editorIndentGuide-background1', v('--vscode-panel-border', '#444')),
    lane: v('--vscode-editor-inactiveSelectionBackground', '#3a3d41'),
    blue: v('--vscode-charts-blue', '#3794ff'),
    red: v('--vscode-charts-red', '#f14c4c'),
    green: v('--vscode-charts-green', '#89d185'),
    yellow: v('--vscode-charts-yellow', '#cca700'),
    orange: v('--vscode-charts-orange', '#d18616'),
    purple: v('--vscode-charts-purple', '#b180d7'),
    focus: v('--vscode-focusBorder', '#007fd4'),
    cursor: v('--vscode-debugIcon-breakpointCurrentStackframeForeground', '#ffcc00'),
    match: v('--vscode-editor-findMatchHighlightBackground', '#ea5c0055'),
    font: v('--vscode-font-family', 'sans-serif'),
  };
}

/** A colour per event kind: accesses blue, doorbells and interrupts red/orange, DMA purple, rings green, state yellow. */
function kindColor(k: string): string {
  if (k.startsWith('mmio') || k.startsWith('cfg')) return colors.blue;
  if (k.startsWith('mem')) return colors.dim;
  if (k === 'doorbell') return colors.red;
  if (k === 'irq') return colors.orange;
  if (k === 'dma.desc') return colors.purple;
  if (k.startsWith('vring')) return colors.green;
  if (k === 'state' || k === 'milestone') return colors.yellow;
  return colors.fg;
}
const maskColor = (m: number) => kindColor(kinds[31 - Math.clz32(m & -m)] ?? '');

// ---- data ----

function want(): void {
  if (firstFrame) return; // the first frame (the whole session) is asked for when the position is known
  throttle.want();
  pump();
}

function pump(): void {
  if (pumpTimer) return;
  const wait = throttle.wait(performance.now());
  if (wait === Infinity) return;
  pumpTimer = setTimeout(() => {
    pumpTimer = undefined;
    const id = throttle.next(performance.now());
    if (id === null) return pump();
    const shownLanes = visibleLanes(lanes, filters);
    post({
      type: 'data',
      id,
      from: Math.floor(view.from),
      to: Math.ceil(view.to),
      width: Math.round(plotW()),
      lanes: shownLanes.length === lanes.length ? undefined : shownLanes.map((l) => l.id),
    });
  }, wait);
}

function relayout(): void {
  const shown = visibleLanes(lanes, filters);
  shownKinds = kindMask(kinds, filters);
  const perLane = new Map<string, number>();
  stacks = new Map();
  if (frame) {
    const byLane = new Map<string, typeof frame.requests>();
    for (const r of frame.requests) byLane.set(r.lane, [...(byLane.get(r.lane) ?? []), r]);
    for (const [lane, bars] of byLane) {
      const s = barRows(bars, frame.to);
      s.forEach((row, id) => stacks.set(id, row));
      perLane.set(lane, Math.max(...s.values()) + 1);
    }
  }
  rows = layoutLanes(shown, AXIS_H, perLane);
  selectedLane = Math.min(selectedLane, Math.max(0, rows.length - 1));
  const h = (rows.at(-1)?.y ?? AXIS_H) + (rows.at(-1)?.h ?? 0) + 4;
  canvas.style.height = `${h}px`;
}

// ---- drawing ----

let drawQueued = false;
function draw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    paint();
  });
}

function paint(): void {
  const t0 = performance.now();
  const dpr = window.devicePixelRatio || 1;
  const cw = canvas.clientWidth;
  const ch = canvas.clientHeight;
  if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
    canvas.width = Math.round(cw * dpr);
    canvas.height = Math.round(ch * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cw, ch);
  ctx.font = `11px ${colors.font}`;
  ctx.textBaseline = 'middle';
  const W = plotW();
  const X = (t: number) => LABEL_W + xOf(view, W, t);

  // Lanes and their names.
  rows.forEach((r, i) => {
    if (i % 2 === 1) {
      ctx.fillStyle = colors.lane;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(0, r.y, cw, r.h);
      ctx.globalAlpha = 1;
    }
    ctx.fillStyle = i === selectedLane && document.activeElement === canvas ? colors.focus : colors.fg;
    ctx.fillText(r.lane.name, 4, r.y + r.h / 2, LABEL_W - 8);
  });

  // Axis and grid.
  ctx.fillStyle = colors.dim;
  ctx.strokeStyle = colors.grid;
  ctx.lineWidth = 1;
  for (const t of ticks(view, W, 120)) {
    const x = Math.round(X(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, AXIS_H - 4);
    ctx.lineTo(x, ch);
    ctx.stroke();
    ctx.fillText(timeLabel(t, view.to - view.from), x + 3, AXIS_H / 2);
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_W, AXIS_H, W, ch - AXIS_H);
  ctx.clip();
  if (frame) paintFrame(frame, X);
  // The current moment.
  if (position) {
    const x = Math.round(X(position.time)) + 0.5;
    ctx.strokeStyle = colors.cursor;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, AXIS_H);
    ctx.lineTo(x, ch);
    ctx.stroke();
  }
  ctx.restore();
  canvas.dataset.paintMs = (performance.now() - t0).toFixed(2);
  publishSelection(X);
}

function paintFrame(f: TimelineData, X: (t: number) => number): void {
  const laneY = new Map(rows.map((r) => [r.lane.id, r]));
  const hl = chain.size > 0;
  // Events and buckets.
  for (const le of f.lanes) {
    const r = laneY.get(le.lane);
    if (!r) continue;
    const mid = r.y + r.h / 2;
    if (le.events) {
      const e = le.events;
      for (let i = 0; i < e.seq.length; i++) {
        if (!((1 << e.kind[i]) & shownKinds)) continue;
        const x = Math.round(X(e.time[i]));
        const inChain = chain.has(e.seq[i]);
        ctx.fillStyle = inChain ? colors.focus : kindColor(kinds[e.kind[i]]);
        ctx.globalAlpha = hl && !inChain ? 0.35 : 1;
        ctx.fillRect(x - (inChain ? 1 : 0.5), r.y + 3, inChain ? 3 : 2, r.h - 6);
        if (matchSet.has(e.seq[i])) {
          ctx.fillStyle = colors.match;
          ctx.fillRect(x - 4, r.y + 1, 8, r.h - 2);
        }
      }
      ctx.globalAlpha = 1;
    } else if (le.buckets) {
      const b = le.buckets;
      const bx = (i: number) => X(f.from + i * f.bucketNs);
      for (let i = 0; i < b.i.length; i++) {
        const m = b.mask[i] & shownKinds;
        if (!m) continue;
        const x0 = bx(b.i[i]);
        const w = Math.max(1, bx(b.i[i] + 1) - x0 - 1);
        // Height by log of the count: one event is a third of the lane, a thousand the whole.
        const hh = Math.min(r.h - 4, ((r.h - 4) * (1 + Math.log10(b.count[i]))) / 4);
        ctx.fillStyle = maskColor(m);
        ctx.fillRect(x0, mid - hh / 2, w, hh);
      }
    }
  }
  // Request bars.
  for (const q of f.requests) {
    const r = laneY.get(q.lane);
    if (!r) continue;
    const x0 = X(q.availTime);
    const x1 = Math.max(x0 + 3, X(barEnd(q, f.to)));
    const y = r.y + 2 + (stacks.get(q.id) ?? 0) * (BAR_H + 2);
    const isSel = selected?.type === 'request' && selected.request.id === q.id && selected.lane === q.lane;
    ctx.fillStyle = q.latency < 0 ? colors.yellow : colors.green;
    ctx.globalAlpha = chain.size > 0 && !chain.has(q.availSeq) && !isSel ? 0.45 : 0.85;
    ctx.fillRect(x0, y, x1 - x0, BAR_H);
    ctx.globalAlpha = 1;
    // The used moment, a notch.
    if (q.usedTime >= 0 && q.doneTime > q.usedTime) {
      ctx.fillStyle = colors.bg;
      ctx.fillRect(X(q.usedTime), y, 1, BAR_H);
    }
    if (matchSet.has(q.availSeq) && matches.some((m) => m.type === 'request' && m.request.id === q.id)) {
      ctx.strokeStyle = colors.orange;
      ctx.lineWidth = 1;
      ctx.strokeRect(x0 - 1.5, y - 1.5, x1 - x0 + 3, BAR_H + 3);
    }
    if (x1 - x0 > 60) {
      ctx.fillStyle = colors.bg;
      ctx.fillText(
        `#${q.id} ${q.bytes} B`,
        Math.max(x0, LABEL_W) + 3,
        y + BAR_H / 2,
        x1 - Math.max(x0, LABEL_W) - 6,
      );
    }
  }
  // Causal links (the adapter sends them only when zoomed in enough to list events).
  for (const l of f.links) {
    const a = laneY.get(l.fromLane);
    const b = laneY.get(l.toLane);
    if (!a || !b) continue;
    const inChain = chain.has(l.from) && chain.has(l.to);
    if (hl && !inChain) continue;
    arrow(
      X(l.fromTime),
      a.y + a.h / 2,
      X(l.toTime),
      b.y + b.h / 2,
      inChain ? colors.focus : colors.dim,
      inChain ? 2 : 1,
    );
  }
  // The selection.
  if (selected && selected.type !== 'request') {
    const r = laneY.get(selected.lane);
    if (r) {
      ctx.strokeStyle = colors.focus;
      ctx.lineWidth = 2;
      ctx.strokeRect(X(selected.time) - 4, r.y + 1, 8, r.h - 2);
    }
  } else if (selected?.type === 'request') {
    const r = laneY.get(selected.lane);
    if (r) {
      const q = selected.request;
      const y = r.y + 2 + (stacks.get(q.id) ?? 0) * (BAR_H + 2);
      ctx.strokeStyle = colors.focus;
      ctx.lineWidth = 2;
      ctx.strokeRect(
        X(q.availTime) - 2,
        y - 2,
        Math.max(3, X(barEnd(q, f.to)) - X(q.availTime)) + 4,
        BAR_H + 4,
      );
    }
  }
}

function arrow(x0: number, y0: number, x1: number, y1: number, color: string, w: number): void {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = w;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  const mx = (x0 + x1) / 2 + (x0 === x1 ? 12 : 0);
  ctx.bezierCurveTo(mx, y0, mx, y1, x1, y1);
  ctx.stroke();
  const a = Math.atan2(y1 - y0, x0 === x1 ? -12 : x1 - mx);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 6 * Math.cos(a - 0.4), y1 - 6 * Math.sin(a - 0.4));
  ctx.lineTo(x1 - 6 * Math.cos(a + 0.4), y1 - 6 * Math.sin(a + 0.4));
  ctx.fill();
}

/** Where the selection is drawn (for people: the status line; for the end-to-end test: data-selection). */
function publishSelection(X: (t: number) => number): void {
  if (!selected || !frame) {
    delete canvas.dataset.selection;
    return;
  }
  const r = rows.find((x) => x.lane.id === selected!.lane);
  if (!r) return;
  let rect;
  if (selected.type === 'request') {
    const q = selected.request;
    const x0 = X(q.availTime);
    const y = r.y + 2 + (stacks.get(q.id) ?? 0) * (BAR_H + 2);
    rect = { x: x0, y, w: Math.max(3, X(barEnd(q, frame.to)) - x0), h: BAR_H };
  } else rect = { x: X(selected.time) - 2, y: r.y + 2, w: 4, h: r.h - 4 };
  canvas.dataset.selection = JSON.stringify({ type: selected.type, seq: selected.seq, ...rect });
}

// ---- view changes ----

function setView(v: View, fetch = true): void {
  view = clampView(v, end);
  where.textContent = `${timeLabel(view.from, view.to - view.from)} – ${timeLabel(view.to, view.to - view.from)}`;
  draw();
  if (fetch) want();
}

function stopFollowing(): void {
  if (followBox.checked) followBox.checked = false;
}

function select(h: Hit | undefined, announce = true): void {
  selected = h;
  chain = new Set();
  if (!h) return draw();
  const i = rows.findIndex((r) => r.lane.id === h.lane);
  if (i >= 0) selectedLane = i;
  if (h.type === 'request') {
    chain = new Set([h.request.availSeq, h.request.usedSeq, h.request.doneSeq].filter((s) => s > 0));
    if (announce) say(requestText(h.request));
  } else {
    post({ type: 'event', seq: h.seq });
    if (announce)
      say(h.type === 'event' ? `event ${h.seq}: ${h.name}` : `${h.count} events from event ${h.seq}`);
  }
  draw();
}

function say(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function seek(h: Hit): void {
  post({ type: 'seek', seq: h.seq });
  say(`going to event ${h.seq}${h.type === 'request' ? ` (request ${h.request.id}'s avail)` : ''}…`);
}

/** Zoom to the request of a bar, or of an event (its hover card names it); the bar becomes the selection. */
function zoomToRequest(h: Hit | undefined): void {
  let r = h?.type === 'request' ? h.request : undefined;
  if (!r && h && h.type !== 'request') {
    const ev = events.get(h.seq);
    if (!ev) {
      // Its card is on its way: zoom when it arrives.
      pendingZoom = h.seq;
      post({ type: 'event', seq: h.seq });
      return;
    }
    r = ev.request ?? undefined;
  }
  if (!r) return say('Select a request bar (or an event of a request) to zoom to it.');
  stopFollowing();
  select({ type: 'request', seq: r.availSeq, lane: r.lane, time: r.availTime, request: r });
  setView(requestView(r, end));
}
let pendingZoom: number | undefined;

// ---- pointer ----

let drag: { x: number; view: View; moved: boolean } | undefined;
let clickTimer: ReturnType<typeof setTimeout> | undefined;
const DBLCLICK_MS = 300;

function hitAt(e: MouseEvent): Hit | null {
  if (!frame) return null;
  const b = canvas.getBoundingClientRect();
  const x = e.clientX - b.left - LABEL_W;
  if (x < 0) return null;
  // Hit-test in the frame's own scale (it may lag the view while the next one is on its way).
  const fx = xOf(frame, plotW(), timeAt(view, plotW(), x));
  return hitTest(frame, rows, stacks, plotW(), fx, e.clientY - b.top, shownKinds);
}

canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const b = canvas.getBoundingClientRect();
  if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
    stopFollowing();
    return setView(panBy(view, plotW(), e.deltaX || e.deltaY, end));
  }
  const x = Math.max(0, e.clientX - b.left - LABEL_W);
  setView(zoomAt(view, plotW(), x, Math.exp(e.deltaY * 0.002), end));
});
canvas.addEventListener('mousedown', (e) => {
  if (e.button === 0) drag = { x: e.clientX, view, moved: false };
});
window.addEventListener('mousemove', (e) => {
  if (drag) {
    const dx = e.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (drag.moved) {
      stopFollowing();
      setView(panBy(drag.view, plotW(), -dx, end));
      hideCard();
    }
    return;
  }
  if (e.target !== canvas) return;
  hover(hitAt(e), e);
});
window.addEventListener('mouseup', (e) => {
  const d = drag;
  drag = undefined;
  if (!d || d.moved || e.target !== canvas) return;
  const h = hitAt(e);
  if (!h) return select(undefined);
  select(h);
  // The seek waits out a double-click (zoom to the request), so that one does not seek twice.
  if (clickTimer) clearTimeout(clickTimer);
  clickTimer = setTimeout(() => {
    clickTimer = undefined;
    seek(h);
  }, DBLCLICK_MS);
});
canvas.addEventListener('dblclick', (e) => {
  if (clickTimer) clearTimeout(clickTimer);
  clickTimer = undefined;
  const h = hitAt(e);
  if (h) zoomToRequest(h);
});
canvas.addEventListener('mouseleave', () => hideCard());

function hover(h: Hit | null, e: MouseEvent): void {
  if (!h) return hideCard();
  canvas.style.cursor = 'pointer';
  const place = () => {
    const b = wrap.getBoundingClientRect();
    card.style.left = `${Math.min(e.clientX - b.left + 14, b.width - card.offsetWidth - 4)}px`;
    card.style.top = `${e.clientY - b.top + wrap.scrollTop + 14}px`;
  };
  if (h.type === 'request') {
    hoverSeq = undefined;
    card.replaceChildren(
      line('b', `request ${h.request.id} · ${h.request.queue}`),
      line('div', requestText(h.request)),
    );
  } else if (h.type === 'bucket') {
    hoverSeq = undefined;
    card.replaceChildren(
      line('b', `${h.count} events`),
      line(
        'div',
        `from event ${h.seq} at ${timeLabel(h.time, 1)} on ${h.lane}; zoom in to see them, click to go to the first`,
      ),
    );
  } else {
    const known = events.get(h.seq);
    if (known) fillCard(known);
    else {
      card.replaceChildren(
        line('b', `event ${h.seq}: ${h.name}`),
        line('div', `${h.lane}, ${timeLabel(h.time, 1)}`),
      );
      if (hoverSeq !== h.seq) {
        hoverSeq = h.seq;
        if (hoverTimer) clearTimeout(hoverTimer);
        hoverTimer = setTimeout(() => post({ type: 'event', seq: h.seq }), 80);
      }
    }
  }
  card.hidden = false;
  place();
}

function fillCard(ev: TimelineEvent): void {
  const causes = ev.causes.slice(0, 6).map((c) => `← ${c.seq} ${c.name} (${c.lane})`);
  const effects = ev.effects.slice(0, 6).map((c) => `→ ${c.seq} ${c.name} (${c.lane})`);
  card.replaceChildren(
    line('b', `event ${ev.seq}: ${ev.name}`),
    line('div', ev.words),
    ...(causes.length ? [line('div', causes.join('\n'), 'chain')] : []),
    ...(effects.length ? [line('div', effects.join('\n'), 'chain')] : []),
    line('div', 'Click: go to this event · double-click: zoom to its request', 'hint'),
  );
}

function line(tag: 'b' | 'div', text: string, cls = ''): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function hideCard(): void {
  card.hidden = true;
  canvas.style.cursor = 'default';
  hoverSeq = undefined;
}

// ---- keyboard ----

canvas.addEventListener('keydown', (e) => {
  const W = plotW();
  const lane = rows[selectedLane]?.lane;
  const pick = (dir: 1 | -1) => {
    if (!frame || !lane) return;
    const list = selectables(frame, lane, shownKinds);
    const h = step(list, selected?.lane === lane.id ? selected.seq : undefined, dir);
    if (h) {
      select(h);
      const x = xOf(view, W, h.time);
      if (x < 0 || x > W) setView(panBy(view, W, x - W / 2, end));
    } else say(`nothing on ${lane.name} in this window`);
  };
  let handled = true;
  switch (e.key) {
    case '+':
    case '=':
      setView(zoomAt(view, W, selected ? xOf(view, W, selected.time) : W / 2, 0.5, end));
      break;
    case '-':
    case '_':
      setView(zoomAt(view, W, selected ? xOf(view, W, selected.time) : W / 2, 2, end));
      break;
    case 'ArrowLeft':
      if (e.shiftKey || e.altKey) pick(-1);
      else {
        stopFollowing();
        setView(panBy(view, W, -W * 0.2, end));
      }
      break;
    case 'ArrowRight':
      if (e.shiftKey || e.altKey) pick(1);
      else {
        stopFollowing();
        setView(panBy(view, W, W * 0.2, end));
      }
      break;
    case 'ArrowUp':
      selectedLane = Math.max(0, selectedLane - 1);
      say(rows[selectedLane]?.lane.name ?? '');
      draw();
      break;
    case 'ArrowDown':
      selectedLane = Math.min(rows.length - 1, selectedLane + 1);
      say(rows[selectedLane]?.lane.name ?? '');
      draw();
      break;
    case 'Home':
      stopFollowing();
      setView({ from: 0, to: view.to - view.from });
      break;
    case 'End':
      setView({ from: end - (view.to - view.from), to: end });
      break;
    case '0':
      stopFollowing();
      setView({ from: 0, to: end });
      break;
    case 'Enter':
      if (selected) seek(selected);
      else say('Nothing selected: Shift+Right selects the next event of the lane.');
      break;
    case 'z':
      zoomToRequest(selected);
      break;
    case 'Escape':
      select(undefined);
      hideCard();
      break;
    default:
      handled = false;
  }
  if (handled) e.preventDefault();
});
canvas.addEventListener('focus', draw);
canvas.addEventListener('blur', draw);

// ---- toolbar ----

$<HTMLButtonElement>('button.all').addEventListener('click', () => {
  stopFollowing();
  setView({ from: 0, to: end });
});
$<HTMLButtonElement>('button.zoomreq').addEventListener('click', () => zoomToRequest(selected));
followBox.addEventListener('change', () => {
  if (followBox.checked && position) setView(followView(view, Math.max(end, position.time)));
});

function runSearch(dir: 1 | -1): void {
  if (!frame) return;
  matches = search(frame, searchBox.value);
  matchSet = new Set(matches.map((m) => m.seq));
  if (!searchBox.value.trim()) {
    say('');
    return draw();
  }
  const i = selected ? matches.findIndex((m) => m.seq === selected!.seq && m.type === selected!.type) : -1;
  const next = matches.length ? matches[(i + dir + matches.length) % matches.length] : undefined;
  if (next) {
    select(next, false);
    say(
      `${matches.length} match${matches.length === 1 ? '' : 'es'} in this window; ${next.type === 'request' ? requestText(next.request) : `event ${next.seq}: ${next.type === 'event' ? next.name : ''}`}`,
    );
  } else
    say(`no match for "${searchBox.value}" in what this window has loaded (zoom in to list more events)`);
  draw();
}
searchBox.addEventListener('input', () => {
  if (!frame) return;
  matches = search(frame, searchBox.value);
  matchSet = new Set(matches.map((m) => m.seq));
  say(
    searchBox.value.trim()
      ? `${matches.length} match${matches.length === 1 ? '' : 'es'} in this window (Enter: next, Shift+Enter: previous)`
      : '',
  );
  draw();
});
searchBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    runSearch(e.shiftKey ? -1 : 1);
  }
});

function checkboxes(
  title: string,
  items: { key: string; label: string; hidden: boolean }[],
  toggle: (key: string, on: boolean) => void,
): HTMLElement {
  const d = document.createElement('details');
  const s = document.createElement('summary');
  s.textContent = title;
  d.append(s);
  const box = document.createElement('div');
  box.className = 'checks';
  for (const it of items) {
    const l = document.createElement('label');
    const c = document.createElement('input');
    c.type = 'checkbox';
    c.checked = !it.hidden;
    c.addEventListener('change', () => {
      toggle(it.key, c.checked);
      relayout();
      draw();
      want();
    });
    l.append(c, ` ${it.label}`);
    box.append(l);
  }
  d.append(box);
  return d;
}

function buildFilters(): void {
  const open = new Set([...filtersEl.querySelectorAll('details[open] summary')].map((s) => s.textContent));
  const cards = [...new Set(lanes.filter((l) => l.card >= 0).map((l) => l.card))].sort((a, b) => a - b);
  const devices = [...new Set(lanes.map(deviceOf).filter((d): d is string => !!d))].sort();
  const queues = lanes.filter((l) => l.kind === 'queue');
  const set = <T>(s: Set<T>, k: T, on: boolean) => (on ? s.delete(k) : s.add(k));
  filtersEl.replaceChildren(
    checkboxes(
      'Cards',
      cards.map((c) => ({ key: String(c), label: `mic${c}`, hidden: filters.cards.has(c) })),
      (k, on) => set(filters.cards, Number(k), on),
    ),
    checkboxes(
      'Devices',
      devices.map((d) => ({ key: d, label: d, hidden: filters.devices.has(d) })),
      (k, on) => set(filters.devices, k, on),
    ),
    checkboxes(
      'Queues',
      queues.map((q) => ({ key: q.id, label: q.name, hidden: filters.queues.has(q.id) })),
      (k, on) => set(filters.queues, k, on),
    ),
    checkboxes(
      'Kinds',
      kinds.map((k) => ({ key: k, label: k, hidden: filters.kinds.has(k) })),
      (k, on) => set(filters.kinds, k, on),
    ),
  );
  for (const d of filtersEl.querySelectorAll('details'))
    if (open.has(d.querySelector('summary')?.textContent ?? '')) d.open = true;
}

// ---- messages from the extension host ----

window.addEventListener('message', (e: MessageEvent<ToView>) => {
  const m = e.data;
  switch (m.type) {
    case 'lanes': {
      const changed = m.lanes.length !== lanes.length || kinds.length !== m.kinds.length;
      lanes = m.lanes;
      kinds = m.kinds;
      if (changed) buildFilters();
      relayout();
      draw();
      return;
    }
    case 'data': {
      throttle.done();
      frame = m.data;
      if (firstFrame) {
        firstFrame = false;
        end = Math.max(end, m.data.to);
        view = clampView({ from: m.data.from, to: m.data.to }, end);
        setView(view, false);
      }
      relayout();
      if (searchBox.value.trim()) {
        matches = search(frame, searchBox.value);
        matchSet = new Set(matches.map((x) => x.seq));
      }
      canvas.dataset.frame = `${m.id}`;
      canvas.dataset.window = `${frame.from}-${frame.to}`;
      draw();
      pump();
      return;
    }
    case 'event':
      events.set(m.seq, m.event);
      if (events.size > 2000) events.delete(events.keys().next().value!);
      if (selected && selected.seq === m.seq && selected.type !== 'request') {
        chain = chainOf(m.event);
        draw();
      }
      if (hoverSeq === m.seq && !card.hidden) fillCard(m.event);
      if (pendingZoom === m.seq) {
        pendingZoom = undefined;
        zoomToRequest({
          type: 'event',
          seq: m.seq,
          lane: m.event.lane,
          time: m.event.time,
          name: m.event.name,
        });
      }
      return;
    case 'stats':
      stats = m.stats;
      drawStats(charts, stats, colors);
      return;
    case 'position': {
      position = m.position;
      running = m.running;
      end = Math.max(end, m.position.time, m.end);
      $<HTMLSpanElement>('.moment').textContent =
        `event ${m.position.seq} of ${m.position.head} · ${timeLabel(m.position.time, 1)}${running ? ' · running' : ''}`;
      if (firstFrame) {
        if (!pumpTimer)
          post({ type: 'data', id: 0, from: 0, to: Math.max(1, end), width: Math.round(plotW()) });
        return;
      }
      if (running && followBox.checked) setView(followView(view, m.position.time));
      else if (m.stopped) {
        say(`stopped at event ${m.position.seq}`);
        const x = xOf(view, plotW(), m.position.time);
        // On a stop (a seek included) the cursor comes into view, and the frame is fetched again.
        if (x < 0 || x > plotW()) setView(followView(view, m.position.time));
        else setView(view);
      } else draw();
      return;
    }
    case 'status':
      say(m.text, m.error);
      return;
  }
});

new ResizeObserver(() => {
  draw();
  want();
}).observe(wrap);
new MutationObserver(() => {
  readColors();
  draw();
  if (stats) drawStats(charts, stats, colors);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

readColors();
post({ type: 'ready' });
