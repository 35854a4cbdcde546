/**
 * Running a command probe's executable: without a shell, in a process group
 * of its own, with a timeout and SIGKILL, and the group killed afterwards.
 * In a worker thread, or in the spawn helper process (see
 * `workers/spawn-helper.ts`, so that the fork happens in a small process
 * rather than in the gateway), it runs asynchronously and reports its pid, so
 * that a force-close can kill it (a thread blocked in a synchronous spawn
 * cannot even be terminated); on the main thread (the benchmark's old-style
 * runner) synchronously, as a gateway did before. Only facts about the run
 * leave this module, never the output.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptionsWithBufferEncoding } from 'node:child_process';

/** What to run. */
export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly requireStdout: boolean;
  readonly maxStdoutBytes: number;
}

/**
 * How a run ended: the spawn's error code if any, exit status, signal, and whether it printed anything. Declared
 * here without zod, which the spawn helper, importing this module, need not load (about 14 MB of its RSS); the
 * helper's replies are validated with `CommandRunSchema` (`helper-protocol.ts`).
 */
export interface CommandRun {
  readonly errorCode: string | null;
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdoutNonEmpty: boolean;
}

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
 * Runs the command without blocking the thread, with the same outcome as
 * {@link runCommandSync}: a timeout or too much output kills its group and
 * is reported as `ETIMEDOUT` or `ENOBUFS`, with the exit status if it had
 * exited already (a grandchild holding its stdout open). `onStart` receives
 * the pid, which is also the process group's id.
 */
export function runCommand(spec: CommandSpec, onStart?: (pid: number) => void): Promise<CommandRun> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        env: spec.env,
        stdio: ['ignore', spec.requireStdout ? 'pipe' : 'ignore', 'ignore'],
        windowsHide: true,
        shell: false,
        detached: process.platform !== 'win32',
      });
    } catch (err) {
      resolve({ errorCode: (err as NodeJS.ErrnoException).code ?? 'error', status: null, signal: null, stdoutNonEmpty: false });
      return;
    }
    let errorCode: string | null = null;
    let exit: { status: number | null; signal: string | null } | undefined;
    let stdoutNonEmpty = false;
    let bytes = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killGroup(child.pid);
      child.stdout?.destroy();
      resolve({ errorCode, status: exit?.status ?? null, signal: exit?.signal ?? null, stdoutNonEmpty });
    };
    const cutOff = (code: string) => {
      errorCode ??= code;
      killGroup(child.pid);
      child.kill('SIGKILL');
      // Done now if it had exited already (a grandchild holds the pipe), else at its exit.
      if (exit) finish();
    };
    const timer = setTimeout(() => cutOff('ETIMEDOUT'), spec.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      errorCode ??= err.code ?? 'error';
      if (child.pid === undefined) finish();
    });
    child.on('exit', (status, signal) => {
      exit = { status, signal };
      if (errorCode !== null || !child.stdout || child.stdout.destroyed) finish();
    });
    child.on('close', finish);
    child.stdout?.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // Read only to test that it is non-empty: a CLI's stdout is usually the secret itself.
      if (!stdoutNonEmpty && chunk.toString('utf8').trim() !== '') stdoutNonEmpty = true;
      if (bytes > spec.maxStdoutBytes) cutOff('ENOBUFS');
    });
    if (child.pid !== undefined) onStart?.(child.pid);
  });
}

/**
 * Kills what is left of the command's process group: a grandchild that
 * outlived it (still holding a pipe, or just lingering). Processes that
 * daemonised into a session of their own are out of reach, as intended.
 */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 0 || process.platform === 'win32') return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone, the usual case.
  }
}
