/**
 * How tasks are spread over the pool's worker threads: several tasks run on
 * each thread at once, and a new thread starts while every one is busy.
 */
import type { Piscina } from 'piscina';

/**
 * Tasks one worker runs at once. A task waiting for its CLIs leaves the thread idle, so a worker takes more
 * tasks meanwhile (their other probes share the thread's lane): a check of a new provider never waits behind
 * a batch's hung CLI.
 */
export const TASKS_PER_WORKER = 8;

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Piscina's default balancer hands a task to any worker with room, and Piscina adds a thread only when none has
 * any, so with several tasks per worker a second thread would start only once the first had TASKS_PER_WORKER.
 * This one starts a thread while there are fewer than `maxThreads` and every one is busy, then picks the least busy.
 */
export function spreadBalancer(maxThreads: number): LoadBalancer {
  return (_task, workers) => {
    let best: (typeof workers)[number] | null = null;
    for (const worker of workers) {
      if (worker.currentUsage === 0) return worker;
      if (worker.currentUsage < TASKS_PER_WORKER && (best === null || worker.currentUsage < best.currentUsage)) best = worker;
    }
    return workers.length < maxThreads ? null : best;
  };
}
