// Conditions over an event's fields: a small, safe expression language for breakpoint
// `condition`s, exception filter conditions and Debug Console expressions.
//
//   len >= 4096 && channel == 0        queue == "console.tx" && head > 3
//   (value & 0x8000_0000) != 0         contains(text, "login")
//
// Numbers (decimal, 0x hex, 0b binary, `_` separators), strings in double quotes (\" \\ \n \r \t),
// true/false, field names, C operators with C precedence:
//   ! ~ - (unary) · * / % · + - · << >> · < <= > >= · == != · & · ^ · | · && · ||
// and the functions contains(s, sub), startsWith(s, p), endsWith(s, p), lower(s), hex(n).
// Bitwise operators work on whole numbers up to 2⁵³ (40-bit addresses stay exact).
//
// There is no eval, no Function and no property access: a name is looked up as an own
// property of the fields record and nothing else, so `constructor` or `__proto__` name nothing.

import type { BusEvent } from '../../emulator/sim/busEvent.ts';
import { EVENT_NUMBERS, type Fields } from './eventFields.ts';

type Value = number | string | boolean;

/** A condition answered from the event itself: true, false, or undefined (the fields decide). */
export type DirectTest = (e: BusEvent) => boolean | undefined;

/** `FIELD == NUMBER`: the field as read from the event (null: the event lacks it), and the number. */
export interface FieldEquals {
  of: (e: BusEvent) => number | null;
  key: number;
}

/** A compiled condition; `names` are the field names it reads. */
export type CompiledCondition = ((fields: Fields) => unknown) & {
  readonly names: readonly string[];
  /** For `FIELD op NUMBER` over a field the event holds as is (see EVENT_NUMBERS), else null. */
  readonly direct: DirectTest | null;
  /**
   * For `FIELD == NUMBER` over one of EVENT_NUMBERS, else null: the condition holds exactly when
   * of(e) === key, so an index can file the breakpoint under the number. `of` is one function
   * per field, whatever the condition.
   */
  readonly fieldEquals: FieldEquals | null;
};

const MAX_LENGTH = 2000;
const MAX_DEPTH = 64;

// ---- tokens ------------------------------------------------------------------------------

type Tok =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'name'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const OPS = [
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '(',
  ')',
  ',',
  '!',
  '~',
  '-',
  '+',
  '*',
  '/',
  '%',
  '<',
  '>',
  '&',
  '|',
  '^',
];

class ConditionError extends Error {}
class MissingField extends ConditionError {}

/** Thrown by a compiled condition that reads a field the record lacks (e.g. `channel` of a doorbell). */
export class MissingFieldError extends Error {}

function fail(src: string, at: number, what: string): never {
  throw new ConditionError(`${what} at column ${at + 1} of '${src}'`);
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if (c >= '0' && c <= '9') {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(?:\.[0-9_]+)?)/.exec(src.slice(i))!;
      const text = m[0].replace(/_/g, '');
      if (/[A-Za-z0-9_]/.test(src[i + m[0].length] ?? ''))
        fail(src, at, `bad number '${src.slice(i).split(/[^\w.]/)[0]}'`);
      const v = /^0[xX]/.test(text)
        ? parseInt(text.slice(2), 16)
        : /^0[bB]/.test(text)
          ? parseInt(text.slice(2), 2)
          : Number(text);
      if (!Number.isFinite(v)) fail(src, at, `bad number '${m[0]}'`);
      out.push({ t: 'num', v, at });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'name', v: m[0], at });
      i += m[0].length;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) fail(src, at, 'unterminated string');
        const d = src[i];
        if (d === '"') break;
        if (d === '\\') {
          const e = src[i + 1];
          const map: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', r: '\r', t: '\t' };
          if (e === undefined || !Object.prototype.hasOwnProperty.call(map, e))
            fail(src, i, `unknown escape '\\${e ?? ''}' (use \\" \\\\ \\n \\r \\t)`);
          s += map[e];
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      out.push({ t: 'str', v: s, at });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) {
      if (c === '=') fail(src, at, "'=' is assignment; compare with '=='");
      if (c === "'") fail(src, at, 'strings use double quotes ("…")');
      fail(src, at, `unexpected character '${c}'`);
    }
    out.push({ t: 'op', v: op, at });
    i += op.length;
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

// ---- parser: precedence climbing to closures ---------------------------------------------

type Node = (f: Fields) => Value;

const BINARY: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '<=': 7,
  '>': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

type Fn = { arity: number; call: (args: Value[], name: string) => Value };

const FUNCTIONS = new Map<string, Fn>([
  ['contains', { arity: 2, call: (a, n) => str(a[0], n).includes(str(a[1], n)) }],
  ['startsWith', { arity: 2, call: (a, n) => str(a[0], n).startsWith(str(a[1], n)) }],
  ['endsWith', { arity: 2, call: (a, n) => str(a[0], n).endsWith(str(a[1], n)) }],
  ['lower', { arity: 1, call: (a, n) => str(a[0], n).toLowerCase() }],
  ['hex', { arity: 1, call: (a, n) => '0x' + whole(a[0], n).toString(16) }],
]);

function str(v: Value, fn: string): string {
  if (typeof v !== 'string') throw new ConditionError(`${fn}() needs a string, got ${show(v)}`);
  return v;
}

function num(v: Value, op: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw new ConditionError(`'${op}' needs numbers, got ${show(v)}`);
  return v;
}

function whole(v: Value, op: string): number {
  const n = num(v, op);
  if (!Number.isSafeInteger(n)) throw new ConditionError(`'${op}' needs whole numbers, got ${n}`);
  return n;
}

function show(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function truthy(v: Value): boolean {
  return v !== 0 && v !== '' && v !== false;
}

const I32 = 0x8000_0000;
const small = (a: number, b: number) => a >= -I32 && a < I32 && b >= -I32 && b < I32;

function bitwise(op: string, a: number, b: number): number {
  if (small(a, b)) {
    if (op === '&') return a & b;
    if (op === '|') return a | b;
    if (op === '^') return a ^ b;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  let r: bigint;
  if (op === '&') r = x & y;
  else if (op === '|') r = x | y;
  else if (op === '^') r = x ^ y;
  else {
    if (b < 0 || b > 63) throw new ConditionError(`shift count ${b} is out of range 0–63`);
    r = op === '<<' ? x << y : x >> y;
  }
  const n = Number(r);
  if (!Number.isSafeInteger(n)) throw new ConditionError(`'${op}' result does not fit 53 bits`);
  return n;
}

function binary(op: string, l: Node, r: Node): Node {
  switch (op) {
    case '||':
      return (f) => truthy(l(f)) || truthy(r(f));
    case '&&':
      return (f) => truthy(l(f)) && truthy(r(f));
    case '==':
      return (f) => equal(l(f), r(f));
    case '!=':
      return (f) => !equal(l(f), r(f));
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (f) => compare(op, l(f), r(f));
    case '+':
      return (f) => {
        const a = l(f);
        const b = r(f);
        if (typeof a === 'string' && typeof b === 'string') return a + b;
        return num(a, op) + num(b, op);
      };
    case '-':
      return (f) => num(l(f), op) - num(r(f), op);
    case '*':
      return (f) => num(l(f), op) * num(r(f), op);
    case '/':
    case '%':
      return (f) => {
        const a = num(l(f), op);
        const b = num(r(f), op);
        if (b === 0) throw new ConditionError(op === '/' ? 'division by zero' : 'modulo by zero');
        return op === '/' ? a / b : a % b;
      };
    default:
      return (f) => bitwise(op, whole(l(f), op), whole(r(f), op));
  }
}

function equal(a: Value, b: Value): boolean {
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  return a === b;
}

function compare(op: string, a: Value, b: Value): boolean {
  let x: number | string;
  let y: number | string;
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a !== 'string' || typeof b !== 'string')
      throw new ConditionError(`'${op}' cannot compare ${show(a)} with ${show(b)}`);
    x = a;
    y = b;
  } else {
    x = num(a, op);
    y = num(b, op);
  }
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

class Parser {
  private i = 0;
  readonly names = new Set<string>();
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private peek(): Tok {
    return this.toks[this.i];
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private expectOp(v: string, what: string): void {
    if (!this.isOp(v))
      fail(this.src, this.peek().at, `expected '${v}' ${what}, found ${this.describe(this.peek())}`);
    this.i++;
  }

  private describe(t: Tok): string {
    if (t.t === 'end') return 'the end';
    if (t.t === 'str') return JSON.stringify(t.v);
    return `'${t.v}'`;
  }

  parseAll(): Node {
    if (this.peek().t === 'end') fail(this.src, 0, 'empty condition');
    const n = this.expr(0, 0);
    const t = this.peek();
    if (t.t !== 'end')
      fail(this.src, t.at, `unexpected ${this.describe(t)}; expected an operator or the end`);
    return n;
  }

  private expr(minPrec: number, depth: number): Node {
    if (depth > MAX_DEPTH) fail(this.src, this.peek().at, 'expression nested too deeply');
    let left = this.unary(depth + 1);
    for (;;) {
      const t = this.peek();
      if (t.t !== 'op') break;
      const prec = BINARY[t.v];
      if (prec === undefined || prec <= minPrec) break;
      this.i++;
      const right = this.expr(prec, depth + 1);
      left = binary(t.v, left, right);
    }
    return left;
  }

  private unary(depth: number): Node {
    if (depth > MAX_DEPTH) fail(this.src, this.peek().at, 'expression nested too deeply');
    const t = this.peek();
    if (t.t === 'op' && (t.v === '!' || t.v === '~' || t.v === '-' || t.v === '+')) {
      this.i++;
      const e = this.unary(depth + 1);
      if (t.v === '!') return (f) => !truthy(e(f));
      if (t.v === '-') return (f) => -num(e(f), '-');
      if (t.v === '+') return (f) => num(e(f), '+');
      return (f) => -whole(e(f), '~') - 1;
    }
    return this.primary(depth);
  }

  private primary(depth: number): Node {
    const t = this.peek();
    this.i++;
    switch (t.t) {
      case 'num': {
        const v = t.v;
        return () => v;
      }
      case 'str': {
        const v = t.v;
        return () => v;
      }
      case 'name': {
        const name = t.v;
        if (this.isOp('(')) return this.call(name, t.at, depth);
        if (name === 'true') return () => true;
        if (name === 'false') return () => false;
        this.names.add(name);
        return (f) => {
          if (!Object.prototype.hasOwnProperty.call(f, name)) {
            throw new MissingField(`unknown name '${name}'; this event has ${Object.keys(f).join(', ')}`);
          }
          const v = f[name];
          if (typeof v !== 'number' && typeof v !== 'string')
            throw new ConditionError(`'${name}' is not a number or a string`);
          return v;
        };
      }
      case 'op':
        if (t.v === '(') {
          const e = this.expr(0, depth + 1);
          this.expectOp(')', 'to close the parenthesis');
          return e;
        }
        break;
      case 'end':
        break;
    }
    return fail(
      this.src,
      t.at,
      `unexpected ${this.describe(t)}; expected a number, a "string", a name or '('`,
    );
  }

  private call(name: string, at: number, depth: number): Node {
    const fn = FUNCTIONS.get(name);
    if (!fn)
      fail(this.src, at, `unknown function '${name}'; functions are ${[...FUNCTIONS.keys()].join(', ')}`);
    this.expectOp('(', `after ${name}`);
    const args: Node[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.expr(0, depth + 1));
        if (this.isOp(',')) {
          this.i++;
          continue;
        }
        break;
      }
    }
    this.expectOp(')', `to close ${name}(`);
    if (args.length !== fn.arity)
      fail(
        this.src,
        at,
        `${name}() takes ${fn.arity} argument${fn.arity === 1 ? '' : 's'}, got ${args.length}`,
      );
    return (f) =>
      fn.call(
        args.map((a) => a(f)),
        name,
      );
  }
}

/**
 * Compile a condition. Throws an Error whose message says what is wrong and where. The result
 * evaluates against a record of fields; it throws a MissingFieldError for a name the record
 * lacks, and an Error for a type mismatch (comparing a string with a number, bitwise operators
 * on fractions, division by zero).
 */
export function compileCondition(text: string): CompiledCondition {
  if (typeof text !== 'string') throw new Error('condition: not a string');
  if (text.length > MAX_LENGTH) throw new Error(`condition is longer than ${MAX_LENGTH} characters`);
  let node: Node;
  let names: string[];
  let comparison: Comparison | null;
  try {
    const toks = tokenize(text);
    const p = new Parser(text, toks);
    node = p.parseAll();
    names = [...p.names];
    comparison = fieldComparison(toks);
  } catch (e) {
    if (e instanceof ConditionError) throw new Error(`condition: ${e.message}`);
    throw e;
  }
  const run = (fields: Fields): unknown => {
    try {
      return node(fields);
    } catch (e) {
      if (e instanceof MissingField) throw new MissingFieldError(`condition '${text}': ${e.message}`);
      if (e instanceof ConditionError) throw new Error(`condition '${text}': ${e.message}`);
      throw e;
    }
  };
  return Object.assign(run, {
    names: Object.freeze(names),
    direct: comparison && directTest(comparison),
    fieldEquals:
      comparison && comparison.op === '==' && EVENT_NUMBERS.has(comparison.name)
        ? { of: EVENT_NUMBERS.get(comparison.name)!, key: comparison.value }
        : null,
  });
}

const COMPARE: Record<string, (v: number, c: number) => boolean> = {
  '==': (v, c) => v === c,
  '!=': (v, c) => v !== c,
  '<': (v, c) => v < c,
  '<=': (v, c) => v <= c,
  '>': (v, c) => v > c,
  '>=': (v, c) => v >= c,
};
const MIRRORED: Record<string, string> = {
  '==': '==',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

/** A condition that is one field against a number: `head > 10`, `0x1000 <= address`. */
interface Comparison {
  name: string;
  /** The operator with the field on its left. */
  op: string;
  value: number;
}

function fieldComparison(toks: Tok[]): Comparison | null {
  const [a, op, b] = toks;
  if (toks.length !== 4 || op.t !== 'op' || !Object.prototype.hasOwnProperty.call(COMPARE, op.v)) return null;
  if (a.t === 'name' && b.t === 'num') return { name: a.v, op: op.v, value: b.v };
  if (a.t === 'num' && b.t === 'name') return { name: b.v, op: MIRRORED[op.v], value: a.v };
  return null;
}

/**
 * A comparison tested on the event without building its fields record. Where the event lacks
 * the field the answer is false, as the record's MissingFieldError makes it.
 */
function directTest({ name, op, value: c }: Comparison): DirectTest | null {
  const read = EVENT_NUMBERS.get(name);
  if (!read) return null;
  const cmp = COMPARE[op];
  return (e) => {
    const v = read(e);
    return typeof v === 'number' ? cmp(v, c) : v === null ? false : undefined;
  };
}

/** What a condition result means for a breakpoint: 0, '', false and null-ish are false. */
export function isTrue(v: unknown): boolean {
  return v !== 0 && v !== '' && v !== false && v !== null && v !== undefined;
}
