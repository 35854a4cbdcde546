/**
 * A worker's gates: how many probes of a kind may run at once in this
 * thread. The lane admits one probe at a time (every kind but a command), so
 * the watchdog can blame the probe that blocks or kills the thread; the
 * command gate bounds the CLIs in flight. Waiters are admitted in arrival
 * order, which is the order the run queue sent the providers in.
 */
export class Gate {
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
  readonly lane: Gate;
  readonly commands: Gate;
}

export function createGates(maxCommands: number): WorkerGates {
  return { lane: new Gate(1), commands: new Gate(Math.max(1, maxCommands)) };
}
