/**
 * `warm-2k` and `warm-10k`: a gateway warming its pool with thousands of
 * providers at once. N env-probe providers (`p00001` … with
 * `[{ kind: 'env', vars: ['P00001_KEY'] }]`, every other one set), one
 * `await pool.warm(ids)` on a started pool whose answers were dropped.
 * Measured: how long the `warm()` call itself takes before it returns its
 * promise (the main thread's share, in one turn), the loop's max, the wall
 * time and the longest GC pause; and the old way, the same probes in
 * sequence on the main thread, whose loop max is its wall time.
 */
import { createAuthProbePool, type ProbeConfig } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { createProbeRunner, probeInSequence } from './probe-runner.js';
import { poolEnv, runNumbers, settle, since, type CaseContext } from './scale-case.js';

/** One run's figures; times in milliseconds. */
export interface WarmFigures {
  readonly providers: number;
  /** From calling `warm()` until it returned its promise. */
  readonly callMs: number;
  readonly wallMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  /** Answers unlike the configuration's (every other provider has its key set). */
  readonly wrong: number;
  /** The old way (absent in an env variant): its wall time and loop max. */
  readonly oldWallMs?: number;
  readonly oldLoopMaxMs?: number;
}

/** N env-probe providers and the variables of every other one. */
export function warmWorld(n: number): { ids: string[]; config: ProbeConfig; vars: Record<string, string>; expected: boolean[] } {
  const width = Math.max(5, String(n).length);
  const ids: string[] = [];
  const providers: ProbeConfig['providers'] = {};
  const vars: Record<string, string> = {};
  const expected: boolean[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `p${String(i).padStart(width, '0')}`;
    const key = `${id.toUpperCase()}_KEY`;
    providers[id] = [{ kind: 'env', vars: [key] }];
    if (i % 2 === 1) vars[key] = `sk-${id}-0123456789abcdef`;
    ids.push(id);
    expected.push(i % 2 === 1);
  }
  return { ids, config: { providers }, vars, expected };
}

export async function warmCase(ctx: CaseContext, n: number): Promise<WarmFigures[]> {
  const { ids, config, vars, expected } = warmWorld(n);
  const env = poolEnv(ctx, vars);
  const runs: WarmFigures[] = [];
  for (const run of runNumbers(ctx)) {
    const pool = createAuthProbePool({ probes: config, ...env });
    let figures: WarmFigures;
    try {
      // A started pool, as a gateway's is by the time it warms: a thread up and its code loaded, no answer kept.
      await pool.warm(ids.slice(0, 1));
      pool.invalidate();
      await settle();
      const loop = await watchLoop();
      const t0 = performance.now();
      const warming = pool.warm(ids);
      const callMs = since(t0);
      const report = await warming;
      const wallMs = since(t0);
      const l = await loop.stop();
      const wrong = ids.reduce((w, id, i) => w + (report.answers[id] === expected[i] ? 0 : 1), 0);
      figures = { providers: n, callMs, wallMs, loopMaxMs: l.loopMaxMs, delayMaxMs: l.delayMaxMs, gcMaxMs: l.gcMaxMs, wrong };
    } finally {
      await pool.close({ force: true });
    }
    if (!ctx.envVariant) figures = { ...figures, ...(await oldWay(ctx, config, vars, ids, expected)) };
    ctx.progress(
      `run ${run}/${ctx.flags.runs}: warm() returned in ${figures.callMs.toFixed(1)} ms, answered in ${figures.wallMs.toFixed(0)} ms, loop max ${figures.loopMaxMs.toFixed(1)} ms` +
        (figures.oldWallMs === undefined ? '' : `; old way ${figures.oldWallMs.toFixed(0)} ms`),
    );
    runs.push(figures);
  }
  return runs;
}

/** The same probes in sequence on the main thread, through the library's own probe code. */
async function oldWay(ctx: CaseContext, config: ProbeConfig, vars: Record<string, string>, ids: readonly string[], expected: readonly boolean[]) {
  const probe = createProbeRunner({ config, configDir: ctx.root, agentDir: ctx.root, env: vars });
  // Its code compiled, as the pool's was.
  await probe(ids[0] as string);
  await settle();
  const loop = await watchLoop();
  const t0 = performance.now();
  const found = new Set(await probeInSequence(probe, ids));
  const oldWallMs = since(t0);
  const l = await loop.stop();
  const wrong = ids.reduce((w, id, i) => w + (found.has(id) === expected[i] ? 0 : 1), 0);
  if (wrong > 0) ctx.progress(`WARNING: the old way got ${wrong} answers wrong`);
  return { oldWallMs, oldLoopMaxMs: l.loopMaxMs };
}
