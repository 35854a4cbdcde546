/**
 * `first-sweep`: a gateway's first sweep, in a fresh process. A pool is
 * created with the library's defaults over the mixed configuration
 * (`scale-mixed.ts`: env, credential files, an `auth-profiles.json` store,
 * 4 fake CLIs of 200 ms) and, 20 ms later (a gateway's first request comes a
 * little after its pool), every provider is checked through one checker.
 * Measured: the wall time from the first check to the last answer, and the
 * loop's max from a turn before the pool's creation to the end of the sweep
 * (the creation, the threads' and the spawn helper's start are the first
 * use's cost).
 *
 * Its critical path (role `first-sweep-alone`) is the same in another fresh
 * process with one provider checked: the first CLI provider, the slowest
 * probe of the mix. So it includes what the sweep cannot avoid (a thread's
 * and the helper's start, one CLI's run) and nothing a sweep adds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthProbePool } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { settle, since, wrongAnswers, type CaseContext } from './scale-case.js';
import { mixedWorld } from './scale-mixed.js';

/** One fresh process's figures; times in milliseconds. */
export interface FirstSweepFigures {
  /** Providers checked: all of them, or the slowest alone. */
  readonly providers: number;
  readonly wallMs: number;
  /** `createAuthProbePool()` itself. */
  readonly createMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  /** Worker threads the pool ran. */
  readonly threads: number;
  readonly wrong: number;
}

/** How long after its creation the pool gets its first checks, in milliseconds. */
const FIRST_REQUEST_MS = 20;

export async function firstSweepCase(ctx: CaseContext, alone: boolean): Promise<FirstSweepFigures[]> {
  const world = mixedWorld(ctx.root, ctx.flags.providers);
  const ids = alone ? [world.slowest] : world.ids;
  const expected = alone ? [world.expected[world.ids.indexOf(world.slowest)] as boolean] : world.expected;
  // A gateway has its start-up's garbage behind it when its first request comes.
  await settle();
  const loop = await watchLoop();
  const t0 = performance.now();
  const pool = createAuthProbePool({ probes: world.config, env: { ...world.vars } });
  const createMs = since(t0);
  try {
    await sleep(FIRST_REQUEST_MS);
    const t1 = performance.now();
    const check = pool.createChecker({ agentDir: world.agentDir });
    const answers = await Promise.all(ids.map((id) => check(id).catch(() => null)));
    const wallMs = since(t1);
    const l = await loop.stop();
    const figures: FirstSweepFigures = {
      providers: ids.length,
      wallMs,
      createMs,
      loopMaxMs: l.loopMaxMs,
      delayMaxMs: l.delayMaxMs,
      gcMaxMs: l.gcMaxMs,
      threads: pool.stats().threads,
      wrong: wrongAnswers(answers, expected),
    };
    ctx.progress(`${alone ? `${world.slowest} alone` : `${ids.length} providers`} in ${wallMs.toFixed(0)} ms on a fresh pool, loop max ${l.loopMaxMs.toFixed(1)} ms`);
    return [figures];
  } finally {
    await pool.close({ force: true });
  }
}
