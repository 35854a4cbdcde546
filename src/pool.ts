/**
 * `createAuthProbePool`: options parsed once, then the pieces wired together:
 * checker → cache → coalesce → dispatch → worker → probe → result.
 */
import { performance } from 'node:perf_hooks';
import { decide, type Decision } from './cache.js';
import { createCheckerFor, type AuthChecker, type CheckerHost } from './checker.js';
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

export type { AuthChecker } from './checker.js';

/** What `warm()` did. */
export interface WarmReport {
  /** False when `invalidate()` or a newer `warm()` overtook this one: its answers were not published. */
  readonly published: boolean;
  /** Normalised provider id → whether it has auth. */
  readonly answers: Readonly<Record<string, boolean>>;
  /** Providers whose probes failed (timeout, crash, unreadable file): answered `false`, not kept. */
  readonly failed: readonly string[];
  /** Worker tasks used. */
  readonly dispatches: number;
  readonly durationMs: number;
}

export interface AuthProbePool {
  /** A checker with its own cache, for one scope (an agent, a workspace, an env). */
  createChecker(scope?: Scope): AuthChecker;
  /** One answer, through a cache shared by all calls with an equal scope. */
  hasAuth(provider: string, scope?: Scope): Promise<boolean>;
  /** Runs every probe of the provider and reports each outcome. Never contains a secret. */
  explain(provider: string, scope?: Scope): Promise<ExplainReport>;
  /** Probes many providers in few tasks and publishes the answers as a prepared snapshot. */
  warm(providers: Iterable<string>, scope?: Scope): Promise<WarmReport>;
  /** Drops every cached and prepared answer; a warm in progress will not publish. */
  invalidate(): void;
  stats(): PoolStats;
  /** Drains in-flight work (or, with `force`, aborts it) and ends every worker. */
  close(options?: { force?: boolean }): Promise<void>;
}

const MAX_SCOPES = 1024;

class Pool implements AuthProbePool, CheckerHost {
  readonly counters = { cacheHits: 0, misses: 0, snapshotHits: 0, coalesced: 0, warms: 0 };
  epoch = 0;
  invalidations = 0;
  readonly #options: ResolvedOptions;
  readonly #config: CompiledConfig;
  readonly #dispatcher: Dispatcher;
  readonly #coalescer: Coalescer;
  readonly #scopes = new Map<string, ScopeState>();
  readonly #sharedCheckers = new Map<string, AuthChecker>();
  /** Per normalised id: whether it has probes, and whether a module probe may answer by modelApi. */
  readonly #plans = new Map<string, { readonly probes: number; readonly modelApiSensitive: boolean }>();
  #closed = false;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#config = compileConfig(options.probes);
    this.#dispatcher = new Dispatcher(options);
    this.#coalescer = new Coalescer(this.#dispatcher, options, this.counters);
  }

  normalize(provider: unknown): string {
    if (typeof provider !== 'string') throw new AuthProbeError('E_BAD_PROVIDER_ID', `expected a string, got ${provider === null ? 'null' : typeof provider}`);
    if (provider.length > 256) throw new AuthProbeError('E_BAD_PROVIDER_ID', `${provider.length} characters; at most 256`);
    const id = normalizeProviderId(provider, this.#config.aliases);
    if (!isValidProviderId(id)) throw new AuthProbeError('E_BAD_PROVIDER_ID', 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
    return id;
  }

  #plan(id: string): { readonly probes: number; readonly modelApiSensitive: boolean } {
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
      if (state.inflight.size === 0 && state.pending.size === 0) {
        this.#scopes.delete(key);
        this.#sharedCheckers.delete(key);
      }
    }
  }

  resolve(state: ScopeState, id: string, modelApi: string | undefined): Promise<Decision> {
    if (this.#closed) return Promise.reject(new AuthProbeError('E_POOL_CLOSED'));
    const plan = this.#plan(id);
    if (plan.probes === 0) return Promise.resolve({ auth: false, ttlMs: this.#options.negativeTtlMs });
    if (modelApi === undefined || !plan.modelApiSensitive) {
      const prepared = state.snapshot.get(id);
      if (prepared !== undefined) {
        this.counters.snapshotHits++;
        return Promise.resolve({ auth: prepared, ttlMs: prepared ? this.#options.positiveTtlMs : this.#options.negativeTtlMs });
      }
    }
    return this.#coalescer.resolve(state, id, modelApi);
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

  async explain(provider: string, scope?: Scope): Promise<ExplainReport> {
    const id = this.normalize(provider);
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    if (this.#plan(id).probes === 0) return explainResult(provider, { provider: id, auth: false, decidedBy: null, probes: [], durationMs: 0 });
    const [result] = await this.#dispatcher.run([id], dispatchRequest(this.#options, state.scope, undefined, 'all'));
    return explainResult(provider, result as ProviderResult);
  }

  async warm(providers: Iterable<string>, scope?: Scope): Promise<WarmReport> {
    const started = performance.now();
    const ids = [...new Set(Array.from(providers, (p) => this.normalize(p)))];
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    this.counters.warms++;
    const token = ++state.warmToken;
    const invalidations = this.invalidations;
    const decisions = new Map<string, Decision>();
    const failed: string[] = [];
    const toProbe: string[] = [];
    for (const id of ids) {
      if (this.#plan(id).probes === 0) decisions.set(id, { auth: false, ttlMs: this.#options.negativeTtlMs });
      else toProbe.push(id);
    }
    const tasksBefore = this.#dispatcher.counters.tasks;
    await runBatched(this.#dispatcher, this.#options, toProbe, dispatchRequest(this.#options, state.scope, undefined, 'first'), (result) => {
      const decision = decide(result, this.#options);
      if (!decision.auth && decision.ttlMs === 0) failed.push(result.provider);
      decisions.set(result.provider, decision);
    });
    const published = !this.#closed && this.invalidations === invalidations && state.warmToken === token;
    if (published) {
      state.snapshot.publish(decisions);
      this.epoch++; // checkers' older cached answers give way to the snapshot
    }
    const answers: Record<string, boolean> = {};
    for (const [id, d] of decisions) answers[id] = d.auth;
    const durationMs = performance.now() - started;
    this.#options.logger.info({ providers: ids.length, published, failed: failed.length, durationMs: Math.round(durationMs) }, 'warm');
    return { published, answers, failed, dispatches: this.#dispatcher.counters.tasks - tasksBefore, durationMs };
  }

  invalidate(): void {
    this.invalidations++;
    this.epoch++;
    for (const state of this.#scopes.values()) state.snapshot.clear();
  }

  stats(): PoolStats {
    return snapshotStats(this.counters, this.#dispatcher, this.#scopes.values());
  }

  async close(options?: { force?: boolean }): Promise<void> {
    this.#closed = true;
    this.invalidate();
    await this.#dispatcher.close(options?.force ?? false);
  }
}

/**
 * Creates a pool. Options are validated here (a bad one throws
 * `AuthProbeError` with code `E_BAD_OPTIONS` or `E_BAD_CONFIG` naming the
 * field); no thread starts until the first check that needs one.
 */
export function createAuthProbePool(options: AuthProbePoolOptions): AuthProbePool {
  return new Pool(resolveOptions(options));
}
