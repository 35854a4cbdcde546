/**
 * Pool options: parsed once, at construction, with every default in one
 * place. The rest of the code reads the frozen {@link ResolvedOptions}.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AuthProbeError } from '../errors.js';
import { missingLoggerMethods, ownLogger, type AuthProbeLogger } from '../logger.js';
import { DEFAULT_COMMAND_ENV, EnvVarPatternSchema, PathTemplateSchema, ProbeConfigSchema, type ProbeConfig, type WorkerInit } from './schema.js';
import { formatZodError } from './zod-errors.js';

const ms = (max: number) => z.number().int().nonnegative().max(max);

export const PoolOptionsSchema = z.strictObject({
  /** The probe configuration (see `ProbeConfigSchema`). */
  probes: ProbeConfigSchema,
  /** Directory that relative paths in `probes` resolve against. Default: `process.cwd()`. */
  configDir: z.string().min(1).optional(),
  threads: z
    .strictObject({
      /**
       * Threads kept alive while idle (unref'd, they never hold the process open). Default 1, and at
       * least 1: Piscina replaces a terminated worker only up to this number, so with 0 the tasks
       * queued behind a probe killed at its deadline would wait for the next dispatch.
       */
      min: z.number().int().min(1).max(64).optional(),
      /**
       * Upper bound on worker threads. Default: one less than the machine's available parallelism, at least 1 and at
       * most 4 (command probes no longer hold a thread while their CLI runs, so the gateway keeps a core of its own).
       */
      max: z.number().int().positive().max(64).optional(),
    })
    .optional(),
  /** Deadline for one probe, in milliseconds; a command's own `timeoutMs` is capped by it. Default 5000. */
  probeTimeoutMs: ms(600_000).min(1).optional(),
  cacheTtlMs: z
    .strictObject({
      /** How long a `true` is kept, in milliseconds. Default 300000 (5 min). */
      positive: ms(86_400_000).optional(),
      /** How long a lasting `false` is kept, in milliseconds. Default 30000. */
      negative: ms(86_400_000).optional(),
      /** After expiry, how long an answer is still served while a background refresh runs, in milliseconds. Default 60000. */
      staleWhileRevalidate: ms(86_400_000).optional(),
    })
    .optional(),
  /**
   * How long a failed probe (timeout, crash, unreadable or half-written file) is remembered before it is retried
   * in the background, in milliseconds: `initial` after the first failure, doubling with each failure in a row up
   * to `max`. A change to a file the probe read ends the wait at once. Default 10000 and 300000.
   */
  failureBackoffMs: z
    .strictObject({
      initial: ms(86_400_000).min(1).optional(),
      max: ms(86_400_000).min(1).optional(),
    })
    .optional(),
  /** Answers kept at most, over all scopes; past it the least recently used are dropped with their watches. Default 50000. */
  maxAnswers: z.number().int().positive().max(10_000_000).optional(),
  /** Scopes holding answers at most; past it the least recently used scope's answers are dropped (its checkers stay usable). Default 4096. */
  maxScopes: z.number().int().positive().max(1_000_000).optional(),
  watch: z
    .strictObject({
      /** Watch the files answers depend on. False: check their fingerprints every `pollMs` instead. Default true. */
      enabled: z.boolean().optional(),
      /** Quiet time after a file event before re-checking, in milliseconds. Default 50. */
      debounceMs: ms(60_000).optional(),
      /** Fingerprint check interval when watching is off or not possible, in milliseconds. Default 2000. */
      pollMs: ms(3_600_000).min(10).optional(),
      /** While watching, a full fingerprint check this often anyway, for events that never come (network file systems); 0 turns it off. Default 30000. */
      verifyMs: ms(86_400_000).optional(),
      /** On a change, re-probe the affected answers at once (and emit `change`), rather than only dropping them. Default true. */
      refreshOnChange: z.boolean().optional(),
    })
    .optional(),
  /** Milliseconds an idle worker above `threads.min` lives. Default 30000 (Piscina's 0 would churn threads on bursty load). */
  idleTimeoutMs: ms(86_400_000).optional(),
  /**
   * Distinct answers (provider, modelApi, scope) with a run under way, at most: past it a check of a new provider
   * rejects with `E_QUEUE_FULL`, and background refreshes wait and retry. Default 10000.
   */
  maxQueue: z.number().int().positive().max(1_000_000).optional(),
  /** Heap limit of each worker, in MiB; a probe that exceeds it ends its worker, not the process. Default 512. */
  maxWorkerMemoryMb: z.number().int().min(16).max(65_536).optional(),
  /**
   * Directories (templates allowed: `~`, `{agentDir}`, `$VAR`) that file paths must stay within once
   * resolved; a path outside all of them is refused with `E_PATH_REFUSED`. Default: no restriction.
   */
  allowedRoots: z.array(PathTemplateSchema).min(1).max(64).optional(),
  /** Providers per worker task, at most, for every batch of checks or a `warm()`. Default 32. */
  batchSize: z.number().int().positive().max(1024).optional(),
  /** Probes slower than this many milliseconds are logged at warn. Default 1000. */
  slowProbeMs: ms(600_000).optional(),
  /** Largest credential file or store read, in bytes. Default 32 MiB. */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional(),
  /**
   * A login (a credential file's expiry, a token profile's `expires`) that expires within this many
   * milliseconds counts as expired already, so an answer never outlives the token by a request. Default 300000 (5 min).
   */
  expirySkewMs: ms(86_400_000).optional(),
  /**
   * CLIs running at once, at most, over the whole pool, whichever threads their probes are on (no thread has a fixed
   * share): a sweep's command probes wait for their CLIs together rather than one after another. Default 16.
   */
  maxConcurrentCommands: z.number().int().positive().max(1024).optional(),
  /**
   * Opt-in bound on how long a check waits for an answer's first run, in milliseconds. Past it the check answers
   * from what is known (`false`, reported as undecided: a probe that found auth would have answered already), while
   * the probes run on; their real answer is then published, with a `change` event if it is `true`. Default: none.
   */
  answerWithinMs: ms(600_000).min(1).optional(),
  /** Most stdout a `requireStdout` command may print, in bytes. Default 1 MiB. */
  maxStdoutBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 30)
    .optional(),
  /**
   * Where command probes fork: `helper` (in one small helper process for the pool, spawned and reaped by the main
   * thread, so a fork never copies the gateway's page tables, whatever the gateway's size) or `worker` (in the worker
   * threads, in the gateway's own process: no helper's memory, but each fork stalls a large gateway, and a CLI still
   * running when its thread is ended for another probe is killed but stays a zombie until the gateway exits).
   * Default `helper`.
   */
  spawnVia: z.enum(['worker', 'helper']).optional(),
  /**
   * The variables every command probe gets from the scope's env, by name (an entry ending in `*` is a prefix);
   * a probe's `passEnv` adds to it, and nothing else reaches a CLI. Default: PATH, HOME, USER, LOGNAME, SHELL,
   * LANG, LC_*, TZ, TMPDIR, XDG_*.
   */
  commandEnv: z.array(EnvVarPatternSchema).max(256).optional(),
  /**
   * Raise the workers' nice value by this much (Linux, macOS), and the spawn helper's, which its CLIs inherit, so
   * probes yield the CPU to the gateway. Default 10.
   */
  niceIncrement: z.number().int().nonnegative().max(19).optional(),
  /**
   * Any pino-compatible logger (pino, Fastify's `app.log`) or `console`: `debug`, `info`, `warn` and `error`,
   * and `child()` when it has one. The pool logs through a child of it (`lib: "auth-probe-pool"`). Default: silent.
   */
  logger: z
    .custom<AuthProbeLogger>((v) => missingLoggerMethods(v).length === 0, {
      error: (issue) => `must have debug, info, warn and error methods (and child, if present); missing or not a function: ${missingLoggerMethods(issue.input).join(', ')}`,
    })
    .optional(),
  /** The environment probes see, under each scope's own `env`. Default: `process.env`, read at each dispatch. */
  env: z.record(z.string(), z.string().optional()).optional(),
});

export type AuthProbePoolOptions = z.input<typeof PoolOptionsSchema>;

export interface ResolvedOptions {
  readonly probes: ProbeConfig;
  readonly configDir: string;
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly probeTimeoutMs: number;
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly failureBackoff: { readonly initialMs: number; readonly maxMs: number };
  readonly maxAnswers: number;
  readonly maxScopes: number;
  readonly staleMs: number;
  readonly watch: { readonly enabled: boolean; readonly debounceMs: number; readonly pollMs: number; readonly verifyMs: number; readonly refreshOnChange: boolean };
  readonly idleTimeoutMs: number;
  readonly maxQueue: number;
  readonly maxWorkerMemoryMb: number;
  readonly allowedRoots: readonly string[] | undefined;
  readonly batchSize: number;
  readonly slowProbeMs: number;
  readonly maxFileBytes: number;
  readonly maxStdoutBytes: number;
  readonly maxConcurrentCommands: number;
  readonly answerWithinMs: number | undefined;
  readonly expirySkewMs: number;
  /** Per pool, random: the key of the SQLite stores' row digests (see WorkerInit). */
  readonly digestKey: string;
  readonly niceIncrement: number;
  readonly spawnVia: 'worker' | 'helper';
  readonly commandEnv: readonly string[];
  readonly logger: AuthProbeLogger;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function resolveOptions(input: unknown): ResolvedOptions {
  const parsed = PoolOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const config = parsed.error.issues.every((i) => i.path[0] === 'probes');
    throw new AuthProbeError(config ? 'E_BAD_CONFIG' : 'E_BAD_OPTIONS', formatZodError(parsed.error));
  }
  const o = parsed.data;
  if (o.threads?.min !== undefined && o.threads.max !== undefined && o.threads.min > o.threads.max) {
    throw new AuthProbeError('E_BAD_OPTIONS', 'threads.min: must not exceed threads.max');
  }
  const maxThreads = o.threads?.max ?? defaultThreads();
  const minThreads = Math.min(o.threads?.min ?? 1, maxThreads);
  const backoffInitial = o.failureBackoffMs?.initial ?? 10_000;
  if (o.failureBackoffMs?.max !== undefined && o.failureBackoffMs.max < backoffInitial) {
    throw new AuthProbeError('E_BAD_OPTIONS', 'failureBackoffMs.max: must not be less than failureBackoffMs.initial');
  }
  return Object.freeze({
    probes: o.probes,
    configDir: resolve(o.configDir ?? process.cwd()),
    minThreads,
    maxThreads,
    probeTimeoutMs: o.probeTimeoutMs ?? 5000,
    positiveTtlMs: o.cacheTtlMs?.positive ?? 300_000,
    negativeTtlMs: o.cacheTtlMs?.negative ?? 30_000,
    failureBackoff: Object.freeze({ initialMs: backoffInitial, maxMs: Math.max(backoffInitial, o.failureBackoffMs?.max ?? 300_000) }),
    maxAnswers: o.maxAnswers ?? 50_000,
    maxScopes: o.maxScopes ?? 4096,
    staleMs: o.cacheTtlMs?.staleWhileRevalidate ?? 60_000,
    watch: Object.freeze({
      enabled: o.watch?.enabled ?? true,
      debounceMs: o.watch?.debounceMs ?? 50,
      pollMs: o.watch?.pollMs ?? 2000,
      verifyMs: o.watch?.verifyMs ?? 30_000,
      refreshOnChange: o.watch?.refreshOnChange ?? true,
    }),
    idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
    maxQueue: o.maxQueue ?? 10_000,
    maxWorkerMemoryMb: o.maxWorkerMemoryMb ?? 512,
    allowedRoots: o.allowedRoots,
    batchSize: o.batchSize ?? 32,
    slowProbeMs: o.slowProbeMs ?? 1000,
    maxFileBytes: o.maxFileBytes ?? 32 * 1024 * 1024,
    maxStdoutBytes: o.maxStdoutBytes ?? 1024 * 1024,
    maxConcurrentCommands: o.maxConcurrentCommands ?? 16,
    answerWithinMs: o.answerWithinMs,
    expirySkewMs: o.expirySkewMs ?? 300_000,
    digestKey: randomBytes(32).toString('hex'),
    niceIncrement: o.niceIncrement ?? DEFAULT_NICE_INCREMENT,
    spawnVia: o.spawnVia ?? 'helper',
    commandEnv: Object.freeze([...(o.commandEnv ?? DEFAULT_COMMAND_ENV)]),
    // Redacting, whatever the caller's logger is: see ownLogger.
    logger: ownLogger(o.logger, { lib: 'auth-probe-pool' }),
    // Keep the caller's object itself (zod returns a copy) so later changes to it are seen.
    env: o.env === undefined ? process.env : (input as { env: Record<string, string | undefined> }).env,
  });
}

/** Whether the pool's environment is the process's own (the default): then its workers share it and read it themselves (see `probes/task-env.ts`). */
export function readsProcessEnv(o: Pick<ResolvedOptions, 'env'>): boolean {
  return o.env === process.env;
}

/**
 * What every worker (and the benchmark's main-thread runner) is started with: the configuration, the probe limits,
 * and the pool's `commandBudget` (one per pool, shared by its threads).
 */
export function workerInitOf(o: ResolvedOptions, commandBudget: SharedArrayBuffer): WorkerInit {
  return {
    config: o.probes,
    configDir: o.configDir,
    probeTimeoutMs: o.probeTimeoutMs,
    maxFileBytes: o.maxFileBytes,
    maxStdoutBytes: o.maxStdoutBytes,
    allowedRoots: o.allowedRoots,
    spawnVia: o.spawnVia,
    commandEnv: o.commandEnv,
    expirySkewMs: o.expirySkewMs,
    digestKey: o.digestKey,
    commandBudget,
  };
}

/** The workers' default nice value: they yield the CPU to the gateway's main thread (see the README's benchmark). */
export const DEFAULT_NICE_INCREMENT = 10;

/** The default thread count: a core left to the gateway, at least 1, at most 4. */
function defaultThreads(): number {
  return Math.min(Math.max(availableParallelism() - 1, 1), 4);
}
