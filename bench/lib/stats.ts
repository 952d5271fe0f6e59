// Repetition and statistics: every figure is a median after a warm-up, and a baseline is run
// right next to the measured case (A B A B …, order alternating) so that machine noise hits
// both alike and cancels in their ratio.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Paired {
  /** One figure per measured repetition (after the warm-up). */
  value: number[];
  /** The baseline's figure of the same repetition. */
  baseline: number[];
  /** value[i] / baseline[i]. */
  ratio: number[];
}

/**
 * Run `measured` and `baseline` alternately: `warmup` pairs thrown away, then `reps` pairs kept.
 * Each callback gets the repetition number and returns its figure (a time, a rate …). Within a
 * pair the order alternates, so neither side always runs on a cache the other one warmed.
 */
export function interleave(
  reps: number,
  warmup: number,
  measured: (rep: number) => number,
  baseline: (rep: number) => number,
): Paired {
  const out: Paired = { value: [], baseline: [], ratio: [] };
  for (let i = 0; i < warmup + reps; i++) {
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = measured(i);
      b = baseline(i);
    } else {
      b = baseline(i);
      a = measured(i);
    }
    if (i < warmup) continue;
    out.value.push(a);
    out.baseline.push(b);
    out.ratio.push(a / b);
  }
  return out;
}

/** Async variant for the DAP metrics. */
export async function repeat(
  reps: number,
  warmup: number,
  once: (rep: number) => Promise<number>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const v = await once(i);
    if (i >= warmup) out.push(v);
  }
  return out;
}

/** Wall time of fn in milliseconds. */
export function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** A small deterministic PRNG (mulberry32) for random offsets that are the same every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
