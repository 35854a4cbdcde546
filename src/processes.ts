/**
 * Ending the processes tasks started: ending a worker thread does not end
 * the CLIs it spawned, nor its spawn helper. The pids come from the tasks'
 * watchdog cells (see `watchdog.ts`).
 */
import { readFileSync } from 'node:fs';
import { runningCommands } from './watchdog.js';

/** How long a force-close waits for a spawn helper to kill what it runs and exit, in milliseconds. */
const HELPER_EXIT_MS = 2000;

/** How long a force-close waits for a worker to report the pid of a command it is spawning, in milliseconds. */
const SPAWN_PID_WAIT_MS = 500;

/** A signal (SIGKILL unless said) to a pid (a negative one: its process group), if there is one; gone already is fine. */
function killProcess(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === 0 || process.platform === 'win32') return;
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: it ended meanwhile.
  }
}

/** Kills the process group of every command a task's cells name. */
export function killCommands(control: SharedArrayBuffer): void {
  for (const pid of runningCommands(control).pids) killProcess(-pid);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The commands of the tasks whose cells are `controls`, and their spawn helpers, as a force-close ends them:
 * `before()` (while the threads still run) waits briefly for the pid of a command a worker is spawning right
 * now, kills every command's group and stops the helpers with SIGTERM (a helper kills whatever it runs, a
 * command whose pid has not reached us yet included); `after()` (once the threads are gone) kills the commands
 * whose pids were written since, and waits for the helpers to exit.
 */
export function commandStopper(controls: readonly SharedArrayBuffer[]): { before(): Promise<void>; after(): Promise<void> } {
  const helpers = new Set<number>();
  const stop = () => {
    for (const control of controls) {
      killCommands(control);
      const { helperPid } = runningCommands(control);
      if (helperPid !== 0 && !helpers.has(helperPid)) {
        helpers.add(helperPid);
        killProcess(helperPid, 'SIGTERM');
      }
    }
  };
  return {
    async before() {
      const until = Date.now() + SPAWN_PID_WAIT_MS;
      while (controls.some((c) => runningCommands(c).spawning > 0) && Date.now() < until) await pause(2);
      stop();
    },
    async after() {
      stop();
      await exited(helpers);
    },
  };
}

/** Whether the process is there and not a zombie: a helper that exited stays one, since the thread that would reap it is gone. */
function alive(pid: number): boolean {
  try {
    if (process.platform === 'linux') return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once none of the processes is left, or after HELPER_EXIT_MS, when whatever is left is killed. */
async function exited(pids: ReadonlySet<number>): Promise<void> {
  const until = Date.now() + HELPER_EXIT_MS;
  let left = [...pids].filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await pause(5);
    left = left.filter(alive);
  }
  for (const pid of left) killProcess(pid);
}
