/**
 * The environment a task's probes see, as it crosses to the worker: by
 * reference, never as a copy per task. A gateway's environment can hold
 * thousands of variables (0.3 MB), and a sweep posts hundreds of tasks.
 *
 * - The base: with the default `env` (the gateway's `process.env`), the
 *   workers share the process's environment (Piscina starts them with
 *   `SHARE_ENV`) and each reads it itself, off the main thread, whenever the
 *   copy it holds is older than the task's `EnvRef.at`. With an `env` object,
 *   the main thread sends it as JSON in shared memory (`snapshot`), made once
 *   per change; a worker parses each snapshot once.
 * - A scope's own `env` (a few variables) travels with its task, and is laid
 *   over the base once per base and scope in each worker.
 *
 * When the main thread takes the environment again is `dispatch/env-epochs.ts`.
 */
import type { ProbeTask } from '../config/schema.js';
import { processEnvReader, type ProcessEnvReader } from './process-env.js';

/** A task's base environment. */
export interface EnvRef {
  /** When it was taken (`Date.now()`): a worker's own read of `process.env` from before then is too old. */
  readonly at: number;
  /** The pool's `env` object as JSON in shared memory, numbered; absent: `process.env`, which the workers read themselves. */
  readonly snapshot?: { readonly id: number; readonly json: SharedArrayBuffer };
  /** Variables the epoch's tasks announced so far that they look up, a thread's share (see `EnvEpochs.expect`). */
  readonly reads?: number;
}

/** A scope's own variables, laid over the base (an `undefined` unsets), with the scope's key to cache the result by. */
export interface EnvOverlay {
  readonly key: string;
  readonly vars: Readonly<Record<string, string | undefined>>;
}

/** A scope of a task: its paths, and its own variables, if it has any. */
export interface TaskScope {
  readonly scope: ProbeTask['scope'];
  readonly overlay?: EnvOverlay | undefined;
}

/** A {@link ProbeTask} as the main thread posts it: the environment by reference. */
export interface ProbeTaskMessage extends Omit<ProbeTask, 'env' | 'scopes'> {
  readonly env: EnvRef;
  readonly overlay?: EnvOverlay | undefined;
  readonly scopes?: readonly TaskScope[];
}

type Env = Readonly<Record<string, string>>;

/** This thread's view of `process.env` (shared with the gateway's), its reader, and when the view began. */
let shared: { readonly readAt: number; readonly env: Env; readonly reader: ProcessEnvReader } | undefined;
/** The newest snapshot of the pool's `env` object this thread parsed. */
let parsed: { readonly id: number; readonly env: Env } | undefined;
/** Base and scope variables laid together, by base, by the scope's key. */
const merged = new WeakMap<Env, Map<string, Env>>();
/** Scopes with variables of their own kept per base, at most: a thousand agents each with an env are rare. */
const MERGED_PER_BASE = 256;

/** The names of each lazy view's variables (see `envNames`). */
const lazyNames = new WeakMap<Env, () => readonly string[]>();

/**
 * A read-only view of variables that reads each one when first asked for, and the names only when enumerated:
 * `process.env` holds thousands of variables in a gateway, and probes mostly ask for a few names (how it is read:
 * `process-env.ts`). Enumerating it (a module probe that does, `{ ...env }`) reads everything once.
 */
function lazyView(value: (name: string) => string | undefined, listNames: () => readonly string[]): Env {
  const seen = new Map<string, string | undefined>();
  let names: readonly string[] | undefined;
  const read = (name: string) => {
    if (!seen.has(name)) seen.set(name, value(name));
    return seen.get(name);
  };
  const allNames = () => (names ??= listNames().filter((name) => read(name) !== undefined));
  const view = new Proxy(Object.create(null) as Record<string, string>, {
    get: (_target, name) => (typeof name === 'string' ? read(name) : undefined),
    has: (_target, name) => typeof name === 'string' && read(name) !== undefined,
    ownKeys: () => [...allNames()],
    getOwnPropertyDescriptor: (_target, name) => {
      const v = typeof name === 'string' ? read(name) : undefined;
      return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: false };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
  lazyNames.set(view, () => listNames());
  return view;
}

/** The variables' names, without reading their values where the view is lazy (a command's allowed variables by prefix). */
export function envNames(env: Env): readonly string[] {
  return lazyNames.get(env)?.() ?? Object.keys(env);
}

function baseOf(ref: EnvRef): Env {
  if (ref.snapshot) {
    if (parsed?.id !== ref.snapshot.id) parsed = { id: ref.snapshot.id, env: JSON.parse(Buffer.from(ref.snapshot.json).toString('utf8')) as Env };
    return parsed.env;
  }
  if (!shared || shared.readAt < ref.at) {
    const reader = processEnvReader();
    shared = { readAt: Date.now(), env: lazyView(reader.get, reader.names), reader };
  }
  if (ref.reads !== undefined) shared.reader.expect(ref.reads);
  return shared.env;
}

/** The environment of `ref` with `overlay` laid over it. */
export function envOf(ref: EnvRef, overlay: EnvOverlay | undefined): Env {
  const base = baseOf(ref);
  if (!overlay) return base;
  let byScope = merged.get(base);
  if (!byScope) merged.set(base, (byScope = new Map()));
  let env = byScope.get(overlay.key);
  if (!env) {
    const { vars } = overlay;
    env = lazyView(
      (name) => (Object.hasOwn(vars, name) ? vars[name] : base[name]),
      () => [...new Set([...envNames(base), ...Object.keys(vars)])],
    );
    if (byScope.size >= MERGED_PER_BASE) byScope.clear();
    byScope.set(overlay.key, env);
  }
  return env;
}

/** The task the probes run, its environments resolved. */
export function resolveTask(message: ProbeTaskMessage): ProbeTask {
  const { env, overlay, scopes, ...rest } = message;
  return {
    ...rest,
    env: envOf(env, overlay),
    ...(scopes ? { scopes: scopes.map((s) => ({ scope: s.scope, env: envOf(env, s.overlay) })) } : {}),
  };
}
