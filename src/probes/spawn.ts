/**
 * Running a command probe's executable: synchronously, without a shell, in a
 * process group of its own, with a timeout and SIGKILL, and the group killed
 * afterwards. Used in the worker itself, or in the spawn helper process (see
 * `workers/spawn-helper.ts`) so that the fork happens in a small process
 * rather than in the gateway. Only facts about the run leave this module,
 * never the output.
 */
import { spawnSync, type SpawnSyncOptionsWithBufferEncoding } from 'node:child_process';
import { z } from 'zod';

/** What to run. */
export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly requireStdout: boolean;
  readonly maxStdoutBytes: number;
}

/** How a run ended: the spawn's error code if any, exit status, signal, and whether it printed anything. */
export const CommandRunSchema = z.strictObject({
  errorCode: z.string().max(64).nullable(),
  status: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  stdoutNonEmpty: z.boolean(),
});
export type CommandRun = z.infer<typeof CommandRunSchema>;

export function runCommandSync(spec: CommandSpec): CommandRun {
  const run = spawnSync(spec.command, [...spec.args], {
    env: spec.env,
    timeout: spec.timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', spec.requireStdout ? 'pipe' : 'ignore', 'ignore'],
    maxBuffer: spec.maxStdoutBytes,
    windowsHide: true,
    shell: false,
    // Its own process group, so that whatever it forked can be killed with it.
    detached: process.platform !== 'win32',
  } as SpawnSyncOptionsWithBufferEncoding);
  killGroup(run.pid);
  return {
    errorCode: run.error ? ((run.error as NodeJS.ErrnoException).code ?? 'error') : null,
    status: run.status,
    signal: run.signal,
    // Read only to test that it is non-empty: a CLI's stdout is usually the secret itself.
    stdoutNonEmpty: run.stdout !== null && run.stdout !== undefined && run.stdout.toString('utf8').trim() !== '',
  };
}

/**
 * Kills what is left of the command's process group: a grandchild that
 * outlived it (still holding a pipe, or just lingering). Processes that
 * daemonised into a session of their own are out of reach, as intended.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 0 || process.platform === 'win32') return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone, the usual case.
  }
}
