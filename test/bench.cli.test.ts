import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Every benchmark program a person runs (the load generator and sweep worker are children of `run.js`). */
const PROGRAMS = ['run', 'live', 'freshness', 'fork-cost', 'scale'];

function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 20_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the benchmark programs on the command line', () => {
  it.each(PROGRAMS)('%s --help prints its usage and exits 0, running nothing', async (program) => {
    const { code, stdout, stderr } = await run([`dist/bench/${program}.js`, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: /m);
    expect(stdout).toContain('--json');
    expect(stderr).toBe('');
  });

  it.each(PROGRAMS)('%s with an unknown flag says so in one line and exits 2, no stack trace', async (program) => {
    const { code, stdout, stderr } = await run([`dist/bench/${program}.js`, '--no-such-flag']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${program}.js: unknown flag --no-such-flag (see --help)\n`);
  });

  it('names the flag whose value is wrong, in one line', async () => {
    const results = await Promise.all([run(['dist/bench/run.js', '--sweeps', '0']), run(['dist/bench/fork-cost.js', '--seconds', 'soon']), run(['dist/bench/live.js', '--phases', 'churn,nap'])]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(results.map((r) => r.stderr.trim().split('\n').length)).toEqual([1, 1, 1]);
    expect(results[0]?.stderr).toMatch(/--sweeps: expected an integer from 1 to 100/);
    expect(results[1]?.stderr).toMatch(/--seconds: expected an integer/);
    expect(results[2]?.stderr).toMatch(/--phases: unknown nap/);
  });
});
