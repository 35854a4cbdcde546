/**
 * A small set kept small: an array while it has few members, a `Set` once it has many. The watcher keeps one per
 * followed path (its dependents) and per watched name (the paths behind it); at a thousand agents nearly all of them
 * hold one to five members, and a `Set` per path was a seventh of what the sweep kept on the gateway's heap, where an
 * array of five is a third of one. Arrays are never changed in place: a caller iterating one is not disturbed.
 */
export type Few<T> = readonly T[] | Set<T>;

/** Members kept in an array at most. */
const FEW = 8;

/** `few` with `item` (`few` itself once it is a `Set`). */
export function withItem<T>(few: Few<T> | undefined, item: T): Few<T> {
  if (few === undefined) return [item];
  if (few instanceof Set) return few.add(item);
  if (few.includes(item)) return few;
  // A new array of its size each time (FEW at most): one grown by a push holds 17 slots.
  return few.length < FEW ? [...few, item] : new Set(few).add(item);
}

/** `few` without `item`; undefined when none is left. */
export function withoutItem<T>(few: Few<T>, item: T): Few<T> | undefined {
  if (few instanceof Set) {
    few.delete(item);
    return few.size > 0 ? few : undefined;
  }
  if (!few.includes(item)) return few;
  const left = few.filter((member) => member !== item);
  return left.length > 0 ? left : undefined;
}
