/**
 * The worker's side of the spawn helper: one per worker, started with the
 * worker when its configuration has a command probe (else on the first
 * one), kept for the worker's life (see `src/helper-host.ts`).
 */
import { SpawnHelper } from '../helper-host.js';
import type { CommandRun, CommandSpec } from './spawn.js';

let helper: SpawnHelper | undefined;

/**
 * Starts this worker's spawn helper now rather than on the first command probe, resolving once it is ready
 * (or has died). The worker awaits it before its first task: a Node process's start-up, about 0.1 s idle and
 * over a second on a loaded machine, must not be charged to the first command probe's deadline.
 */
export function startHelper(): Promise<void> {
  helper ??= new SpawnHelper();
  return helper.ready();
}

/** The pid of this worker's spawn helper, 0 when none runs. */
export function helperPid(): number {
  return helper?.pid ?? 0;
}

/** Runs the spec in this worker's spawn helper; `onStart` gets the command's pid and the helper's. Rejects if the helper dies or answers nonsense. */
export function runInHelper(spec: CommandSpec, onStart?: (pid: number, helperPid: number) => void): Promise<CommandRun> {
  helper ??= new SpawnHelper();
  return helper.run(spec, onStart);
}
