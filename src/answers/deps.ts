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

/** The fingerprint `deps` recorded for `path`, or undefined when it has none. */
export function fingerprintIn(deps: DepList, path: string): string | undefined {
  for (let i = 0; i < deps.length; i++) {
    const pair = deps[i] as readonly [string, string];
    if (pair[0] === path) return pair[1];
  }
  return undefined;
}

/** `deps` with `path`'s fingerprint replaced; `deps` itself when it does not follow `path`. */
export function withFingerprint(deps: DepList, path: string, fingerprint: string): DepList {
  for (let i = 0; i < deps.length; i++) {
    if ((deps[i] as readonly [string, string])[0] !== path) continue;
    const out = deps.slice();
    out[i] = [path, fingerprint];
    return out;
  }
  return deps;
}
