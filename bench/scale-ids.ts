/**
 * `ids-40k`: a gateway asked about `--ids` distinct ids nobody configured (a
 * user typing garbage, a client cycling through model names), `--burst` of
 * them in one turn every `--burst-ms`, through one checker. They fall to
 * the configuration's `defaults`, one env probe, on a pool with short TTLs
 * (`--ids-ttl-ms` positive and negative, half of it stale). Measured: the
 * loop's max during the bursts, and the heap used before them, after them,
 * and after every answer expired (a full GC before each reading; the wait
 * ends when `stats().answers` is 0, or at a timeout): memory the pool keeps
 * for answers nobody asks for again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthProbePool } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { collectGarbage } from './proc.js';
import { poolEnv, runNumbers, settle, since, type CaseContext } from './scale-case.js';
import { seededRandom } from './scenario-util.js';

/** One run's figures: times in milliseconds, heap in MiB. */
export interface IdsFigures {
  readonly ids: number;
  readonly bursts: number;
  /** From the first burst to the last answer. */
  readonly wallMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  readonly heapBeforeMb: number;
  readonly heapAfterBurstsMb: number;
  readonly heapAfterExpiryMb: number;
  /** Answers the pool kept after the bursts, and still kept when the wait for their expiry ended. */
  readonly answersAfterBursts: number;
  readonly answersLeft: number;
  /** How long that wait took. */
  readonly expiryWaitMs: number;
  /** Checks that rejected (`E_QUEUE_FULL` past `maxQueue` answers in flight, …; the codes are in the progress line). */
  readonly rejected: number;
  /** Checks that answered `true` (none has auth). */
  readonly wrong: number;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `n` distinct, valid, unconfigured provider ids: random letters and digits, then the index (which makes them distinct). */
export function garbageIds(n: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    let id = '';
    for (let j = 0; j < 12; j++) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
    ids.push(`${id}-${i.toString(36)}`);
  }
  return ids;
}

const mib = (bytes: number) => bytes / 2 ** 20;

function heapUsedMb(): number {
  collectGarbage();
  return mib(process.memoryUsage().heapUsed);
}

export async function idsCase(ctx: CaseContext): Promise<IdsFigures[]> {
  const { ids: n, burst, burstMs, idsTtlMs } = ctx.flags;
  const ids = garbageIds(n);
  const env = poolEnv(ctx, { SCALE_KNOWN_KEY: 'sk-known-0123456789abcdef' });
  const runs: IdsFigures[] = [];
  for (const run of runNumbers(ctx)) {
    const pool = createAuthProbePool({
      probes: { providers: { known: [{ kind: 'env', vars: ['SCALE_KNOWN_KEY'] }] }, defaults: [{ kind: 'env', vars: ['SCALE_NO_SUCH_KEY'] }] },
      ...env,
      cacheTtlMs: { positive: idsTtlMs, negative: idsTtlMs, staleWhileRevalidate: Math.round(idsTtlMs / 2) },
    });
    try {
      const check = pool.createChecker();
      // A started pool with one answer kept, as a gateway's is.
      await check('known');
      await settle();
      const heapBeforeMb = heapUsedMb();
      let issued = 0;
      let bursts = 0;
      let pending = 0;
      let rejected = 0;
      const codes = new Map<string, number>();
      let wrong = 0;
      let allAnswered = () => {};
      const answered = new Promise<void>((resolve) => (allAnswered = resolve));
      const done = () => {
        if (--pending === 0 && issued === n) allAnswered();
      };
      const loop = await watchLoop();
      const t0 = performance.now();
      while (issued < n) {
        const end = Math.min(n, issued + burst);
        for (; issued < end; issued++) {
          pending++;
          check(ids[issued] as string).then(
            (auth) => {
              if (auth) wrong++;
              done();
            },
            (err: unknown) => {
              rejected++;
              const code = String((err as { code?: unknown }).code ?? 'no code');
              codes.set(code, (codes.get(code) ?? 0) + 1);
              done();
            },
          );
        }
        bursts++;
        if (issued < n) await sleep(burstMs);
      }
      if (pending > 0) await answered;
      const wallMs = since(t0);
      const l = await loop.stop();
      const answersAfterBursts = pool.stats().answers;
      const heapAfterBurstsMb = heapUsedMb();
      // Every answer's TTL and stale window pass; the pool drops them unused.
      const t1 = performance.now();
      const deadline = t1 + 2 * idsTtlMs + idsTtlMs / 2 + 5000;
      while (pool.stats().answers > 0 && performance.now() < deadline) await sleep(100);
      const expiryWaitMs = since(t1);
      const answersLeft = pool.stats().answers;
      const heapAfterExpiryMb = heapUsedMb();
      const figures: IdsFigures = {
        ids: n,
        bursts,
        wallMs,
        loopMaxMs: l.loopMaxMs,
        delayMaxMs: l.delayMaxMs,
        gcMaxMs: l.gcMaxMs,
        heapBeforeMb,
        heapAfterBurstsMb,
        heapAfterExpiryMb,
        answersAfterBursts,
        answersLeft,
        expiryWaitMs,
        rejected,
        wrong,
      };
      ctx.progress(
        `run ${run}/${ctx.flags.runs}: ${n} ids in ${bursts} bursts, loop max ${l.loopMaxMs.toFixed(1)} ms; heap ${heapBeforeMb.toFixed(1)} -> ${heapAfterBurstsMb.toFixed(1)} -> ${heapAfterExpiryMb.toFixed(1)} MiB (${answersLeft} answers left after ${(expiryWaitMs / 1000).toFixed(1)} s)` +
          (rejected > 0 ? `; ${rejected} checks rejected: ${[...codes].map(([code, k]) => `${k} ${code}`).join(', ')}` : ''),
      );
      runs.push(figures);
    } finally {
      await pool.close({ force: true });
    }
  }
  return runs;
}
