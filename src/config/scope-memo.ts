/**
 * Memos of what a worker works out from a probe's scope and env (a resolved path template, a store's places): kept
 * by the scope object, which a task's providers of one scope share and each task makes anew, so a task of thirty
 * providers works each out once per scope, and nothing outlives the task or crosses an env epoch; or, for what does
 * not depend on the scope (`~/.codex/auth.json`), by the env object, which lasts the epoch.
 */
export interface ScopeMemoKey {
  readonly scope: object;
  readonly env: object;
  readonly init: object;
}

/** One kind of memo: a table of its own, by scope (or env), then by the caller's key. */
export class ScopeMemo<K, V> {
  readonly #byOwner = new WeakMap<object, { readonly env: object; readonly init: object; readonly values: Map<K, V> }>();

  /** The value for `key` in `where`'s scope (its env alone with `envOnly`), env and worker settings, made by `make` the first time. */
  get(where: ScopeMemoKey, key: K, make: () => V, envOnly = false): V {
    const owner = envOnly ? where.env : where.scope;
    let known = this.#byOwner.get(owner);
    if (known?.env !== where.env || known.init !== where.init) {
      known = { env: where.env, init: where.init, values: new Map() };
      this.#byOwner.set(owner, known);
    }
    if (known.values.has(key)) return known.values.get(key) as V;
    const value = make();
    known.values.set(key, value);
    return value;
  }
}
