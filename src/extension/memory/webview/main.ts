// The MIC memory view's script, run inside the webview (bundled by esbuild into
// dist/memoryView.js with its stylesheet dist/memoryView.css; no library, nothing from a CDN).
// It draws the page the extension host sends (memoryPanel.ts) and turns keys into messages:
// arrows move the cursor, hex digits stage edits, Enter writes them (one writeMemory per
// register or run of bytes), Escape discards them, Page Up/Down page, Ctrl+G goes to an address.
import './memoryView.css';
import {
  ByteChangeMarks,
  ROW_BYTES,
  byteText,
  asciiOf,
  formatAddress,
  hexOffset,
  moveCursor,
  parseAddress,
  pageStep,
  registerAt,
  rowsOf,
  writesFor,
  type FromView,
  type PageMessage,
  type ToView,
} from '../memoryModel.ts';

declare function acquireVsCodeApi(): { postMessage(m: FromView): void };
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const grid = $<HTMLDivElement>('.grid');
const goto = $<HTMLInputElement>('input.goto');
const where = $<HTMLSpanElement>('.where');
const status = $<HTMLDivElement>('.status');
const hexEditor = $<HTMLButtonElement>('button.hexeditor');

let page: PageMessage | undefined;
let bytes: number[] = [];
let changed: boolean[] = [];
const marks = new ByteChangeMarks();
/** Typed, not yet written: offset in the space → value. */
const edits = new Map<number, number>();
let nibble: number | undefined;
let cursor = 0;
let layoutKey = '';
let cells: HTMLSpanElement[] = [];
let chars: HTMLSpanElement[] = [];
let ended = false;

function decode(b64: string): number[] {
  const s = atob(b64);
  const out = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text) e.textContent = text;
  return e;
}

/** Builds the rows (once per page and register set); render() fills in values and marks. */
function layout(p: PageMessage): void {
  const key = `${p.space}:${p.start}:${bytes.length}:${p.registers.map((r) => r.name).join(',')}`;
  if (key === layoutKey) return;
  layoutKey = key;
  grid.replaceChildren();
  cells = [];
  chars = [];
  for (const row of rowsOf(p.space, p.start, bytes)) {
    const regs = p.registers.filter(
      (r) => r.offset < row.offset + ROW_BYTES && r.offset + r.size > row.offset,
    );
    if (regs.length > 0) {
      const names = el('div', 'names');
      names.setAttribute('aria-hidden', 'true');
      for (const r of regs) {
        const from = Math.max(r.offset, row.offset) - row.offset;
        const to = Math.min(r.offset + r.size, row.offset + ROW_BYTES) - row.offset;
        const n = el('span', `reg-name access-${r.access}`, r.name);
        n.title = `${r.name} — ${formatAddress({ space: p.space, offset: r.offset })}, ${r.access}${r.doc ? `\n${r.doc}` : ''}`;
        n.style.gridColumn = `${2 + from + (from >= 8 ? 1 : 0)} / span ${to - from + (from < 8 && to > 8 ? 1 : 0)}`;
        names.append(n);
      }
      grid.append(names);
    }
    const line = el('div', 'row');
    line.setAttribute('role', 'row');
    const addr = el('span', 'addr', row.address);
    addr.setAttribute('role', 'rowheader');
    line.append(addr);
    const ascii = el('span', 'ascii');
    row.bytes.forEach((_, i) => {
      if (i === 8) line.append(el('span', 'gap'));
      const index = row.offset - p.start + i;
      const c = el('span', 'byte');
      c.id = `b${index}`;
      c.setAttribute('role', 'gridcell');
      c.dataset.index = String(index);
      cells.push(c);
      line.append(c);
      const ch = el('span', 'ch');
      chars.push(ch);
      ascii.append(ch);
    });
    line.append(ascii);
    grid.append(line);
  }
}

function render(): void {
  const p = page;
  if (!p) return;
  const t = p.target;
  cells.forEach((c, i) => {
    const off = p.start + i;
    const typed = edits.get(off);
    const b = typed ?? bytes[i] ?? -1;
    const isCursor = i === cursor;
    c.textContent = isCursor && nibble !== undefined ? `${nibble.toString(16)}_` : byteText(b);
    const reg = registerAt(p.registers, off);
    const cls = ['byte'];
    if (t && off >= t.offset && off < t.offset + t.length) cls.push('target');
    if (changed[i]) cls.push('changed');
    if (typed !== undefined) cls.push('edited');
    if (b < 0) cls.push('unreadable');
    if (reg) cls.push('reg', reg.writable ? 'reg-w' : 'reg-ro');
    if (isCursor) cls.push('cursor');
    c.className = cls.join(' ');
    c.setAttribute('aria-selected', String(isCursor));
    c.setAttribute(
      'aria-label',
      `${formatAddress({ space: p.space, offset: off })}: ${byteText(b)}${reg ? ` in ${reg.name}` : ''}`,
    );
    const ch = chars[i];
    ch.textContent = b < 0 ? ' ' : asciiOf(b);
    ch.className = cls.join(' ').replace(/\bbyte\b/, 'ch');
  });
  grid.setAttribute('aria-activedescendant', `b${cursor}`);
  const end = p.start + Math.max(0, bytes.length - 1);
  const nChanged = changed.filter(Boolean).length;
  where.textContent = `${formatAddress({ space: p.space, offset: p.start })} – ${hexOffset(end)} · ${
    ended ? 'session ended' : p.running ? 'running (live)' : 'stopped'
  }${nChanged ? ` · ${nChanged} changed since the last stop` : ''}`;
  hexEditor.hidden = !p.hexEditor;
  describeCursor();
}

function describeCursor(): void {
  const p = page;
  if (!p) return;
  const off = p.start + cursor;
  const reg = registerAt(p.registers, off);
  const pending = edits.size
    ? ` · ${edits.size} byte${edits.size === 1 ? '' : 's'} typed: Enter writes, Escape discards`
    : '';
  const regText = reg ? ` · ${reg.name} (${reg.access}${reg.writable ? '' : ', read-only'})` : '';
  if (!status.classList.contains('error') || pending)
    setStatus(`${formatAddress({ space: p.space, offset: off })}${regText}${pending}`);
}

function setStatus(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function showCursor(): void {
  cells[cursor]?.scrollIntoView({ block: 'nearest' });
}

function onPage(p: PageMessage): void {
  const samePlace = page && page.space === p.space && page.start === p.start;
  if (!samePlace) {
    edits.clear();
    nibble = undefined;
  }
  page = p;
  ended = false;
  bytes = decode(p.data);
  for (let i = 0; i < p.unreadable; i++) bytes.push(-1);
  changed = marks.update(
    `${p.space}:${p.start}`,
    bytes,
    p.atStop ? 'newStop' : p.running ? 'running' : 'look',
  );
  layout(p);
  if (p.cursor !== undefined) cursor = Math.max(0, Math.min(bytes.length - 1, p.cursor - p.start));
  else if (!samePlace) cursor = 0;
  render();
  if (p.error) setStatus(p.error, true);
  else if (p.status) setStatus(p.status);
  else status.classList.remove('error');
  if (p.cursor !== undefined) showCursor();
}

function post(m: FromView): void {
  vscode.postMessage(m);
}

function commit(): void {
  const p = page;
  if (!p || edits.size === 0) return;
  const w = writesFor(edits, p.registers, (off) => bytes[off - p.start] ?? -1);
  if ('error' in w) {
    setStatus(`${w.error}. Escape discards the typed bytes.`, true);
    return;
  }
  post({ type: 'write', space: p.space, writes: w });
  setStatus(`Writing ${w.length} write${w.length === 1 ? '' : 's'}…`);
  // Keep showing the typed bytes until the page comes back with what the hardware made of them.
  for (const [off, v] of edits) bytes[off - p.start] = v;
  edits.clear();
}

function gotoPage(delta: number): void {
  const p = page;
  if (!p) return;
  const start = pageStep(p.start, delta);
  post({ type: 'goto', space: p.space, offset: start + (cursor % ROW_BYTES) });
}

/**
 * A key the view handles is not passed on: VS Code's webview host forwards every keydown that
 * reaches the window to the workbench's keybindings (Ctrl+G would open "Go to Line").
 */
function handled(e: Event): void {
  e.preventDefault();
  e.stopPropagation();
}

grid.addEventListener('keydown', (e) => {
  const p = page;
  if (!p) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'g') return; // the document's handler
  if (e.key === 'PageDown' || e.key === 'PageUp') {
    gotoPage(e.key === 'PageDown' ? 1 : -1);
    handled(e);
    return;
  }
  const moved = moveCursor(cursor, e.key, bytes.length);
  if (moved !== cursor || e.key.startsWith('Arrow') || e.key === 'Home' || e.key === 'End') {
    nibble = undefined;
    cursor = moved;
    render();
    showCursor();
    handled(e);
    return;
  }
  if (e.key === 'Enter') {
    commit();
    handled(e);
    return;
  }
  if (e.key === 'Escape') {
    edits.clear();
    nibble = undefined;
    status.classList.remove('error');
    render();
    handled(e);
    return;
  }
  if (/^[0-9a-f]$/i.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    handled(e);
    if (ended) return setStatus('The debug session has ended: nothing can be written.', true);
    const reg = registerAt(p.registers, p.start + cursor);
    if (reg && !reg.writable) return setStatus(`${reg.name} is read-only (${reg.access}).`, true);
    if (bytes[cursor] < 0) return setStatus('This byte cannot be read or written.', true);
    const d = parseInt(e.key, 16);
    if (nibble === undefined) nibble = d;
    else {
      edits.set(p.start + cursor, nibble * 16 + d);
      nibble = undefined;
      cursor = Math.min(bytes.length - 1, cursor + 1);
    }
    render();
  }
});

grid.addEventListener('mousedown', (e) => {
  const c = (e.target as HTMLElement).closest<HTMLElement>('.byte');
  if (!c?.dataset.index) return;
  cursor = Number(c.dataset.index);
  nibble = undefined;
  render();
  grid.focus();
  e.preventDefault();
});

document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'g') {
    handled(e);
    goto.focus();
    goto.select();
  }
});

goto.addEventListener('input', () => {
  const r = parseAddress(goto.value, page ? { space: page.space, offset: page.start + cursor } : undefined);
  const bad = goto.value.trim() !== '' && 'error' in r;
  goto.setAttribute('aria-invalid', String(bad));
  goto.title = bad && 'error' in r ? r.error : '';
});
goto.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    const r = parseAddress(goto.value, page ? { space: page.space, offset: page.start + cursor } : undefined);
    if ('error' in r) setStatus(r.error, true);
    else {
      post({ type: 'goto', space: r.space, offset: r.offset });
      grid.focus();
    }
    handled(e);
  } else if (e.key === 'Escape') {
    grid.focus();
    handled(e);
  }
});

$<HTMLButtonElement>('button.prev').addEventListener('click', () => gotoPage(-1));
$<HTMLButtonElement>('button.next').addEventListener('click', () => gotoPage(1));
hexEditor.addEventListener('click', () => post({ type: 'hexEditor' }));

window.addEventListener('message', (e: MessageEvent<ToView>) => {
  const m = e.data;
  if (m.type === 'page') onPage(m);
  else if (m.type === 'status') {
    if (m.error && /ended/.test(m.text)) {
      ended = true;
      render();
    }
    setStatus(m.text, m.error);
  } else if (m.type === 'focusGoto') goto.focus();
});

post({ type: 'ready' });
grid.focus();
