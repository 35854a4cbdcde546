/**
 * `npm run bench`: the gateway's event loop during a cold provider sweep,
 * every way of running the probes, in one run, on one generated scenario,
 * after the scenario's critical path (its slowest provider alone), which
 * the pool's wall times are judged against. Prints a table and the targets
 * (or, with `--json`, the JSON on one line) and writes the JSON and the
 * ack-latency chart to `bench/results/` (and, for a default run, the chart
 * the README shows to `docs/`). Progress goes to stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startLivenessMonitor } from '../src/index.js';
import { parseCommandLine } from './cli-args.js';
import { measureCriticalPath, type CriticalPath } from './critical-path.js';
import { DOCS_SVG, USAGE, parseFlags, type Flags } from './flags.js';
import { startGateway } from './gateway.js';
import { forkLoadGenerator } from './load-control.js';
import { acksIn } from './figures.js';
import { now, runMode, type ModeRun } from './measure.js';
import { runMicro } from './micro.js';
import type { ModeContext, ModeName } from './mode.js';
import { createMode } from './modes.js';
import { poolOptions } from './pool-modes.js';
import { describeMachine, formatTable, modeFigures, niceFinding, ratios, type BenchResult, type ModeFigures } from './report.js';
import { buildScenario, type Scenario } from './scenario.js';
import { median, percentile } from './stats.js';
import { renderLatencyChart, type Series } from './svg.js';
import { targets } from './targets.js';

const started = now();
const progress = (line: string) => process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

/** Warnings of the liveness monitor, by time (epoch ms), to attribute to modes. */
function livenessWarnings(): { stop: () => void; times: number[] } {
  const times: number[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.includes('"event loop delayed"')) times.push((JSON.parse(line) as { time: number }).time);
      }
      done();
    },
  });
  const stop = startLivenessMonitor({ logger: pino({ level: 'warn' }, stream), intervalMs: 500 });
  return { stop, times };
}

/** The sweep of a mode whose ack p99 is the median: the one the chart draws. */
function medianWindow(run: ModeRun) {
  const p99 = (w: ModeRun['windows'][number]) => percentile(acksIn(run.acks, w).latencies, 99) || 0;
  const target = median(run.windows.map(p99));
  return run.windows.reduce((best, w) => (Math.abs(p99(w) - target) < Math.abs(p99(best) - target) ? w : best));
}

/** The modes the chart draws: the issue's comparison (the nice and CPU-bound variants are in the table). */
const CHARTED: readonly ModeName[] = ['idle', 'sync', 'yield', 'worker-per-sweep', 'pool', 'pool-hot'];

const threadsOf = (result: BenchResult) => result.modes.pool?.threads ?? result.flags.threads ?? result.criticalPath?.threads;

function chart(runs: readonly ModeRun[], result: BenchResult): string {
  const series: Series[] = runs
    .filter((run) => CHARTED.includes(run.name))
    .map((run) => {
      const w = medianWindow(run);
      return { name: run.name, points: run.acks.filter((a) => a.sentAt >= w.startAt && a.sentAt < w.endAt && a.latencyMs >= 0).map((a) => [a.sentAt - w.startAt, a.latencyMs] as const) };
    });
  const m = result.machine;
  return renderLatencyChart(series, {
    title: `Ack latency during a cold sweep of ${result.scenario.providers} providers`,
    subtitle: `${result.command} · ${m.cpus} × ${m.model} · Node ${m.node} · ${threadsOf(result) ?? '?'} threads · acks at ${result.flags.ackHz}/s`,
    deadline: { ms: 3000, label: "Discord's 3 s deadline" },
  });
}

async function main(flags: Flags, argv: readonly string[]): Promise<void> {
  const machine = describeMachine();
  progress(`${machine.cpus} x ${machine.model}, Node ${machine.node}; building the scenario (${flags.providers} providers)`);
  const scenario: Scenario = buildScenario({ providers: flags.providers, cliMs: flags.cliMs, seed: flags.seed, hashIterations: flags.hashIterations });
  const onSignal = () => {
    scenario.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  const ctx: ModeContext = { scenario, threads: flags.threads ?? undefined, spawnVia: flags.spawnVia ?? undefined, niceIncrement: flags.nice, ballastMb: flags.ballastMb };
  let criticalPath: CriticalPath | null = null;
  const liveness = livenessWarnings();
  const gateway = await startGateway();
  const load = await forkLoadGenerator();
  const runs: ModeRun[] = [];
  let micro = null;
  try {
    // Before the modes and their load: the slowest provider alone, on a quiet machine.
    if (flags.criticalPath) {
      progress('critical path: each CLI or module provider alone, cold');
      criticalPath = (await measureCriticalPath(scenario, poolOptions(ctx), flags.criticalReps, progress)) ?? null;
      if (criticalPath) progress(`critical path: ${criticalPath.ms.toFixed(0)} ms (${criticalPath.provider}, ${criticalPath.kind}) in ${(criticalPath.durationMs / 1000).toFixed(1)} s`);
    }
    for (const name of flags.modes) {
      progress(`${name}: preparing`);
      runs.push(
        await runMode(createMode(name, ctx), {
          gateway,
          load,
          ackHz: flags.ackHz,
          windowMs: flags.windowMs,
          sweeps: flags.sweeps,
          progress,
        }),
      );
    }
    if (flags.micro) micro = await runMicro(flags.threads ?? undefined, progress);
  } finally {
    liveness.stop();
    await load.close();
    await gateway.close();
    scenario.cleanup();
    process.off('SIGINT', onSignal);
  }

  const modes: Partial<Record<ModeName, ModeFigures>> = {};
  for (const run of runs) modes[run.name] = modeFigures(run, liveness.times.filter((t) => t >= run.startAt && t <= run.endAt).length);
  const kinds: Record<string, number> = {};
  for (const kind of Object.values(scenario.kinds)) kinds[kind] = (kinds[kind] ?? 0) + 1;
  const { json: _json, out: _out, docs: _docs, ...figureFlags } = flags;
  const criticalPathMs = criticalPath?.ms ?? null;
  const result: BenchResult = {
    command: argv.length === 0 ? 'npm run bench' : `node dist/bench/run.js ${argv.join(' ')}`,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((now() - started) / 1000),
    machine,
    flags: figureFlags,
    scenario: { providers: scenario.providers.length, withAuth: scenario.expected.length, kinds, store: scenario.store, hangTimeoutMs: scenario.hangTimeoutMs },
    criticalPathMs,
    criticalPath,
    modes,
    ratios: ratios(modes, criticalPathMs),
    micro,
    nice: niceFinding(modes, flags.nice),
    targets: targets(modes, micro, criticalPathMs),
  };

  const svg = chart(runs, result);
  mkdirSync(flags.out, { recursive: true });
  writeFileSync(join(flags.out, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(flags.out, 'bench-ack-latency.svg'), svg);
  if (flags.docs) {
    mkdirSync(dirname(DOCS_SVG), { recursive: true });
    writeFileSync(DOCS_SVG, svg);
  }
  const table = formatTable(result);
  if (flags.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`${table}\n\nwrote ${join(flags.out, 'bench.json')} and bench-ack-latency.svg${flags.docs ? ` and ${DOCS_SVG}` : ''}\n`);
  }
  for (const [name, m] of Object.entries(modes)) if (m.answersMatch === false) progress(`WARNING: ${name} did not find the providers the scenario gave auth`);
  progress(`done in ${result.durationS} s`);
}

const argv = process.argv.slice(2);
await main(parseCommandLine(USAGE, parseFlags, argv), argv);
