/**
 * How a worker reads the gateway's `process.env` (shared with it: Piscina
 * starts the workers with `SHARE_ENV`) in one epoch, at a cost that grows
 * with the environment once, not once per variable read.
 *
 * Each `process.env[name]` is a scan of the C library's environment under a
 * lock every thread shares: 4 µs a read with 5,000 variables. A warm of
 * 10,000 env-probe providers reads 10,000 names, so reading them one at a
 * time grows with both. Two reads take the environment in one pass:
 *
 * - its names, by `Object.getOwnPropertyNames` (0.7 ms for 5,000; never
 *   `Object.keys`, which asks the environment whether each name is
 *   enumerable: a scan each, 70 ms for 10,000). A name not among them is
 *   unset, with no scan: most of a sweep's variables are.
 * - its names and values, by Node's diagnostic report
 *   (`process.report.getReport()`'s `environmentVariables`, from
 *   `uv_os_environ`): 3.4 ms of fixed cost, 6 ms for 5,000 variables. When
 *   the report leaves them out (`--report-exclude-env`), the reader goes on
 *   reading set variables one at a time for the rest of its epoch.
 *
 * A reader takes each step once its reads so far have cost what the step is
 * expected to (ski rental: never more than about twice the cheapest way),
 * first the names, then the whole. What a step cost in this thread is what it
 * is expected to cost in the next epoch; a first whole read is expected to
 * cost what the names read says of the environment's size.
 *
 * Told how many lookups the epoch's tasks will make (`expect`: a burst's env
 * probes, see `dispatch/env-epochs.ts`), it need not find out by paying: once
 * the names are read and SAMPLE lookups made, if the rest would cost more one
 * at a time, at what these cost each, than a whole read, it reads the whole
 * now. An epoch of 10,000 lookups over 10,000 variables cost 70 to 114 ms
 * here; now 56 ms in a new thread, about 30 once its costs are learnt, most of
 * it the report.
 */
import { z } from 'zod';

/** The report's environment: names to values. */
const ReportEnvSchema = z.record(z.string(), z.string());

/**
 * What this thread's last read of the names and of the whole environment cost, in milliseconds; `whole` is undefined
 * until this thread has made one, and is then expected to cost what the report's other sections cost and about four
 * names reads (measured: 3.4 ms with a small environment; 6 ms with 5,000 variables, whose names took 0.7 ms).
 */
const lastCost: { names: number; whole: number | undefined } = { names: 0.25, whole: undefined };
const expectedWhole = (): number => lastCost.whole ?? 3.4 + 4 * lastCost.names;

/** Lookups after the names read from which a reader told what is coming judges the rest (see the top). */
const SAMPLE = 32;

/** This thread's reads so far, by kind (for tests). */
export const processEnvReads = { single: 0, names: 0, whole: 0 };

/** Runs `read`, noting its time as the cost of `step` (and counting it, if it read anything). */
function timed<T>(step: 'names' | 'whole', read: () => T | undefined): T | undefined {
  const t0 = performance.now();
  const value = read();
  lastCost[step] = performance.now() - t0;
  if (value !== undefined) processEnvReads[step]++;
  return value;
}

const readNames = (): ReadonlySet<string> => new Set(Object.getOwnPropertyNames(process.env));

/** The environment in one pass, or undefined when the report leaves it out. */
function readWhole(): ReadonlyMap<string, string> | undefined {
  let env: unknown;
  try {
    env = (process.report.getReport() as { environmentVariables?: unknown }).environmentVariables;
  } catch {
    return undefined;
  }
  const parsed = ReportEnvSchema.safeParse(env);
  return parsed.success ? new Map(Object.entries(parsed.data)) : undefined;
}

/** A reader of `process.env` for one epoch: `get` a variable, `names` of all of them. */
export interface ProcessEnvReader {
  get(name: string): string | undefined;
  names(): readonly string[];
  /** The epoch's lookups in this thread will be about this many in all (the largest figure told counts). */
  expect(lookups: number): void;
}

export function processEnvReader(): ProcessEnvReader {
  /** Time spent in single reads so far, in milliseconds. */
  let spent = 0;
  let names: ReadonlySet<string> | undefined;
  let whole: ReadonlyMap<string, string> | undefined;
  /** False once a whole read found no environment in the report. */
  let canReadWhole = true;
  /** Lookups expected here in this epoch (0: not told) and made so far; lookups made, and time spent reading, since the names were read. */
  let expected = 0;
  let lookups = 0;
  let sinceNames = 0;
  let spentSinceNames = 0;
  /** Whether what is left of the expected lookups would cost more one at a time, at what they have cost each since the names, than a whole read. */
  const restCostsMore = (): boolean => sinceNames >= SAMPLE && (expected - lookups) * (spentSinceNames / sinceNames) > expectedWhole();
  return {
    get(name) {
      if (whole) return whole.get(name);
      lookups++;
      if (!names && spent >= lastCost.names) names = timed('names', readNames);
      if (names) sinceNames++;
      if (names && !names.has(name)) return undefined;
      if (canReadWhole && (spent >= lastCost.names + expectedWhole() || restCostsMore())) {
        whole = timed('whole', readWhole);
        if (whole) return whole.get(name);
        canReadWhole = false;
      }
      const t0 = performance.now();
      const value = process.env[name];
      const ms = performance.now() - t0;
      spent += ms;
      if (names) spentSinceNames += ms;
      processEnvReads.single++;
      return value;
    },
    expect(n) {
      expected = Math.max(expected, n);
    },
    names() {
      if (whole) return [...whole.keys()];
      names ??= readNames();
      return [...names];
    },
  };
}
