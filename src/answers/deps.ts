/**
 * A cell's dependencies as its result gave them: path, fingerprint pairs, in the order the probe read them. The list is
 * the one `DepsLists` made for the result's check form, shared by every cell whose probe read the same files as they
 * were (an agent's five providers, its one store), and never changed in place: a new fingerprint makes a new list.
 *
 * A list, not a `Map` made of it: a probe reads a few files, so a look-up is a short scan, and the list is kept anyway
 * (by `DepsLists`), where a map and its table were about 350 bytes more per list: a thousand agents' burst keeps about a
 * thousand lists.
 */
export type DepList = readonly (readonly [string, string])[];

/** No dependencies. */
export const NO_DEPS: DepList = Object.freeze([]);

/** Where `deps` records `path`, or -1 when it does not. */
function indexOfPath(deps: DepList, path: string): number {
  for (let i = 0; i < deps.length; i++) if ((deps[i] as readonly [string, string])[0] === path) return i;
  return -1;
}

/** The fingerprint `deps` recorded for `path`, or undefined when it has none. */
export function fingerprintIn(deps: DepList, path: string): string | undefined {
  const i = indexOfPath(deps, path);
  return i < 0 ? undefined : (deps[i] as readonly [string, string])[1];
}

/** `deps` with `path`'s fingerprint replaced; `deps` itself when it does not follow `path`. */
export function withFingerprint(deps: DepList, path: string, fingerprint: string): DepList {
  const i = indexOfPath(deps, path);
  if (i < 0) return deps;
  const out = deps.slice();
  out[i] = [path, fingerprint];
  return out;
}
