/** The public shape of a pool, kept apart from its implementation. */
import type { AuthChecker } from './checker.js';
import type { ExplainReport } from './explain.js';
import type { Scope } from './schema.js';
import type { PoolStats } from './stats.js';

/** What `warm()` did. */
export interface WarmReport {
  /** False when `invalidate()`, a newer `warm()` or a file change in the scope overtook this one: nothing was published. */
  readonly published: boolean;
  /** Normalised provider id → whether it has auth. */
  readonly answers: Readonly<Record<string, boolean>>;
  /** Providers whose probes failed (timeout, crash, unreadable file): answered `false`, not kept. */
  readonly failed: readonly string[];
  /** Worker tasks used. */
  readonly dispatches: number;
  readonly durationMs: number;
}

/** How far a `warm()` has got: providers answered so far, of `total`. */
export interface WarmProgress {
  readonly done: number;
  readonly total: number;
}

export interface WarmOptions {
  /** Called as answers arrive: at the start, then once per worker task's batch of answers. */
  readonly onProgress?: (progress: WarmProgress) => void;
}

/** Emitted as `change` when a kept answer flips, e.g. after a CLI login writes its credential file. */
export interface AuthChangeEvent {
  readonly provider: string;
  /** Set only for providers whose answers depend on modelApi (module probes). */
  readonly modelApi: string | undefined;
  readonly previous: boolean;
  readonly current: boolean;
  readonly scope: { readonly agentDir?: string | undefined; readonly workspaceDir?: string | undefined; readonly agentId?: string | undefined };
}

export interface AuthProbePool {
  /** A checker with its own memo over the scope's shared answers (an agent, a workspace, an env). */
  createChecker(scope?: Scope): AuthChecker;
  /** One answer, through a checker shared by all calls with an equal scope. */
  hasAuth(provider: string, scope?: Scope): Promise<boolean>;
  /**
   * Runs every probe of the provider and reports each outcome. Never contains a secret.
   * With `stopAtFirst`, stops at the first probe that finds auth, as a check does.
   */
  explain(provider: string, scope?: Scope, options?: { stopAtFirst?: boolean }): Promise<ExplainReport>;
  /** Probes many providers in few tasks and publishes the answers for later checks in the scope. */
  warm(providers: Iterable<string>, scope?: Scope, options?: WarmOptions): Promise<WarmReport>;
  /** Drops every kept answer; a warm or refresh in progress will not publish. */
  invalidate(): void;
  stats(): PoolStats;
  /** Drains in-flight work (or, with `force`, aborts it), stops watching, and ends every worker. */
  close(options?: { force?: boolean }): Promise<void>;
  on(event: 'change', listener: (event: AuthChangeEvent) => void): this;
  once(event: 'change', listener: (event: AuthChangeEvent) => void): this;
  off(event: 'change', listener: (event: AuthChangeEvent) => void): this;
}
