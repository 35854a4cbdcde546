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

export class ResultOutbox {
  /** Whole results waiting (`full`), or the check forms packed. */
  #waiting: StreamedResult[] = [];
  readonly #packer = new ChecksPacker();
  #count = 0;
  #since = 0;

  /** `full`: results go whole (`explain()`), not in their check's form (see `config/check-result.ts`). */
  constructor(
    private readonly port: MessagePort,
    private readonly full: boolean,
  ) {}

  add(index: number, result: ProviderResult): void {
    if (this.#count++ === 0) {
      this.#since = performance.now();
      queueMicrotask(() => this.flush());
    }
    if (this.full) this.#waiting.push({ index, result });
    else this.#packer.add(index, result);
    if (performance.now() - this.#since >= FLUSH_AFTER_MS) this.flush();
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
