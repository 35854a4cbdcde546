/**
 * The agents cases' bare pool: what the least main-thread work per check
 * allows. The same probes as the pool's, in a Piscina pool of the pool's
 * threads (count, niceness, young generation, tasks a thread holds at
 * once), while the main thread does only a Map lookup and a promise per
 * check: a burst's misses go out in tasks of six agents (about the pool's 32
 * providers a task), and their answers come back as bytes. No validation,
 * cells, watches, expiry, slices of the loop or counters: not a design to
 * ship, but the wall and CPU a burst would have if the gateway's thread did
 * next to nothing, beside one thread's read of the same stores and the pool's
 * own (see `scale-agents.ts`).
 */
import { Piscina } from 'piscina';
import { resolveOptions } from '../src/config/options.js';
import { TASKS_PER_WORKER } from '../src/dispatch/balancer.js';
import { WORKER_YOUNG_GENERATION_MB } from '../src/dispatch/worker-pool.js';
import type { RunnerInput } from './probe-runner.js';
import type { BareTask } from './scale-bare-worker.js';

const BARE_WORKER = new URL('./scale-bare-worker.js', import.meta.url).href;

/** Agents per task: five providers each, about the pool's 32 providers a task. */
const AGENTS_PER_TASK = 6;

interface Kept {
  promise: Promise<boolean>;
  settle: (auth: boolean) => void;
}

/** A scope's kept answers, and its misses not sent yet. */
interface BareScope {
  readonly agentDir: string;
  readonly answers: Map<string, Kept>;
  misses: string[];
}

/** Settles each agent's misses, in task order: `auth(k)` is the answer of the task's `k`th check. */
function settleAll(group: readonly BareScope[], misses: readonly string[][], auth: (k: number) => boolean): void {
  let k = 0;
  group.forEach((scope, g) => {
    for (const provider of misses[g] as string[]) scope.answers.get(provider)?.settle(auth(k++));
  });
}

/** A bare pool of `input`'s probes: its checkers, and `close()`, which ends its threads. */
export function createBarePool(input: RunnerInput) {
  const o = resolveOptions({ probes: input.config, configDir: input.configDir, env: input.env });
  const pool = new Piscina({
    filename: BARE_WORKER,
    minThreads: o.maxThreads,
    maxThreads: o.maxThreads,
    niceIncrement: o.niceIncrement,
    // As the pool's workers: a thread finishing a task has the next one already, not a round trip to this thread away.
    concurrentTasksPerWorker: TASKS_PER_WORKER,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    workerData: input,
  });
  const scopes = new Map<string, BareScope>();
  let queued: BareScope[] = [];

  const send = (): void => {
    const batch = queued;
    queued = [];
    for (let i = 0; i < batch.length; i += AGENTS_PER_TASK) {
      const group = batch.slice(i, i + AGENTS_PER_TASK);
      const misses = group.map((s) => {
        const m = s.misses;
        s.misses = [];
        return m;
      });
      // Every agent of a burst asks for the same providers.
      const task: BareTask = { agentDirs: group.map((s) => s.agentDir), providers: misses[0] as string[] };
      // A task that failed answers false: its checks count as wrong (the case warns), and none is left waiting.
      void (pool.run(task) as Promise<Uint8Array>).then(
        (bytes) => settleAll(group, misses, (k) => bytes[k] === 1),
        () => settleAll(group, misses, () => false),
      );
    }
  };

  const checker = (agentDir: string) => {
    let scope = scopes.get(agentDir);
    if (!scope) scopes.set(agentDir, (scope = { agentDir, answers: new Map(), misses: [] }));
    const home = scope;
    return (provider: string): Promise<boolean> => {
      const kept = home.answers.get(provider);
      if (kept) return kept.promise;
      let settle!: (auth: boolean) => void;
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      home.answers.set(provider, { promise, settle });
      if (home.misses.length === 0) {
        if (queued.length === 0) queueMicrotask(send);
        queued.push(home);
      }
      home.misses.push(provider);
      return promise;
    };
  };

  return {
    /** A checker of `agentDir`'s answers, as `pool.createChecker({ agentDir })` is the pool's. */
    checker,
    close: () => pool.close(),
  };
}
