/**
 * `createAuthProbePool`: options parsed once, then the pieces wired together:
 * checker → cache → coalesce → dispatch → worker → probe → result, with the
 * answers kept per scope and followed by the dependency watcher.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AnswerRecord, decide, type Outcome } from './cache.js';
import { createCheckerFor, serve, validateModelApi, type AuthChecker, type CheckerHost } from './checker.js';
import { Coalescer, dispatchRequest, runBatched, ScopeState } from './coalesce.js';
import { compileConfig, planProbes, type CompiledConfig } from './config.js';
import { Dispatcher } from './dispatch.js';
import { AuthProbeError } from './errors.js';
import { explainResult, type ExplainReport } from './explain.js';
import { resolveOptions, type AuthProbePoolOptions, type ResolvedOptions } from './options.js';
import { isValidProviderId, normalizeProviderId } from './provider-id.js';
import type { ProviderResult, Scope } from './schema.js';
import { resolveScope } from './scope.js';
import { snapshotStats, type PoolStats } from './stats.js';
import { DependencyWatcher } from './watch.js';
import type { AuthChangeEvent, AuthProbePool, WarmOptions, WarmReport } from './pool-types.js';

export type { AuthChecker } from './pool-types.js';
export type { AuthChangeEvent, AuthProbePool, WarmOptions, WarmProgress, WarmReport } from './pool-types.js';

const MAX_SCOPES = 1024;

interface Plan {
  readonly probes: number;
  /** A module probe receives modelApi, so answers are kept per modelApi. */
  readonly modelApiSensitive: boolean;
}

class Pool extends EventEmitter implements AuthProbePool, CheckerHost {
  readonly counters = { cacheHits: 0, staleHits: 0, misses: 0, snapshotHits: 0, coalesced: 0, warms: 0, refreshes: 0, changes: 0 };
  invalidations = 0;
  readonly #options: ResolvedOptions;
  readonly #config: CompiledConfig;
  readonly #dispatcher: Dispatcher;
  readonly #coalescer: Coalescer;
  readonly #watcher: DependencyWatcher<AnswerRecord>;
  readonly #scopes = new Map<string, ScopeState>();
  readonly #sharedCheckers = new Map<string, AuthChecker>();
  readonly #plans = new Map<string, Plan>();
  #closed = false;

  constructor(options: ResolvedOptions) {
    super();
    this.#options = options;
    this.#config = compileConfig(options.probes);
    this.#dispatcher = new Dispatcher(options);
    this.#coalescer = new Coalescer(this.#dispatcher, options, this.counters);
    this.#watcher = new DependencyWatcher<AnswerRecord>({ ...options.watch, logger: options.logger }, (changed) => this.#onFilesChanged(changed));
  }

  #normalize(provider: unknown): string {
    if (typeof provider !== 'string') throw new AuthProbeError('E_BAD_PROVIDER_ID', `expected a string, got ${provider === null ? 'null' : typeof provider}`);
    if (provider.length > 256) throw new AuthProbeError('E_BAD_PROVIDER_ID', `${provider.length} characters; at most 256`);
    const id = normalizeProviderId(provider, this.#config.aliases);
    if (!isValidProviderId(id)) throw new AuthProbeError('E_BAD_PROVIDER_ID', 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
    return id;
  }

  #plan(id: string): Plan {
    let plan = this.#plans.get(id);
    if (!plan) {
      const probes = planProbes(this.#config, id);
      plan = { probes: probes.length, modelApiSensitive: probes.some((p) => p.probe.kind === 'module') };
      if (this.#plans.size < 100_000) this.#plans.set(id, plan);
    }
    return plan;
  }

  #state(scope: Scope | undefined): ScopeState {
    const resolved = resolveScope(scope);
    let state = this.#scopes.get(resolved.key);
    if (!state) {
      if (this.#scopes.size >= MAX_SCOPES) this.#dropIdleScopes();
      state = new ScopeState(resolved);
      this.#scopes.set(resolved.key, state);
    }
    return state;
  }

  #dropIdleScopes(): void {
    for (const [key, state] of this.#scopes) {
      if (state.inflight.size > 0 || state.pending.size > 0) continue;
      for (const record of state.answers.values()) this.#retire(record);
      this.#scopes.delete(key);
      this.#sharedCheckers.delete(key);
    }
  }

  async lookup(state: ScopeState, provider: unknown, modelApi: unknown): Promise<AnswerRecord | boolean> {
    this.counters.misses++;
    const id = this.#normalize(provider);
    const api = validateModelApi(modelApi);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    const plan = this.#plan(id);
    const keyApi = plan.modelApiSensitive ? api : undefined;
    const key = keyApi === undefined ? id : `${id}\0${keyApi}`;
    const kept = state.answers.get(key);
    if (serve(this, kept, 'snapshotHits') !== undefined) return kept as AnswerRecord;
    if (plan.probes === 0) return this.#publish(state, key, id, keyApi, this.#noProbes(), state.changeSeq);
    return this.#probe(state, key, id, keyApi, 0);
  }

  /**
   * Dispatches (or joins a dispatch, started at or after change `minSeq`, of) one key and keeps the answer,
   * unless `invalidate()` intervened. `previous` is the answer a change event compares with, when the old
   * record was already retired.
   */
  async #probe(state: ScopeState, key: string, id: string, keyApi: string | undefined, minSeq: number, previous?: boolean): Promise<AnswerRecord | boolean> {
    const invalidations = this.invalidations;
    const seq = state.changeSeq;
    const outcome = await this.#coalescer.resolve(state, key, id, keyApi, minSeq);
    if (this.invalidations !== invalidations || this.#closed) return outcome.auth;
    return this.#publish(state, key, id, keyApi, outcome, seq, previous);
  }

  /** The answer for a provider with no probes at all: a lasting no. */
  #noProbes(): Outcome {
    return { auth: false, ttlMs: this.#options.negativeTtlMs, deps: new Map() };
  }

  /**
   * Keeps an answer in its scope, replacing the older one (and telling
   * `change` listeners when the answer flipped). An answer from a probe that
   * started before a newer one's never replaces it; one that must not be kept
   * (a failed probe) removes the old answer instead.
   */
  #publish(state: ScopeState, key: string, id: string, keyApi: string | undefined, outcome: Outcome, seq: number, previous?: boolean): AnswerRecord | boolean {
    const old = state.answers.get(key);
    if (old && old.servable && old.seq > seq) return old.auth === outcome.auth ? old : outcome.auth;
    const before = previous ?? (old && !old.retired ? old.auth : undefined);
    if (old) this.#retire(old);
    let kept: AnswerRecord | boolean = outcome.auth;
    if (outcome.ttlMs > 0) {
      // A failure is never served stale: once its short TTL ends, the next check probes again.
      const staleMs = outcome.failed ? 0 : this.#options.staleMs;
      const record = new AnswerRecord(state, key, id, keyApi, outcome.auth, outcome.deps, seq, outcome.ttlMs, staleMs);
      state.answers.set(key, record);
      this.#watcher.track(record);
      kept = record;
    }
    if (before !== undefined && before !== outcome.auth) {
      this.counters.changes++;
      const { agentDir, workspaceDir, agentId } = state.scope;
      const event: AuthChangeEvent = { provider: id, modelApi: keyApi, previous: before, current: outcome.auth, scope: { agentDir, workspaceDir, agentId } };
      this.#options.logger.info(event, 'auth changed');
      this.emit('change', event);
    }
    return kept;
  }

  #retire(record: AnswerRecord): void {
    record.retire();
    const state = record.owner as ScopeState;
    if (state.answers.get(record.key) === record) state.answers.delete(record.key);
    this.#watcher.untrack(record);
  }

  revalidate(record: AnswerRecord): void {
    if (record.refreshing || this.#closed) return;
    record.refreshing = true;
    this.counters.refreshes++;
    const state = record.owner as ScopeState;
    this.#probe(state, record.key, record.id, record.modelApi, 0).then(
      () => (record.refreshing = false),
      (err: unknown) => {
        record.refreshing = false;
        this.#options.logger.warn({ provider: record.id, code: (err as AuthProbeError).code }, 'background refresh failed');
      },
    );
  }

  /** Files some answers depended on changed: drop those answers and, by default, re-probe them at once. */
  #onFilesChanged(changed: readonly AnswerRecord[]): void {
    for (const record of changed) {
      if (record.retired) continue;
      const state = record.owner as ScopeState;
      const seq = ++state.changeSeq;
      this.#retire(record);
      if (!this.#options.watch.refreshOnChange || this.#closed) continue;
      this.counters.refreshes++;
      this.#probe(state, record.key, record.id, record.modelApi, seq, record.auth).catch((err: unknown) =>
        this.#options.logger.warn({ provider: record.id, code: (err as AuthProbeError).code }, 'refresh after a file change failed'),
      );
    }
  }

  createChecker(scope?: Scope): AuthChecker {
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    return createCheckerFor(this, this.#state(scope));
  }

  async hasAuth(provider: string, scope?: Scope): Promise<boolean> {
    const state = this.#state(scope);
    let checker = this.#sharedCheckers.get(state.scope.key);
    if (!checker) this.#sharedCheckers.set(state.scope.key, (checker = createCheckerFor(this, state)));
    return checker(provider);
  }

  async explain(provider: string, scope?: Scope, options?: { stopAtFirst?: boolean }): Promise<ExplainReport> {
    const id = this.#normalize(provider);
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    if (this.#plan(id).probes === 0) return explainResult(provider, { provider: id, auth: false, decidedBy: null, probes: [], durationMs: 0 });
    const mode = options?.stopAtFirst ? 'first' : 'all';
    const [result] = await this.#dispatcher.run([id], dispatchRequest(this.#options, state.scope, undefined, mode));
    return explainResult(provider, result as ProviderResult);
  }

  async warm(providers: Iterable<string>, scope?: Scope, options?: WarmOptions): Promise<WarmReport> {
    const started = performance.now();
    const ids = [...new Set(Array.from(providers, (p) => this.#normalize(p)))];
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    this.counters.warms++;
    const token = ++state.warmToken;
    const invalidations = this.invalidations;
    const seq = state.changeSeq;
    const outcomes = new Map<string, Outcome>();
    const failed: string[] = [];
    const toProbe: string[] = [];
    for (const id of ids) {
      if (this.#plan(id).probes === 0) outcomes.set(id, this.#noProbes());
      else toProbe.push(id);
    }
    const tasksBefore = this.#dispatcher.counters.tasks;
    const progress = progressReporter(options?.onProgress, ids.length, this.#options.logger);
    progress(outcomes.size);
    await runBatched(this.#dispatcher, this.#options, toProbe, dispatchRequest(this.#options, state.scope, undefined, 'first'), (result) => {
      const outcome = decide(result, this.#options);
      if (outcome.failed) failed.push(result.provider);
      outcomes.set(result.provider, outcome);
      progress(outcomes.size);
    });
    // Overtaken by invalidate(), a newer warm, or a file change in this scope: publish nothing.
    const published = !this.#closed && this.invalidations === invalidations && state.warmToken === token && state.changeSeq === seq;
    if (published) for (const [id, outcome] of outcomes) this.#publish(state, id, id, undefined, outcome, seq);
    const answers: Record<string, boolean> = {};
    for (const [id, o] of outcomes) answers[id] = o.auth;
    const durationMs = performance.now() - started;
    this.#options.logger.info({ providers: ids.length, published, failed: failed.length, durationMs: Math.round(durationMs) }, 'warm');
    return { published, answers, failed, dispatches: this.#dispatcher.counters.tasks - tasksBefore, durationMs };
  }

  invalidate(): void {
    this.invalidations++;
    for (const state of this.#scopes.values()) for (const record of state.answers.values()) this.#retire(record);
  }

  stats(): PoolStats {
    return snapshotStats(this.counters, this.#dispatcher, this.#scopes.values(), this.#watcher);
  }

  async close(options?: { force?: boolean }): Promise<void> {
    this.#closed = true;
    this.invalidate();
    this.#watcher.close();
    await this.#dispatcher.close(options?.force ?? false);
  }
}

/**
 * Calls `onProgress` as answers arrive: once per worker task's batch (the
 * answers of one task arrive together, and one microtask reports them all).
 * A listener that throws is logged, never fatal to the warm.
 */
function progressReporter(onProgress: WarmOptions['onProgress'], total: number, logger: ResolvedOptions['logger']): (done: number) => void {
  let latest = 0;
  let scheduled = false;
  const report = () => {
    scheduled = false;
    try {
      onProgress?.({ done: latest, total });
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.name : typeof err }, 'warm progress listener threw');
    }
  };
  return (done) => {
    latest = done;
    if (!onProgress || scheduled) return;
    scheduled = true;
    queueMicrotask(report);
  };
}

/**
 * Creates a pool. Options are validated here (a bad one throws
 * `AuthProbeError` with code `E_BAD_OPTIONS` or `E_BAD_CONFIG` naming the
 * field); no thread starts until the first check that needs one.
 */
export function createAuthProbePool(options: AuthProbePoolOptions): AuthProbePool {
  return new Pool(resolveOptions(options));
}
