/**
 * The pool's command budget: at most `maxConcurrentCommands` CLIs run at
 * once over the whole pool, whichever threads their probes are on. A thread
 * has no share of its own: one whose tasks hold many CLIs takes every slot
 * the others leave free.
 *
 * The budget is one SharedArrayBuffer per pool, given to every worker in its
 * `workerData`. Each slot holds 0 when free, or the `threadId` of the worker
 * thread holding it: a worker takes a slot with one compare-and-swap before
 * it starts a command (in its own process or through the spawn helper), and
 * frees it when the command's probe ends. Taking and naming the holder are
 * one atomic step, so no moment exists at which a slot is taken but not yet
 * known to be this thread's: when a thread ends while its CLIs run (the
 * watchdog terminated it for a lane probe, a module crashed it), the main
 * thread frees exactly the slots that carry its id (`releaseThread`), and
 * the budget never shrinks. Thread ids are never reused within a process.
 *
 * A command that cannot have a slot waits without holding its thread: the
 * thread's waiters queue in arrival order (the order the batcher sent them),
 * and only the first waits on the shared generation counter with
 * `Atomics.waitAsync`, which every release bumps and notifies. Between
 * threads a freed slot goes to whichever asks first.
 *
 * Layout: Int32 cells [generation, peak, slot 0, …, slot N-1].
 */
const GENERATION = 0;
const PEAK = 1;
const SLOTS = 2;
const FREE = 0;

/**
 * How long a waiting thread sleeps at most before it looks at the slots again, in milliseconds. Every release
 * notifies, so this is only a second line: a slot never stays unused for want of one wake-up.
 */
const RECHECK_MS = 1000;

/** `Atomics` with `waitAsync` (Node 16 and later), typed here: the project's `lib` (es2023) predates it. */
const atomics = Atomics as typeof Atomics & { waitAsync(cells: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: unknown } };

/** Main side: the budget of a pool allowing `slots` commands at once. */
export function createCommandBudget(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (SLOTS + Math.max(1, slots)));
}

/** Wakes every thread waiting for a slot: one was freed. */
function released(cells: Int32Array): void {
  Atomics.add(cells, GENERATION, 1);
  Atomics.notify(cells, GENERATION);
}

/**
 * Main side: frees the slots of a thread that has ended (it cannot free them itself any more); returns how many it
 * held. Call it once its commands are killed, or a freed slot may start a CLI beside one still dying.
 */
export function releaseThread(budget: SharedArrayBuffer, threadId: number): number {
  if (threadId === FREE) return 0;
  const cells = new Int32Array(budget);
  let freed = 0;
  for (let i = SLOTS; i < cells.length; i++) if (Atomics.compareExchange(cells, i, threadId, FREE) === threadId) freed++;
  if (freed > 0) released(cells);
  return freed;
}

/** Main side: the slots held now (a CLI running, or just ended and its worker not yet told), and the most held at once so far. */
export function budgetInUse(budget: SharedArrayBuffer): { running: number; peak: number } {
  const cells = new Int32Array(budget);
  return { running: held(cells), peak: Atomics.load(cells, PEAK) };
}

function held(cells: Int32Array): number {
  let n = 0;
  for (let i = SLOTS; i < cells.length; i++) if (Atomics.load(cells, i) !== FREE) n++;
  return n;
}

/** Worker side: one thread's way into the pool's budget, shared by every task it runs. */
export class CommandBudget {
  readonly #cells: Int32Array;
  readonly #thread: number;
  /** The slots this thread holds: any of them may be given back, they are all its own. */
  readonly #mine: number[] = [];
  readonly #waiting: (() => void)[] = [];
  #pumping = false;

  /** `threadId`: this worker thread's id (never 0, the main thread's, which marks a free slot). */
  constructor(budget: SharedArrayBuffer, threadId: number) {
    this.#cells = new Int32Array(budget);
    this.#thread = threadId;
  }

  /** Takes a slot: undefined when one was free and nobody of this thread waits before us, else a promise of one. */
  enter(): Promise<void> | undefined {
    if (this.#waiting.length === 0 && this.#take()) return undefined;
    const slot = new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (!this.#pumping) void this.#pump();
    return slot;
  }

  /** Gives a slot back to the pool, and wakes the threads waiting for one (this one's included). */
  leave(): void {
    const slot = this.#mine.pop();
    if (slot === undefined) return;
    Atomics.compareExchange(this.#cells, slot, this.#thread, FREE);
    released(this.#cells);
  }

  /** One compare-and-swap takes a slot and names this thread its holder: see the module's comment. */
  #take(): boolean {
    const cells = this.#cells;
    for (let i = SLOTS; i < cells.length; i++) {
      if (Atomics.compareExchange(cells, i, FREE, this.#thread) !== FREE) continue;
      this.#mine.push(i);
      notePeak(cells);
      return true;
    }
    return false;
  }

  /** Admits this thread's waiters in order as slots come free; one pump per thread, waiting without blocking it. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        // Read before trying: a slot freed after a failed try bumps it, and the wait below returns at once.
        const seen = Atomics.load(this.#cells, GENERATION);
        if (this.#take()) {
          this.#waiting.shift()?.();
          continue;
        }
        const wait = atomics.waitAsync(this.#cells, GENERATION, seen, RECHECK_MS);
        if (wait.async) await wait.value;
      }
    } finally {
      this.#pumping = false;
    }
  }
}

/** Raises the peak to the slots held now, if that is more. */
function notePeak(cells: Int32Array): void {
  const now = held(cells);
  let peak = Atomics.load(cells, PEAK);
  while (now > peak) {
    const before = Atomics.compareExchange(cells, PEAK, peak, now);
    if (before === peak) return;
    peak = before;
  }
}
