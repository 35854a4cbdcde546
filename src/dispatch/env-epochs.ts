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
 */
import type { EnvRef } from '../probes/task-env.js';

/** Longest an epoch lasts, in milliseconds: a variable set in the environment is seen by runs sent this much later at most, or at once after `invalidate()`. */
export const ENV_EPOCH_MS = 5000;

export class EnvEpochs {
  #ref: EnvRef | undefined;
  /** The JSON of the last snapshot of an `env` object, to send a new one only when it changed. */
  #json: string | undefined;
  #snapshots = 0;
  /** The pool's `env` object; undefined: `process.env`, shared with the workers. */
  readonly #source: Readonly<Record<string, string | undefined>> | undefined;

  constructor(source: Readonly<Record<string, string | undefined>> | undefined) {
    this.#source = source;
  }

  /** The next task is sent in a new epoch. */
  renew(): void {
    this.#ref = undefined;
  }

  /** The environment of a task sent now. */
  current(now = Date.now()): EnvRef {
    const ref = this.#ref;
    if (ref && now - ref.at < ENV_EPOCH_MS) return ref;
    if (!this.#source) return (this.#ref = { at: now });
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
}
