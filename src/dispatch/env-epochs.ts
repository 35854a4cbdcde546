/**
 * When the main thread takes the environment again (see `probes/task-env.ts`
 * for how it reaches the workers). Reading it per task cost a gateway with
 * 5,000 variables 94 ms of its loop per read (`process.env` is enumerated
 * through the C library, one variable at a time) and posting a copy with each
 * task 1.3 ms more; now an epoch's environment is shared by every task sent
 * in it.
 *
 * A new epoch begins at `renew()` (the pool's `invalidate()`, `warm()` and
 * `explain()`: whoever asks for probes to run again sees the environment as it
 * is now), and otherwise once ENV_EPOCH_MS has passed since the last one began.
 * With the default `env` the main thread never reads `process.env`: the
 * workers share it and read it themselves. With an `env` object, it is read
 * (a plain object: about a millisecond for 5,000 variables) and, only when it
 * changed, sent as a new snapshot.
 *
 * A burst's tasks say how many variables they will look up in all (`expect`,
 * `EnvRef.reads`, a thread's share): a worker that reads `process.env` itself
 * then takes it whole as soon as one at a time would cost more, rather than
 * finding out by reading (see `probes/process-env.ts`).
 */
import type { EnvRef } from '../probes/task-env.js';

/** Longest an epoch lasts, in milliseconds: a variable set in the environment is seen by runs sent this much later at most, or at once after `invalidate()`. */
export const ENV_EPOCH_MS = 5000;

export class EnvEpochs {
  #ref: EnvRef | undefined;
  /** The JSON of the last snapshot of an `env` object, to send a new one only when it changed. */
  #json: string | undefined;
  #snapshots = 0;
  /** Lookups announced for tasks not sent yet (those of the epoch's sent tasks are its ref's `reads`). */
  #announced = 0;
  /** The pool's `env` object; undefined: `process.env`, shared with the workers. */
  readonly #source: Readonly<Record<string, string | undefined>> | undefined;

  constructor(source: Readonly<Record<string, string | undefined>> | undefined) {
    this.#source = source;
  }

  /** The next task is sent in a new epoch. */
  renew(): void {
    this.#ref = undefined;
  }

  /**
   * The tasks sent next look up this many variables in one thread (in all, spread over the threads): announced with
   * the epoch they are sent in. Only a worker reading `process.env` uses it (an `env` object's snapshot is whole).
   */
  expect(lookups: number): void {
    if (!this.#source && lookups > 0) this.#announced += lookups;
  }

  /** The environment of a task sent now. */
  current(now = Date.now()): EnvRef {
    const ref = this.#ref;
    if (ref && now - ref.at < ENV_EPOCH_MS) return this.#announce(ref);
    if (!this.#source) return (this.#ref = this.#announce({ at: now }));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#source)) if (value !== undefined) env[name] = value;
    const json = JSON.stringify(env);
    if (ref?.snapshot && json === this.#json) return (this.#ref = { at: now, snapshot: ref.snapshot });
    this.#json = json;
    const bytes = Buffer.from(json, 'utf8');
    const shared = new SharedArrayBuffer(bytes.length);
    new Uint8Array(shared).set(bytes);
    return (this.#ref = { at: now, snapshot: { id: ++this.#snapshots, json: shared } });
  }

  /** `ref`, with what was announced since its last task added to its `reads` (a new ref: sent ones are copies). */
  #announce(ref: EnvRef): EnvRef {
    if (this.#announced === 0) return ref;
    const reads = (ref.reads ?? 0) + this.#announced;
    this.#announced = 0;
    return (this.#ref = { ...ref, reads });
  }
}
