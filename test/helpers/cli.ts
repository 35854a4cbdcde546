import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built executable, as package.json's `bin` names it. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `auth-probe` as a real process, its stdout and stderr pipes (not
 * terminals), with only PATH from this environment unless `env` adds more:
 * the developer's own keys never leak into a test.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
