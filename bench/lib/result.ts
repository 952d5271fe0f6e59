// One row of the table and of bench/results.json.

export interface MetricResult {
  metric: string;
  /** What the row measures, in a few words. */
  what: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run (null: the target is absolute). */
  baseline: number | null;
  baselineWhat?: string;
  /** value / baseline as the target reads it (null: absolute target). */
  ratio: number | null;
  /** The target in words ("ratio ≥ 0.25", "≤ 300 ms"). */
  target: string;
  /** null: not measured (the file does not exist yet). */
  pass: boolean | null;
  /** Anything a reader needs: events, repetitions, spread. */
  notes: Record<string, number | string>;
  /** For a missed target: what holds the number back, in a sentence (printed under the table). */
  limit?: string;
  /** Raw figures (after the warm-up). */
  samples?: { value: number[]; baseline?: number[]; ratio?: number[] };
}

export function fmt(n: number | null, digits = 3): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1000) return n.toFixed(0);
  if (a >= 100) return n.toFixed(1);
  if (a >= 10) return n.toFixed(2);
  return n.toPrecision(digits);
}
