/**
 * `explain()` reports: which probe decided, and every probe's outcome,
 * duration and error code. Built only from worker metadata, which never
 * carries a value, so a report cannot contain a secret.
 */
import type { AnswerState } from './answers/lifecycle.js';
import type { ErrorData } from './errors.js';
import type { ProbeOutcome, ProviderResult } from './config/schema.js';

/** How a published answer is found again from the outside: `explain()` and `stats()`. */
export interface KeptAnswer {
  /** Where the answer is in its life (see the README's "An answer's life"): `undecided`, `fresh`, `refreshing`, `held` or `stale`. */
  readonly state: AnswerState;
  readonly auth: boolean;
  /** Served from a failing probe's last good outcome. */
  readonly degraded: boolean;
  /** False because a probe failed with nothing earlier to fall back on; retried in the background. */
  readonly failing: boolean;
  /** False because its run had not ended by `answerWithinMs` (state `undecided`); the run goes on and publishes the real answer. */
  readonly undecided: boolean;
  /** When the next background run is due, in ms from now (a failing probe's backoff, or an expiry). */
  readonly nextRunInMs: number;
}

export interface ExplainReport {
  /** The id as the caller wrote it. */
  readonly input: string;
  /** The normalised id the probes ran for. */
  readonly provider: string;
  readonly auth: boolean;
  /** The first probe that found auth, or null. */
  readonly decidedBy: ProbeOutcome | null;
  /** Every probe, in the order they ran: the provider's own, then `defaults`. */
  readonly probes: readonly ProbeOutcome[];
  /** Set when the provider could not be probed at all (deadline passed, worker died). */
  readonly error?: ErrorData;
  /** Milliseconds spent in the worker on this provider. */
  readonly durationMs: number;
  /**
   * The answer checks of this scope are served now, if one is kept: it may differ from `auth` (a failing probe
   * served from its last good outcome is `degraded`; a remembered failure is `failing`, retried in `nextRunInMs`).
   */
  readonly kept?: KeptAnswer;
}

export function explainResult(input: string, result: ProviderResult, kept?: KeptAnswer): ExplainReport {
  return {
    input,
    provider: result.provider,
    auth: result.auth,
    decidedBy: result.decidedBy === null ? null : (result.probes[result.decidedBy] ?? null),
    probes: result.probes,
    ...(result.error ? { error: result.error } : {}),
    durationMs: result.durationMs,
    ...(kept ? { kept } : {}),
  };
}
