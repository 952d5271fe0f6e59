// The MIC Timeline panel ("MIC: Show Timeline"): one webview panel in the editor area that draws
// the session's lanes over virtual time (script dist/timelineView.js, bundled from webview/main.ts;
// no CDN, no library). This side only relays: the webview asks for frames, hover cards and stats,
// this asks the adapter (mic/timelineData, mic/timelineEvent, mic/timelineStats,
// mic/timelineLanes) and answers; a click seeks (mic/seek) and every view follows the stop.
// While the machine runs it sends the position (mic/timeline) a few times a second.
//
// Why the editor area and not the panel area: the timeline wants width (virtual time runs left
// to right) and height (a lane per initiator, DMA channel and queue); the panel area is short and
// shared with the card console, which one watches while the timeline follows it live. An editor
// tab can also be split beside the code or dragged to the panel by the person if they prefer.

import * as vscode from 'vscode';
import { webviewPage } from '../webviewPage.ts';
import { TIMELINE_BODY } from './timelineBody.ts';
import { errorText, type MicSession, type MicSessions } from '../debug/micSessions.ts';
import { TIME_TRAVEL } from '../model/timeTravel.ts';
import { refreshRate } from '../settings.ts';
import {
  TIMELINE_REQUESTS,
  type FromView,
  type LaneInfo,
  type TimelineData,
  type TimelineEvent,
  type TimelinePosition,
  type TimelineStats,
  type ToView,
} from './timelineModel.ts';

/** The lanes and the position a view starts with. */
interface Start {
  lanes: LaneInfo[];
  kinds: string[];
  position: TimelinePosition;
  end: number;
}

/** Live position ticks while running: at most this often. */
const MAX_LIVE_HZ = 4;
/** Lanes and stats while running: every this many ticks. */
const SLOW_EVERY = 8;

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: MicSession | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticks = 0;
  /** The view (re)loaded: its charts' stats wait for its first frame (the adapter answers in order). */
  private statsAfterFrame = false;
  /**
   * The lanes and the position, asked for as the panel is created: the adapter answers them
   * (on a long session the position's whole-session frame builds the block summaries) while the
   * page loads, instead of after it says `ready` — the first paint comes that much sooner.
   */
  private early: Promise<Start> | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly sessions: MicSessions,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.disposables = [
      sessions.onDidStop((s) => {
        if (s === this.session) void this.refresh(true);
      }),
      sessions.onDidChangeRunning((s) => {
        if (s === this.session) this.schedule();
      }),
      sessions.onDidEnd((s) => {
        if (s === this.session)
          this.post({ type: 'status', text: 'The debug session has ended: the timeline shows what it had.' });
      }),
      sessions.onDidLaunch((s) => {
        if (this.panel && (!this.session || this.session.ended)) {
          this.session = s;
          void this.refresh(true);
        }
      }),
    ];
  }

  /** MIC: Show Timeline. */
  show(): void {
    const s = this.sessions.current();
    if (!s) {
      void vscode.window.showWarningMessage('No MIC debug session: start one to see its timeline.');
      return;
    }
    this.session = s;
    if (this.panel) {
      this.panel.reveal(undefined, false);
      void this.refresh(true);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'mic.timeline',
      'MIC Timeline',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true },
    );
    this.panel = panel;
    this.early = this.start(s);
    // Answered or not, it must not be an unhandled rejection if the page never says ready.
    this.early.catch(() => undefined);
    panel.webview.html = html(panel.webview, dist);
    panel.webview.onDidReceiveMessage((m: FromView) => void this.onMessage(m), undefined, this.disposables);
    panel.onDidChangeViewState(() => this.schedule(), undefined, this.disposables);
    panel.onDidDispose(
      () => {
        this.panel = undefined;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
      },
      undefined,
      this.disposables,
    );
  }

  private async onMessage(m: FromView): Promise<void> {
    const s = this.session;
    if (!s || s.ended) return this.post({ type: 'status', text: 'No debug session.', error: true });
    try {
      switch (m.type) {
        case 'ready': {
          this.statsAfterFrame = true;
          const early = this.early;
          this.early = undefined;
          const got = early && (await early.catch(() => null));
          if (!got || s !== this.session) return await this.refresh(true, false);
          this.post({ type: 'lanes', lanes: got.lanes, kinds: got.kinds });
          this.post({
            type: 'position',
            position: got.position,
            running: s.running,
            stopped: true,
            end: got.end,
          });
          this.schedule();
          return;
        }
        case 'data': {
          const data = await s.request<TimelineData>(TIMELINE_REQUESTS.data, {
            from: m.from,
            to: m.to,
            width: Math.max(1, Math.min(20000, m.width)),
            ...(m.lanes ? { lanes: m.lanes } : {}),
          });
          this.post({ type: 'data', id: m.id, data });
          if (this.statsAfterFrame) {
            this.statsAfterFrame = false;
            await this.stats(s);
          }
          return;
        }
        case 'event': {
          const event = await s.request<TimelineEvent>(TIMELINE_REQUESTS.event, { seq: m.seq });
          return this.post({ type: 'event', seq: m.seq, event });
        }
        case 'stats':
          return await this.stats(s);
        case 'seek':
          await s.request(TIME_TRAVEL.seek, { seq: m.seq });
          return;
      }
    } catch (e) {
      // A data request that failed still frees the webview's throttle.
      if (m.type === 'data')
        this.post({ type: 'status', text: `mic/timelineData: ${errorText(e)}`, error: true });
      else
        this.post({
          type: 'status',
          text: `${m.type === 'seek' ? 'mic/seek' : `mic/timeline ${m.type}`}: ${errorText(e)}`,
          error: true,
        });
    }
  }

  private async stats(s: MicSession): Promise<void> {
    const stats = await s.request<TimelineStats>(TIMELINE_REQUESTS.stats, {});
    this.post({ type: 'stats', stats });
  }

  /**
   * Lanes, the position (and the session's end), stats: at a stop, or when the view (re)loads
   * (then without the stats, which follow its first frame: mic/timelineStats on a long session
   * takes a while, and the adapter would answer it before the frame the view asks for next).
   */
  private async refresh(stopped: boolean, withStats = true): Promise<void> {
    const s = this.session;
    if (!this.panel || !s || s.ended) return;
    try {
      const lanes = await s.request<{ lanes: LaneInfo[]; kinds: string[] }>(TIMELINE_REQUESTS.lanes);
      this.post({ type: 'lanes', lanes: lanes.lanes, kinds: [...lanes.kinds] });
      await this.position(s, stopped);
      if (withStats) await this.stats(s);
    } catch (e) {
      this.post({ type: 'status', text: `The timeline could not be read: ${errorText(e)}`, error: true });
    }
    this.schedule();
  }

  private async position(s: MicSession, stopped: boolean): Promise<void> {
    const { position, end } = await this.whereNow(s);
    this.post({ type: 'position', position, running: s.running, stopped, end });
  }

  /** The position, and the session's end: a frame of no lanes answers with the whole window, cheaply. */
  private async whereNow(s: MicSession): Promise<{ position: TimelinePosition; end: number }> {
    const position = await s.request<TimelinePosition>(TIME_TRAVEL.timeline);
    const whole = await s.request<TimelineData>(TIMELINE_REQUESTS.data, { width: 1, lanes: [] });
    return { position, end: whole.to };
  }

  /** What the view needs before its first frame (see `early`). */
  private async start(s: MicSession): Promise<Start> {
    const lanes = await s.request<{ lanes: LaneInfo[]; kinds: string[] }>(TIMELINE_REQUESTS.lanes);
    return { lanes: lanes.lanes, kinds: [...lanes.kinds], ...(await this.whereNow(s)) };
  }

  /** Live: while the session runs and the panel is visible, the position at most MAX_LIVE_HZ. */
  private schedule(): void {
    if (this.timer) return;
    const s = this.session;
    const hz = Math.min(MAX_LIVE_HZ, Math.max(1, refreshRate()));
    if (!this.panel?.visible || !s?.running || s.ended) return;
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      if (!s.running || s.ended) return;
      try {
        if (++this.ticks % SLOW_EVERY === 0) {
          const lanes = await s.request<{ lanes: LaneInfo[]; kinds: string[] }>(TIMELINE_REQUESTS.lanes);
          this.post({ type: 'lanes', lanes: lanes.lanes, kinds: [...lanes.kinds] });
          await this.stats(s);
        }
        await this.position(s, false);
      } catch {
        // The next stop says what is wrong.
      }
      this.schedule();
    }, 1000 / hz);
  }

  private post(m: ToView): void {
    void this.panel?.webview.postMessage(m);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The page: strict CSP (webviewPage.ts) around the view's toolbar and content (timelineBody.ts). */
const html = (w: vscode.Webview, dist: vscode.Uri): string =>
  webviewPage(w, dist, 'timelineView', 'MIC Timeline', TIMELINE_BODY);
