/**
 * `npm run bench:scale`: what the library costs a gateway's main thread at
 * scale, each case beside the old synchronous way:
 *
 * - `warm-2k`, `warm-10k`: `await pool.warm(ids)` of 2,000 and 10,000
 *   env-probe providers (`scale-warm.ts`);
 * - `agents-json`, `agents-sqlite`: 1,000 agents' stores, 5 providers each,
 *   all 5,000 checks at once (`scale-agents.ts`; SQLite needs Node 22.13+);
 * - `clis`: a cold sweep of 200 providers, 64 of them with a 1 s CLI
 *   (`scale-clis.ts`);
 * - `ids-40k`: 40,000 unconfigured ids in bursts, then their expiry
 *   (`scale-ids.ts`);
 * - `first-sweep`: a fresh process's first sweep against its critical path
 *   (`scale-first-sweep.ts`);
 * - `memory`: the RSS of the pool's threads and spawn helper (`scale-memory.ts`).
 *
 * Cases 1 to 4 run again with `--env-vars` variables in `process.env` and
 * no `env` option. Each case runs in a child process of its own
 * (`scale-child.ts`), `--runs` times; the figures are medians. Prints a
 * table and the targets (or, with `--json`, the JSON on one line and the
 * table on stderr) and writes `bench/results/scale.json`. Progress goes to
 * stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine } from './cli-args.js';
import { describeMachine, gitCommit } from './report.js';
import { agentsSkipReason } from './scale-agents.js';
import { childEnv, endChildren, runChild, runChildProcess } from './scale-child.js';
import { CASE_NAMES, ENV_CASES, USAGE, childArgs, parseScaleFlags, type CaseName, type ScaleFlags } from './scale-flags.js';
import type { FirstSweepFigures } from './scale-first-sweep.js';
import { caseResult, formatScaleTable, type CaseResult, type ScaleCases, type ScaleResult } from './scale-report.js';
import { scaleTargets, type ScaleTargetInput } from './scale-targets.js';

const started = performance.now();
const progress = (line: string) => process.stderr.write(`[bench:scale ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

/** Run numbers of a case measured in a fresh process per run, within `--case-budget-s` as in the children (`runNumbers`). */
function* freshRuns(name: CaseName, flags: ScaleFlags): Generator<number> {
  const t0 = performance.now();
  for (let run = 1; run <= flags.runs; run++) {
    if (run > 1 && performance.now() - t0 > flags.caseBudgetS * 1000) {
      progress(`${name}: no more runs: ${run - 1} took over --case-budget-s ${flags.caseBudgetS}`);
      return;
    }
    yield run;
  }
}

/** Measures `name` (and its env variant): one child for all its runs, or a fresh process per run where the first use is the point. */
async function measureCase(name: CaseName, flags: ScaleFlags): Promise<CaseResult<object>> {
  if (name === 'first-sweep') {
    const sweeps: FirstSweepFigures[] = [];
    const alone: FirstSweepFigures[] = [];
    for (const run of freshRuns(name, flags)) {
      progress(`first-sweep: run ${run}/${flags.runs}, the critical path and the sweep, each in a fresh process`);
      alone.push(...(await runChildProcess<FirstSweepFigures>(childArgs(flags, 'first-sweep-alone', 1, false), childEnv(0))));
      sweeps.push(...(await runChildProcess<FirstSweepFigures>(childArgs(flags, 'first-sweep', 1, false), childEnv(0))));
    }
    const result: CaseResult<FirstSweepFigures> & { criticalPath: CaseResult<FirstSweepFigures> } = { ...caseResult(sweeps), criticalPath: caseResult(alone) };
    return result;
  }
  if (name === 'memory') {
    const runs: object[] = [];
    for (const run of freshRuns(name, flags)) {
      progress(`memory: run ${run}/${flags.runs} in a fresh process`);
      runs.push(...(await runChildProcess<object>(childArgs(flags, 'memory', 1, false), childEnv(0))));
    }
    return caseResult(runs);
  }
  progress(`${name}: ${flags.runs} run${flags.runs === 1 ? '' : 's'} in a child process`);
  const runs = await runChildProcess<object>(childArgs(flags, name, flags.runs, false), childEnv(0));
  if (!ENV_CASES.includes(name) || flags.envVars === 0) return caseResult(runs);
  progress(`${name}: again with ${flags.envVars} variables in process.env, the pool reading it`);
  const envRuns = await runChildProcess<object>(childArgs(flags, name, flags.runs, true), childEnv(flags.envVars));
  return caseResult(runs, { vars: flags.envVars, runs: envRuns });
}

async function main(flags: ScaleFlags, argv: readonly string[]): Promise<void> {
  const machine = describeMachine();
  progress(`${machine.cpus} x ${machine.model}, Node ${machine.node}; cases ${flags.cases.join(', ')}`);
  const onSignal = () => {
    // Each child closes its pools and removes its temp dirs on SIGTERM.
    endChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cases: Record<string, CaseResult<object>> = {};
  const skipped: Partial<Record<CaseName, string>> = {};
  const failed: Partial<Record<CaseName, string>> = {};
  try {
    for (const name of flags.cases) {
      const skip = name === 'agents-sqlite' ? agentsSkipReason('sqlite') : undefined;
      if (skip) {
        skipped[name] = skip;
        progress(`${name}: skipped, ${skip}`);
        continue;
      }
      try {
        cases[name] = await measureCase(name, flags);
      } catch (err) {
        failed[name] = (err as Error).message;
        progress(`${name}: FAILED, ${(err as Error).message}`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const { json: _json, out: _out, ...figureFlags } = flags;
  const ordered = Object.fromEntries(CASE_NAMES.filter((n) => cases[n]).map((n) => [n, cases[n]])) as ScaleCases;
  const result: ScaleResult = {
    command: argv.length === 0 ? 'npm run bench:scale' : `node --expose-gc dist/bench/scale.js ${argv.join(' ')}`,
    startedAt: new Date(performance.timeOrigin + started).toISOString(),
    durationS: Math.round((performance.now() - started) / 1000),
    machine,
    commit: gitCommit(),
    flags: figureFlags,
    cases: ordered,
    skipped,
    failed,
    targets: scaleTargets(ordered as ScaleTargetInput),
  };
  mkdirSync(flags.out, { recursive: true });
  const file = join(flags.out, 'scale.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const table = formatScaleTable(result);
  if (flags.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else process.stdout.write(`${table}\n\nwrote ${file}\n`);
  for (const [name, c] of Object.entries(ordered) as [string, CaseResult<{ wrong?: number }>][]) {
    if ((c.median.wrong ?? 0) > 0 || (c.env?.median.wrong ?? 0) > 0) progress(`WARNING: ${name} answered some checks wrong`);
  }
  progress(`done in ${result.durationS} s`);
  if (Object.keys(failed).length > 0) process.exitCode = 1;
}

const argv = process.argv.slice(2);
const { child, envVariant, ...flags } = parseCommandLine(USAGE, parseScaleFlags, argv);
try {
  if (child) await runChild(flags, child, envVariant);
  else await main(flags, argv);
} catch (err) {
  // Pools, children and temp dirs were cleaned up on the way out: say what failed, exit 1.
  process.stderr.write(`bench:scale${child ? ` --child ${child}` : ''} failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
