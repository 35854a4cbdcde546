/**
 * `bench:scale`'s command-line flags (node:util parseArgs through
 * `cli-args.ts`), with every default in one place, and the cases' names.
 */
import { FlagError, integerFlag, integerListFlag, parseStrict, RESULTS_DIR } from './cli-args.js';

/** Every case, in the order a run measures them. */
export const CASE_NAMES = ['warm-2k', 'warm-10k', 'agents-json', 'agents-sqlite', 'clis', 'ids-40k', 'first-sweep', 'memory'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

/** The cases measured again with `--env-vars` variables in `process.env` and no `env` option (cases 1 to 4). */
export const ENV_CASES: readonly CaseName[] = ['warm-2k', 'warm-10k', 'agents-json', 'agents-sqlite', 'clis', 'ids-40k'];

export interface ScaleFlags {
  readonly cases: readonly CaseName[];
  /** Runs of each case; figures are their medians. */
  readonly runs: number;
  /** A case (each variant) starts no further run once its runs have taken this long, in seconds. */
  readonly caseBudgetS: number;
  /** Providers of `warm-2k` and `warm-10k`. */
  readonly warmProviders: readonly [number, number];
  /** Agents of `agents-json` and `agents-sqlite`, 5 providers each. */
  readonly agents: number;
  /** Providers of `clis` and `first-sweep`. */
  readonly providers: number;
  /** Of `clis`' providers, those with a command probe; each fake CLI sleeps `cliMs`. */
  readonly clis: number;
  readonly cliMs: number;
  /** CLIs the old way runs in `clis` (the rest extrapolated). */
  readonly oldClis: number;
  /** Distinct ids of `ids-40k`, checked `burst` at a time, one burst every `burstMs`. */
  readonly ids: number;
  readonly burst: number;
  readonly burstMs: number;
  /** `ids-40k`'s positive and negative TTL (its stale window is half of it), in ms. */
  readonly idsTtlMs: number;
  /** Extra variables in `process.env` for the env variants; 0: no env variants. */
  readonly envVars: number;
  readonly json: boolean;
  /** Directory for `scale.json`. */
  readonly out: string;
}

export const DEFAULTS = {
  runs: 3,
  caseBudgetS: 60,
  warmProviders: [2000, 10_000],
  agents: 1000,
  providers: 200,
  clis: 64,
  cliMs: 1000,
  oldClis: 4,
  ids: 40_000,
  burst: 1000,
  burstMs: 50,
  idsTtlMs: 2000,
  envVars: 5000,
} as const;

export const USAGE = `Usage: npm run bench:scale -- [flags]   (or node --expose-gc dist/bench/scale.js [flags])

  --cases a,b            cases to run (default all: ${CASE_NAMES.join(',')})
  --runs N               runs of each case; figures are medians (default ${DEFAULTS.runs})
  --case-budget-s S      a case (each variant) starts no further run once its runs have taken S seconds;
                         its figures are then the medians of the runs made, at least one (default ${DEFAULTS.caseBudgetS})
  --warm-providers A,B   env-probe providers of warm-2k and warm-10k (default ${DEFAULTS.warmProviders.join(',')})
  --agents N             agents of agents-json and agents-sqlite, 5 providers each (default ${DEFAULTS.agents})
  --providers N          providers of clis and first-sweep (default ${DEFAULTS.providers})
  --clis N               of clis' providers, those with a fake CLI (default ${DEFAULTS.clis})
  --cli-ms MS            how long clis' fake CLI sleeps (default ${DEFAULTS.cliMs})
  --old-clis N           CLIs the old way runs in clis, the rest extrapolated (default ${DEFAULTS.oldClis}; ${DEFAULTS.clis}: all, exact)
  --ids N                distinct unconfigured ids of ids-40k (default ${DEFAULTS.ids})
  --burst N              ids checked per burst (default ${DEFAULTS.burst})
  --burst-ms MS          one burst this often (default ${DEFAULTS.burstMs})
  --ids-ttl-ms MS        ids-40k's positive and negative TTL; its stale window is half (default ${DEFAULTS.idsTtlMs})
  --env-vars N           variables set in process.env for the env variants of ${ENV_CASES.join(', ')};
                         0: no env variants (default ${DEFAULTS.envVars})
  --json                 print the JSON result to stdout (the table goes to stderr)
  --out DIR              where scale.json goes (default bench/results)
  --help

  --child CASE           (internal) measure one case in this process and print one JSON line`;

export type ChildRole = CaseName | 'first-sweep-alone';

/** Parses `argv` (without node and the script); throws a FlagError naming the bad flag. `--help` is the caller's. */
export function parseScaleFlags(argv: readonly string[]): ScaleFlags & { readonly child: ChildRole | null; readonly envVariant: boolean } {
  const names = ['cases', 'runs', 'case-budget-s', 'warm-providers', 'agents', 'providers', 'clis', 'cli-ms', 'old-clis', 'ids', 'burst', 'burst-ms', 'ids-ttl-ms', 'env-vars', 'out', 'child'];
  const v = parseStrict(argv, {
    ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
    json: { type: 'boolean' },
    'env-variant': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const cases = typeof v['cases'] === 'string' ? v['cases'].split(',').map((c) => c.trim()) : [...CASE_NAMES];
  const unknown = cases.filter((c) => !(CASE_NAMES as readonly string[]).includes(c));
  if (unknown.length > 0) throw new FlagError(`--cases: unknown ${unknown.join(', ')}; choose from ${CASE_NAMES.join(', ')}`);
  const warm = typeof v['warm-providers'] === 'string' ? integerListFlag(v['warm-providers'], 'warm-providers', 1, 200_000) : [...DEFAULTS.warmProviders];
  if (warm.length !== 2) throw new FlagError('--warm-providers: expected two integers, for warm-2k and warm-10k');
  const providers = integerFlag(v['providers'], 'providers', 2, 10_000, DEFAULTS.providers);
  const clis = integerFlag(v['clis'], 'clis', 1, 10_000, DEFAULTS.clis);
  if (clis >= providers) throw new FlagError(`--clis: must be fewer than --providers (${providers})`);
  const child = v['child'];
  if (child !== undefined && child !== 'first-sweep-alone' && !(CASE_NAMES as readonly string[]).includes(child as string)) throw new FlagError(`--child: unknown ${String(child)}`);
  return {
    cases: CASE_NAMES.filter((c) => cases.includes(c)),
    runs: integerFlag(v['runs'], 'runs', 1, 100, DEFAULTS.runs),
    caseBudgetS: integerFlag(v['case-budget-s'], 'case-budget-s', 1, 86_400, DEFAULTS.caseBudgetS),
    warmProviders: [warm[0] as number, warm[1] as number],
    agents: integerFlag(v['agents'], 'agents', 1, 100_000, DEFAULTS.agents),
    providers,
    clis,
    cliMs: integerFlag(v['cli-ms'], 'cli-ms', 1, 60_000, DEFAULTS.cliMs),
    oldClis: Math.min(integerFlag(v['old-clis'], 'old-clis', 1, 10_000, DEFAULTS.oldClis), clis),
    ids: integerFlag(v['ids'], 'ids', 1, 1_000_000, DEFAULTS.ids),
    burst: integerFlag(v['burst'], 'burst', 1, 100_000, DEFAULTS.burst),
    burstMs: integerFlag(v['burst-ms'], 'burst-ms', 1, 60_000, DEFAULTS.burstMs),
    idsTtlMs: integerFlag(v['ids-ttl-ms'], 'ids-ttl-ms', 10, 600_000, DEFAULTS.idsTtlMs),
    envVars: integerFlag(v['env-vars'], 'env-vars', 0, 20_000, DEFAULTS.envVars),
    json: v['json'] === true,
    out: typeof v['out'] === 'string' ? v['out'] : RESULTS_DIR,
    child: (child as ChildRole | undefined) ?? null,
    envVariant: v['env-variant'] === true,
  };
}

/** The flags a child process is given to measure `role` as the parent would: every size, explicitly. */
export function childArgs(flags: ScaleFlags, role: ChildRole, runs: number, envVariant: boolean): string[] {
  return [
    '--child',
    role,
    '--runs',
    String(runs),
    '--case-budget-s',
    String(flags.caseBudgetS),
    '--warm-providers',
    flags.warmProviders.join(','),
    '--agents',
    String(flags.agents),
    '--providers',
    String(flags.providers),
    '--clis',
    String(flags.clis),
    '--cli-ms',
    String(flags.cliMs),
    '--old-clis',
    String(flags.oldClis),
    '--ids',
    String(flags.ids),
    '--burst',
    String(flags.burst),
    '--burst-ms',
    String(flags.burstMs),
    '--ids-ttl-ms',
    String(flags.idsTtlMs),
    '--env-vars',
    String(flags.envVars),
    ...(envVariant ? ['--env-variant'] : []),
  ];
}
