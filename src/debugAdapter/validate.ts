// Every request's arguments, checked before any handler sees them. The shapes are DAP's
// (the `…Arguments` interfaces of @vscode/debugprotocol) written as data: `Shape<T>` makes the
// compiler check that each table lists every field of T, marks exactly T's required fields as
// required, and gives each one the JSON type T declares. What DAP leaves open and we rely on
// (counts ≥ 0, whole numbers where DAP says number) is said here too, as `min`.
//
// A small validator of our own rather than a JSON-schema library: DAP's JSON schema is not in
// any npm package we have, the checks are flat (a few types, enums, arrays of small objects),
// and the messages name the request, the field path and the value in words a person can act on.

import type { DebugProtocol } from '@vscode/debugprotocol';

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'any';

type KindOf<V> = [NonNullable<V>] extends [string]
  ? 'string'
  : [NonNullable<V>] extends [number]
    ? 'integer' | 'number'
    : [NonNullable<V>] extends [boolean]
      ? 'boolean'
      : [NonNullable<V>] extends [readonly unknown[]]
        ? 'array'
        : 'object';

export interface AnyField {
  kind: Kind | readonly Kind[];
  req?: boolean;
  /** Smallest allowed number (integers and numbers). */
  min?: number;
  max?: number;
  /** Allowed strings. */
  oneOf?: readonly string[];
  /** Arrays: each item's field. */
  items?: AnyField;
  /** Objects: their fields. */
  shape?: Readonly<Record<string, AnyField>>;
}

type Field<V, Req extends boolean> = Omit<AnyField, 'kind' | 'req'> & {
  kind: KindOf<V> | 'any';
} & (Req extends true ? { req: true } : { req?: false });

type IsRequired<T, K extends keyof T> = object extends Pick<T, K> ? false : true;

/** A table of T's fields: every field, its JSON type, and whether DAP requires it. */
export type Shape<T> = { [K in keyof T]-?: Field<T[K], IsRequired<T, K>> };

const str = { kind: 'string' } as const;
const bool = { kind: 'boolean' } as const;
const int = { kind: 'integer' } as const;
const count = { kind: 'integer', min: 0 } as const;
const reqStr = { kind: 'string', req: true } as const;
const reqInt = { kind: 'integer', req: true } as const;
const threadId = reqInt;

const valueFormat = { hex: bool } satisfies Shape<DebugProtocol.ValueFormat>;
const stackFrameFormat = {
  ...valueFormat,
  parameters: bool,
  parameterTypes: bool,
  parameterNames: bool,
  parameterValues: bool,
  line: bool,
  module: bool,
  includeAll: bool,
} satisfies Shape<DebugProtocol.StackFrameFormat>;
const checksum = {
  algorithm: { kind: 'string', req: true, oneOf: ['MD5', 'SHA1', 'SHA256', 'timestamp'] },
  checksum: reqStr,
} satisfies Shape<DebugProtocol.Checksum>;
const sourceFields = {
  name: str,
  path: str,
  sourceReference: int,
  presentationHint: { kind: 'string', oneOf: ['normal', 'emphasize', 'deemphasize'] },
  origin: str,
  sources: { kind: 'array', items: { kind: 'object' } },
  adapterData: { kind: 'any' },
  checksums: { kind: 'array', items: { kind: 'object', shape: checksum } },
} satisfies Shape<DebugProtocol.Source>;
const source = { kind: 'object', shape: sourceFields } as const;
const granularity = { kind: 'string', oneOf: ['statement', 'line', 'instruction'] } as const;
const format = { kind: 'object', shape: valueFormat } as const;
const steppingArgs = { threadId, singleThread: bool, granularity } as const;

const initialize = {
  clientID: str,
  clientName: str,
  adapterID: reqStr,
  locale: str,
  linesStartAt1: bool,
  columnsStartAt1: bool,
  pathFormat: str,
  supportsVariableType: bool,
  supportsVariablePaging: bool,
  supportsRunInTerminalRequest: bool,
  supportsMemoryReferences: bool,
  supportsProgressReporting: bool,
  supportsInvalidatedEvent: bool,
  supportsMemoryEvent: bool,
  supportsArgsCanBeInterpretedByShell: bool,
  supportsStartDebuggingRequest: bool,
  supportsANSIStyling: bool,
} satisfies Shape<DebugProtocol.InitializeRequestArguments>;

const sourceBreakpoint = {
  line: reqInt,
  column: int,
  condition: str,
  hitCondition: str,
  logMessage: str,
  mode: str,
} satisfies Shape<DebugProtocol.SourceBreakpoint>;
const functionBreakpoint = {
  name: reqStr,
  condition: str,
  hitCondition: str,
} satisfies Shape<DebugProtocol.FunctionBreakpoint>;
const dataBreakpoint = {
  dataId: reqStr,
  accessType: { kind: 'string', oneOf: ['read', 'write', 'readWrite'] },
  condition: str,
  hitCondition: str,
} satisfies Shape<DebugProtocol.DataBreakpoint>;
const exceptionFilterOptions = {
  filterId: reqStr,
  condition: str,
  mode: str,
} satisfies Shape<DebugProtocol.ExceptionFilterOptions>;
const exceptionOptions = {
  path: {
    kind: 'array',
    items: { kind: 'object', shape: { negate: bool, names: { kind: 'array', req: true, items: str } } },
  },
  breakMode: { kind: 'string', req: true, oneOf: ['never', 'always', 'unhandled', 'userUnhandled'] },
} satisfies Shape<DebugProtocol.ExceptionOptions>;

/** How a request takes its `arguments`. */
export interface RequestSpec {
  /** null: the request has no fields we check (its `arguments` may still be sent, as an object). */
  shape: Readonly<Record<string, AnyField>> | null;
  /** DAP requires `arguments` for this request. */
  argsRequired: boolean;
}

const spec = <T>(shape: Shape<T>, argsRequired = true): RequestSpec => ({
  shape: shape as Readonly<Record<string, AnyField>>,
  argsRequired,
});

/** The requests this adapter serves, with DAP's argument shapes. */
export const REQUEST_SPECS: Readonly<Record<string, RequestSpec>> = {
  initialize: spec<DebugProtocol.InitializeRequestArguments>(initialize),
  // The launch attributes are checked by parseLaunchConfig (launchConfig.ts), naming each one.
  launch: { shape: null, argsRequired: true },
  configurationDone: spec<DebugProtocol.ConfigurationDoneArguments>({}, false),
  disconnect: spec<DebugProtocol.DisconnectArguments>(
    { restart: bool, terminateDebuggee: bool, suspendDebuggee: bool },
    false,
  ),
  terminate: spec<DebugProtocol.TerminateArguments>({ restart: bool }, false),
  restart: spec<DebugProtocol.RestartArguments>({ arguments: { kind: 'object' } }, false),
  setBreakpoints: spec<DebugProtocol.SetBreakpointsArguments>({
    source: { ...source, req: true },
    breakpoints: { kind: 'array', items: { kind: 'object', shape: sourceBreakpoint } },
    lines: { kind: 'array', items: int },
    sourceModified: bool,
  }),
  setFunctionBreakpoints: spec<DebugProtocol.SetFunctionBreakpointsArguments>({
    breakpoints: { kind: 'array', req: true, items: { kind: 'object', shape: functionBreakpoint } },
  }),
  setExceptionBreakpoints: spec<DebugProtocol.SetExceptionBreakpointsArguments>({
    filters: { kind: 'array', req: true, items: str },
    filterOptions: { kind: 'array', items: { kind: 'object', shape: exceptionFilterOptions } },
    exceptionOptions: { kind: 'array', items: { kind: 'object', shape: exceptionOptions } },
  }),
  dataBreakpointInfo: spec<DebugProtocol.DataBreakpointInfoArguments>({
    variablesReference: int,
    name: reqStr,
    frameId: int,
    bytes: { kind: 'integer', min: 1 },
    asAddress: bool,
    mode: str,
  }),
  setDataBreakpoints: spec<DebugProtocol.SetDataBreakpointsArguments>({
    breakpoints: { kind: 'array', req: true, items: { kind: 'object', shape: dataBreakpoint } },
  }),
  continue: spec<DebugProtocol.ContinueArguments>({ threadId, singleThread: bool }),
  next: spec<DebugProtocol.NextArguments>(steppingArgs),
  stepIn: spec<DebugProtocol.StepInArguments>({ ...steppingArgs, targetId: int }),
  stepOut: spec<DebugProtocol.StepOutArguments>(steppingArgs),
  stepBack: spec<DebugProtocol.StepBackArguments>(steppingArgs),
  reverseContinue: spec<DebugProtocol.ReverseContinueArguments>({ threadId, singleThread: bool }),
  cancel: spec<DebugProtocol.CancelArguments>({ requestId: int, progressId: str }, false),
  pause: spec<DebugProtocol.PauseArguments>({ threadId }),
  threads: { shape: null, argsRequired: false },
  stackTrace: spec<DebugProtocol.StackTraceArguments>({
    threadId,
    startFrame: count,
    levels: count,
    format: { kind: 'object', shape: stackFrameFormat },
  }),
  scopes: spec<DebugProtocol.ScopesArguments>({ frameId: reqInt }),
  variables: spec<DebugProtocol.VariablesArguments>({
    variablesReference: reqInt,
    filter: { kind: 'string', oneOf: ['indexed', 'named'] },
    start: count,
    count,
    format,
  }),
  setVariable: spec<DebugProtocol.SetVariableArguments>({
    variablesReference: reqInt,
    name: reqStr,
    value: reqStr,
    format,
  }),
  source: spec<DebugProtocol.SourceArguments>({ source, sourceReference: reqInt }),
  exceptionInfo: spec<DebugProtocol.ExceptionInfoArguments>({ threadId }),
  evaluate: spec<DebugProtocol.EvaluateArguments>({
    expression: reqStr,
    frameId: int,
    line: int,
    column: int,
    source,
    context: str,
    format,
  }),
  readMemory: spec<DebugProtocol.ReadMemoryArguments>({
    memoryReference: reqStr,
    offset: int,
    count: { kind: 'integer', req: true, min: 0 },
  }),
  writeMemory: spec<DebugProtocol.WriteMemoryArguments>({
    memoryReference: reqStr,
    offset: int,
    allowPartial: bool,
    data: reqStr,
  }),
};

const card = { kind: ['integer', 'string'] } as const;

/** Our `mic/…` requests (docs/custom-requests.md): their arguments are optional objects. */
export const CUSTOM_SPECS: Readonly<Record<string, Readonly<Record<string, AnyField>>>> = {
  'mic/cards': {},
  'mic/registers': { card },
  'mic/pciConfig': { card },
  'mic/devicePage': { card },
  'mic/virtqueues': { card },
  'mic/dma': { card },
  'mic/smpt': { card },
  'mic/debugfs': { card, file: str, owner: str },
  'mic/hostCommand': { card, command: reqStr },
  'mic/consoleInput': { card, text: str, data: str, encoding: str },
};

/** A value in a message, short: `"4"`, `0.5`, `null`, `an object`. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function want(f: AnyField): string {
  const kinds = typeof f.kind === 'string' ? [f.kind] : f.kind;
  const words = kinds.map((k) => {
    if (k === 'integer')
      return f.min !== undefined
        ? f.max !== undefined
          ? `a whole number from ${f.min} to ${f.max}`
          : `a whole number ≥ ${f.min}`
        : 'a whole number';
    if (k === 'number') return 'a number';
    if (k === 'string') return f.oneOf ? `one of ${f.oneOf.map((x) => `'${x}'`).join(', ')}` : 'a string';
    if (k === 'boolean') return 'true or false';
    if (k === 'array') return 'a list';
    if (k === 'object') return 'an object';
    return 'any value';
  });
  return words.join(' or ');
}

function fits(k: Kind, v: unknown, f: AnyField): boolean {
  switch (k) {
    case 'any':
      return true;
    case 'string':
      return typeof v === 'string' && (!f.oneOf || f.oneOf.includes(v));
    case 'integer':
      return (
        typeof v === 'number' &&
        Number.isSafeInteger(v) &&
        (f.min === undefined || v >= f.min) &&
        (f.max === undefined || v <= f.max)
      );
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
}

/** The first thing wrong with `value` against `f` at `path`, or null. */
function check(f: AnyField, value: unknown, path: string): string | null {
  const kinds = typeof f.kind === 'string' ? [f.kind] : f.kind;
  if (!kinds.some((k) => fits(k, value, f))) return `'${path}' must be ${want(f)}, not ${show(value)}`;
  if (Array.isArray(value) && f.items) {
    for (let i = 0; i < value.length; i++) {
      const e = check(f.items, value[i], `${path}[${i}]`);
      if (e) return e;
    }
  }
  if (f.shape && value !== null && typeof value === 'object' && !Array.isArray(value))
    return checkShape(f.shape, value as Record<string, unknown>, `${path}.`);
  return null;
}

/** The first field of `obj` that does not fit `shape` (missing required ones included), or null. */
export function checkShape(
  shape: Readonly<Record<string, AnyField>>,
  obj: Record<string, unknown>,
  prefix = '',
): string | null {
  for (const [name, f] of Object.entries(shape)) {
    const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
    if (v === undefined) {
      if (f.req) return `'${prefix}${name}' is missing; it must be ${want(f)}`;
      continue;
    }
    const e = check(f, v, `${prefix}${name}`);
    if (e) return e;
  }
  return null;
}

/**
 * Check a request's `arguments`. Returns an error text (naming the request) or null. Requests
 * that are not in either table are not ours to check (the session refuses them by name).
 */
export function validateArguments(command: string, args: unknown): string | null {
  const spec = Object.hasOwn(REQUEST_SPECS, command) ? REQUEST_SPECS[command] : undefined;
  const custom = Object.hasOwn(CUSTOM_SPECS, command) ? CUSTOM_SPECS[command] : undefined;
  if (!spec && !custom) return null;
  const required = spec?.argsRequired ?? false;
  if (args === undefined) {
    if (!required) return null;
    const shape = spec?.shape;
    const fields = shape
      ? Object.entries(shape)
          .filter(([, f]) => f.req)
          .map(([n]) => n)
      : [];
    return `'${command}' needs arguments${fields.length ? ` (${fields.join(', ')})` : ' (an object)'}`;
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    return `'${command}': arguments must be an object, not ${show(args)}`;
  const shape = spec ? spec.shape : custom!;
  if (!shape) return null;
  const e = checkShape(shape, args as Record<string, unknown>);
  return e ? `${command}: ${e}` : null;
}
