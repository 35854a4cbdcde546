/**
 * The gateway's rules for an auth profile, shared by the JSON store
 * (`authProfiles`) and the OpenClaw store (`openclawStore`, SQLite or JSON):
 * which provider a profile belongs to, whether it is usable, and which
 * profile decides a provider's answer. Runs inside a worker; what leaves it
 * is profile ids, rule names and expiry times, never a credential value.
 */
import { z } from 'zod';
import { errorData, type ErrorData } from '../../errors.js';
import { normalizeProviderId } from '../../config/provider-id.js';
import { describeExpiry, expiryMs, stillValid, validUntilOf } from '../expiry.js';

/**
 * The store's outer shape; profiles are checked one by one so one odd entry does not hide the rest. This schema and
 * the profile's are compiled (zod's `z.compile`: the same results, from generated code): a sweep of a thousand
 * agents' stores checks every profile of each.
 */
const StoreSchema = z.compile(z.looseObject({ profiles: z.record(z.string(), z.unknown()) }));

/** A parsed store's `profiles`, or `E_STORE_INVALID` naming `where` (a file, or a row of a database). */
export function storeProfiles(json: unknown, where: string): { ok: true; profiles: Readonly<Record<string, unknown>> } | { ok: false; error: ErrorData } {
  const store = StoreSchema.safeParse(json);
  return store.success ? { ok: true, profiles: store.data.profiles } : { ok: false, error: errorData('E_STORE_INVALID', `${where} has no "profiles" object`) };
}
const ProfileSchema = z.compile(
  z.looseObject({
    provider: z.string().min(1).max(256).optional(),
    type: z.string().max(64).optional(),
  }),
);

/**
 * A profile as the gateway would judge it, apart from the clock: usable for good, usable until `expires` (a
 * token's, in ms since the epoch), or not usable by the named rule. Holds no credential value.
 */
export type Standing = { readonly usable: true; readonly expires?: number } | { readonly usable: false; readonly rule: string };

export interface ProfileEntry {
  readonly profileId: string;
  readonly standing: Standing;
  /** Which store or layer the profile came from (the OpenClaw store's `agent` or `shared`), when there are several. */
  readonly origin: string | undefined;
}

/** Profile ids come from the store: bounded before they reach a report, whose fields have length limits. */
const clip = (id: string): string => (id.length > 200 ? `${id.slice(0, 199)}…` : id);

const filled = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The gateway's eligibility rules, one per credential type; anything else is not usable. */
export function standingOf(profile: Readonly<Record<string, unknown>>): Standing {
  switch (profile['type']) {
    case 'api_key':
      return filled(profile['key']) || isObject(profile['keyRef']) ? { usable: true } : { usable: false, rule: 'api_key needs a non-empty key or a keyRef object' };
    case 'token': {
      if (!filled(profile['token']) && !isObject(profile['tokenRef'])) return { usable: false, rule: 'token needs a non-empty token or a tokenRef object' };
      if (!Object.hasOwn(profile, 'expires')) return { usable: true };
      // 0, a negative number, null, a string or a time past 8.64e15 is a broken expiry, not "never".
      const expires = expiryMs(profile['expires'], 'ms');
      return expires === undefined ? { usable: false, rule: 'token expires is not a positive time in ms' } : { usable: true, expires };
    }
    case 'oauth':
      // The gateway refreshes an expired access token, so expiry does not matter here.
      if (filled(profile['access']) || filled(profile['refresh'])) return { usable: true };
      return { usable: false, rule: isObject(profile['oauthRef']) ? 'oauth has only an oauthRef, unresolved' : 'oauth needs a non-empty access or refresh token' };
    default:
      return { usable: false, rule: 'type is not api_key, token or oauth' };
  }
}

/** One store's profiles (`profiles` of a parsed store), with where they came from. */
export interface ProfileLayer {
  readonly profiles: Readonly<Record<string, unknown>>;
  readonly origin?: string;
}

/** One layer indexed: its profiles by provider, each with its id as the store has it (which hides the same id in later layers). */
type LayerIndex = ReadonlyMap<string, readonly (readonly [id: string, entry: ProfileEntry])[]>;

/**
 * Layers indexed so far, by their profiles object and origin: a store's profiles are parsed once per file state (a
 * JSON store, see `deriveFromJsonFile`) or task (a database's row), and every provider of an agent, and the main
 * agent's store under a thousand agents, asks for the same layers. Indexing them again for each provider (a zod parse
 * of every profile) was a third of what a sweep of a thousand agents' stores allocated in the worker.
 */
const indexed = new WeakMap<object, Map<string | undefined, { readonly aliases: ReadonlyMap<string, string>; readonly index: LayerIndex }>>();

function layerIndex({ profiles, origin }: ProfileLayer, aliases: ReadonlyMap<string, string>): LayerIndex {
  let byOrigin = indexed.get(profiles);
  if (!byOrigin) indexed.set(profiles, (byOrigin = new Map()));
  const known = byOrigin.get(origin);
  if (known?.aliases === aliases) return known.index;
  const index = new Map<string, [string, ProfileEntry][]>();
  for (const [profileId, raw] of Object.entries(profiles)) {
    const profile = ProfileSchema.safeParse(raw);
    if (!profile.success) continue;
    // Profiles are keyed "<provider>:<name>"; an explicit `provider` field wins.
    const named = profile.data.provider ?? profileId.split(':', 1)[0] ?? '';
    if (named === '') continue;
    const provider = normalizeProviderId(named, aliases);
    let entries = index.get(provider);
    if (!entries) index.set(provider, (entries = []));
    entries.push([profileId, { profileId: clip(profileId), standing: standingOf(profile.data), origin }]);
  }
  byOrigin.set(origin, { aliases, index });
  return index;
}

/**
 * A provider's profiles over `layers`, in store order, layer by layer; an id in an earlier layer hides the same id in
 * later ones. From each layer's index, made once per layer.
 */
export function providerProfiles(layers: readonly ProfileLayer[], aliases: ReadonlyMap<string, string>, provider: string): readonly ProfileEntry[] | undefined {
  let found: ProfileEntry[] | undefined;
  for (let i = 0; i < layers.length; i++) {
    for (const [id, entry] of layerIndex(layers[i] as ProfileLayer, aliases).get(provider) ?? []) {
      if (hidden(layers, i, id)) continue;
      (found ??= []).push(entry);
    }
  }
  return found;
}

/** Whether a layer before `i` has the id: an agent's `openai:default` hides the shared `openai:default`, not the shared `openai:team`. */
function hidden(layers: readonly ProfileLayer[], i: number, id: string): boolean {
  for (let j = 0; j < i; j++) if (Object.hasOwn((layers[j] as ProfileLayer).profiles, id)) return true;
  return false;
}

/** A provider's answer from its profiles: the profile that decided, or why none did. */
export type Judgement = { readonly found: true; readonly entry: ProfileEntry; readonly validUntil?: number } | { readonly found: false; readonly error: ErrorData; readonly entry?: ProfileEntry };

/**
 * Judges a provider's profiles now. With `any`, any profile counts. Otherwise a profile usable for good wins over
 * one that expires; among expiring ones the latest decides, with `validUntil` (ms since the epoch, skew taken off).
 */
export function judgeProfiles(entries: readonly ProfileEntry[] | undefined, provider: string, eligibility: 'usable' | 'any' | undefined, skewMs: number): Judgement {
  const first = entries?.[0];
  if (entries === undefined || first === undefined) return { found: false, error: errorData('E_NO_PROFILE', provider) };
  if (eligibility === 'any') return { found: true, entry: first };
  const now = Date.now();
  let latest: { readonly entry: ProfileEntry; readonly expires: number } | undefined;
  for (const entry of entries) {
    const { standing } = entry;
    if (!standing.usable) continue;
    if (standing.expires === undefined) return { found: true, entry };
    if (stillValid(standing.expires, skewMs, now) && (latest === undefined || standing.expires > latest.expires)) latest = { entry, expires: standing.expires };
  }
  if (latest !== undefined) return { found: true, entry: latest.entry, validUntil: validUntilOf(latest.expires, skewMs) };
  // None is usable: say why for the first, in store order.
  const rule = first.standing.usable ? `token ${describeExpiry(first.standing.expires as number, now)}` : first.standing.rule;
  const more = entries.length > 1 ? ` (and ${entries.length - 1} more not usable)` : '';
  return { found: false, error: errorData('E_PROFILE_NOT_USABLE', `${first.profileId}: ${rule}${more}`), entry: first };
}
