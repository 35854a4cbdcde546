/**
 * What a pool's first use costs the gateway's event loop: the first sweep of a
 * fresh pool, in a fresh process, is when Piscina starts its worker threads
 * (and, with `spawnVia: 'helper'`, the main thread the pool's spawn helper). Each run
 * is a child process that imports the package, then watches its own loop with
 * `monitorEventLoopDelay({ resolution: 1 })` and a 1 ms interval recording
 * every gap between ticks, creates a pool (env probes, an `authProfiles`
 * store, credential files, `/bin/true` command probes) and sweeps
 * `--providers` providers through `pool.createChecker()`. It reports the
 * loop's max delay (from the pool's creation, and from the first check on) and
 * where the big stalls were, relative to the pool's creation and to the first
 * dispatch (the checks' tick). Figures are medians over `--runs` fresh
 * processes per setting.
 * Run: `npm run build && node dist/bench/first-use.js [--runs 5] [--via worker,helper] [--threads default,1,2] [--json]`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ProbeConfigInput } from '../src/index.js';
import { FlagError, integerFlag, parseCommandLine, parseStrict } from './cli-args.js';

const USAGE = `Usage: node dist/bench/first-use.js [flags]

  --runs N          fresh processes per setting; figures are medians (default 5)
  --providers N     providers in the first sweep (default 30)
  --via a,b         spawnVia settings: worker, helper (default worker,helper)
  --threads a,b     threads.max settings: default (the library's), or a number (default default,1,2)
  --rss-mb N        memory the measured process holds first, as a larger gateway would (default 0)
  --gc-first        collect garbage fully before creating the pool: a process this small otherwise runs its first
                    major collection during the first sweep, which a long-running gateway has behind it
  --stall-ms MS     gaps between 1 ms ticks listed as stalls from this long (default 4)
  --tail-ms MS      how long the loop is still watched after the sweep (default 300)
  --sched           (Linux) split each stall into the main thread's time on a CPU, waiting for one, and blocked (/proc schedstat)
  --json            print the JSON result to stdout (the table goes to stderr)
  --help

  --child           (internal) run one measurement in this process and print one JSON line`;

const FLAGS = {
  runs: { type: 'string' },
  providers: { type: 'string' },
  via: { type: 'string', default: 'worker,helper' },
  threads: { type: 'string', default: 'default,1,2' },
  'rss-mb': { type: 'string' },
  'stall-ms': { type: 'string' },
  'tail-ms': { type: 'string' },
  sched: { type: 'boolean', default: false },
  'gc-first': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  child: { type: 'boolean', default: false },
} as const;

const { values, F, vias, threadSettings } = parseCommandLine(USAGE, (argv) => {
  const v = parseStrict(argv, FLAGS) as { via: string; threads: string; sched: boolean; 'gc-first': boolean; json: boolean; child: boolean } & Record<string, string | boolean | undefined>;
  const flags = {
    runs: integerFlag(v['runs'], 'runs', 1, 100, 5),
    providers: integerFlag(v['providers'], 'providers', 4, 10_000, 30),
    rssMb: integerFlag(v['rss-mb'], 'rss-mb', 0, 16_384, 0),
    stallMs: integerFlag(v['stall-ms'], 'stall-ms', 2, 1000, 4),
    tailMs: integerFlag(v['tail-ms'], 'tail-ms', 0, 10_000, 300),
  };
  const via = v.via.split(',').map((x) => x.trim());
  if (via.some((x) => x !== 'worker' && x !== 'helper')) throw new FlagError('--via: choose from worker, helper');
  const threads = v.threads.split(',').map((t) => t.trim());
  if (threads.some((t) => t !== 'default' && !(Number.isInteger(Number(t)) && Number(t) >= 1 && Number(t) <= 64))) throw new FlagError('--threads: expected default or an integer from 1 to 64');
  return { values: v, F: flags, vias: via, threadSettings: threads };
});

/** A gap between two ticks of the 1 ms interval, in ms since the pool was created (`at`) and since the first dispatch (`sinceDispatch`). */
interface Stall {
  readonly at: number;
  readonly sinceDispatch: number;
  readonly ms: number;
  /** With `--sched`: of `ms`, the main thread's time running, waiting in the run queue (other threads had the CPUs), and the rest past the 1 ms the ticker sleeps (blocked, e.g. on a lock or a page fault). */
  readonly onCpuMs?: number;
  readonly runQueueMs?: number;
  readonly blockedMs?: number;
}

/** The main thread's time on a CPU and waiting for one, in ns (Linux `/proc/<pid>/task/<tid>/schedstat`; the main thread's tid is the pid). */
function schedstat(): readonly [number, number] {
  const [run, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return [run ?? 0, wait ?? 0];
}

interface ChildRow {
  readonly via: string;
  readonly threads: string;
  /** Worker threads the pool had after the sweep. */
  readonly workers: number;
  readonly rssMb: number;
  /** The loop's max delay from the pool's creation on. */
  readonly loopMaxMs: number;
  /** The same from the first check on: the first sweep's own. */
  readonly sweepLoopMaxMs: number;
  /** The largest gap between 1 ms ticks. */
  readonly maxGapMs: number;
  /** `createAuthProbePool()` itself, synchronously. */
  readonly createMs: number;
  /** The checks themselves, before the first dispatch runs on their microtask. */
  readonly checksMs: number;
  /** The checks' tick: the checks, and the first dispatch on their microtask (Piscina's start, and the tasks it sends then). */
  readonly dispatchTickMs: number;
  /** From the first check to the sweep's last answer. */
  readonly sweepMs: number;
  /** When the first answer arrived, since the first dispatch. */
  readonly firstAnswerMs: number;
  /** The main thread's garbage collections since the pool's creation (pauses, in ms). */
  readonly gcMs: number;
  /** Those of 1 ms or more, since the first dispatch; kind as in `PerformanceEntry.detail.kind` (1 minor, 4 major, 8 incremental, 16 weak callbacks). */
  readonly gcs: readonly { readonly sinceDispatch: number; readonly ms: number; readonly kind: number }[];
  readonly stalls: readonly Stall[];
}

const round = (n: number) => Math.round(n * 100) / 100;

async function child(via: 'worker' | 'helper', threads: string): Promise<void> {
  const { monitorEventLoopDelay, performance, PerformanceObserver } = await import('node:perf_hooks');
  const { createAuthProbePool } = await import('../src/index.js');

  const dir = mkdtempSync(join(tmpdir(), 'first-use-'));
  const n = F.providers;
  // A third of the providers answer from env, a sixth from a credential file, a few from a CLI, the rest from the store (or nothing).
  const envCount = Math.ceil(n / 3);
  const fileCount = Math.ceil(n / 6);
  const cliCount = Math.min(3, n - envCount - fileCount);
  const providers = Array.from({ length: n }, (_, i) => `prov-${i}`);
  const profiles: Record<string, unknown> = {};
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir };
  const config: ProbeConfigInput['providers'] = {};
  providers.forEach((p, i) => {
    const key = `PROV_${i}_API_KEY`;
    if (i < envCount) {
      config[p] = [{ kind: 'env', vars: [key] }];
      if (i % 2 === 0) env[key] = `sk-${i}`;
    } else if (i < envCount + fileCount) {
      const file = join(dir, `creds-${i}.json`);
      writeFileSync(file, JSON.stringify({ tokens: { access_token: i % 2 === 0 ? `at-${i}` : '' } }));
      config[p] = [
        { kind: 'env', vars: [key] },
        { kind: 'credentialFile', path: file, pointer: '/tokens/access_token' },
      ];
    } else if (i < envCount + fileCount + cliCount) {
      config[p] = [{ kind: 'command', command: '/bin/true', timeoutMs: 5000 }];
    } else {
      config[p] = [{ kind: 'env', vars: [key] }];
      if (i % 3 !== 0) profiles[`${p}:default`] = { type: 'api_key', provider: p, key: `sk-store-${i}` };
    }
  });
  writeFileSync(join(dir, 'auth-profiles.json'), JSON.stringify({ version: 1, profiles }));

  const heap: Buffer[] = [];
  for (let i = 0; i < F.rssMb; i++) heap.push(Buffer.alloc(1 << 20, 1));
  // biome-ignore lint/correctness/noUnusedVariables: written, never read, so the loop's reads cannot be optimised away
  let sink = 0;
  // A gateway's main thread keeps touching its memory (as in fork-cost.ts).
  const touch = setInterval(() => {
    for (let i = 0; i < heap.length; i += 7) sink += heap[i]?.[i % 4096] ?? 0;
  }, 5);
  // Settle after the import, as a gateway would be between start-up and its first request.
  await new Promise((r) => setTimeout(r, 100));

  if (values['gc-first']) {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  }
  let created = Number.NaN;
  let dispatched = Number.NaN;
  let gcMs = 0;
  const gcs: { start: number; ms: number; kind: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!(e.startTime >= created)) continue;
      gcMs += e.duration;
      gcs.push({ start: e.startTime, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gaps: { from: number; ms: number; sched?: readonly [number, number] }[] = [];
  let maxGap = 0;
  let last = performance.now();
  let lastSched = values.sched ? schedstat() : undefined;
  const ticker = setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    const sched = lastSched && schedstat();
    if (gap > maxGap) maxGap = gap;
    if (gap >= F.stallMs && !Number.isNaN(created)) gaps.push({ from: last, ms: gap, ...(sched && lastSched ? { sched: [sched[0] - lastSched[0], sched[1] - lastSched[1]] as const } : {}) });
    last = now;
    lastSched = sched;
  }, 1);
  delay.enable();
  await new Promise((r) => setTimeout(r, 50));
  delay.reset();
  maxGap = 0;

  created = performance.now();
  const pool = createAuthProbePool({
    probes: { providers: config, defaults: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' }] },
    env,
    spawnVia: via,
    ...(threads === 'default' ? {} : { threads: { max: Number(threads) } }),
  });
  const createMs = performance.now() - created;
  // A gateway's first request comes a little later than its pool.
  await new Promise((r) => setTimeout(r, 20));
  // The sweep's own figure, without the pool's creation.
  const sweepDelay = monitorEventLoopDelay({ resolution: 1 });
  sweepDelay.enable();
  const check = pool.createChecker({ agentDir: dir });
  dispatched = performance.now();
  let firstAnswer = Number.NaN;
  const sweep = Promise.all(
    providers.map((p) =>
      check(p).then((auth) => {
        if (Number.isNaN(firstAnswer)) firstAnswer = performance.now();
        return auth;
      }),
    ),
  );
  const checksMs = performance.now() - dispatched;
  // Queued after the run queue's flush: runs once the first dispatch (Piscina's start) has returned.
  let dispatchTickMs = 0;
  queueMicrotask(() => queueMicrotask(() => (dispatchTickMs = performance.now() - dispatched)));
  await sweep;
  const sweepMs = performance.now() - dispatched;
  await new Promise((r) => setTimeout(r, F.tailMs));
  delay.disable();
  sweepDelay.disable();
  clearInterval(ticker);
  clearInterval(touch);
  gcObserver.disconnect();
  const workers = pool.stats().threads;
  const row: ChildRow = {
    via,
    threads,
    workers,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    loopMaxMs: round(delay.max / 1e6),
    sweepLoopMaxMs: round(sweepDelay.max / 1e6),
    maxGapMs: round(maxGap),
    createMs: round(createMs),
    checksMs: round(checksMs),
    dispatchTickMs: round(dispatchTickMs),
    sweepMs: round(sweepMs),
    firstAnswerMs: round(firstAnswer - dispatched),
    gcMs: round(gcMs),
    gcs: gcs.filter((g) => g.ms >= 1).map((g) => ({ sinceDispatch: round(g.start - dispatched), ms: round(g.ms), kind: g.kind })),
    stalls: gaps.map((g) => ({
      at: round(g.from - created),
      sinceDispatch: round(g.from - dispatched),
      ms: round(g.ms),
      ...(g.sched ? { onCpuMs: round(g.sched[0] / 1e6), runQueueMs: round(g.sched[1] / 1e6), blockedMs: round(Math.max(0, g.ms - 1 - (g.sched[0] + g.sched[1]) / 1e6)) } : {}),
    })),
  };
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(row));
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

if (values.child) {
  await child(vias[0] === 'helper' ? 'helper' : 'worker', threadSettings[0] as string);
} else {
  const out = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  const settings = vias.flatMap((via) => threadSettings.map((threads) => ({ via, threads })));
  const results: { via: string; threads: string; runs: ChildRow[]; median: Record<string, number> }[] = [];
  for (const { via, threads } of settings) {
    process.stderr.write(`[first-use] spawnVia ${via}, threads.max ${threads}: ${F.runs} runs...\n`);
    const runs: ChildRow[] = [];
    for (let r = 0; r < F.runs; r++) {
      // One run at a time, each in a fresh process: the first use is a once-per-process event.
      const args = [
        process.argv[1] as string,
        '--child',
        ...(values.sched ? ['--sched'] : []),
        ...(values['gc-first'] ? ['--gc-first'] : []),
        '--via',
        via,
        '--threads',
        threads,
        '--providers',
        String(F.providers),
        '--rss-mb',
        String(F.rssMb),
        '--stall-ms',
        String(F.stallMs),
        '--tail-ms',
        String(F.tailMs),
      ];
      runs.push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as ChildRow);
    }
    const keys = ['workers', 'rssMb', 'loopMaxMs', 'sweepLoopMaxMs', 'maxGapMs', 'createMs', 'checksMs', 'dispatchTickMs', 'firstAnswerMs', 'sweepMs', 'gcMs'] as const;
    results.push({ via, threads, runs, median: Object.fromEntries(keys.map((k) => [k, round(median(runs.map((x) => x[k])))])) });
  }
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
  out(`first sweep of ${F.providers} providers on a fresh pool, ${machine.cpus} × ${machine.model}, Node ${machine.node}; medians of ${F.runs} runs`);
  out(`spawnVia  threads  workers  loop max ms  sweep loop max ms  dispatch tick ms  first answer ms  sweep ms  stalls ≥ ${F.stallMs} ms (ms @ since dispatch), per run`);
  for (const r of results) {
    const m = r.median;
    const stalls = r.runs.map((run) => run.stalls.map((s) => `${s.ms.toFixed(0)}@${s.sinceDispatch.toFixed(0)}`).join(' ') || '-').join(' | ');
    out(
      `${r.via.padEnd(8)}  ${r.threads.padStart(7)}  ${String(m['workers']).padStart(7)}  ${(m['loopMaxMs'] ?? 0).toFixed(2).padStart(11)}  ${(m['maxGapMs'] ?? 0).toFixed(2).padStart(10)}  ${(m['dispatchTickMs'] ?? 0).toFixed(2).padStart(16)}  ${(m['firstAnswerMs'] ?? 0).toFixed(2).padStart(15)}  ${(m['sweepMs'] ?? 0).toFixed(1).padStart(8)}  ${stalls}`,
    );
  }
  if (values.json) console.log(JSON.stringify({ machine, flags: F, results }, null, 2));
}
