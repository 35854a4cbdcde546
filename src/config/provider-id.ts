/**
 * Provider id normalisation, shared by the main thread (cache keys, config
 * lookup) and the workers (matching profiles in an auth store), so that both
 * sides agree on what "the same provider" means.
 */

/** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
const VALID_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Trims and lower-cases; does not validate. */
export function canonicalId(raw: string): string {
  return raw.trim().toLowerCase();
}

/**
 * Whether a canonical id is safe to use as a cache key and inside a path
 * template: no separators, no `..`, no NUL or shell metacharacters.
 */
export function isValidProviderId(id: string): boolean {
  return VALID_ID.test(id) && !id.includes('..');
}

/** Builds the alias table with canonical keys and values. */
export function buildAliases(aliases: Readonly<Record<string, string>> | undefined): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [from, to] of Object.entries(aliases ?? {})) map.set(canonicalId(from), canonicalId(to));
  return map;
}

/** Canonicalises, then follows one alias (`z.ai` → `zai`). */
export function normalizeProviderId(raw: string, aliases: ReadonlyMap<string, string>): string {
  const id = canonicalId(raw);
  return aliases.get(id) ?? id;
}
