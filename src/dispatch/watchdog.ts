/**
 * Deadlines of the probes that hold a worker's lane, enforced from outside
 * the worker. A synchronous probe (a module stuck in a loop, a read that
 * blocks) cannot be interrupted from inside its own thread, so the worker
 * writes "provider i is on probe N, deadline D" into shared cells and the
 * main thread, which stays free, terminates that worker once D has passed.
 *
 * A command probe is not timed here: its deadline is its own `timeoutMs`,
 * enforced with SIGKILL by the process that spawned it and measuring the
 * command, not the worker's loop. The spawn helper reports a command's end to
 * the main thread at once, whatever the worker is busy with; with
 * `spawnVia: 'worker'` the worker's own timer kills it, late only while a
 * lane probe holds the loop, which is bounded by that probe's deadline. So
 * the watchdog ends a thread only for a lane probe past its own deadline: a
 * busy module within its deadline is never ended for a CLI's, and the blame
 * is exact.
 *
 * A task's providers run concurrently (their command probes overlap), so each
 * provider of the task has cells of its own: its current probe, that probe's
 * deadline, and, with `spawnVia: 'worker'`, the pid of the command the worker
 * spawned (its process group), so that a force-close or a terminated worker
 * kills it: ending a worker thread does not end the processes it started.
 * (With `spawnVia: 'helper'` the main thread knows those pids itself: see
 * `helper-host.ts`.) The header says which thread runs the task.
 *
 * Layout: header Int32 [threadId, unused, unused, unused]; then
 * per provider, 24 bytes: Int32 [state, position, commandPid, unused], BigInt64
 * [deadline, in ns of the monotonic clock].
 */

const IDLE = 0;
const RUNNING = 1;
const HEADER_BYTES = 16;
const SLOT_BYTES = 24;

/** Cells for a task of `providers` providers. */
export function createControl(providers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + SLOT_BYTES * Math.max(1, providers));
}

/** A task's cells as two views of its whole buffer, made once per buffer and thread (a view per cell and call was most of what a probe's bookkeeping allocated). */
interface Views {
  readonly int32: Int32Array;
  readonly int64: BigInt64Array;
}

const viewsOf = new WeakMap<SharedArrayBuffer, Views>();

function views(control: SharedArrayBuffer): Views {
  let v = viewsOf.get(control);
  if (!v) viewsOf.set(control, (v = { int32: new Int32Array(control), int64: new BigInt64Array(control) }));
  return v;
}

/** Where provider `i`'s Int32 cells begin, in the Int32 view: state, position, commandPid. */
const cellsAt = (i: number) => (HEADER_BYTES + SLOT_BYTES * i) / 4;
/** Where provider `i`'s deadline is, in the BigInt64 view. */
const deadlineAt = (i: number) => (HEADER_BYTES + SLOT_BYTES * i + 16) / 8;
const slots = (control: SharedArrayBuffer) => (control.byteLength - HEADER_BYTES) / SLOT_BYTES;

/** Worker side: this thread (`threadId`) runs the task. */
export function taskStarted(control: SharedArrayBuffer, threadId: number): void {
  Atomics.store(views(control).int32, 0, threadId);
}

/** Main side: the thread running the task, 0 before it started. */
export function taskThread(control: SharedArrayBuffer): number {
  return Atomics.load(views(control).int32, 0);
}

/** Pid cell value while a command is being spawned by the worker itself: its pid is not known yet. */
const SPAWNING = -1;

/** Worker side: provider `i` is about to spawn its command in this thread (a force-close waits for its pid). */
export function commandSpawning(control: SharedArrayBuffer, i: number): void {
  Atomics.store(views(control).int32, cellsAt(i) + 2, SPAWNING);
}

/** Worker side: provider `i`'s command, spawned by the worker itself, runs as `pid` (its process group). */
export function commandRunning(control: SharedArrayBuffer, i: number, pid: number): void {
  Atomics.store(views(control).int32, cellsAt(i) + 2, pid);
}

/**
 * Main side: the pids of the commands the task's worker spawned and that run now, and how many it is spawning right
 * now (their pids not written yet).
 */
export function runningCommands(control: SharedArrayBuffer): { pids: number[]; spawning: number } {
  const pids: number[] = [];
  let spawning = 0;
  const { int32 } = views(control);
  for (let i = 0; i < slots(control); i++) {
    const pid = Atomics.load(int32, cellsAt(i) + 2);
    if (pid === SPAWNING) spawning++;
    else if (pid !== 0) pids.push(pid);
  }
  return { pids, spawning };
}

/**
 * Worker side: probe `position` of provider `i`, one that holds the worker's lane (every kind but a command: at most
 * one such probe runs per worker), starts and must end within `budgetMs`.
 */
export function probeStarted(control: SharedArrayBuffer, i: number, position: number, budgetMs: number): void {
  const { int32, int64 } = views(control);
  const at = cellsAt(i);
  Atomics.store(int64, deadlineAt(i), monotonicNs() + BigInt(budgetMs) * 1_000_000n);
  Atomics.store(int32, at + 1, position);
  Atomics.store(int32, at, RUNNING);
}

/** Worker side: provider `i`'s probe returned (any probe: a command's pid cell is cleared too). */
export function probeFinished(control: SharedArrayBuffer, i: number): void {
  const { int32 } = views(control);
  const at = cellsAt(i);
  Atomics.store(int32, at + 2, 0);
  Atomics.store(int32, at, IDLE);
}

/** A provider of the task and the probe it is on. */
export interface ProbePosition {
  readonly provider: number;
  readonly probe: number;
}

/**
 * Main side, after the task's worker died: the probe that killed it, if it was this task's. Only a probe in the
 * worker's lane runs JavaScript of its own (a command's runs in another process), and one at a time, so it is
 * the probe of this task that held the lane: a module that called `process.exit()`, or left behind a rejection
 * that ended the thread. Undefined when the task only shared the thread with the culprit.
 */
export function culprit(control: SharedArrayBuffer): ProbePosition | undefined {
  let found: ProbePosition | undefined;
  const { int32 } = views(control);
  for (let i = 0; i < slots(control); i++) {
    if (Atomics.load(int32, cellsAt(i)) !== RUNNING) continue;
    if (found) return undefined;
    found = { provider: i, probe: Atomics.load(int32, cellsAt(i) + 1) };
  }
  return found;
}

/**
 * The clock deadlines are written in, in nanoseconds: the system's monotonic clock, the same in every thread. Not the
 * wall clock, which an NTP step or a VM resume moves (every running probe would look overdue), nor
 * `performance.now()`, whose origin is each thread's own start.
 */
function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** How often a task with no probe under way is looked at, in milliseconds. */
const IDLE_POLL_MS = 200;

/**
 * Main side: calls `onOverdue(position)` once, for the first lane probe of the task found running past its deadline.
 * Returns a function that stops watching. The timer is unref'd: the watchdog never keeps the process alive by itself.
 */
export function watchTask(control: SharedArrayBuffer, onOverdue: (position: ProbePosition) => void): () => void {
  const { int32, int64 } = views(control);
  const count = slots(control);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    let wait = IDLE_POLL_MS;
    // The clock only for a task with a probe under way: of a burst's hundred tasks, one or two are.
    let now: bigint | undefined;
    for (let i = 0; i < count; i++) {
      if (Atomics.load(int32, cellsAt(i)) !== RUNNING) continue;
      now ??= monotonicNs();
      const left = Number((Atomics.load(int64, deadlineAt(i)) - now) / 1_000_000n);
      if (left <= 0) {
        timer = undefined;
        onOverdue({ provider: i, probe: Atomics.load(int32, cellsAt(i) + 1) });
        return;
      }
      wait = Math.min(wait, left + 1);
    }
    timer = setTimeout(check, wait).unref();
  };
  timer = setTimeout(check, IDLE_POLL_MS).unref();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
