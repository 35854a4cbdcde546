/**
 * One task's results. The worker posts each provider's result on the task's
 * channel as it completes (several in a message, see
 * `probes/result-outbox.ts`); each is validated on its own (a malformed one
 * fails that provider only, never its batch) and delivered at once, so a
 * batch's slow CLI holds back no other provider. Every provider's result is
 * delivered exactly once, whichever comes first: the worker's streamed one,
 * the task's own result, or, after its thread ended, a re-run's or a failure
 * (see `recovery.ts`).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { z } from 'zod';
import { errorData, type ErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import { ProviderResultSchema, type ProviderResult } from '../config/schema.js';
import { CheckResultSchema, type DepsLists, PackedChecksSchema, providerResultOf, unpackChecks } from '../config/check-result.js';
import type { Accounting } from './accounting.js';
import type { CommandSession } from './helper-host.js';
import type { DispatchRequest } from './request.js';
import type { Slices } from '../slices.js';

/**
 * The check form's schema compiled (zod's `z.compile`: the same results and issues, from generated code): this thread
 * checks every result a worker streams, and the runtime parser's walk of that nested shape was 3 µs a result here,
 * most of a burst's validation. Compiled in this module, which only the main thread loads: a worker thread, which
 * never parses a check form, pays nothing for it at its start.
 */
export const CompiledCheckResultSchema = z.compile(CheckResultSchema);

/** What a worker posts on a task's port (`ResultsMessage`, see `probes/result-outbox.ts`): its frame; each result in it is checked on its own. */
const ResultsMessageSchema = z.compile(z.union([z.strictObject({ results: z.array(z.unknown()) }), z.strictObject({ checks: PackedChecksSchema })]));

/**
 * A worker's answer for a task (`TaskResult`, see `probes/result-outbox.ts`): how many results it streamed, with those
 * of its last run packed, which are taken in as streamed ones are (`takeReturned`); or, without a port, one entry per
 * provider. Every result is validated on its own, so one malformed provider result never spoils the others.
 */
const TaskResultSchema = z.compile(z.union([z.strictObject({ streamed: z.number().int().nonnegative(), checks: PackedChecksSchema.optional() }), z.strictObject({ results: z.array(z.unknown()) })]));

/** Called with each provider's result, by its index in the task's providers. */
export type OnResult = (index: number, result: ProviderResult) => void;

/** What a task's results need from the dispatcher. */
export interface ResultsContext {
  readonly accounting: Accounting;
  /** Where each streamed result is checked and delivered: a thousand arriving at once take a slice of a turn at a time. */
  readonly slices: Slices;
  /** The pool's dependency lists: results that read the same files share one (see `DepsLists`). */
  readonly deps: DepsLists;
  readonly logger: ResolvedOptions['logger'];
  /** True once a force-close cut the tasks off (their CLIs killed): they reject with E_POOL_CLOSED, whatever they still post. */
  closed(): boolean;
}

export class TaskResults {
  /** The worker's end of the task's channel: transferred with the task. */
  readonly port: MessagePort;
  readonly #local: MessagePort;
  readonly #providers: readonly string[];
  readonly #skip: DispatchRequest['skip'];
  readonly #context: ResultsContext;
  readonly #onResult: OnResult | undefined;
  readonly #answered = new Map<number, ProviderResult>();
  #session: CommandSession | undefined;
  #probes = 0;
  #commands = 0;

  constructor(providers: readonly string[], req: Pick<DispatchRequest, 'skip'>, context: ResultsContext, onResult?: OnResult) {
    const { port1, port2 } = new MessageChannel();
    this.#local = port1;
    this.port = port2;
    this.#providers = providers;
    this.#skip = req.skip;
    this.#context = context;
    this.#onResult = onResult;
  }

  /** The results delivered so far, by provider index. */
  get answered(): ReadonlyMap<number, ProviderResult> {
    return this.#answered;
  }

  /** Probes run by the results this task delivered (a re-run's count for the re-run). */
  get probes(): number {
    return this.#probes;
  }

  /** Of those, command probes: how many CLIs this task's thread ran (see the `dispatch` log). */
  get commands(): number {
    return this.#commands;
  }

  /** Starts reading what the worker posts: its commands go to `commands` (the pool's helper), the rest are results. */
  listen(commands: CommandSession | undefined): void {
    this.#session = commands;
    this.#local.on('message', (message: unknown) => this.#received(message));
  }

  /**
   * The worker returned: what it posted and this thread has not read yet is read now, before the channel closes.
   * A worker posts every result before it returns, and a message is in this end's queue once posted.
   */
  takeQueued(): void {
    for (let next = receiveMessageOnPort(this.#local); next !== undefined; next = receiveMessageOnPort(this.#local)) this.#received(next.message);
  }

  #received(message: unknown): void {
    if (this.#session?.accept(message)) return;
    // Validated as it is: the message is this thread's own copy, and a parse would copy its arrays again (see `validateCheck`).
    if (!ResultsMessageSchema.validate(message)) return;
    this.#queue('checks' in message ? unpackChecks(message.checks) : message.results);
  }

  /**
   * Each result is a piece of work of its own, queued in order now: the task's completion, queued after, finds every
   * result it streamed taken.
   */
  #queue(results: readonly unknown[]): void {
    for (const streamed of results) this.#context.slices.run(() => this.#streamed(streamed));
  }

  /** Posts to the worker on the task's channel: a command's answer. */
  post(message: unknown): void {
    this.#local.postMessage(message);
  }

  /**
   * Delivers provider `index`'s result, unless it has one already: the first result of each provider wins. It is
   * counted and logged as it is delivered, so stats() and the logs already show it when its check resolves; a
   * re-run's result (`counted`) was counted by the re-run.
   */
  deliver(index: number, result: ProviderResult, counted = false): void {
    if (this.#answered.has(index)) return;
    if (!counted) {
      this.#probes += this.#context.accounting.result(result, this.#skip?.[index]);
      for (const probe of result.probes) if (probe.kind === 'command') this.#commands++;
    }
    this.#answered.set(index, result);
    this.#onResult?.(index, result);
  }

  /**
   * The task's own result, as its worker returned it: the results it brings of the worker's last run are taken in as
   * streamed ones are, each a piece of work of its own (see `#received`), before the task completes (`complete`).
   */
  takeReturned(raw: unknown): void {
    if (TaskResultSchema.validate(raw) && 'streamed' in raw && raw.checks) this.#queue(unpackChecks(raw.checks));
  }

  /** The task's own result, once its worker returned it: every provider's result, each delivered (if it was not yet). */
  complete(raw: unknown): ProviderResult[] {
    const results = this.#validate(raw);
    for (const [i, result] of results.entries()) this.deliver(i, result);
    return results;
  }

  /** The worker ended: closes the channel once the results it posted just before it ended have arrived. */
  async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    // And those waiting for a slice are taken first: what was answered is known before anything runs again.
    await this.#context.slices.submit(() => undefined);
    this.close();
  }

  close(): void {
    this.#local.close();
  }

  #streamed(streamed: unknown): void {
    const { index, result, check } = (streamed ?? {}) as { index?: unknown; result?: unknown; check?: unknown };
    if (this.#context.closed()) return;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= this.#providers.length || this.#answered.has(index)) return;
    const provider = this.#providers[index] as string;
    const one = check !== undefined ? validateCheck(provider, check, this.#context.deps) : validateOne(provider, result);
    // A malformed one waits for the task's own result (or its recovery), which decides it.
    if (one.ok) this.deliver(index, one.result);
  }

  /**
   * Each provider's result checked on its own: a malformed one fails that provider only, never its batch. One the
   * worker streamed, and that was checked then, is the same result: it is not parsed twice.
   */
  #validate(raw: unknown): ProviderResult[] {
    const providers = this.#providers;
    const checked = this.#answered;
    // Every provider was answered as it was streamed (the usual case): nothing left to check.
    if (checked.size === providers.length) return providers.map((_, i) => checked.get(i) as ProviderResult);
    const { logger } = this.#context;
    // Validated as it is, as `takeReturned` did the same reply (each result in it is then parsed on its own).
    const valid = TaskResultSchema.validate(raw);
    const all = valid && 'results' in raw ? raw.results : undefined;
    if (!valid || (all !== undefined && all.length !== providers.length)) {
      logger.error({ providers: providers.length }, 'worker returned a malformed result');
      return providers.map((p, i) => checked.get(i) ?? failure(p, 'E_BAD_WORKER_RESULT'));
    }
    return providers.map((provider, i) => {
      const known = checked.get(i);
      if (known) return known;
      // Streamed, and malformed then (it was checked as it came).
      if (all === undefined) {
        logger.error({ provider }, 'worker returned a malformed result');
        return failure(provider, 'E_BAD_WORKER_RESULT');
      }
      const one = validateOne(provider, all[i]);
      if (one.ok) return one.result;
      logger.error({ provider, fields: one.fields }, 'worker returned a malformed result');
      return failure(provider, 'E_BAD_WORKER_RESULT');
    });
  }
}

/** One provider's result, if it is well formed and for `provider`; else the fields that were not (at most 5). */
function validateOne(provider: string, raw: unknown): { ok: true; result: ProviderResult } | { ok: false; fields: string[] } {
  const one = ProviderResultSchema.safeParse(raw);
  if (one.success && one.data.provider === provider) return { ok: true, result: one.data };
  return { ok: false, fields: one.success ? ['provider'] : issueFields(one.error) };
}

/**
 * A check's form of one provider's result (see `config/check-result.ts`), if it is well formed; else the fields that
 * were not (at most 5). Validated as it is (zod's `validate`: the compiled checks without the copy a parse builds, which
 * was a kilobyte a result on the gateway's heap), then made the provider's result; a result refused is parsed once
 * more, for its issues. `raw` is this thread's own object, unpacked from the message, so what was validated is what is
 * read; its probes become the result's (see `providerResultOf`).
 */
function validateCheck(provider: string, raw: unknown, deps: DepsLists): { ok: true; result: ProviderResult } | { ok: false; fields: string[] } {
  if (CompiledCheckResultSchema.validate(raw)) return { ok: true, result: providerResultOf(provider, raw, deps) };
  const one = CompiledCheckResultSchema.safeParse(raw);
  return { ok: false, fields: one.success ? ['check'] : issueFields(one.error) };
}

/** The fields a validation found wrong, at most 5: named in the log, never their values. */
function issueFields(error: z.ZodError): string[] {
  return [...new Set(error.issues.map((x) => x.path.join('.')))].slice(0, 5);
}

/** A provider's result when it could not be probed: no auth, no probe run, and the error. */
export function failure(provider: string, code: ErrorCode, detail?: string): ProviderResult {
  return { provider, auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData(code, detail) };
}
