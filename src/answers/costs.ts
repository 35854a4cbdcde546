/**
 * What a run is expected to cost, from what its probes cost before: the run
 * batcher sends a burst's runs in an order that depends on their costs, never on
 * the caller's order.
 *
 * - Runs with a command probe go first, slowest first: their CLIs wait in
 *   another process, so the sooner they start the sooner the sweep ends, and
 *   the lookups ahead of them in their worker's lane are cheap. They are cut
 *   into tasks by a thread's share of the command budget (`tasksByCost`), so
 *   that they spread over the threads.
 * - Then runs of lookups only (env, files, stores): answered at once, in one
 *   pass, grouped by scope, so an agent's providers share a task and its
 *   store is read once for all of them.
 * - Runs with a module probe go last: foreign code may burn the thread or hang
 *   until its deadline, and must not hold back a lookup.
 *
 * Each probe's duration is learnt per provider and plan position (an
 * exponentially weighted mean of its runs); a probe never run yet is
 * estimated by its kind. Only configured providers are learnt, so ids typed
 * at random cost no memory here.
 */
import type { ProbeKind, ProviderResult } from '../config/schema.js';

/** A never-measured probe's estimated duration by kind, in milliseconds. */
const KIND_MS: Readonly<Record<ProbeKind, number>> = { env: 0.01, authProfiles: 1, openclawStore: 2, credentialFile: 1, command: 100, module: 20 };

/** Weight of a new measurement in the mean. */
const ALPHA = 0.3;

/** The order classes of a run: with a command probe, lookups only, with a module probe. */
export type RunClass = 0 | 1 | 2;

export interface RunCost {
  readonly cls: RunClass;
  /** Estimated duration of the run's probes, in milliseconds. */
  readonly ms: number;
  /** Whether it runs a command probe (whatever its class): the batcher spreads those over tasks. */
  readonly command: boolean;
  /** Its env probes: variables a worker looks up (see `EnvEpochs.expect`). */
  readonly envReads: number;
}

export class RunCosts {
  /** Mean duration by provider id, by plan position, in milliseconds. */
  readonly #ms = new Map<string, number[]>();

  constructor(
    /** Whether the id is a configured provider (the only ones learnt). */
    private readonly learns: (id: string) => boolean,
  ) {}

  /**
   * Learns from a worker's result of a plan of `planned` probes: each probe's own duration (waiting for the lane or a
   * CLI slot excluded).
   */
  record(id: string, planned: number, result: ProviderResult): void {
    if (!this.learns(id) || result.probes.length === 0) return;
    let means = this.#ms.get(id);
    // Sized to the plan: kept for every configured provider, and an array grown by its first write holds 17 numbers.
    if (!means) this.#ms.set(id, (means = new Array<number>(planned)));
    for (const probe of result.probes) {
      const before = means[probe.position];
      means[probe.position] = before === undefined ? probe.durationMs : before + ALPHA * (probe.durationMs - before);
    }
  }

  /** The cost of running `only` (all when undefined) of a plan of `kinds`. */
  estimate(id: string, kinds: readonly ProbeKind[], only: readonly number[] | undefined): RunCost {
    const means = this.#ms.get(id);
    let ms = 0;
    let command = false;
    let module = false;
    let envReads = 0;
    // A loop, not `forEach`: a closure and the variables it shares would be made for every run of a burst.
    for (let position = 0; position < kinds.length; position++) {
      if (only && !only.includes(position)) continue;
      const kind = kinds[position] as ProbeKind;
      ms += means?.[position] ?? KIND_MS[kind];
      if (kind === 'command') command = true;
      else if (kind === 'module') module = true;
      else if (kind === 'env') envReads++;
    }
    return { cls: module ? 2 : command ? 0 : 1, ms, command, envReads };
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sorts runs into the order they go to the workers: by class; runs with a CLI or a module slowest first, then by id;
 * lookups by scope (`groupOf`: a number, where a scope's key was a path to compare character by character, a thousand
 * agents' directories alike to their last few), then by id.
 */
function sorted<T extends { readonly id: string }>(items: readonly T[], costOf: (item: T) => RunCost, groupOf: (item: T) => number) {
  return items
    .map((item, i) => ({ item, i, cost: costOf(item), group: groupOf(item) }))
    .sort((a, b) => a.cost.cls - b.cost.cls || (a.cost.cls === 1 ? a.group - b.group : b.cost.ms - a.cost.ms) || compare(a.item.id, b.item.id) || a.i - b.i);
}

/**
 * The runs in the order they go to the workers, cut into tasks of at most `size` runs, of which at most `commands`
 * run a command probe. Sorted alone, a sweep's CLI runs come first and would fill its first tasks, which may all
 * land on one thread; cut by the command budget's share of a thread, they make several tasks, which the balancer
 * spreads over the threads (least busy first). Lookups stay together, by scope, as the order put them.
 */
export function tasksByCost<T extends { readonly id: string }>(items: readonly T[], costOf: (item: T) => RunCost, groupOf: (item: T) => number, size: number, commands: number): T[][] {
  const tasks: T[][] = [];
  let task: T[] = [];
  let withCommand = 0;
  for (const { item, cost } of sorted(items, costOf, groupOf)) {
    if (task.length >= size || (cost.command && withCommand >= commands)) {
      tasks.push(task);
      task = [];
      withCommand = 0;
    }
    task.push(item);
    if (cost.command) withCommand++;
  }
  if (task.length > 0) tasks.push(task);
  return tasks;
}
