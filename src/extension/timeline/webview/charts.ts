// The MIC Timeline's small charts (mic/timelineStats), drawn on canvas with no library: per
// queue the request latency histogram (power-of-two buckets) with p50/p99 and the ring occupancy
// over time; per DMA channel the MEMCPY bytes; per card the doorbell rate. A handful of bars and a
// step line each — a chart library would add more than it saves (see docs/timeline.md).
import { histogramBars, timeLabel, type TimelineStats } from '../timelineModel.ts';

const W = 240;
const H = 72;

function chart(box: HTMLElement, key: string, title: string): CanvasRenderingContext2D {
  let fig = box.querySelector<HTMLElement>(`figure[data-key="${CSS.escape(key)}"]`);
  if (!fig) {
    fig = document.createElement('figure');
    fig.dataset.key = key;
    const cap = document.createElement('figcaption');
    const c = document.createElement('canvas');
    c.setAttribute('role', 'img');
    fig.append(cap, c);
    box.append(fig);
  }
  fig.querySelector('figcaption')!.textContent = title;
  const c = fig.querySelector('canvas')!;
  c.setAttribute('aria-label', title);
  const dpr = window.devicePixelRatio || 1;
  c.width = W * dpr;
  c.height = H * dpr;
  c.style.width = `${W}px`;
  c.style.height = `${H}px`;
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return ctx;
}

export function drawStats(box: HTMLElement, s: TimelineStats, colors: Record<string, string>): void {
  const keep = new Set<string>();
  const font = `10px ${colors.font}`;
  for (const q of s.queues) {
    const name = `mic${q.card} ${q.queue}`;
    const lat = q.latency;
    const k1 = `lat:${q.lane}`;
    keep.add(k1);
    const t1 = lat
      ? `${name}: latency p50 ${timeLabel(lat.p50, lat.p50)}, p99 ${timeLabel(lat.p99, lat.p99)} (${q.completed} of ${q.requests})`
      : `${name}: no request completed yet`;
    const c = chart(box, k1, t1);
    c.font = font;
    if (lat) {
      const bars = histogramBars(lat.histogram, W, H - 12);
      c.fillStyle = colors.blue;
      for (const b of bars) c.fillRect(b.x, b.y, b.w, b.h);
      for (const [p, col, label] of [
        [lat.p50, colors.green, 'p50'],
        [lat.p99, colors.red, 'p99'],
      ] as const) {
        const x = bars.xOf(p);
        c.fillStyle = col;
        c.fillRect(x, 0, 1.5, H - 12);
        c.fillText(label, Math.min(W - 20, x + 2), 8);
      }
      c.fillStyle = colors.dim;
      // The axis ends to three digits, as a person reads them (2^27 ns is "134 ms", not "134.21772800 ms").
      const from = 2 ** lat.histogram.log2From;
      c.fillText(timeLabel(from, from), 0, H - 2);
      const top = 2 ** (lat.histogram.log2From + lat.histogram.count.length);
      const tl = timeLabel(top, top);
      c.fillText(tl, W - c.measureText(tl).width, H - 2);
    }
    const k2 = `occ:${q.lane}`;
    keep.add(k2);
    const peak = Math.max(1, ...q.occupancy.map((p) => p[1]));
    const o = chart(box, k2, `${name}: ring occupancy (chains in flight, peak ${peak})`);
    if (q.occupancy.length) {
      const t0 = q.occupancy[0][0];
      const t1 = Math.max(t0 + 1, q.occupancy.at(-1)![0]);
      const X = (t: number) => ((t - t0) / (t1 - t0)) * (W - 2) + 1;
      const Y = (v: number) => H - 2 - (v / peak) * (H - 6);
      o.strokeStyle = colors.green;
      o.lineWidth = 1.5;
      o.beginPath();
      o.moveTo(X(t0), Y(q.occupancy[0][1]));
      let last = q.occupancy[0][1];
      for (const [t, v] of q.occupancy) {
        o.lineTo(X(t), Y(last));
        o.lineTo(X(t), Y(v));
        last = v;
      }
      o.stroke();
    }
  }
  if (s.dma.length) {
    keep.add('dma');
    const total = s.dma.reduce((a, d) => a + d.memcpyBytes, 0);
    const c = chart(box, 'dma', `DMA bytes per channel (${total} in all)`);
    c.font = font;
    const max = Math.max(1, ...s.dma.map((d) => d.memcpyBytes));
    const bh = Math.min(14, (H - 4) / s.dma.length - 2);
    s.dma.forEach((d, i) => {
      const y = 2 + i * (bh + 2);
      c.fillStyle = colors.purple;
      c.fillRect(70, y, ((W - 140) * d.memcpyBytes) / max, bh);
      c.fillStyle = colors.fg;
      c.fillText(d.lane, 0, y + bh - 3, 68);
      c.fillText(`${d.memcpyBytes} B`, 72 + ((W - 140) * d.memcpyBytes) / max, y + bh - 3);
    });
  }
  if (s.doorbells.length) {
    keep.add('db');
    const c = chart(box, 'db', 'Doorbells per virtual second, per card');
    c.font = font;
    const max = Math.max(1, ...s.doorbells.map((d) => d.perSecond));
    const bh = Math.min(14, (H - 4) / s.doorbells.length - 2);
    s.doorbells.forEach((d, i) => {
      const y = 2 + i * (bh + 2);
      c.fillStyle = colors.red;
      c.fillRect(40, y, ((W - 130) * d.perSecond) / max, bh);
      c.fillStyle = colors.fg;
      c.fillText(`mic${d.card}`, 0, y + bh - 3);
      c.fillText(
        `${d.perSecond.toFixed(1)}/s (${d.count})`,
        42 + ((W - 130) * d.perSecond) / max,
        y + bh - 3,
      );
    });
  }
  for (const f of box.querySelectorAll<HTMLElement>('figure')) if (!keep.has(f.dataset.key ?? '')) f.remove();
}
