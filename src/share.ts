/**
 * Sharing one pool's checker with other threads over a `MessagePort`, with
 * comlink: a gateway's channel adapters in worker threads of their own get the
 * same `(provider, modelApi?) => Promise<boolean>`, answered by the main
 * thread's pool and cache.
 *
 * Across the port, answers travel as `{ ok, value } | { ok: false, error }`
 * data, because comlink rethrows a plain `Error` and the `code` would be lost.
 * Either side going away (the port closed, the thread ended) is noticed
 * through the port's `close` event: the connected side rejects what is
 * pending with `E_CHANNEL_CLOSED` instead of waiting forever, and the exposing
 * side drops its listeners.
 */
import type { MessagePort } from 'node:worker_threads';
import { expose, proxy, releaseProxy, wrap, type Endpoint, type Remote } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { z } from 'zod';
import { AuthProbeError, ERROR_CODES, type ErrorCode, type ErrorData } from './errors.js';
import type { AuthChecker, AuthProbePool, WarmOptions, WarmProgress, WarmReport } from './pool.js';
import type { Scope } from './config/schema.js';
import { resolveScope } from './config/scope.js';
import { scopeOfChecker } from './answers/checker.js';

type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

/** What the exposing side answers on the port. */
interface SharedChecker {
  check(provider: unknown, modelApi?: unknown): Promise<Reply<boolean>>;
  /** `progress`, when given, is a comlink proxy of the connected side's listener. */
  warm(providers: unknown, progress?: Remote<(p: WarmProgress) => void>): Promise<Reply<WarmReport>>;
}

const ErrorDataSchema = z.strictObject({ code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]), message: z.string().max(1000) });
const replySchema = <T extends z.ZodType>(value: T) => z.discriminatedUnion('ok', [z.strictObject({ ok: z.literal(true), value }), z.strictObject({ ok: z.literal(false), error: ErrorDataSchema })]);
const CheckReplySchema = replySchema(z.boolean());
const WarmReplySchema = replySchema(
  z.strictObject({
    published: z.boolean(),
    answers: z.record(z.string(), z.boolean()),
    modelApiAnswers: z.record(z.string(), z.record(z.string(), z.boolean())),
    failed: z.array(z.string()),
    dispatches: z.number(),
    durationMs: z.number(),
  }),
);

/** The exposing side of a shared checker. */
export interface ExposedChecker {
  /** Resolves once the channel is closed, by either side; by then no listener of ours is left on the port. */
  readonly closed: Promise<void>;
  /** Stops answering and closes the port: the other side's pending and later checks reject with `E_CHANNEL_CLOSED`. */
  close(): void;
}

/** A checker answered by another thread's pool; also `warm()` there, and `close()`. */
export interface ConnectedChecker extends AuthChecker {
  /** Runs `pool.warm(providers)` on the exposing side, in the exposed scope; progress reports come back over the same channel. */
  warm(providers: readonly string[], options?: WarmOptions): Promise<WarmReport>;
  /** Releases the comlink proxy and closes the port; later checks reject with `E_CHANNEL_CLOSED`. */
  close(): void;
}

export interface ExposeCheckerOptions {
  /** The scope checks from the port run in. Default: the pool's default scope. */
  readonly scope?: Scope;
  /** The checker to answer with, e.g. the main thread's own, to share its cache too. */
  readonly checker?: AuthChecker;
}

/**
 * Per pool and scope key: the checker every open exposure without its own shares, so threads share one cache; an
 * entry leaves with the last exposure of its scope (an exposure per agent must not pin a checker per agent for ever).
 */
const sharedCheckers = new WeakMap<AuthProbePool, Map<string, { readonly checker: AuthChecker; exposures: number }>>();

function shareChecker(pool: AuthProbePool, scope: Scope | undefined): { checker: AuthChecker; release(): void } {
  let byScope = sharedCheckers.get(pool);
  if (!byScope) sharedCheckers.set(pool, (byScope = new Map()));
  const key = resolveScope(scope).key;
  let entry = byScope.get(key);
  if (!entry) byScope.set(key, (entry = { checker: pool.createChecker(scope), exposures: 0 }));
  entry.exposures++;
  const shared = entry;
  let released = false;
  return {
    checker: shared.checker,
    release() {
      if (released) return;
      released = true;
      if (--shared.exposures === 0 && byScope.get(key) === shared) byScope.delete(key);
    },
  };
}

/** Checkers shared by open exposures of `pool`, one per scope: for tests of their release. */
export function sharedCheckerCount(pool: AuthProbePool): number {
  return sharedCheckers.get(pool)?.size ?? 0;
}

/**
 * Answers checks arriving on `port` (one end of a `MessageChannel`; give the
 * other end to a thread that calls {@link connectChecker}) with `pool`. The
 * port is unref'd: an exposure never holds the process open. Throws
 * `E_POOL_CLOSED` when the pool is closed, `E_BAD_SCOPE` for a bad scope.
 */
export function exposeChecker(pool: AuthProbePool, port: MessagePort, options: ExposeCheckerOptions = {}): ExposedChecker {
  const shared = options.checker ? undefined : shareChecker(pool, options.scope);
  const checker = options.checker ?? (shared as { checker: AuthChecker }).checker;
  // A given checker's work (a warm) runs in its own scope unless the options name one.
  const scope = options.scope ?? (options.checker ? scopeOfChecker(options.checker) : undefined);
  const api: SharedChecker = {
    check: (provider, modelApi) => reply(() => checker(provider as string, modelApi as string | undefined)),
    warm: (providers, progress) =>
      reply(async () => {
        // Reports travel on their own port: the warm never waits on one, but its answer waits until they have
        // all been delivered (or the channel closed), so the listener has seen the last before the warm resolves.
        const delivered: Promise<unknown>[] = [];
        const onProgress = progress ? (p: WarmProgress) => void delivered.push(Promise.resolve(progress(p)).catch(() => {})) : undefined;
        const report = await pool.warm(asProviderList(providers), scope, onProgress ? { onProgress } : undefined);
        await Promise.race([Promise.all(delivered), closed]);
        return report;
      }).finally(() => progress?.[releaseProxy]()),
  };
  const channel = trackedEndpoint(port);
  let settle!: () => void;
  const closed = new Promise<void>((resolve) => (settle = resolve));
  const end = () => {
    shared?.release();
    channel.detach();
    port.off('close', end);
    settle();
  };
  port.on('close', end);
  expose(api, channel.endpoint);
  port.unref();
  return {
    closed,
    close() {
      end();
      port.close();
    },
  };
}

/**
 * The thread side: a checker whose answers come from the pool exposed on the
 * other end of `port`. Errors arrive as `AuthProbeError` with their code. When
 * the other side closes the port or its thread ends, pending and later checks
 * reject with `E_CHANNEL_CLOSED` (a closed pool on the other side answers
 * `E_POOL_CLOSED`). The port holds this thread open only while a
 * check is pending.
 */
export function connectChecker(port: MessagePort): ConnectedChecker {
  const channel = trackedEndpoint(port);
  const remote: Remote<SharedChecker> = wrap<SharedChecker>(channel.endpoint);
  const pending = new Set<(err: AuthProbeError) => void>();
  let closed = false;
  port.unref();

  /** Rejects what is pending and lets go of the port's listeners; false when already shut. */
  const shut = (why: string): boolean => {
    if (closed) return false;
    closed = true;
    port.off('close', onClose);
    // Also drops comlink's resolvers of calls that will never be answered, and its finalizer.
    remote[releaseProxy]();
    channel.detach();
    const err = new AuthProbeError('E_CHANNEL_CLOSED', why);
    for (const reject of pending) reject(err);
    pending.clear();
    return true;
  };
  const onClose = () => shut('the channel to the checker closed');
  port.on('close', onClose);

  const call = <T>(send: () => Promise<unknown>, schema: z.ZodType<Reply<T>>): Promise<T> => {
    if (closed) return Promise.reject(new AuthProbeError('E_CHANNEL_CLOSED', 'the checker was closed'));
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      if (pending.size === 1) port.ref();
      const done = () => {
        pending.delete(reject);
        if (pending.size === 0) port.unref();
      };
      send().then(
        (raw) => {
          done();
          const parsed = schema.safeParse(raw);
          if (!parsed.success) reject(new AuthProbeError('E_BAD_CHANNEL_REPLY'));
          else if (parsed.data.ok) resolve(parsed.data.value);
          else reject(AuthProbeError.from(parsed.data.error));
        },
        (err: unknown) => {
          done();
          reject(new AuthProbeError('E_PROBE_FAILED', `the shared checker failed (${err instanceof Error ? err.name : typeof err})`));
        },
      );
    });
  };

  const check = ((provider: string, modelApi?: string) => call(() => remote.check(provider, modelApi), CheckReplySchema as z.ZodType<Reply<boolean>>)) as ConnectedChecker;
  check.warm = (providers, options) => {
    const listener = options?.onProgress;
    // comlink hands the exposing side a proxy of the listener; its types cannot express that swap.
    const progress = listener ? (proxy(listener) as unknown as Remote<(p: WarmProgress) => void>) : undefined;
    return call(() => remote.warm([...providers], progress), WarmReplySchema as z.ZodType<Reply<WarmReport>>);
  };
  check.close = () => {
    if (shut('the checker was closed')) port.close();
  };
  return check;
}

/** Runs `fn` and turns its outcome into a reply; only an error's code and message cross the port. */
async function reply<T>(fn: () => T | Promise<T>): Promise<Reply<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof AuthProbeError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'E_PROBE_FAILED', message: `${ERROR_CODES.E_PROBE_FAILED}: ${err instanceof Error ? err.name : typeof err}` } };
  }
}

function asProviderList(providers: unknown): string[] {
  if (!Array.isArray(providers)) throw new AuthProbeError('E_BAD_PROVIDER_ID', 'warm() takes an array of provider ids');
  return providers as string[];
}

type Listener = Parameters<Endpoint['addEventListener']>[1];

/**
 * comlink's Node adapter, remembering the listeners comlink adds, so that
 * `detach()` can take every one of them off the port (comlink keeps its own
 * out of reach, and a long-lived port must not collect them).
 */
function trackedEndpoint(port: MessagePort): { endpoint: Endpoint; detach(): void } {
  const base = nodeEndpoint(port);
  const listeners = new Set<Listener>();
  return {
    endpoint: {
      postMessage: (message: unknown, transfer?: unknown[]) => base.postMessage(message, transfer as never),
      addEventListener: (type: string, listener: Listener) => {
        listeners.add(listener);
        base.addEventListener(type, listener);
      },
      removeEventListener: (type: string, listener: Listener) => {
        listeners.delete(listener);
        base.removeEventListener(type, listener);
      },
      start: () => port.start(),
    },
    detach() {
      for (const listener of listeners) base.removeEventListener('message', listener);
      listeners.clear();
    },
  };
}
