/**
 * The command line of every benchmark program, handled one way: `--help`
 * prints the usage and exits 0; a bad or unknown flag prints one line and
 * exits 2, never a stack trace (a benchmark is run by hand, and a trace reads
 * as a crash of the thing being measured).
 */
import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The repository's root, from the compiled benchmark (`dist/bench/`). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the benchmark programs write their results unless `--out` says otherwise. */
export const RESULTS_DIR = `${PACKAGE_ROOT}bench/results`;

/** A flag the user got wrong; its message names the flag and is shown as is. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

/**
 * node:util parseArgs, strict, with no positional arguments; its errors
 * become FlagErrors with a short message (`unknown flag --x`).
 */
export function parseStrict(argv: readonly string[], options: Options, allowNegative = false): Values {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, allowNegative }).values as Values;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new FlagError(`unknown flag ${/'([^']*)'/.exec(e.message ?? '')?.[1] ?? ''}`);
    throw new FlagError(String(e.message ?? err).split('\n')[0]);
  }
}

/** `raw` as an integer from `min` to `max`, `fallback` when absent; a FlagError naming `--name` otherwise. */
export function integerFlag(raw: string | boolean | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new FlagError(`--${name}: expected an integer from ${min} to ${max}`);
  return n;
}

/** A comma-separated list of integers from `min` to `max`. */
export function integerListFlag(raw: string, name: string, min: number, max: number): number[] {
  return raw.split(',').map((part) => integerFlag(part.trim(), name, min, max, 0));
}

/**
 * Runs `parse` over the program's arguments (default: `process.argv` after
 * the script). `--help` (or `-h`) anywhere: prints `usage` to stdout, exit 0.
 * A FlagError (or parseArgs' own error) from `parse`: one line on stderr
 * (`<program>: <message> (see --help)`), exit 2. Writes are synchronous so
 * nothing is lost to the exit.
 */
export function parseCommandLine<T>(usage: string, parse: (argv: readonly string[]) => T, argv: readonly string[] = process.argv.slice(2)): T {
  const program = basename(process.argv[1] ?? 'bench');
  if (argv.includes('--help') || argv.includes('-h')) {
    writeSync(1, `${usage}\n`);
    process.exit(0);
  }
  try {
    return parse(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    writeSync(2, `${program}: ${err.message} (see --help)\n`);
    process.exit(2);
  }
}
