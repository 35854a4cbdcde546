/**
 * Ending the CLIs worker threads spawned themselves (`spawnVia: 'worker'`):
 * ending a worker thread does not end the processes it started. Their pids
 * come from the tasks' watchdog cells (see `watchdog.ts`). A CLI killed this
 * way after its thread ended stays a zombie: only the loop that spawned a
 * child reaps it (nodejs/node#46569). The spawn helper's commands are the
 * main thread's own, and are ended by `helper-host.ts`.
 */
import { killGroup } from '../probes/spawn.js';
import { runningCommands } from './watchdog.js';

/** How long a force-close waits for a worker to report the pid of a command it is spawning, in milliseconds. */
const SPAWN_PID_WAIT_MS = 500;

/**
 * How long a force-close waits, in milliseconds, for the workers to see the commands it killed exit, before their
 * threads end: a worker reaps them then, which nothing can once its thread has ended. Only a worker whose loop a
 * lane probe holds takes longer.
 */
const REAP_WAIT_MS = 500;

/** Kills the process group of every command a task's cells name. */
export function killCommands(control: SharedArrayBuffer): void {
  for (const pid of runningCommands(control).pids) killGroup(pid);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The commands of the tasks whose cells are `controls`, as a force-close ends them: `before()` (while the threads
 * still run) waits briefly for the pid of a command a worker is spawning right now, kills every command's group,
 * and waits briefly for the workers to reap them (a worker clears a command's pid once it has seen it exit);
 * `after()` (once the threads are gone) kills the commands whose pids were written since.
 */
export function commandStopper(controls: readonly SharedArrayBuffer[]): { before(): Promise<void>; after(): void } {
  const stop = () => {
    for (const control of controls) killCommands(control);
  };
  return {
    async before() {
      const spawned = Date.now() + SPAWN_PID_WAIT_MS;
      while (controls.some((c) => runningCommands(c).spawning > 0) && Date.now() < spawned) await pause(2);
      stop();
      const reaped = Date.now() + REAP_WAIT_MS;
      while (controls.some((c) => runningCommands(c).pids.length > 0) && Date.now() < reaped) await pause(2);
    },
    after: stop,
  };
}
