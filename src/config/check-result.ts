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

/** The numbers of a result in a packed message, before its probes': see `PackedChecks`. */
export const RESULT_WIDTH = 8;
/** The numbers of each probe. */
export const PROBE_WIDTH = 10;
/** What stands for "none" where a number is a string's index (which is never negative). */
const NONE = -1;
const SOURCES = CheckProbeSchema.shape.source.options;
const KINDS = ProbeKindSchema.options;
const OUTCOMES = CheckProbeSchema.shape.outcome.options;

/**
 * Results in their check form, as one message carries them between the threads: their numbers in one array, their
 * strings (dependency lists, error codes) once each. Copying objects between threads serialises and rebuilds every
 * property by name: 32 results took about 1 µs each to post and 2 µs each to rebuild on the gateway's thread, against
 * 0.2 µs and 0.2 µs packed (a microbenchmark on one thread). An agent's providers read the same files, so their
 * dependency lists are one string, sent once and kept once; in a thousand agents' burst the main thread's CPU fell by
 * 13-20 ms (of 90-100).
 *
 * Per result: its index in the task's providers, `auth` (1 or 0), whether it has a `decidedBy` (1 or 0: null) and
 * that number, `durationMs`, its error's code and message (string indices, NONE: no error), and its probes' count;
 * then per probe: `position`, `index`, `source`, `kind` and `outcome` (their enums' indices), `durationMs`, `code` (a
 * string's index, NONE: none), whether it has a `validUntil` (1 or 0) and that number, `deps` (a string's index, NONE:
 * none). Presence goes apart from the value, and every value as it was: a value the check form refuses (a NaN, a
 * negative index) is refused unpacked, never read as "none".
 */
export interface PackedChecks {
  readonly nums: Float64Array;
  readonly strings: readonly string[];
}

/** The main thread's check of a packed message's frame; each result it holds is then checked on its own (`CheckResultSchema`). */
export const PackedChecksSchema = z.strictObject({ nums: z.instanceof(Float64Array), strings: z.array(z.string()) });

/** Dependency lists a packer compares a probe's with, before it joins it into a string of its own. */
const RECENT_DEPS = 8;

type DepPairs = NonNullable<ProviderResult['probes'][number]['deps']>;

/** Worker side: packs results' check forms, until `take()`. */
export class ChecksPacker {
  #nums: number[] = [];
  #strings: string[] = [];
  /** Error codes and messages: few, and short. */
  readonly #ids = new Map<string, number>();
  /**
   * The last lists of dependencies packed, with their strings' indices. An agent's providers read the same files,
   * whose paths and fingerprints the worker reads once per task (the same strings): compared pair by pair, their
   * lists are found equal without joining them or hashing a joined string, which was most of what packing cost.
   */
  #recent: { readonly deps: DepPairs; readonly id: number }[] = [];

  add(index: number, { auth, decidedBy, durationMs, probes, error }: ProviderResult): void {
    const nums = this.#nums;
    nums.push(index, auth ? 1 : 0, decidedBy === null ? 0 : 1, decidedBy ?? 0, durationMs, this.#id(error?.code), this.#id(error?.message), probes.length);
    for (const p of probes) {
      nums.push(
        p.position,
        p.index,
        SOURCES.indexOf(p.source),
        KINDS.indexOf(p.kind),
        OUTCOMES.indexOf(p.outcome as (typeof OUTCOMES)[number]),
        p.durationMs,
        this.#id(p.error?.code),
        p.validUntil === undefined ? 0 : 1,
        p.validUntil ?? 0,
        p.deps && p.deps.length > 0 ? this.#depsId(p.deps) : NONE,
      );
    }
  }

  /** What was added since the last `take()`. */
  take(): PackedChecks {
    const packed: PackedChecks = { nums: Float64Array.from(this.#nums), strings: this.#strings };
    this.#nums = [];
    this.#strings = [];
    this.#ids.clear();
    this.#recent = [];
    return packed;
  }

  #id(value: string | undefined): number {
    if (value === undefined) return NONE;
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#strings.push(value) - 1;
      this.#ids.set(value, id);
    }
    return id;
  }

  #depsId(deps: DepPairs): number {
    for (const recent of this.#recent) if (samePairs(recent.deps, deps)) return recent.id;
    const id = this.#strings.push(joinDeps(deps)) - 1;
    if (this.#recent.length === RECENT_DEPS) this.#recent.shift();
    this.#recent.push({ deps, id });
    return id;
  }
}

function samePairs(a: DepPairs, b: DepPairs): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as DepPairs[number];
    const y = b[i] as DepPairs[number];
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

/**
 * Main side: each result of a packed message as it claims to be, its index and its check form, for
 * `CheckResultSchema` to judge. What a number cannot stand for (an enum's index out of range, a string's index that
 * names none) is left as the number, and a presence that is neither 1 nor 0 makes its value NaN: the schema refuses
 * either, naming its field. Results are read until the numbers end, or until a result's count of probes runs past
 * them: the rest of that message is not readable.
 */
export function unpackChecks({ nums, strings }: PackedChecks): { readonly index: number; readonly check: unknown }[] {
  const out: { index: number; check: unknown }[] = [];
  const str = (n: number): unknown => (n === NONE ? undefined : Number.isInteger(n) && n >= 0 && n < strings.length ? strings[n] : n);
  const of = <T>(values: readonly T[], n: number): T | number => (Number.isInteger(n) && n >= 0 && n < values.length ? (values[n] as T) : n);
  /** A value that may be absent: `absent` when its presence is 0, the value when it is 1, NaN otherwise. */
  const maybe = <T>(presence: number, value: number, absent: T): number | T => (presence === 1 ? value : presence === 0 ? absent : Number.NaN);
  let k = 0;
  while (k + RESULT_WIDTH <= nums.length) {
    const count = nums[k + 7] as number;
    const end = k + RESULT_WIDTH + count * PROBE_WIDTH;
    if (!Number.isInteger(count) || count < 0 || end > nums.length) break;
    const auth = nums[k + 1] as number;
    const code = str(nums[k + 5] as number);
    const check: Record<string, unknown> = {
      auth: auth === 1 ? true : auth === 0 ? false : auth,
      decidedBy: maybe(nums[k + 2] as number, nums[k + 3] as number, null),
      durationMs: nums[k + 4],
      probes: new Array<unknown>(count),
    };
    if (code !== undefined) check.error = { code, message: str(nums[k + 6] as number) };
    const index = nums[k] as number;
    k += RESULT_WIDTH;
    for (let j = 0; j < count; j++, k += PROBE_WIDTH) {
      const probe: Record<string, unknown> = {
        position: nums[k],
        index: nums[k + 1],
        source: of(SOURCES, nums[k + 2] as number),
        kind: of(KINDS, nums[k + 3] as number),
        outcome: of(OUTCOMES, nums[k + 4] as number),
        durationMs: nums[k + 5],
      };
      const probeCode = str(nums[k + 6] as number);
      if (probeCode !== undefined) probe.code = probeCode;
      const validUntil = maybe(nums[k + 7] as number, nums[k + 8] as number, undefined);
      if (validUntil !== undefined) probe.validUntil = validUntil;
      const deps = str(nums[k + 9] as number);
      if (deps !== undefined) probe.deps = deps;
      (check.probes as unknown[])[j] = probe;
    }
    out.push({ index, check });
  }
  return out;
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
 * their cells then share (`Cell.apply`, `answers/deps.ts`): the strings and arrays of a thousand agents' answers are
 * kept once per distinct list, not once per probe. Bounded: past MAX_LISTS, it forgets them all (cells keep theirs).
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

/**
 * Main thread: the provider's result, from its check's form (an error's message is its code's). The check is this
 * thread's own object, unpacked from a message and validated (see `task-results.ts`), and read by nothing else: its
 * probes become the result's in place, their `deps` the shared list, so that a thousand agents' burst builds one tree
 * of objects per result, not two. A probe with an error code (rare) is built anew, with its `error` in place of the code.
 */
export function providerResultOf(provider: string, { auth, decidedBy, durationMs, probes, error }: CheckResult, lists?: DepsLists): ProviderResult {
  const out = probes as unknown as ProbeOutcome[];
  for (let i = 0; i < probes.length; i++) {
    const probe = probes[i] as CheckResult['probes'][number];
    const deps = probe.deps === undefined ? undefined : lists ? (lists.of(probe.deps) as [string, string][]) : pairs(probe.deps);
    if (probe.code === undefined) {
      // The same fields in the same order as one built anew (below, and in `unpackChecks`): one shape for the cells that read them.
      if (deps !== undefined) (probe as unknown as { deps: ProbeOutcome['deps'] }).deps = deps;
      continue;
    }
    const { position, index, source, kind, outcome, durationMs: ms, validUntil, code } = probe;
    const p: { -readonly [K in keyof ProbeOutcome]: ProbeOutcome[K] } = { position, index, source, kind, outcome, durationMs: ms };
    if (validUntil !== undefined) p.validUntil = validUntil;
    p.error = errorData(code);
    if (deps !== undefined) p.deps = deps;
    out[i] = p;
  }
  return error ? { provider, auth, decidedBy, probes: out, durationMs, error } : { provider, auth, decidedBy, probes: out, durationMs };
}

function pairs(deps: string): [string, string][] {
  const flat = deps.split(SEP);
  // Made at its size: kept as long as a cell follows it, and an array grown by pushing holds 17 slots.
  const out = new Array<[string, string]>(flat.length >> 1);
  for (let i = 0; i + 1 < flat.length; i += 2) out[i >> 1] = [flat[i] as string, flat[i + 1] as string];
  return out;
}
