/**
 * `bench:scale`'s targets, judged from the figures alone: a pure function,
 * so a test can feed it figures and read what is met and what is MISSED.
 */
import type { AgentsFigures } from './scale-agents.js';
import type { ClisFigures } from './scale-clis.js';
import type { FirstSweepFigures } from './scale-first-sweep.js';
import type { CaseName } from './scale-flags.js';
import type { IdsFigures } from './scale-ids.js';
import type { MemoryFigures } from './scale-memory.js';
import type { WarmFigures } from './scale-warm.js';
import { significant } from './stats.js';
import type { Target } from './targets.js';

export type { Target } from './targets.js';

/** What the agents cases' targets read: both bursts' (see `scale-agents.ts`). */
type AgentsJudged = Pick<AgentsFigures, 'wallMs' | 'loopMaxMs' | 'threadReadMs' | 'coldWallMs' | 'coldLoopMaxMs' | 'coldThreadReadMs'>;

/** The longest loop delay a case may cause, in milliseconds. */
export const LOOP_MAX_MS = 15;
/** How long `warm()` may take before it returns its promise, in milliseconds. */
export const WARM_CALL_MS = 5;
/** How far over one thread's read time the agents' checks may take. */
export const THREAD_READ_SLACK = 1.5;
/** How far over the least a CLI sweep (`clis`) or a first sweep (its critical path) may take. */
export const CRITICAL_PATH_SLACK = 1.25;
/** How much heap the ids' answers may leave behind once expired: 10 % of the heap before them, or this many MiB. */
export const HEAP_GROWTH_SHARE = 0.1;
export const HEAP_GROWTH_FLOOR_MB = 4;
/** The pool's RSS rise, its spawn helper included, in MiB. */
export const POOL_RSS_MB = 60;
/** How far a figure may rise with `--env-vars` variables in `process.env`: 10 %, or its floor (the figures' noise at their resolution). */
export const ENV_SHARE = 0.1;

/** A case's medians, and its env variant's. */
export interface Judged<F> {
  readonly median: F;
  readonly env?: { readonly median: F } | undefined;
}

/** The figures the targets read, by case; a case not run is absent. */
export interface ScaleTargetInput {
  readonly 'warm-2k'?: Judged<Pick<WarmFigures, 'callMs' | 'wallMs' | 'loopMaxMs'>>;
  readonly 'warm-10k'?: Judged<Pick<WarmFigures, 'callMs' | 'wallMs' | 'loopMaxMs'>>;
  readonly 'agents-json'?: Judged<AgentsJudged>;
  readonly 'agents-sqlite'?: Judged<AgentsJudged>;
  readonly clis?: Judged<Pick<ClisFigures, 'wallMs' | 'loopMaxMs' | 'boundMs'>>;
  readonly 'ids-40k'?: Judged<Pick<IdsFigures, 'loopMaxMs' | 'heapBeforeMb' | 'heapAfterExpiryMb' | 'rejected'>>;
  readonly 'first-sweep'?: Judged<Pick<FirstSweepFigures, 'wallMs' | 'loopMaxMs'>> & { readonly criticalPath: { readonly median: Pick<FirstSweepFigures, 'wallMs'> } };
  readonly memory?: Judged<Pick<MemoryFigures, 'totalRisePssMb'>>;
}

/**
 * The figures of each env case compared with and without the variables, and the floor under 10 %: 1 ms for a
 * time, 2 ms for a loop max (two ticks of its 1 ms interval), 2 MiB for heap, none for rejected checks.
 */
export const ENV_FIGURES: Readonly<Partial<Record<CaseName, readonly (readonly [string, number])[]>>> = {
  'warm-2k': [
    ['callMs', 1],
    ['loopMaxMs', 2],
    ['wallMs', 1],
  ],
  'warm-10k': [
    ['callMs', 1],
    ['loopMaxMs', 2],
    ['wallMs', 1],
  ],
  'agents-json': [
    ['loopMaxMs', 2],
    ['wallMs', 1],
  ],
  'agents-sqlite': [
    ['loopMaxMs', 2],
    ['wallMs', 1],
  ],
  clis: [
    ['loopMaxMs', 2],
    ['wallMs', 1],
  ],
  'ids-40k': [
    ['loopMaxMs', 2],
    ['heapAfterExpiryMb', 2],
    // A rejected check is an error a user sees: none may appear.
    ['rejected', 0],
  ],
};

/**
 * The targets whose figures were measured, in a fixed order: per case its own, then the env variants'. A figure
 * that is NaN (or null, from JSON) misses its target.
 */
export function scaleTargets(cases: ScaleTargetInput): Target[] {
  const out: Target[] = [];
  const add = (target: string, value: number | null | undefined, limit: number) => {
    const v = value ?? Number.NaN;
    out.push({ target, value: significant(v, 4), limit: significant(limit, 4), met: v <= limit });
  };
  const loop = (name: string, judged: Judged<{ loopMaxMs: number }> | undefined) => {
    if (judged) add(`${name} loop max <= ${LOOP_MAX_MS} ms`, judged.median.loopMaxMs, LOOP_MAX_MS);
  };
  for (const name of ['warm-2k', 'warm-10k'] as const) {
    const c = cases[name];
    if (!c) continue;
    loop(name, c);
    add(`${name} warm() returns in <= ${WARM_CALL_MS} ms`, c.median.callMs, WARM_CALL_MS);
  }
  for (const name of ['agents-json', 'agents-sqlite'] as const) {
    const c = cases[name];
    if (!c) continue;
    // Both bursts (see scale-agents.ts): the pool's first, on a thread just started, and the next, on a pool that has answered one.
    add(`${name} first burst loop max <= ${LOOP_MAX_MS} ms`, c.median.coldLoopMaxMs, LOOP_MAX_MS);
    if (c.median.coldThreadReadMs !== undefined) {
      add(`${name} first burst wall <= ${THREAD_READ_SLACK} x one thread's first read (ms)`, c.median.coldWallMs, THREAD_READ_SLACK * c.median.coldThreadReadMs);
    }
    loop(name, c);
    if (c.median.threadReadMs !== undefined) add(`${name} wall <= ${THREAD_READ_SLACK} x one thread's read time (ms)`, c.median.wallMs, THREAD_READ_SLACK * (c.median.threadReadMs ?? Number.NaN));
  }
  const clis = cases.clis;
  if (clis) {
    add(`clis wall <= ${CRITICAL_PATH_SLACK} x (CLIs / 16 at once) x CLI time (ms)`, clis.median.wallMs, CRITICAL_PATH_SLACK * clis.median.boundMs);
    loop('clis', clis);
  }
  const ids = cases['ids-40k'];
  if (ids) {
    loop('ids-40k', ids);
    const { heapBeforeMb, heapAfterExpiryMb } = ids.median;
    add(
      `ids-40k heap after expiry - before <= max(${HEAP_GROWTH_SHARE * 100} % of before, ${HEAP_GROWTH_FLOOR_MB} MiB) (MiB)`,
      heapAfterExpiryMb - heapBeforeMb,
      Math.max(HEAP_GROWTH_SHARE * heapBeforeMb, HEAP_GROWTH_FLOOR_MB),
    );
  }
  const first = cases['first-sweep'];
  if (first) {
    add(`first-sweep wall <= ${CRITICAL_PATH_SLACK} x critical path (ms)`, first.median.wallMs, CRITICAL_PATH_SLACK * first.criticalPath.median.wallMs);
    loop('first-sweep', first);
  }
  // The helper by its PSS: about 25 of its 42 MiB RSS are the Node binary's pages, which the gateway holds already.
  if (cases.memory) add(`memory: the pool's RSS rise, spawn helper included (by PSS) <= ${POOL_RSS_MB} MiB`, cases.memory.median.totalRisePssMb, POOL_RSS_MB);
  for (const [name, figures] of Object.entries(ENV_FIGURES) as [keyof ScaleTargetInput, readonly (readonly [string, number])[]][]) {
    const c = cases[name] as Judged<Record<string, number>> | undefined;
    if (!c?.env) continue;
    for (const [figure, floor] of figures) {
      const base = c.median[figure] ?? Number.NaN;
      const withEnv = c.env.median[figure] ?? Number.NaN;
      add(`env ${name} ${figure}: rise <= max(${ENV_SHARE * 100} %, ${floor})`, withEnv - base, Math.max(ENV_SHARE * base, floor));
    }
  }
  return out;
}
