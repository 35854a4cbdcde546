/**
 * What happens to a task whose worker thread ended while it ran: a probe of
 * it ran past its deadline (the watchdog ended the thread), or the thread
 * died. Providers the worker had answered keep their results. When a probe of
 * this task is to blame, it is reported with the error and not run again; the
 * providers not yet answered run again without it, so the provider's other
 * probes still decide (a hung keychain lookup does not hide a valid
 * credential file) and the batch's other providers get their answers. Each
 * such recovery adds a skip, so this ends. A task that only shared the thread
 * with the culprit runs again as it was, at most MAX_COLLATERAL_RUNS times;
 * past that, or when the blamed probe was already skipped, the providers not
 * yet answered fail with the error.
 */
import { errorData, errorName, type ErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ProbeSkip, ProviderResult } from '../config/schema.js';
import type { Accounting } from './accounting.js';
import { subRequest, type DispatchRequest } from './request.js';
import { failure, type OnResult, type TaskResults } from './task-results.js';
import type { ProbePosition } from './watchdog.js';

/** Times a task is run again after its thread ended for another task's probe (or for no probe at all). */
export const MAX_COLLATERAL_RUNS = 2;

/** A task whose worker thread ended while it ran. */
export interface EndedTask {
  readonly providers: readonly string[];
  readonly req: DispatchRequest;
  /** Its results so far: those the worker streamed before it ended. */
  readonly results: TaskResults;
  /** What Piscina rejected the task with; only its name is ever logged. */
  readonly err: unknown;
  /** The probe of this task that was running when the thread ended, if exactly one was (see `culprit` in `watchdog.ts`). */
  readonly position: ProbePosition | undefined;
  /** The watchdog ended the thread for `position`, past its deadline; otherwise the thread died. */
  readonly timedOut: boolean;
}

/** What a recovery needs from the dispatcher: its counters and logger, and a way to run providers again. */
export interface RecoveryContext {
  readonly accounting: Accounting;
  readonly logger: ResolvedOptions['logger'];
  dispatch(providers: readonly string[], req: DispatchRequest, onResult?: OnResult): Promise<ProviderResult[]>;
}

/** Every provider's result for an ended task: those it had, and the rest's from a re-run or as failures. */
export function recover(task: EndedTask, context: RecoveryContext): Promise<ProviderResult[]> {
  return new Recovery(task, context).run();
}

class Recovery {
  readonly #task: EndedTask;
  readonly #context: RecoveryContext;
  readonly #code: ErrorCode;
  /** Its name only: a worker may die of a module probe's own error (a rejection left behind), whose message may quote a secret. */
  readonly #reason: string;
  /** The providers not answered yet, by index. */
  readonly #rest: readonly number[];

  constructor(task: EndedTask, context: RecoveryContext) {
    this.#task = task;
    this.#context = context;
    this.#code = task.timedOut ? 'E_PROBE_TIMEOUT' : 'E_WORKER_CRASHED';
    this.#reason = errorName(task.err);
    this.#rest = task.providers.map((_, i) => i).filter((i) => !task.results.answered.has(i));
  }

  async run(): Promise<ProviderResult[]> {
    const { req, position, results, timedOut } = this.#task;
    const { accounting, logger } = this.#context;
    const blamed = position === undefined || results.answered.has(position.provider) ? undefined : position;
    if (blamed === undefined) {
      const runs = (req.collateral ?? 0) + 1;
      if (this.#rest.length > 0 && runs <= MAX_COLLATERAL_RUNS) {
        accounting.counters.collateralRuns++;
        logger.warn({ providers: this.#rest.length, reason: this.#reason }, 'worker ended for another task; its providers run again');
        return this.#again({ ...req, collateral: runs });
      }
    }
    if (timedOut) accounting.counters.timeouts++;
    else accounting.counters.crashes++;
    const known = blamed === undefined ? undefined : (req.skip?.[blamed.provider] ?? []);
    if (blamed === undefined || known === undefined || known.some((s) => s.position === blamed.probe)) return this.#failRest();
    return this.#skip(blamed, known);
  }

  /** Runs the rest again without the blamed probe, which is reported with the error instead. */
  #skip(blamed: ProbePosition, known: readonly ProbeSkip[]): Promise<ProviderResult[]> {
    const { providers, req, timedOut } = this.#task;
    this.#context.logger.error(
      { provider: providers[blamed.provider], probe: blamed.probe + 1, code: this.#code, reason: this.#reason },
      timedOut ? 'probe ran past its deadline; worker terminated' : 'worker died while probing',
    );
    const skip = { position: blamed.probe, error: errorData(this.#code, `probe #${blamed.probe + 1}${timedOut ? ' ran past its deadline' : ' ended its worker'}`) };
    return this.#again({ ...req, skip: { ...req.skip, [blamed.provider]: [...known, skip] } });
  }

  /** No probe of this task to blame, or one already skipped: the rest fail with the error. */
  #failRest(): ProviderResult[] {
    const { providers, results } = this.#task;
    if (this.#rest.length > 0) this.#context.logger.error({ providers: this.#rest.length, code: this.#code, reason: this.#reason }, 'worker died outside a probe');
    return providers.map((p, i) => {
      const done = results.answered.get(i);
      if (done) return done;
      const failed = failure(p, this.#code);
      results.deliver(i, failed);
      return failed;
    });
  }

  /** The rest run again with `next`; each of their results is delivered as this task's as it arrives. */
  async #again(next: DispatchRequest): Promise<ProviderResult[]> {
    const { providers, results } = this.#task;
    const rest = this.#rest;
    const rerun = await this.#context.dispatch(
      rest.map((i) => providers[i] as string),
      subRequest(next, rest),
      (j, result) => results.deliver(rest[j] as number, result, true),
    );
    return providers.map((_, i) => results.answered.get(i) ?? (rerun[rest.indexOf(i)] as ProviderResult));
  }
}
