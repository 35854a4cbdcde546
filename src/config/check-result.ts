/**
 * What a check keeps of a provider's result, as a worker streams it: each
 * probe's outcome as a tuple, without what only `explain()` shows (labels,
 * details, error messages). A result is then about a third of the values to
 * serialise, to copy between the threads and to validate: at a thousand
 * agents' sweep, the main thread allocated 26 KB per result, most of it the
 * validation of the whole form. `explain()` still gets the whole result
 * (`ProbeTask.full`).
 */
import { z } from 'zod';
import { errorData } from '../errors.js';
import { ErrorCodeSchema, ErrorDataSchema, ProbeKindSchema, type ProbeOutcome, type ProviderResult } from './schema.js';

/** What separates a dependency's path from its fingerprint, and one dependency from the next. */
const SEP = '\0';
/** A probe's dependencies at most, as one string: 1,024 of them (the whole form's limit), paths of 4,096 characters. */
const MAX_DEPS_CHARS = 1024 * (4096 + 200 + 2);

/**
 * One probe: position, index, source, kind, outcome, duration, error code, expiry, and its dependencies as one string,
 * path, fingerprint, path, … joined by NUL (which no path or fingerprint holds: one value to copy and validate, not
 * two per dependency).
 */
const CheckProbeSchema = z.tuple([
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.enum(['provider', 'defaults']),
  ProbeKindSchema,
  z.enum(['present', 'absent', 'error']),
  z.number().nonnegative(),
  ErrorCodeSchema.nullable(),
  z.number().nullable(),
  z
    .string()
    .max(MAX_DEPS_CHARS)
    .refine((deps) => deps.split(SEP).length % 2 === 0, { message: 'must be path, fingerprint pairs' })
    .nullable(),
]);

/** A provider's result for a check: auth, the position in `probes` of the probe that decided, duration, probes, and its own error. */
export const CheckResultSchema = z.tuple([z.boolean(), z.number().int().nonnegative().nullable(), z.number().nonnegative(), z.array(CheckProbeSchema), ErrorDataSchema.nullable()]);

export type CheckResult = z.infer<typeof CheckResultSchema>;

/** Worker side: the check's form of `result`. */
export function checkResultOf(result: ProviderResult): CheckResult {
  return [
    result.auth,
    result.decidedBy,
    result.durationMs,
    result.probes.map((p) => [p.position, p.index, p.source, p.kind, p.outcome, p.durationMs, p.error?.code ?? null, p.validUntil ?? null, p.deps ? p.deps.flat().join(SEP) : null]),
    result.error ?? null,
  ];
}

/** Main thread: the provider's result, from its check's form (an error's message is its code's). */
export function providerResultOf(provider: string, [auth, decidedBy, durationMs, probes, error]: CheckResult): ProviderResult {
  return {
    provider,
    auth,
    decidedBy,
    probes: probes.map(([position, index, source, kind, outcome, ms, code, validUntil, deps]): ProbeOutcome => {
      const p: { -readonly [K in keyof ProbeOutcome]: ProbeOutcome[K] } = { position, index, source, kind, outcome, durationMs: ms };
      if (code !== null) p.error = errorData(code);
      if (validUntil !== null) p.validUntil = validUntil;
      if (deps !== null) p.deps = pairs(deps);
      return p;
    }),
    durationMs,
    ...(error !== null ? { error } : {}),
  };
}

function pairs(deps: string): [string, string][] {
  const flat = deps.split(SEP);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
