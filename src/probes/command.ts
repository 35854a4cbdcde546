import { statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fingerprintOf } from './fingerprint.js';
import type { z } from 'zod';
import type { CommandProbeSchema } from '../config/schema.js';
import type { ProbeContext } from './context.js';
import { runCommand, runCommandSync, type CommandRun, type CommandSpec } from './spawn.js';
import { envNames } from './task-env.js';
import { absent, failed, present, type Verdict } from './verdict.js';

/** How long the probe may take, in milliseconds: its own `timeoutMs`, capped by the pool's `probeTimeoutMs`. */
function commandTimeoutMs(probe: z.infer<typeof CommandProbeSchema>, probeTimeoutMs: number): number {
  return Math.min(probe.timeoutMs ?? probeTimeoutMs, probeTimeoutMs);
}

/**
 * Runs the executable without a shell, with a timeout and SIGKILL: with
 * `spawnVia: 'helper'` in the pool's spawn helper process (through
 * `ctx.runInHelper`), else in the worker itself, which reports its pid
 * through `ctx.onSpawn` so that a force-close or the end of its thread kills
 * it. Output is read only to test that it is non-empty, and never returned.
 */
export function commandProbe(probe: z.infer<typeof CommandProbeSchema>, ctx: ProbeContext): Verdict | Promise<Verdict> {
  const env = commandEnv(ctx.env, ctx.init.commandEnv, probe.passEnv);
  const spec: CommandSpec = {
    command: probe.command,
    args: probe.args ?? [],
    env,
    timeoutMs: commandTimeoutMs(probe, ctx.init.probeTimeoutMs),
    requireStdout: probe.requireStdout ?? false,
    maxStdoutBytes: ctx.init.maxStdoutBytes,
  };
  trackExecutable(probe.command, ctx);
  const names = Object.keys(env).sort();
  if (ctx.init.spawnVia === 'helper') {
    const viaHelper = ctx.runInHelper ? ctx.runInHelper(spec) : Promise.reject(new Error('no way to the spawn helper'));
    return viaHelper.then(
      (run) => verdictOf(spec, run, names),
      () => failed('E_PROBE_FAILED', `the spawn helper could not run ${probe.command}`, { env: names }),
    );
  }
  // In a worker, without blocking it, so that a force-close can end the thread and kill the command at once.
  if (!isMainThread) {
    ctx.onSpawning?.();
    return runCommand(spec, ctx.onSpawn).then((run) => verdictOf(spec, run, names));
  }
  return verdictOf(spec, runCommandSync(spec), names);
}

/**
 * The environment a command runs with: the variables of `env` named by the pool's base list or the probe's
 * `passEnv`, and no other. A CLI has no business with the gateway's database URL or payment keys.
 */
export function commandEnv(env: Readonly<Record<string, string>>, base: readonly string[], passEnv: readonly string[] | undefined): Record<string, string> {
  const exact = new Set<string>(passEnv);
  const prefixes: string[] = [];
  for (const entry of base) {
    if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  const out: Record<string, string> = {};
  for (const name of exact) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  if (prefixes.length === 0) return out;
  // Names only, then the values of those that match: the environment may be a lazy view of thousands (see task-env.ts).
  for (const name of envNames(env)) {
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function verdictOf(spec: CommandSpec, run: CommandRun, env: string[]): Verdict {
  const detail = { exitCode: run.status, signal: run.signal, env };
  // The command exited 0 by itself, but a process it forked kept stdout open until the timeout:
  // the command's own answer stands.
  const exitedOnItsOwn = run.status === 0 && run.signal === null;
  if (run.errorCode !== null && !(run.errorCode === 'ETIMEDOUT' && exitedOnItsOwn)) {
    if (run.errorCode === 'ENOENT') return absent('E_COMMAND_NOT_FOUND', spec.command);
    if (run.errorCode === 'ETIMEDOUT') return failed('E_PROBE_TIMEOUT', `${spec.command} ran past ${spec.timeoutMs} ms and was killed`, detail);
    if (run.errorCode === 'ENOBUFS') return failed('E_COMMAND_FAILED', `${spec.command} printed more than ${spec.maxStdoutBytes} bytes`, detail);
    return failed('E_COMMAND_FAILED', `${spec.command} could not run (${run.errorCode})`, detail);
  }
  if (run.signal !== null) return failed('E_COMMAND_FAILED', `${spec.command} was killed by ${run.signal}`, detail);
  if (run.status !== 0) return absent('E_COMMAND_FAILED', `${spec.command} exited with code ${run.status}`, detail);
  if (spec.requireStdout && !run.stdoutNonEmpty) return absent('E_COMMAND_NO_OUTPUT', spec.command, detail);
  return present(detail);
}

/**
 * Records the executable the command resolves to on the env's PATH, so that
 * installing over it or removing it refreshes the answer. Only for tracking:
 * the spawn does its own lookup.
 */
function trackExecutable(command: string, ctx: ProbeContext): void {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(command)]
    : (ctx.env['PATH'] ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
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
