// DAP `hitCondition`: when a breakpoint whose condition holds actually stops, by its hit count.
//   N      stop on the Nth hit only          >= N   from the Nth hit on
//   > N    after the Nth hit                 == N   the Nth hit (same as N)
//   % N    every Nth hit (N, 2N, 3N …)       < N, <= N   before the Nth hit

export type HitTest = (hits: number) => boolean;

const HELP = 'write N (stop on the Nth hit), >= N, > N, == N, < N, <= N or % N (every Nth hit)';

export function parseHitCondition(text: string): HitTest {
  const m = /^\s*(>=|<=|==|=|>|<|%)?\s*(\d[\d_]*)\s*$/.exec(text);
  if (!m) throw new Error(`hit condition '${text}' is not understood: ${HELP}`);
  const n = Number(m[2].replace(/_/g, ''));
  switch (m[1]) {
    case undefined:
    case '=':
    case '==':
      return (h) => h === n;
    case '>=':
      return (h) => h >= n;
    case '>':
      return (h) => h > n;
    case '<':
      return (h) => h < n;
    case '<=':
      return (h) => h <= n;
    default:
      if (n === 0) throw new Error(`hit condition '${text}': % needs a number above 0`);
      return (h) => h % n === 0;
  }
}
