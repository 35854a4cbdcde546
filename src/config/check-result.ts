/**
 * What a check keeps of a provider's result, as a worker streams it: each
 * probe's outcome without what only `explain()` shows (labels, details, error
 * messages), its dependencies as one string. A result is then about a third
 * of the values to serialise, to copy between the threads and to validate: at
 * a thousand agents' sweep, the main thread allocated 26 KB per result, most
 * of it the validation of the whole form. `explain()` still gets the whole
 * result (`ProbeTask.full`).
 */
import { z } from 'zod';
import { errorData } from '../errors.js';
import { ErrorCodeSchema, ErrorDataSchema, ProbeKindSchema, type ProbeOutcome, type ProviderResult } from './schema.js';

/** What separates a dependency's path from its fingerprint, and one dependency from the next. */
const SEP = '\0';
/** A probe's dependencies at most, as one string: 1,024 of them (the whole form's limit), paths of 4,096 characters. */
const MAX_DEPS_CHARS = 1024 * (4096 + 200 + 2);

/**
 * Whether `deps` is path, fingerprint pairs: an odd number of separators. Counted, not split: every streamed result is
 * checked on the gateway's loop, and `DepsLists` splits a list only the first time it sees it.
 */
function isPairs(deps: string): boolean {
  let separators = 0;
  for (let at = deps.indexOf(SEP); at >= 0; at = deps.indexOf(SEP, at + 1)) separators++;
  return separators % 2 === 1;
}

/**
 * One probe: its outcome's fields but label, detail and the error's message (its `code` only), and its dependencies
 * as one string, path, fingerprint, path, … joined by NUL (which no path or fingerprint holds: one value to copy and
 * validate, not two per dependency).
 */
const CheckProbeSchema = z.strictObject({
  position: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  source: z.enum(['provider', 'defaults']),
  kind: ProbeKindSchema,
  outcome: z.enum(['present', 'absent', 'error']),
  durationMs: z.number().nonnegative(),
  code: ErrorCodeSchema.optional(),
  validUntil: z.number().optional(),
  deps: z.string().max(MAX_DEPS_CHARS).refine(isPairs, { message: 'must be path, fingerprint pairs' }).optional(),
});

/** A provider's result for a check: its provider is the task's, by index. The main thread parses it compiled (`task-results.ts`). */
export const CheckResultSchema = z.strictObject({
  auth: z.boolean(),
  decidedBy: z.number().int().nonnegative().nullable(),
  durationMs: z.number().nonnegative(),
  probes: z.array(CheckProbeSchema),
  error: ErrorDataSchema.optional(),
});

export type CheckResult = z.infer<typeof CheckResultSchema>;
type CheckProbe = CheckResult['probes'][number];

/** Worker side: the check's form of `result`. */
export function checkResultOf(result: ProviderResult): CheckResult {
  return {
    auth: result.auth,
    decidedBy: result.decidedBy,
    durationMs: result.durationMs,
    probes: result.probes.map((p) => {
      const c: { -readonly [K in keyof CheckProbe]: CheckProbe[K] } = { position: p.position, index: p.index, source: p.source, kind: p.kind, outcome: p.outcome, durationMs: p.durationMs };
      if (p.error) c.code = p.error.code;
      if (p.validUntil !== undefined) c.validUntil = p.validUntil;
      if (p.deps) c.deps = joinDeps(p.deps);
      return c;
    }),
    ...(result.error ? { error: result.error } : {}),
  };
}

/** `deps` as one string, path, fingerprint, path, … joined by SEP. A loop, not `flat().join()`: this is a thread's work for every result it streams, and `flat` makes an array and walks it generically. */
function joinDeps(deps: readonly (readonly [string, string])[]): string {
  let out = '';
  for (let i = 0; i < deps.length; i++) {
    const [path, fingerprint] = deps[i] as readonly [string, string];
    out += i === 0 ? `${path}${SEP}${fingerprint}` : `${SEP}${path}${SEP}${fingerprint}`;
  }
  return out;
}

/** Distinct dependency lists kept at most before `DepsLists` starts afresh. */
const MAX_LISTS = 4096;

/**
 * Main thread, one per pool: dependency lists by their check form, so that results that read the same files as they
 * were (an agent's five providers, its one store; a thousand agents' one `~/.codex/auth.json`) get one list, which
 * their cells then share as one map (`Cell.apply`): the strings and maps of a thousand agents' answers are kept once
 * per distinct list, not once per probe. Bounded: past MAX_LISTS, it forgets them all.
 */
export class DepsLists {
  readonly #lists = new Map<string, readonly [string, string][]>();

  of(deps: string): readonly [string, string][] {
    let list = this.#lists.get(deps);
    if (list) return list;
    if (this.#lists.size >= MAX_LISTS) this.#lists.clear();
    this.#lists.set(deps, (list = pairs(deps)));
    return list;
  }
}

/** Main thread: the provider's result, from its check's form (an error's message is its code's). */
export function providerResultOf(provider: string, { auth, decidedBy, durationMs, probes, error }: CheckResult, lists?: DepsLists): ProviderResult {
  return {
    provider,
    auth,
    decidedBy,
    probes: probes.map(({ code, deps, ...kept }): ProbeOutcome => {
      const p: { -readonly [K in keyof ProbeOutcome]: ProbeOutcome[K] } = kept;
      if (code !== undefined) p.error = errorData(code);
      if (deps !== undefined) p.deps = lists ? (lists.of(deps) as [string, string][]) : pairs(deps);
      return p;
    }),
    durationMs,
    ...(error ? { error } : {}),
  };
}

function pairs(deps: string): [string, string][] {
  const flat = deps.split(SEP);
  // Made at its size: kept as long as a cell follows it, and an array grown by pushing holds 17 slots.
  const out = new Array<[string, string]>(flat.length >> 1);
  for (let i = 0; i + 1 < flat.length; i += 2) out[i >> 1] = [flat[i] as string, flat[i + 1] as string];
  return out;
}
