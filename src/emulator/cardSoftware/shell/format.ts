// How coreutils prints numbers and names: gnulib's human_readable (the "1.0 MB, 1000 KiB" of
// dd's summary), printf's %g, and gnulib's quote(). Shared by the block commands.

/** A name in a message, as gnulib quote() prints it in the C locale: 'NAME'. */
export const quote = (s: string) => `'${s}'`;

const POWER_LETTERS = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y', 'R', 'Q'];
const EXPONENT_MAX = POWER_LETTERS.length - 1;

function unitSuffix(exponent: number, base: number): string {
  if (exponent === 0) return 'B';
  const letter = base === 1000 && exponent === 1 ? 'k' : POWER_LETTERS[exponent];
  return `${letter}${base === 1024 ? 'i' : ''}B`;
}

/** gnulib human_readable's integer path (autoscale, round to nearest, " " before the unit, "B"). */
function humanInteger(amt: number, tenths: number, rounding: number, base: number): string {
  let exponent = 0;
  let frac = '';
  if (base <= amt) {
    do {
      const r10 = (amt % base) * 10 + tenths;
      const r2 = (r10 % base) * 2 + (rounding >> 1);
      amt = Math.floor(amt / base);
      tenths = Math.floor(r10 / base);
      rounding = r2 < base ? (r2 + rounding !== 0 ? 1 : 0) : 2 + (base < r2 + rounding ? 1 : 0);
      exponent++;
    } while (base <= amt && exponent < EXPONENT_MAX);
    if (amt < 10) {
      if (2 < rounding + (tenths & 1)) {
        tenths++;
        rounding = 0;
        if (tenths === 10) {
          amt++;
          tenths = 0;
        }
      }
      if (amt < 10) {
        frac = `.${tenths}`;
        tenths = rounding = 0;
      }
    }
  }
  if (5 < tenths + (0 < rounding + (amt % 2) ? 1 : 0)) {
    amt++;
    if (amt === base && exponent < EXPONENT_MAX) {
      exponent++;
      frac = '.0';
      amt = 1;
    }
  }
  return `${amt}${frac} ${unitSuffix(exponent, base)}`;
}

/** A byte count as dd shows it: "524 kB" (base 1000) or "512 KiB" (base 1024). */
export function humanBytes(n: number, base: 1000 | 1024): string {
  return humanInteger(Math.max(0, Math.floor(n)), 0, 0, base);
}

/**
 * dd's rate: human_readable(bytes, from = 10⁹, to = elapsed ns) with SI units and "/s". The
 * integer paths apply when one block size divides the other, else the floating-point path.
 */
export function humanRate(bytes: number, elapsedNs: number): string {
  if (elapsedNs <= 0) return 'Infinity B/s';
  const from = 1e9;
  const to = Math.round(elapsedNs);
  if (to <= from && from % to === 0) {
    const amt = bytes * (from / to);
    if (Number.isSafeInteger(amt)) return `${humanInteger(amt, 0, 0, 1000)}/s`;
  } else if (to % from === 0) {
    const divisor = to / from;
    const r10 = (bytes % divisor) * 10;
    const r2 = (r10 % divisor) * 2;
    const rounding = r2 < divisor ? (0 < r2 ? 1 : 0) : 2 + (divisor < r2 ? 1 : 0);
    return `${humanInteger(Math.floor(bytes / divisor), Math.floor(r10 / divisor), rounding, 1000)}/s`;
  }
  let damt = bytes * (from / to);
  let e = 1;
  let exponent = 0;
  do {
    e *= 1000;
    exponent++;
  } while (e * 1000 <= damt && exponent < EXPONENT_MAX);
  damt /= e;
  let s = damt.toFixed(1);
  if (s.length > 4) s = damt.toFixed(0);
  return `${s} ${unitSuffix(exponent, 1000)}/s`;
}

/** C's printf("%g", v): 6 significant digits, exponent form below 1e-4 or from 1e6. */
export function formatG(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const exp = Number(v.toExponential(5).split('e')[1]);
  if (exp < -4 || exp >= 6) {
    const [mant, ex] = v.toExponential(5).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(ex);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
