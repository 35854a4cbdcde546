/**
 * A worker's results, on their way to the main thread: those a task's
 * providers complete in one run of the thread go in one message, not one
 * each. A message costs both threads a fixed price (about 50 µs of this
 * thread's time for a provider's result, most of it serialising it alone),
 * and a sweep of a thousand agents' stores is thousands of results.
 *
 * A message goes once the thread's current run is over (a microtask: the
 * providers whose probes are all synchronous complete in that run), or as
 * soon as the results waiting are `FLUSH_AFTER_MS` old: a probe that then
 * blocks the thread until the watchdog ends it holds back at most that much
 * of the results before it (they run again, see `dispatch/recovery.ts`).
 * Not a later phase of the loop: a module probe whose import resolves in
 * microtasks, then spins, would hold back the results its task's lookups
 * completed before it.
 *
 * A task whose providers have all completed by then (every provider of a
 * thousand agents' stores) takes its results back (`takeLast`) and returns
 * them with its own result, in the microtasks that follow: one message to the
 * main thread, not two. Each message wakes the main thread, which takes the
 * CPU from this one (niced): in such a burst the worker was preempted about
 * 200 times, and waited 80-130 ms for its CPU, with a message of results and
 * Piscina's own reply per task.
 */
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { ProviderResult } from '../config/schema.js';
import { ChecksPacker, type PackedChecks } from '../config/check-result.js';

/** How long a result may wait for others to share its message, in milliseconds. */
export const FLUSH_AFTER_MS = 2;

/** One provider's result whole (for `explain()`), by its index in the task's providers. */
export interface StreamedResult {
  readonly index: number;
  readonly result: ProviderResult;
}

/** What a worker posts on a task's port: results, in the order they completed; whole, or packed in their check form (see `config/check-result.ts`). */
export type ResultsMessage = { readonly results: readonly StreamedResult[] } | { readonly checks: PackedChecks };

/** A task's own result: every provider's whole (a task without a port), or how many it streamed, with those of its last run packed (see `takeLast`). */
export type TaskResult = { readonly streamed: number; readonly checks?: PackedChecks } | { readonly results: ProviderResult[] };

export class ResultOutbox {
  /** Whole results waiting (`full`), or the check forms packed. */
  #waiting: StreamedResult[] = [];
  readonly #packer = new ChecksPacker();
  #count = 0;
  #since = 0;

  /** Results added so far, of the task's `providers`. */
  #added = 0;

  /** `full`: results go whole (`explain()`), not in their check's form (see `config/check-result.ts`). */
  constructor(
    private readonly port: MessagePort,
    private readonly full: boolean,
    private readonly providers: number,
    /** The age at which waiting results go at once (see the top); a test of the run's end sets it out of a slow machine's reach. */
    private readonly flushAfterMs: number = FLUSH_AFTER_MS,
  ) {}

  add(index: number, result: ProviderResult): void {
    this.#added++;
    if (this.#count++ === 0) {
      this.#since = performance.now();
      queueMicrotask(() => this.#runEnded());
    }
    if (this.full) this.#waiting.push({ index, result });
    else this.#packer.add(index, result);
    if (performance.now() - this.#since >= this.flushAfterMs) this.flush();
  }

  /**
   * What waits, in its check form, for the task to return itself (see the top), and nothing more is posted of it;
   * undefined when nothing waits or results go whole (`explain()`, which posts them).
   */
  takeLast(): PackedChecks | undefined {
    if (this.#count === 0 || this.full) return undefined;
    this.#count = 0;
    return this.#packer.take();
  }

  /** The run is over: what waits is posted, unless it completes the task, which takes it back as it returns (see the top). */
  #runEnded(): void {
    if (!this.full && this.#added === this.providers) return;
    this.flush();
  }

  /** Posts what waits, if anything does. */
  flush(): void {
    if (this.#count === 0) return;
    this.#count = 0;
    let message: ResultsMessage;
    if (this.full) {
      message = { results: this.#waiting };
      this.#waiting = [];
    } else message = { checks: this.#packer.take() };
    this.port.postMessage(message);
  }
}
