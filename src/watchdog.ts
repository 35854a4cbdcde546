/**
 * Per-probe deadlines enforced from outside the worker. A synchronous probe
 * (a module stuck in a loop, a read that blocks) cannot be interrupted from
 * inside its own thread, so the worker writes "probe N of this task started,
 * deadline D" into a few shared cells and the main thread, which stays free,
 * aborts the task (Piscina then terminates that worker) once D has passed.
 *
 * The worker also writes there the pid of the command it is running (the id
 * of its process group) and of its spawn helper, so that a force-close can
 * kill them: ending a worker thread does not end the processes it started.
 *
 * Layout of the 32-byte buffer: Int32 [state, providerIndex, probePosition, commandPid], BigInt64 at byte 16
 * [deadline, epoch ms], Int32 at byte 24 [helperPid].
 */

const IDLE = 0;
const RUNNING = 1;

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(32);
}

/** Worker side: the probe's command runs as `pid` (its process group), in the spawn helper `helperPid` if any; 0 when it ended. */
export function commandRunning(control: SharedArrayBuffer, pid: number, helperPid = 0): void {
  Atomics.store(new Int32Array(control, 12, 1), 0, pid);
  Atomics.store(new Int32Array(control, 24, 1), 0, helperPid);
}

/** Main side: the pids of the command a task is running and of the helper running it (0: none). */
export function runningCommand(control: SharedArrayBuffer): { pid: number; helperPid: number } {
  return { pid: Atomics.load(new Int32Array(control, 12, 1), 0), helperPid: Atomics.load(new Int32Array(control, 24, 1), 0) };
}

/** Worker side: probe `position` of provider `providerIndex` starts and must end within `budgetMs`. */
export function probeStarted(control: SharedArrayBuffer, providerIndex: number, position: number, budgetMs: number): void {
  const cells = new Int32Array(control, 0, 3);
  Atomics.store(new BigInt64Array(control, 16, 1), 0, BigInt(Date.now() + budgetMs));
  Atomics.store(cells, 1, providerIndex);
  Atomics.store(cells, 2, position);
  Atomics.store(cells, 0, RUNNING);
}

/** Worker side: the probe returned. */
export function probeFinished(control: SharedArrayBuffer): void {
  commandRunning(control, 0);
  Atomics.store(new Int32Array(control, 0, 1), 0, IDLE);
}

/**
 * Which provider of the task, and which of its probes, the worker is on (or
 * was on when it died); `running` is false when no probe was under way.
 */
export function currentPosition(control: SharedArrayBuffer): { running: boolean; provider: number; probe: number } {
  const cells = new Int32Array(control, 0, 3);
  return { running: Atomics.load(cells, 0) === RUNNING, provider: Atomics.load(cells, 1), probe: Atomics.load(cells, 2) };
}

/** How often a task that is queued or between probes is looked at, in milliseconds. */
const IDLE_POLL_MS = 200;

/**
 * Main side: calls `onOverdue()` once if a probe of the task
 * runs past its deadline. Returns a function that stops watching. The timer
 * is unref'd: the watchdog never keeps the process alive by itself.
 */
export function watchTask(control: SharedArrayBuffer, onOverdue: () => void): () => void {
  const cells = new Int32Array(control, 0, 3);
  const deadline = new BigInt64Array(control, 16, 1);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    let wait = IDLE_POLL_MS;
    if (Atomics.load(cells, 0) === RUNNING) {
      const left = Number(Atomics.load(deadline, 0)) - Date.now();
      if (left <= 0) {
        timer = undefined;
        onOverdue();
        return;
      }
      wait = Math.min(left + 1, IDLE_POLL_MS);
    }
    timer = setTimeout(check, wait).unref();
  };
  timer = setTimeout(check, IDLE_POLL_MS).unref();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
