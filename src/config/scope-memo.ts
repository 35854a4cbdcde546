/**
 * Memos of what a worker works out from a probe's scope and env (a resolved path template, a store's places): kept
 * by the scope object, which a task's providers of one scope share and each task makes anew, so a task of thirty
 * providers works each out once per scope, and nothing outlives the task or crosses an env epoch.
 */
export interface ScopeMemoKey {
  readonly scope: object;
  readonly env: object;
  readonly init: object;
}

/** One kind of memo: a table of its own, by scope, then by the caller's key. */
export class ScopeMemo<K, V> {
  readonly #byScope = new WeakMap<object, { readonly env: object; readonly init: object; readonly values: Map<K, V> }>();

  /** The value for `key` in `where`'s scope, env and worker settings, made by `make` the first time. */
  get(where: ScopeMemoKey, key: K, make: () => V): V {
    let known = this.#byScope.get(where.scope);
    if (known?.env !== where.env || known.init !== where.init) {
      known = { env: where.env, init: where.init, values: new Map() };
      this.#byScope.set(where.scope, known);
    }
    if (known.values.has(key)) return known.values.get(key) as V;
    const value = make();
    known.values.set(key, value);
    return value;
  }
}
