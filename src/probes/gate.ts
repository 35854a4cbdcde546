/**
 * A worker's gates: how many probes of a kind may run at once. The lane
 * admits one probe at a time in this thread (every kind but a command), so
 * the watchdog can blame the probe that blocks or kills the thread; the
 * command gate is the thread's way into the pool's command budget
 * (`command-budget.ts`), which bounds the CLIs in flight over every thread.
 * Waiters are admitted in arrival order, which is the order the batcher sent
 * the providers in.
 */
import { CommandBudget } from './command-budget.js';

/** A place to take before a probe runs, and give back after. */
export interface Admission {
  /** Takes a place: undefined when one was free (no need to await), else a promise of one. */
  enter(): Promise<void> | undefined;
  /** Gives the place back. */
  leave(): void;
}

/** A gate of this thread alone, of a fixed capacity. */
export class Gate implements Admission {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(capacity: number) {
    this.#free = capacity;
  }

  /** Takes a place: undefined when one was free (no need to await), else a promise of one. */
  enter(): Promise<void> | undefined {
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free--;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives the place back, or hands it to the next waiter. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The gates of one worker thread, shared by every task it runs. */
export interface WorkerGates {
  readonly lane: Admission;
  readonly commands: Admission;
}

/** The gates of the worker thread `threadId`: its own lane, and its way into the pool's `commandBudget`. */
export function createGates(commandBudget: SharedArrayBuffer, threadId: number): WorkerGates {
  return { lane: new Gate(1), commands: new CommandBudget(commandBudget, threadId) };
}
