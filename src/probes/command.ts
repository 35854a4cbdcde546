import { spawnSync, type SpawnSyncOptionsWithBufferEncoding } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fingerprintOf } from '../fingerprint.js';
import type { z } from 'zod';
import type { CommandProbeSchema } from '../schema.js';
import type { ProbeContext } from './context.js';
import { absent, failed, present, type Verdict } from './verdict.js';

/** How long the probe may take, in milliseconds: its own `timeoutMs`, capped by the pool's `probeTimeoutMs`. */
export function commandTimeoutMs(probe: z.infer<typeof CommandProbeSchema>, probeTimeoutMs: number): number {
  return Math.min(probe.timeoutMs ?? probeTimeoutMs, probeTimeoutMs);
}

/**
 * Runs the executable synchronously, without a shell. `worker.terminate()`
 * cannot interrupt a blocking spawn, so the spawn carries its own timeout and
 * SIGKILL. Output is read only to test that it is non-empty, and never
 * returned: a CLI's stdout is usually the secret itself.
 */
export function commandProbe(probe: z.infer<typeof CommandProbeSchema>, ctx: ProbeContext): Verdict {
  const timeout = commandTimeoutMs(probe, ctx.init.probeTimeoutMs);
  trackExecutable(probe.command, ctx);
  const run = spawnSync(probe.command, probe.args ?? [], {
    env: ctx.env,
    timeout,
    killSignal: 'SIGKILL',
    stdio: ['ignore', probe.requireStdout ? 'pipe' : 'ignore', 'ignore'],
    maxBuffer: ctx.init.maxStdoutBytes,
    windowsHide: true,
    shell: false,
    // Its own process group, so that whatever it forked can be killed with it.
    detached: process.platform !== 'win32',
  } as SpawnSyncOptionsWithBufferEncoding);
  killGroup(run.pid);
  const detail = { exitCode: run.status, signal: run.signal };
  // The command exited 0 by itself, but a process it forked kept stdout open until the timeout:
  // the command's own answer stands.
  const exitedOnItsOwn = run.status === 0 && run.signal === null;
  if (run.error && !((run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' && exitedOnItsOwn)) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return absent('E_COMMAND_NOT_FOUND', probe.command);
    if (code === 'ETIMEDOUT') return failed('E_PROBE_TIMEOUT', `${probe.command} ran past ${timeout} ms and was killed`, detail);
    if (code === 'ENOBUFS') return failed('E_COMMAND_FAILED', `${probe.command} printed more than ${ctx.init.maxStdoutBytes} bytes`, detail);
    return failed('E_COMMAND_FAILED', `${probe.command} could not run (${code ?? 'error'})`, detail);
  }
  if (run.signal !== null) return failed('E_COMMAND_FAILED', `${probe.command} was killed by ${run.signal}`, detail);
  if (run.status !== 0) return absent('E_COMMAND_FAILED', `${probe.command} exited with code ${run.status}`, detail);
  if (probe.requireStdout && (run.stdout === null || run.stdout.toString('utf8').trim() === '')) {
    return absent('E_COMMAND_NO_OUTPUT', probe.command, detail);
  }
  return present(detail);
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

/**
 * Records the executable the command resolves to on the env's PATH, so that
 * installing over it or removing it refreshes the answer. Only for tracking:
 * the spawn does its own lookup.
 */
function trackExecutable(command: string, ctx: ProbeContext): void {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(command)] : (ctx.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      const st = statSync(candidate, { bigint: true });
      if (st.isFile() && (st.mode & 0o111n) !== 0n) {
        ctx.deps.set(candidate, fingerprintOf(st));
        return;
      }
    } catch {
      // Not in this directory.
    }
  }
}
