/**
 * `createAuthProbePool`: options parsed once, then the pieces wired together:
 * checker → answer book → run batcher → dispatch → worker → probe → result,
 * with the dependency watcher telling the book which files changed. How
 * answers are kept lives in `answers/`; this file is the wiring.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Answer } from './answers/answer.js';
import { AnswerBook, type Question } from './answers/book.js';
import { RunCosts } from './answers/costs.js';
import { dispatchRequest, RunBatcher } from './answers/batcher.js';
import type { Cell } from './answers/cell.js';
import type { ScopeState } from './answers/scopes.js';
import { createCheckerFor, recordCheckerScope, Miss, serve, validateModelApi, type AuthChecker, type CheckerHost } from './answers/checker.js';
import { compileConfig, type CompiledConfig } from './config/compile.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { AuthProbeError } from './errors.js';
import { explainResult, type ExplainReport } from './explain.js';
import { resolveOptions, type AuthProbePoolOptions, type ResolvedOptions } from './config/options.js';
import { isValidProviderId, normalizeProviderId } from './config/provider-id.js';
import type { Probe, ProbeKind, ProviderResult, Scope } from './config/schema.js';
import { resolveScope } from './config/scope.js';
import { snapshotStats, type PoolStats } from './stats.js';
import { DependencyWatcher } from './answers/watcher.js';
import { Slices } from './slices.js';
import type { AuthChangeEvent, AuthProbePool, ExplainOptions, WarmOptions, WarmReport, WarmTarget } from './pool-types.js';

export type { AuthChecker } from './pool-types.js';
export type { AuthChangeEvent, AuthProbePool, ExplainOptions, WarmOptions, WarmProgress, WarmReport, WarmTarget } from './pool-types.js';

interface Plan {
  /** The kind of each probe, by plan position. */
  readonly kinds: readonly ProbeKind[];
  /** A module probe receives modelApi, so answers are kept per modelApi. */
  readonly modelApiSensitive: boolean;
}

class Pool extends EventEmitter implements AuthProbePool, CheckerHost {
  readonly counters = { cacheHits: 0, staleHits: 0, misses: 0, snapshotHits: 0, warms: 0, listenerErrors: 0, refusedIds: 0 };
  readonly #options: ResolvedOptions;
  readonly #config: CompiledConfig;
  readonly #dispatcher: Dispatcher;
  readonly #watcher: DependencyWatcher<Cell<Answer>>;
  readonly #batcher: RunBatcher;
  readonly #book: AnswerBook;
  /**
   * Each provider's plan as the pool keeps it: its kinds, by the provider's own probes (`NOT_CONFIGURED` for every id
   * the configuration does not name, whose plan is `defaults` alone). Not `planFor`'s plan, which the workers run: the
   * main thread needs only the kinds, and a plan per provider is memory kept for each of ten thousand. A `Map`: its keys
   * live as long as the configuration, and a weak map of ten thousand entries costs every garbage collection.
   */
  readonly #plans = new Map<readonly Probe[], Plan>();
  /** Distinct plans by their kinds (see `shapeOf`). */
  readonly #shapes = new Map<string, Plan>();
  /** The pool's main-thread work, a slice of each turn at most (see `slices.ts`). */
  readonly #slices: Slices;
  /** `close()` was called: nothing new is accepted. */
  #closed = false;
  /** The book is closed: what still waited for a slice then (a forced close) is refused too. */
  #ended = false;

  constructor(options: ResolvedOptions) {
    super();
    this.#options = options;
    this.#config = compileConfig(options.probes);
    this.#slices = new Slices((err) => options.logger.error({ err: err instanceof Error ? err.name : typeof err }, 'pool work threw'));
    this.#dispatcher = new Dispatcher(options, this.#slices);
    this.#watcher = new DependencyWatcher<Cell<Answer>>({ ...options.watch, logger: options.logger, read: (task) => this.#dispatcher.readDependencies(task), slices: this.#slices }, (changes) =>
      this.#book.filesChanged(changes),
    );
    const costs = new RunCosts((id) => this.#config.providers.has(id));
    const batcher = (this.#batcher = new RunBatcher(
      this.#dispatcher,
      options,
      (item) => costs.estimate(item.id, this.#plan(item.id).kinds, item.only),
      (item, result) => costs.record(item.id, this.#plan(item.id).kinds.length, result),
      this.#slices,
    ));
    this.#book = new AnswerBook(options, { batcher, watcher: this.#watcher, slices: this.#slices }, (answer, previous) => this.#changed(answer, previous));
  }

  #normalize(provider: unknown): string {
    if (typeof provider !== 'string') throw new AuthProbeError('E_BAD_PROVIDER_ID', `expected a string, got ${provider === null ? 'null' : typeof provider}`);
    if (provider.length > 256) throw new AuthProbeError('E_BAD_PROVIDER_ID', `${provider.length} characters; at most 256`);
    const id = normalizeProviderId(provider, this.#config.aliases);
    if (!isValidProviderId(id)) throw new AuthProbeError('E_BAD_PROVIDER_ID', 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
    return id;
  }

  #plan(id: string): Plan {
    const own = this.#config.providers.get(id) ?? NOT_CONFIGURED;
    let plan = this.#plans.get(own);
    if (!plan) this.#plans.set(own, (plan = shapeOf(own, this.#config.defaults, this.#shapes)));
    return plan;
  }

  #state(scope: Scope | undefined): ScopeState {
    return this.#book.scopes.get(resolveScope(scope));
  }

  /** A miss: accepted at once, handled in the pool's slice of a turn (see `slices.ts`), so a burst of them never holds the loop. */
  lookup(state: ScopeState, provider: unknown, modelApi: unknown): Promise<boolean> {
    // A check made before close() is answered, even if its slice comes after. In the caller's turn only while this
    // turn's slice (1 ms) lasts: a gateway that checks a thousand agents at once keeps the rest of its turn. One
    // promise per check, the caller's, and one `Miss`, which is both the work queued and what the answer tells.
    const miss = new Miss(this, state, provider, modelApi, this.#closed);
    capturing = miss;
    const promise = new Promise<boolean>(captureResolving);
    capturing = undefined;
    this.#slices.run(miss);
    return promise;
  }

  /** A miss in its slice (see `Miss`): refused, answered from what is kept, or handed to the book. */
  lookupNow(miss: Miss): void {
    const { state, provider, modelApi } = miss;
    this.counters.misses++;
    let id: string;
    try {
      id = this.#normalize(provider);
    } catch (err) {
      // The checker it replaces answered false for an id it had no probe for: one odd catalog entry must not fail
      // a whole model list. What is not a question at all (not a string) still rejects; explain() names the reason.
      if (typeof provider !== 'string') throw err;
      this.counters.refusedIds++;
      return miss.found(false);
    }
    const api = validateModelApi(modelApi);
    if (miss.closed || this.#ended) throw new AuthProbeError('E_POOL_CLOSED');
    const question = this.#question(id, api);
    const kept = state.answers.get(question.key);
    if (serve(this, kept, 'snapshotHits') !== undefined) return miss.found(kept as Answer);
    this.#book.lookup(state, question, miss);
  }

  /** Where a question is kept: by id, and by modelApi too for a provider whose module probes receive it. */
  #question(id: string, modelApi: string | undefined): Question {
    const plan = this.#plan(id);
    const keyApi = plan.modelApiSensitive ? modelApi : undefined;
    return { id, key: keyApi === undefined ? id : `${id}\0${keyApi}`, modelApi: keyApi, kinds: plan.kinds };
  }

  /** A warm's target: an id, or `{ provider, modelApi }` for the checks a gateway makes with one. */
  #target(target: unknown): Question {
    // An id, or anything else not an object, which #normalize accepts (a string) or refuses.
    if (typeof target !== 'object' || target === null) return this.#question(this.#normalize(target), undefined);
    const { provider, modelApi } = target as Partial<WarmTarget>;
    return this.#question(this.#normalize(provider), validateModelApi(modelApi));
  }

  revalidate(answer: Answer): void {
    if (!this.#closed) this.#book.revalidate(answer);
  }

  /** A published answer flipped: tell every `change` listener, each on its own, so one that throws harms no other and no caller. */
  #changed(answer: Answer, previous: boolean): void {
    const { agentDir, workspaceDir, agentId } = answer.home.scope;
    const event: AuthChangeEvent = { provider: answer.id, modelApi: answer.modelApi, previous, current: answer.auth, scope: { agentDir, workspaceDir, agentId } };
    this.#options.logger.info(event, 'auth changed');
    for (const listener of this.rawListeners('change')) {
      try {
        (listener as (e: AuthChangeEvent) => void).call(this, event);
      } catch (err) {
        this.counters.listenerErrors++;
        this.#options.logger.error({ provider: answer.id, err: err instanceof Error ? err.name : typeof err }, 'change listener threw');
      }
    }
  }

  createChecker(scope?: Scope): AuthChecker {
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    return recordCheckerScope(createCheckerFor(this, this.#state(scope)), scope);
  }

  async hasAuth(provider: string, scope?: Scope): Promise<boolean> {
    const state = this.#state(scope);
    state.shared ??= createCheckerFor(this, state);
    return state.shared(provider);
  }

  async explain(provider: string, scope?: Scope, options?: ExplainOptions): Promise<ExplainReport> {
    const id = this.#normalize(provider);
    const question = this.#question(id, validateModelApi(options?.modelApi));
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    const kept = this.#book.kept(state, question.key);
    if (question.kinds.length === 0) return explainResult(provider, { provider: id, auth: false, decidedBy: null, probes: [], durationMs: 0 }, kept);
    const mode = options?.stopAtFirst ? 'first' : 'all';
    // What the probes see now, the environment included.
    this.#dispatcher.renewEnv();
    const [result] = await this.#dispatcher.dispatch([id], { ...dispatchRequest(state.scope, question.modelApi, mode), full: true });
    return explainResult(provider, result as ProviderResult, kept);
  }

  async warm(providers: Iterable<string | WarmTarget>, scope?: Scope, options?: WarmOptions): Promise<WarmReport> {
    const started = performance.now();
    const targets = Array.from(providers);
    const state = this.#state(scope);
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    // Every target is checked before any is probed (one bad id refuses the warm), a slice of a turn at a time.
    const byKey = new Map<string, Question>();
    await this.#slices.forEach(
      targets,
      (target) => {
        const question = this.#target(target);
        byKey.set(question.key, question);
      },
      { later: true },
    );
    const entries = [...byKey.values()];
    this.counters.warms++;
    this.#dispatcher.renewEnv();
    const tasksBefore = this.#dispatcher.counters.tasks;
    const progress = progressReporter(options?.onProgress, entries.length, this.#options.logger);
    let done = 0;
    progress.update(done);
    const settled = await this.#book.warm(state, entries, () => progress.update(++done));
    progress.flush();
    // A warm overtaken by invalidate() (or close()) kept nothing.
    const published = settled.every(({ answer }) => answer.state !== 'retired');
    const answers: Record<string, boolean> = {};
    const modelApiAnswers: Record<string, Record<string, boolean>> = {};
    const failed = new Set<string>();
    for (const { answer, auth } of settled) {
      if (answer.modelApi === undefined) answers[answer.id] = auth;
      else (modelApiAnswers[answer.id] ??= {})[answer.modelApi] = auth;
      if (answer.failing || (answer.state === 'retired' && answer.cells.some((c) => c.state === 'failed'))) failed.add(answer.id);
    }
    const durationMs = performance.now() - started;
    this.#options.logger.info({ providers: entries.length, published, failed: failed.size, durationMs: Math.round(durationMs) }, 'warm');
    return { published, answers, modelApiAnswers, failed: [...failed], dispatches: this.#dispatcher.counters.tasks - tasksBefore, durationMs };
  }

  invalidate(): void {
    this.#dispatcher.renewEnv();
    this.#book.invalidate();
  }

  stats(): PoolStats {
    return snapshotStats(this.counters, this.#dispatcher, this.#book, this.#watcher);
  }

  async close(options?: { force?: boolean }): Promise<void> {
    this.#closed = true;
    // Checks made before close() that wait for a slice reach the book first (its order is the order they came in).
    if (!options?.force) await this.#slices.submit(() => undefined);
    this.#ended = true;
    this.#book.close();
    this.#watcher.close();
    // Checks made before close() are answered: their runs, sent a slice per turn, reach the dispatcher first.
    if (!options?.force) await this.#batcher.sent();
    await this.#dispatcher.close(options?.force ?? false);
  }
}

/**
 * The miss whose promise `lookup` is making, for the executor to give it its resolving functions: one executor for
 * every check, with nothing of its own to close over. A closure per check and its context were 70 bytes of each miss,
 * all alive until its slice (5,000 checks of a thousand agents, made in one turn of the caller).
 */
let capturing: Miss | undefined;

function captureResolving(resolve: (auth: boolean) => void, reject: (err: unknown) => void): void {
  (capturing as Miss).settle = resolve;
  (capturing as Miss).reject = reject;
}

/** The probes of an id the configuration does not name: none of its own. */
const NOT_CONFIGURED: readonly Probe[] = [];

/**
 * The plan of `own` probes then `defaults` (`planProbes`' order), from `shapes` if one has its kinds: ten thousand
 * providers of one shape (an env variable each) share one plan.
 */
function shapeOf(own: readonly Probe[], defaults: readonly Probe[], shapes: Map<string, Plan>): Plan {
  const kinds = [...own, ...defaults].map((p) => p.kind);
  const key = kinds.join(',');
  let shared = shapes.get(key);
  if (!shared) shapes.set(key, (shared = { kinds, modelApiSensitive: kinds.includes('module') }));
  return shared;
}

/** Least time between two progress reports of a warm, in milliseconds: often enough for a progress bar. */
const PROGRESS_INTERVAL_MS = 50;

/**
 * Calls `onProgress` as answers arrive, at most once every PROGRESS_INTERVAL_MS (answers arrive one by one, as
 * workers stream them), and never from inside the answer book. `flush()` reports what is pending at once, so the
 * last report, at the total, comes before the warm resolves. A listener that throws is logged, never fatal to the warm.
 */
function progressReporter(onProgress: WarmOptions['onProgress'], total: number, logger: ResolvedOptions['logger']): { update(done: number): void; flush(): void } {
  let latest = 0;
  let reportedAt = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  const report = () => {
    pending = undefined;
    reportedAt = performance.now();
    try {
      onProgress?.({ done: latest, total });
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.name : typeof err }, 'warm progress listener threw');
    }
  };
  return {
    update(done) {
      latest = done;
      if (onProgress && pending === undefined) pending = setTimeout(report, Math.max(0, reportedAt + PROGRESS_INTERVAL_MS - performance.now()));
    },
    flush() {
      if (pending === undefined) return;
      clearTimeout(pending);
      report();
    },
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
