/**
 * The benchmark's command-line flags (node:util parseArgs through
 * `cli-args.ts`), with every default in one place. The pool's own settings
 * (`--threads`, `--spawn-via`) have no default here: unless given, the pool
 * modes pass none and run with whatever the library's defaults are.
 */
import { FlagError, integerFlag, PACKAGE_ROOT, parseStrict, RESULTS_DIR } from './cli-args.js';
import { DEFAULT_NICE_INCREMENT } from '../src/config/options.js';
import { MODE_NAMES, type ModeName } from './mode.js';

export interface Flags {
  /** Providers in the sweep. */
  readonly providers: number;
  /** A keychain-style CLI's duration, in milliseconds (slow CLIs take 18×, hung ones are killed at 30×, at least 500 ms). */
  readonly cliMs: number;
  /** Worker threads of the pool modes (`threads.min` and `.max`); null: the library's default. */
  readonly threads: number | null;
  /** `spawnVia` of the pool modes; null: the library's default. */
  readonly spawnVia: 'worker' | 'helper' | null;
  readonly seed: number;
  /** Measured sweeps per mode; figures are their medians. */
  readonly sweeps: number;
  /** A measurement window's shortest length, in milliseconds. */
  readonly windowMs: number;
  /** Ack requests per second from the load generator. */
  readonly ackHz: number;
  /** `niceIncrement` of the `pool-nice0` and `pool-cpu-nice0` modes: the twins of the default pools, which run at the library's default. */
  readonly nice: number;
  /** PBKDF2 iterations of the keyring probe. */
  readonly hashIterations: number;
  /** Memory the `pool-large` mode's gateway holds, in MiB. */
  readonly ballastMb: number;
  /** Measure the critical path (each CLI or module provider alone) before the modes. */
  readonly criticalPath: boolean;
  /** Runs of the slowest providers alone, whose median is the critical path. */
  readonly criticalReps: number;
  readonly modes: readonly ModeName[];
  readonly micro: boolean;
  /** Print the JSON to stdout (the table goes to stderr). */
  readonly json: boolean;
  /** Directory for the JSON and SVG results. */
  readonly out: string;
  /** Also write `docs/bench-ack-latency.svg`: on by default for a run with every scenario default. */
  readonly docs: boolean;
}

export const DEFAULTS = {
  providers: 200,
  cliMs: 50,
  seed: 1,
  sweeps: 3,
  windowMs: 2000,
  ackHz: 50,
  nice: 0,
  hashIterations: 100_000,
  ballastMb: 1536,
  criticalReps: 3,
} as const;

/** The committed chart the README shows. */
export const DOCS_SVG = `${PACKAGE_ROOT}docs/bench-ack-latency.svg`;

export const USAGE = `Usage: npm run bench -- [flags]   (or node dist/bench/run.js [flags])

  --providers N        providers in the sweep (default ${DEFAULTS.providers})
  --cli-ms MS          keychain-style CLI time; slow CLIs take 18x, hung ones are killed at 30x, min 500 (default ${DEFAULTS.cliMs})
  --threads N          worker threads (min = max) of the pool modes (default: none passed, the library's default)
  --spawn-via W        spawnVia of the pool modes, worker or helper (default: none passed, the library's default)
  --seed N             scenario seed (default ${DEFAULTS.seed})
  --sweeps N           measured sweeps per mode; figures are medians (default ${DEFAULTS.sweeps})
  --window-ms MS       shortest measurement window (default ${DEFAULTS.windowMs})
  --ack-hz N           acks per second from the load generator (default ${DEFAULTS.ackHz})
  --nice N             niceIncrement of pool-nice0 and pool-cpu-nice0, the twins of pool and pool-cpu, which run at
                       the library's default (${DEFAULT_NICE_INCREMENT}) (default ${DEFAULTS.nice})
  --hash-iterations N  PBKDF2 iterations of the keyring probe (default ${DEFAULTS.hashIterations})
  --ballast-mb MB      memory the pool-large mode's gateway holds and keeps touching (default ${DEFAULTS.ballastMb})
  --critical-reps N    runs of the slowest providers alone for the critical path's median (default ${DEFAULTS.criticalReps})
  --no-critical-path   skip the critical path (each CLI or module provider probed alone first)
  --modes a,b          modes to run (default all: ${MODE_NAMES.join(',')})
  --no-micro           skip the micro-figures
  --json               print the JSON result to stdout (the table goes to stderr)
  --out DIR            where the JSON and SVG go (default bench/results)
  --no-docs            do not update docs/bench-ack-latency.svg (only a default run does)
  --help`;

/** Flag name, smallest and largest value of each integer flag with a default. */
const INTEGER_FLAGS = {
  providers: ['providers', 1, 100_000],
  cliMs: ['cli-ms', 1, 60_000],
  seed: ['seed', 0, 2 ** 32 - 1],
  sweeps: ['sweeps', 1, 100],
  windowMs: ['window-ms', 100, 600_000],
  ackHz: ['ack-hz', 1, 1000],
  nice: ['nice', 0, 19],
  hashIterations: ['hash-iterations', 1, 10_000_000],
  ballastMb: ['ballast-mb', 0, 65_536],
  criticalReps: ['critical-reps', 1, 15],
} as const satisfies Record<keyof typeof DEFAULTS, readonly [string, number, number]>;

/** Parses `argv` (without node and the script); throws a FlagError naming the bad flag. `--help` is the caller's. */
export function parseFlags(argv: readonly string[]): Flags {
  const values = parseStrict(
    argv,
    {
      ...Object.fromEntries(Object.values(INTEGER_FLAGS).map(([name]) => [name, { type: 'string' as const }])),
      threads: { type: 'string' },
      'spawn-via': { type: 'string' },
      'critical-path': { type: 'boolean' },
      modes: { type: 'string' },
      micro: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      docs: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    true,
  );
  const numbers = {} as Record<keyof typeof DEFAULTS, number>;
  // The committed chart is redrawn only by a run of the defaults: any flag that changes a figure turns that off.
  let scenarioDefaults = true;
  for (const [key, [name, min, max]] of Object.entries(INTEGER_FLAGS) as [keyof typeof DEFAULTS, readonly [string, number, number]][]) {
    numbers[key] = integerFlag(values[name], name, min, max, DEFAULTS[key]);
    if (numbers[key] !== DEFAULTS[key]) scenarioDefaults = false;
  }
  const threads = values['threads'] === undefined ? null : integerFlag(values['threads'], 'threads', 1, 64, 0);
  const spawnVia = values['spawn-via'];
  if (spawnVia !== undefined && spawnVia !== 'worker' && spawnVia !== 'helper') throw new FlagError('--spawn-via: expected worker or helper');
  if (threads !== null || spawnVia !== undefined) scenarioDefaults = false;
  const modes = typeof values['modes'] === 'string' ? values['modes'].split(',').map((m) => m.trim()) : [...MODE_NAMES];
  const unknown = modes.filter((m) => !(MODE_NAMES as readonly string[]).includes(m));
  if (unknown.length > 0) throw new FlagError(`--modes: unknown ${unknown.join(', ')}; choose from ${MODE_NAMES.join(', ')}`);
  if (modes.length < MODE_NAMES.length) scenarioDefaults = false;
  const micro = values['micro'] !== false;
  return {
    ...numbers,
    threads,
    spawnVia: spawnVia ?? null,
    criticalPath: values['critical-path'] !== false,
    modes: MODE_NAMES.filter((m) => modes.includes(m)),
    micro,
    json: values['json'] === true,
    out: typeof values['out'] === 'string' ? values['out'] : RESULTS_DIR,
    docs: typeof values['docs'] === 'boolean' ? values['docs'] : scenarioDefaults && micro && values['critical-path'] !== false,
  };
}
