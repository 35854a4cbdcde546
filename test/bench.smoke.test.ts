import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODES = ['idle', 'sync', 'yield', 'worker-per-sweep', 'pool', 'pool-adversarial', 'pool-large', 'pool-nice0', 'pool-hot', 'pool-cpu', 'pool-cpu-nice0'];
const FIGURES = [
  'wallMs',
  'loopP50Ms',
  'loopP99Ms',
  'loopMaxMs',
  'elu',
  'cpuWaitPerWakeUs',
  'gcMaxMs',
  'ackP50Ms',
  'ackP99Ms',
  'ackMaxMs',
  'acksOver3s',
  'peakRssMb',
  'rssGrowthMb',
  'livenessWarnings',
];
const MICRO = ['cachedCheckNs', 'mapAwaitNs', 'cachedVsMap', 'dispatchSingleUs', 'dispatchBatchedUs', 'poolStartMs', 'workerRssMb'];

function mtimeOrNull(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

describe('npm run bench, with tiny parameters', () => {
  const dir = tempDir('bench-smoke-');
  afterAll(() => dir.cleanup());

  it('runs the critical path and every mode as a child process and prints one JSON object with every figure', async () => {
    const out = dir.path('results');
    // The benchmark builds its world under TMPDIR: an empty one shows it cleaned up after itself.
    const tmp = dir.path('tmp');
    dir.write('tmp/.keep', '');
    const docs = `${ROOT}docs/bench-ack-latency.svg`;
    const docsBefore = mtimeOrNull(docs);
    const args = ['dist/bench/run.js', '--json', '--providers', '8', '--cli-ms', '5', '--sweeps', '1', '--window-ms', '200', '--ballast-mb', '8', '--critical-reps', '2', '--out', out];
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, timeout: 100_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, so, se) =>
        err ? reject(Object.assign(err, { stderr: se })) : resolve({ stdout: so, stderr: se }),
      );
    });

    const result = JSON.parse(stdout) as {
      flags: Record<string, unknown>;
      criticalPathMs: number;
      criticalPath: { provider: string; kind: string; measured: number; slowest: { runs: number }[] };
      modes: Record<string, Record<string, unknown>>;
      ratios: Record<string, Record<string, number>>;
      micro: Record<string, number>;
      machine: { cpus: number; model: string; node: string };
      targets: { target: string; met: boolean }[];
    };
    expect(Object.keys(result.modes)).toEqual(MODES);
    for (const mode of MODES) {
      for (const figure of FIGURES) expect(typeof result.modes[mode]?.[figure], `${mode}.${figure}`).toBe('number');
      expect(result.modes[mode]?.['answersMatch'], mode).toBe(mode === 'idle' ? null : true);
      // Pool modes report the threads their pool ran with (none were asked for), the others none.
      if (mode.startsWith('pool')) expect(result.modes[mode]?.['threads'], mode).toBeGreaterThan(0);
      else expect(result.modes[mode]?.['threads'], mode).toBeNull();
    }
    expect(result.flags).toMatchObject({ threads: null, spawnVia: null, ballastMb: 8 });
    // The pool-large mode held its 8 MiB of ballast, resident, while it ran.
    expect(result.modes['pool-large']?.['rssGrowthMb']).toBeGreaterThanOrEqual(8);

    // The critical path: one of the scenario's CLI or module providers, its slowest finalists run twice.
    expect(result.criticalPathMs).toBeGreaterThan(0);
    expect(['keychain', 'slow-cli', 'hung-cli', 'keyring']).toContain(result.criticalPath.kind);
    expect(result.criticalPath.slowest[0]?.runs).toBe(2);
    expect(result.ratios['pool']).toHaveProperty('wallVsCriticalPath');
    for (const figure of MICRO) expect(typeof result.micro[figure], figure).toBe('number');
    expect(result.ratios['pool']).toHaveProperty('ackP99VsIdle');
    expect(result.ratios['pool']).toHaveProperty('wallVsSync');
    expect(result.targets.map((t) => t.target)).toEqual([
      'pool wall <= 1.25 x critical path (ms)',
      '|pool-adversarial wall / pool wall - 1| <= 0.1',
      'pool ack p99 / idle ack p99 <= 1.5',
      // Every pool mode but the unniced twins of the defaults, which are reported, not judged.
      ...MODES.filter((m) => m.startsWith('pool') && !m.endsWith('-nice0')).map((m) => `${m} loop-delay max <= 12 ms`),
      'pool-hot wall / sync wall <= 0.02',
      'pool-hot cached check / awaited Map lookup <= 2',
    ]);
    expect(result.machine.node).toBe(process.version);
    expect(result.machine.cpus).toBeGreaterThan(0);

    // The table and progress go to stderr; the files to --out; the committed chart is left alone.
    expect(stderr).toContain('mode (median of sweeps)');
    expect(stderr).toMatch(/^critical path: [\d.]+ ms, provider /m);
    expect(stderr).toMatch(/^targets:\n {2}\[(met|MISSED)\] pool wall <= 1.25 x critical path/m);
    expect(stderr).toMatch(/\[bench +\d+ s\] pool 1\/1: sweep/);
    expect(JSON.parse(readFileSync(`${out}/bench.json`, 'utf8'))).toMatchObject({ modes: { pool: { wallMs: result.modes['pool']?.['wallMs'] } } });
    expect(readFileSync(`${out}/bench-ack-latency.svg`, 'utf8')).toContain('<polyline data-series="pool"');
    expect(mtimeOrNull(docs)).toBe(docsBefore);
    expect(readdirSync(tmp)).toEqual(['.keep']);
  }, 120_000);

  it('rejects a bad flag value with the usage, exit code 2', async () => {
    const code = await new Promise<number | null>((resolve) => {
      execFile(process.execPath, ['dist/bench/run.js', '--providers', 'many'], { cwd: ROOT, timeout: 20_000 }, (err) => resolve(err ? (err.code as number) : 0));
    });
    expect(code).toBe(2);
  });
});
