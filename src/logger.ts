/**
 * The logger the pool and the liveness monitor accept, and the pool's own
 * layer over it. Any pino-compatible logger fits (pino itself, Fastify's
 * `app.log`, bunyan-style loggers with `child()`), and so does `console`.
 * The type is ours, so the package's declarations never reach pino's.
 */

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * A logger called pino's way: fields first, then the message. `child()` is
 * used when present (the entries then carry the bindings the logger itself
 * adds); without it, as with `console`, the pool adds its bindings
 * (`lib: "auth-probe-pool"`) to every entry's fields.
 */
export interface AuthProbeLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child?(bindings: Record<string, unknown>): AuthProbeLogger;
}

/** What `value` lacks to be an {@link AuthProbeLogger}, by method name; empty when it is one. */
export function missingLoggerMethods(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [...LEVELS];
  const v = value as Record<string, unknown>;
  const missing: string[] = LEVELS.filter((m) => typeof v[m] !== 'function');
  if (v['child'] !== undefined && typeof v['child'] !== 'function') missing.push('child');
  return missing;
}

/** Fields whose values are censored at the top level and one level down (pino's `key` and `*.key`). */
const REDACTED = new Set(['env', 'token', 'key', 'secret', 'password', 'stdout', 'stderr', 'accessToken', 'access_token']);
const CENSOR = '[redacted]';

/**
 * The pool's logger over the caller's (or a silent one): `bindings` on every
 * entry, and redaction applied here, before the caller's logger sees an
 * entry, whatever that logger is. Redaction is the second line of defence:
 * nothing the pool logs carries a value in the first place.
 */
export function ownLogger(target: AuthProbeLogger | undefined, bindings: Record<string, unknown>): Required<AuthProbeLogger> {
  if (target === undefined) return SILENT;
  return target.child ? new Redacting(target.child(redact(bindings)), undefined) : new Redacting(target, redact(bindings));
}

const noop = (): void => {};
const SILENT: Required<AuthProbeLogger> = { debug: noop, info: noop, warn: noop, error: noop, child: () => SILENT };

class Redacting implements Required<AuthProbeLogger> {
  constructor(
    private readonly target: AuthProbeLogger,
    /** Added to each entry's fields by us: only for a target without `child()`. */
    private readonly bindings: Readonly<Record<string, unknown>> | undefined,
  ) {}

  debug(fields: object, message?: string): void {
    this.#write('debug', fields, message);
  }
  info(fields: object, message?: string): void {
    this.#write('info', fields, message);
  }
  warn(fields: object, message?: string): void {
    this.#write('warn', fields, message);
  }
  error(fields: object, message?: string): void {
    this.#write('error', fields, message);
  }

  child(bindings: Record<string, unknown>): AuthProbeLogger {
    const b = redact(bindings);
    return this.target.child ? new Redacting(this.target.child(b), undefined) : new Redacting(this.target, { ...this.bindings, ...b });
  }

  #write(level: Level, fields: object, message: string | undefined): void {
    const entry = redact(this.bindings === undefined ? fields : { ...this.bindings, ...fields });
    // Called as a method (pino's level methods read `this`); no message argument rather than
    // an `undefined` one, which console would print.
    if (message === undefined) this.target[level](entry);
    else this.target[level](entry, message);
  }
}

/** A copy of `fields` with every redacted key censored, or `fields` itself when there is none. */
function redact<T extends object>(fields: T): T {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    let value: unknown = v;
    if (REDACTED.has(k)) value = CENSOR;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) value = censorOwn(v);
    if (value !== v) (out ??= { ...fields } as Record<string, unknown>)[k] = value;
  }
  return (out ?? fields) as T;
}

/** One level down: the object itself, or a copy keeping its prototype and non-enumerable fields (an Error's message and stack). */
function censorOwn(v: object): object {
  const hit = Object.keys(v).filter((k) => REDACTED.has(k));
  if (hit.length === 0) return v;
  const copy = Object.create(Object.getPrototypeOf(v) as object | null, Object.getOwnPropertyDescriptors(v)) as Record<string, unknown>;
  for (const k of hit) Object.defineProperty(copy, k, { value: CENSOR, enumerable: true, writable: true, configurable: true });
  return copy;
}
