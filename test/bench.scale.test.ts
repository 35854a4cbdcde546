/**
 * `npm run bench:scale`: its targets judged from figures, the pieces it
 * reads its figures with, and a tiny run of every case end to end (real
 * pools, real files and child processes in a temp dir that must be left
 * empty).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { maxRunning } from '../dist/bench/scale-clis.js';
import { parseScaleFlags } from '../dist/bench/scale-flags.js';
import { garbageIds } from '../dist/bench/scale-ids.js';
import { fmt, medianFigures } from '../dist/bench/scale-report.js';
import { scaleTargets, type ScaleTargetInput } from '../dist/bench/scale-targets.js';
import { niceAvailable } from '../dist/src/dispatch/worker-pool.js';
import { tempDir, type TempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Figures that meet every target. */
const GOOD: ScaleTargetInput = {
  'warm-2k': { median: { callMs: 2, wallMs: 80, loopMaxMs: 6 } },
  'warm-10k': { median: { callMs: 4.9, wallMs: 400, loopMaxMs: 15 } },
  'agents-json': { median: { wallMs: 1400, loopMaxMs: 9, threadReadMs: 1000, coldWallMs: 2900, coldLoopMaxMs: 15, coldThreadReadMs: 2000 } },
  clis: { median: { wallMs: 4800, loopMaxMs: 3, boundMs: 4000 } },
  'ids-40k': { median: { loopMaxMs: 12, heapBeforeMb: 20, heapAfterExpiryMb: 23.9, rejected: 0 } },
  'first-sweep': { median: { wallMs: 500, loopMaxMs: 11 }, criticalPath: { median: { wallMs: 420 } } },
  memory: { median: { totalRisePssMb: 59 } },
};

describe('the scale benchmark targets', () => {
  it('judges every target of the cases run, in a fixed order, and meets them all for good figures', () => {
    const out = scaleTargets(GOOD);
    expect(out.map((t) => [t.target, t.met])).toEqual([
      ['warm-2k loop max <= 15 ms', true],
      ['warm-2k warm() returns in <= 5 ms', true],
      ['warm-10k loop max <= 15 ms', true],
      ['warm-10k warm() returns in <= 5 ms', true],
      ['agents-json first burst loop max <= 15 ms', true],
      ["agents-json first burst wall <= 1.5 x one thread's first read (ms)", true],
      ['agents-json loop max <= 15 ms', true],
      ["agents-json wall <= 1.5 x one thread's read time (ms)", true],
      ['clis wall <= 1.25 x (CLIs / 16 at once) x CLI time (ms)', true],
      ['clis loop max <= 15 ms', true],
      ['ids-40k loop max <= 15 ms', true],
      ['ids-40k heap after expiry - before <= max(10 % of before, 4 MiB) (MiB)', true],
      ['first-sweep wall <= 1.25 x critical path (ms)', true],
      ['first-sweep loop max <= 15 ms', true],
      ["memory: the pool's RSS rise, spawn helper included (by PSS) <= 60 MiB", true],
    ]);
    expect(out[5]).toEqual({ target: "agents-json first burst wall <= 1.5 x one thread's first read (ms)", value: 2900, limit: 3000, met: true });
    expect(out[7]).toEqual({ target: "agents-json wall <= 1.5 x one thread's read time (ms)", value: 1400, limit: 1500, met: true });
    expect(out[8]).toMatchObject({ value: 4800, limit: 5000 });
    expect(out[11]?.value).toBeCloseTo(3.9, 6);
    expect(out[12]).toMatchObject({ value: 500, limit: 525 });
  });

  it('misses each target its figures break', () => {
    const out = scaleTargets({
      'warm-2k': { median: { callMs: 5.1, wallMs: 80, loopMaxMs: 15.2 } },
      'agents-sqlite': { median: { wallMs: 1501, loopMaxMs: 40, threadReadMs: 1000, coldWallMs: 3001, coldLoopMaxMs: 15.1, coldThreadReadMs: 2000 } },
      clis: { median: { wallMs: 5001, loopMaxMs: 3, boundMs: 4000 } },
      // 10 % of 60 MiB is more than the 4 MiB floor.
      'ids-40k': { median: { loopMaxMs: 3, heapBeforeMb: 60, heapAfterExpiryMb: 66.1, rejected: 0 } },
      'first-sweep': { median: { wallMs: 526, loopMaxMs: 11 }, criticalPath: { median: { wallMs: 420 } } },
      memory: { median: { totalRisePssMb: 60.5 } },
    });
    expect(out.filter((t) => !t.met).map((t) => t.target)).toEqual([
      'warm-2k loop max <= 15 ms',
      'warm-2k warm() returns in <= 5 ms',
      'agents-sqlite first burst loop max <= 15 ms',
      "agents-sqlite first burst wall <= 1.5 x one thread's first read (ms)",
      'agents-sqlite loop max <= 15 ms',
      "agents-sqlite wall <= 1.5 x one thread's read time (ms)",
      'clis wall <= 1.25 x (CLIs / 16 at once) x CLI time (ms)',
      'ids-40k heap after expiry - before <= max(10 % of before, 4 MiB) (MiB)',
      'first-sweep wall <= 1.25 x critical path (ms)',
      "memory: the pool's RSS rise, spawn helper included (by PSS) <= 60 MiB",
    ]);
    expect(out.find((t) => t.target.startsWith('ids-40k heap'))).toMatchObject({ limit: 6 });
  });

  it('judges an env variant by how far each figure rose: 10 %, or the figure floor when that is more', () => {
    const out = scaleTargets({
      'warm-2k': { median: { callMs: 2, wallMs: 100, loopMaxMs: 8 }, env: { median: { callMs: 2.9, wallMs: 111, loopMaxMs: 6 } } },
      'ids-40k': {
        median: { loopMaxMs: 30, heapBeforeMb: 20, heapAfterExpiryMb: 21, rejected: 0 },
        env: { median: { loopMaxMs: 34, heapBeforeMb: 20, heapAfterExpiryMb: 23.5, rejected: 1 } },
      },
    }).filter((t) => t.target.startsWith('env '));
    expect(out.map((t) => [t.target, t.value, t.limit, t.met])).toEqual([
      // 0.9 ms more: under the 1 ms floor (10 % of 2 ms is less).
      ['env warm-2k callMs: rise <= max(10 %, 1)', 0.9, 1, true],
      // Lower with the variables: met.
      ['env warm-2k loopMaxMs: rise <= max(10 %, 2)', -2, 2, true],
      ['env warm-2k wallMs: rise <= max(10 %, 1)', 11, 10, false],
      ['env ids-40k loopMaxMs: rise <= max(10 %, 2)', 4, 3, false],
      ['env ids-40k heapAfterExpiryMb: rise <= max(10 %, 2)', 2.5, 2.1, false],
      // One check rejected where none was: no floor.
      ['env ids-40k rejected: rise <= max(10 %, 0)', 1, 0, false],
    ]);
  });

  it('leaves out what was not measured, and misses a target whose figure is NaN', () => {
    expect(scaleTargets({})).toEqual([]);
    // An env variant of the old way alone (no threadReadMs): no wall target, only the loop's.
    expect(
      scaleTargets({ 'agents-json': { median: { wallMs: 10, loopMaxMs: 3, threadReadMs: undefined, coldWallMs: 20, coldLoopMaxMs: 4, coldThreadReadMs: undefined } } }).map((t) => t.target),
    ).toEqual(['agents-json first burst loop max <= 15 ms', 'agents-json loop max <= 15 ms']);
    const [loop] = scaleTargets({ memory: { median: { totalRisePssMb: Number.NaN } } });
    expect(loop).toMatchObject({ met: false });
  });
});

describe("the scale benchmark's figures", () => {
  it('counts the most fake CLIs running at once from their start and end lines, in the order they were appended', () => {
    expect(maxRunning('')).toEqual({ max: 0, starts: 0 });
    expect(maxRunning('s\ns\ne\ns\ns\ne\ne\ne\n')).toEqual({ max: 3, starts: 4 });
    expect(maxRunning('s\ne\ns\ne\ns\ne\n')).toEqual({ max: 1, starts: 3 });
  });

  it('makes distinct, valid, unconfigured provider ids, the same for a seed', () => {
    const ids = garbageIds(5000);
    expect(new Set(ids).size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9._-]{0,127}$/);
    expect(garbageIds(3)).toEqual(ids.slice(0, 3));
  });

  it('takes the median of each figure over the runs, NaN where no run has a number', () => {
    const m = medianFigures([
      { wallMs: 30, loopMaxMs: 2, oldWallMs: null as unknown as number },
      { wallMs: 10, loopMaxMs: 9, oldWallMs: Number.NaN },
      { wallMs: 20, loopMaxMs: 4, oldWallMs: Number.NaN },
    ]);
    expect(m.wallMs).toBe(20);
    expect(m.loopMaxMs).toBe(4);
    expect(m.oldWallMs).toBeNaN();
    expect([fmt(Number.NaN), fmt(3), fmt(3.456), fmt(34.567), fmt(345.6)]).toEqual(['-', '3', '3.46', '34.6', '346']);
  });

  it('rejects flags that cannot describe a run', () => {
    expect(() => parseScaleFlags(['--clis', '200', '--providers', '200'])).toThrow(/--clis: must be fewer than --providers/);
    expect(() => parseScaleFlags(['--warm-providers', '2000'])).toThrow(/--warm-providers: expected two integers/);
    expect(() => parseScaleFlags(['--cases', 'warm-2k,nap'])).toThrow(/--cases: unknown nap/);
    expect(parseScaleFlags(['--cases', 'memory,warm-2k', '--old-clis', '500'])).toMatchObject({ cases: ['warm-2k', 'memory'], oldClis: 64, child: null, envVariant: false });
  });
});

/** Whether the agents cases can tell a burst's CPU by thread (see `ThreadSplit` in `bench/scale-agents.ts`). */
const BY_THREAD = existsSync('/proc/self/task') && niceAvailable();

/** The agents cases' figures: both bursts' (their process CPU too), one thread's reads of both sets (and their CPU), and the bare pool's. */
const AGENTS_FIGURES = [
  ...['agents', 'checks', 'wallMs', 'issueMs', 'loopMaxMs', 'delayMaxMs', 'gcMaxMs', 'cpuMs', 'wrong'],
  ...['coldWallMs', 'coldLoopMaxMs', 'coldGcMaxMs', 'coldIssueMs', 'coldCpuMs', 'threadReadMs', 'coldThreadReadMs', 'threadCpuMs', 'coldThreadCpuMs'],
  ...['bareWallMs', 'bareCpuMs', 'coldBareWallMs', 'oldWallMs', 'oldLoopMaxMs'],
  // By thread, where Linux's /proc tells and the workers run niced (Piscina's optional @napi-rs/nice): the pool's and the bare pool's.
  ...(BY_THREAD ? ['mainCpuMs', 'workersCpuMs', 'workersWaitMs', 'helpersCpuMs', 'bareMainCpuMs', 'bareWorkersCpuMs', 'bareWorkersWaitMs', 'bareHelpersCpuMs'] : []),
];

/** The figures every case's medians must carry as numbers (old ways and thread reads only without the env variables). */
const FIGURES: Record<string, readonly string[]> = {
  'warm-2k': ['providers', 'callMs', 'wallMs', 'loopMaxMs', 'delayMaxMs', 'gcMaxMs', 'wrong', 'oldWallMs', 'oldLoopMaxMs'],
  'warm-10k': ['providers', 'callMs', 'wallMs', 'loopMaxMs', 'delayMaxMs', 'gcMaxMs', 'wrong', 'oldWallMs', 'oldLoopMaxMs'],
  'agents-json': AGENTS_FIGURES,
  'agents-sqlite': AGENTS_FIGURES,
  clis: ['providers', 'clis', 'wallMs', 'loopMaxMs', 'delayMaxMs', 'gcMaxMs', 'maxConcurrent', 'cliRuns', 'boundMs', 'wrong', 'oldWallMs', 'oldMeasuredMs', 'oldClis', 'oldLoopMaxMs'],
  'ids-40k': [
    'ids',
    'bursts',
    'wallMs',
    'loopMaxMs',
    'delayMaxMs',
    'gcMaxMs',
    'heapBeforeMb',
    'heapAfterBurstsMb',
    'heapAfterExpiryMb',
    'answersAfterBursts',
    'answersLeft',
    'expiryWaitMs',
    'rejected',
    'wrong',
  ],
  'first-sweep': ['providers', 'wallMs', 'createMs', 'loopMaxMs', 'delayMaxMs', 'gcMaxMs', 'threads', 'wrong'],
  memory: ['providers', 'threads', 'rssBeforeMb', 'rssAfterMb', 'processRiseMb', 'perThreadMb', 'helpers', 'helperRssMb', 'helperPssMb', 'totalRiseMb', 'totalRisePssMb'],
};
const OLD = [
  ...['threadReadMs', 'coldThreadReadMs', 'threadCpuMs', 'coldThreadCpuMs', 'bareWallMs', 'bareCpuMs', 'coldBareWallMs'],
  ...['bareMainCpuMs', 'bareWorkersCpuMs', 'bareWorkersWaitMs', 'bareHelpersCpuMs', 'oldWallMs', 'oldMeasuredMs', 'oldClis', 'oldLoopMaxMs'],
];
const ENV_CASES = ['warm-2k', 'warm-10k', 'agents-json', 'agents-sqlite', 'clis', 'ids-40k'];

interface Case {
  runs: Record<string, number>[];
  median: Record<string, number>;
  env?: { vars: number; runs: Record<string, number>[]; median: Record<string, number> };
  criticalPath?: { runs: Record<string, number>[]; median: Record<string, number> };
}

describe('npm run bench:scale, with tiny sizes', () => {
  // Made in the test, not at collection: a run that filters the test out leaves no directory behind.
  let dir: TempDir | undefined;
  afterAll(() => dir?.cleanup());

  it('measures every case in child processes, with its env variant, and prints one JSON object with every figure', async () => {
    dir = tempDir('app-bench-scale-smoke-');
    const out = dir.path('results');
    // Every child builds its world under TMPDIR: an empty one shows they all cleaned up after themselves.
    const tmp = dir.path('tmp');
    dir.write('tmp/.keep', '');
    const args = [
      '--expose-gc',
      'dist/bench/scale.js',
      '--json',
      '--runs',
      '1',
      '--warm-providers',
      '20,40',
      '--agents',
      '4',
      '--providers',
      '20',
      '--clis',
      '4',
      '--cli-ms',
      '150',
      '--old-clis',
      '1',
      '--ids',
      '300',
      '--burst',
      '100',
      '--ids-ttl-ms',
      '300',
      '--env-vars',
      '50',
      '--out',
      out,
    ];
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, timeout: 100_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, so, se) =>
        err ? reject(Object.assign(err, { stderr: se })) : resolve({ stdout: so, stderr: se }),
      );
    });

    const result = JSON.parse(stdout) as {
      machine: { cpus: number; node: string };
      flags: Record<string, unknown>;
      cases: Record<string, Case>;
      skipped: Record<string, string>;
      failed: Record<string, string>;
      targets: { target: string; met: boolean }[];
    };
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const sqlite = major > 22 || (major === 22 && minor >= 13);
    const ran = Object.keys(FIGURES).filter((c) => sqlite || c !== 'agents-sqlite');
    expect(result.failed).toEqual({});
    expect(Object.keys(result.cases)).toEqual(ran);
    if (!sqlite) expect(result.skipped).toEqual({ 'agents-sqlite': expect.stringMatching(/^needs node:sqlite/) });
    for (const name of ran) {
      const c = result.cases[name] as Case;
      expect(c.runs, name).toHaveLength(1);
      for (const figure of FIGURES[name] ?? []) expect(typeof c.median[figure], `${name}.${figure}`).toBe('number');
      // Every answer right, in every variant.
      if ('wrong' in c.median) expect(c.median['wrong'], name).toBe(0);
      if (ENV_CASES.includes(name)) {
        expect(c.env?.vars, name).toBe(50);
        for (const figure of FIGURES[name] ?? []) expect(typeof c.env?.median[figure], `${name} env.${figure}`).toBe(OLD.includes(figure) ? 'undefined' : 'number');
        expect(c.env?.median['wrong'], name).toBe(0);
      } else expect(c.env, name).toBeUndefined();
    }
    const cases = result.cases;
    expect(cases['warm-2k']?.median['providers']).toBe(20);
    expect(cases['warm-10k']?.median['providers']).toBe(40);
    expect(cases['agents-json']?.median['checks']).toBe(20);
    // A burst took CPU, and the least wall it allows on the machine's cores is printed beside one thread's read.
    expect(cases['agents-json']?.median['cpuMs']).toBeGreaterThan(0);
    expect(cases['agents-json']?.median['threadCpuMs']).toBeGreaterThan(0);
    // Each fake CLI ran once in the sweep; they ran side by side, never more than there are.
    expect(cases['clis']?.median).toMatchObject({ clis: 4, cliRuns: 4, boundMs: 150, oldClis: 1 });
    expect(cases['clis']?.median['maxConcurrent']).toBeGreaterThanOrEqual(1);
    expect(cases['clis']?.median['maxConcurrent']).toBeLessThanOrEqual(4);
    expect(cases['ids-40k']?.median).toMatchObject({ ids: 300, bursts: 3, answersLeft: 0 });
    expect(cases['first-sweep']?.median['providers']).toBe(20);
    expect(cases['first-sweep']?.criticalPath?.median['providers']).toBe(1);
    if (process.platform === 'linux') expect(cases['memory']?.median['helpers']).toBe(1);

    expect(result.targets.map((t) => t.target)).toContain('first-sweep wall <= 1.25 x critical path (ms)');
    expect(result.targets.filter((t) => t.target.startsWith('env ')).length).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.flags).toMatchObject({ runs: 1, agents: 4, envVars: 50 });

    // The table and progress go to stderr; the JSON to --out; nothing is left in TMPDIR.
    expect(stderr).toMatch(/^machine: \d+ x .*, Node v/m);
    expect(stderr).toMatch(/^targets:\n {2}\[(met|MISSED)\] warm-2k loop max <= 15 ms/m);
    expect(stderr).toContain('[bench:scale clis] run 1/1: swept in');
    // The references answered as the generated data says too: one thread's read, the bare pool, the old ways.
    expect(stderr).not.toContain('WARNING');
    expect(stderr).toMatch(/^agents-json: .*over \d+ cores: [\d.]+ ms, no wall below [\d.]+ ms \([\d.]+ x one thread's read\) in the second burst/m);
    const byThread = String.raw`the gateway thread [\d.]+ ms, the workers [\d.]+ ms with [\d.]+ ms waiting for a CPU, V8's helpers and other threads [\d.]+ ms`;
    const bare = String.raw`\. A bare pool \(.*\): [\d.]+ ms \([\d.]+ x one thread's read\), CPU [\d.]+ ms${BY_THREAD ? `, by thread: ${byThread}` : ''}; its first burst [\d.]+ ms$`;
    expect(stderr).toMatch(new RegExp(`^agents-json: .*${BY_THREAD ? String.raw`\. By thread in the second burst: ${byThread}` : ''}${bare}`, 'm'));
    expect(JSON.parse(readFileSync(`${out}/scale.json`, 'utf8'))).toMatchObject({ cases: { clis: { median: { wallMs: cases['clis']?.median['wallMs'] } } } });
    expect(readdirSync(tmp)).toEqual(['.keep']);
  }, 120_000);
});
