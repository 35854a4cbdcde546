import { z } from 'zod';
import type { AuthProfilesProbeSchema } from '../schema.js';
import { errorData } from '../errors.js';
import { normalizeProviderId } from '../provider-id.js';
import { resolveProbePath } from '../templates.js';
import type { ProbeContext } from './context.js';
import { describeExpiry, stillValid, validUntilOf } from './expiry.js';
import { deriveFromJsonFile, type FileRead } from './files.js';
import { fromRead, present, unresolved, type Verdict } from './verdict.js';

/** The store's outer shape; profiles are checked one by one so one odd entry does not hide the rest. */
const StoreSchema = z.looseObject({ profiles: z.record(z.string(), z.unknown()) });
const ProfileSchema = z.looseObject({
  provider: z.string().min(1).max(256).optional(),
  type: z.string().max(64).optional(),
});

/**
 * A profile as the gateway would judge it, apart from the clock: usable for
 * good, usable until `expires` (a token's, in ms since the epoch), or not
 * usable by the named rule. Holds no credential value.
 */
type Standing = { readonly usable: true; readonly expires?: number } | { readonly usable: false; readonly rule: string };

interface ProfileEntry {
  readonly profileId: string;
  readonly standing: Standing;
}

/** Normalised provider → its profiles, in store order. */
type ProviderIndex = ReadonlyMap<string, readonly ProfileEntry[]>;

/** Profile ids come from the file: bounded before they reach a report, whose fields have length limits. */
const clip = (id: string): string => (id.length > 200 ? `${id.slice(0, 199)}…` : id);

const filled = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';

/** The gateway's eligibility rules, one per credential type; anything else is not usable. */
function standingOf(profile: Readonly<Record<string, unknown>>): Standing {
  switch (profile['type']) {
    case 'api_key': {
      const ref = profile['keyRef'];
      const hasRef = typeof ref === 'object' && ref !== null && !Array.isArray(ref);
      return filled(profile['key']) || hasRef ? { usable: true } : { usable: false, rule: 'api_key needs a non-empty key or a keyRef object' };
    }
    case 'token': {
      if (!filled(profile['token'])) return { usable: false, rule: 'token needs a non-empty token' };
      if (!Object.hasOwn(profile, 'expires')) return { usable: true };
      const expires = profile['expires'];
      // 0, a negative number, null or a string is a broken expiry, not "never".
      if (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0) return { usable: false, rule: 'token expires is not a positive time in ms' };
      return { usable: true, expires };
    }
    case 'oauth':
      // The gateway refreshes an expired access token, so expiry does not matter here.
      return filled(profile['access']) || filled(profile['refresh']) ? { usable: true } : { usable: false, rule: 'oauth needs a non-empty access or refresh token' };
    default:
      return { usable: false, rule: 'type is not api_key, token or oauth' };
  }
}

function indexStore(json: unknown, path: string, aliases: ReadonlyMap<string, string>): FileRead<ProviderIndex> {
  const store = StoreSchema.safeParse(json);
  if (!store.success) return { ok: false, error: errorData('E_STORE_INVALID', `${path} has no "profiles" object`), missing: false };
  const index = new Map<string, ProfileEntry[]>();
  for (const [profileId, raw] of Object.entries(store.data.profiles)) {
    const profile = ProfileSchema.safeParse(raw);
    if (!profile.success) continue;
    // Profiles are keyed "<provider>:<name>"; an explicit `provider` field wins.
    const named = profile.data.provider ?? profileId.split(':', 1)[0] ?? '';
    if (named === '') continue;
    const provider = normalizeProviderId(named, aliases);
    let entries = index.get(provider);
    if (!entries) index.set(provider, (entries = []));
    entries.push({ profileId: clip(profileId), standing: standingOf(profile.data) });
  }
  return { ok: true, value: index };
}

/**
 * True when a profile in the store belongs to the checked provider and (by default) is usable now.
 * The store is parsed once per fingerprint; only the clock is consulted per check. A profile usable
 * for good wins over one that expires; among expiring ones the latest decides, reported with `validUntil`.
 */
export function authProfilesProbe(probe: z.infer<typeof AuthProfilesProbeSchema>, ctx: ProbeContext): Verdict {
  const where = resolveProbePath(probe.path, ctx);
  if (!where.ok) return unresolved(where.error);
  const path = where.path;
  const read = deriveFromJsonFile(path, 'authProfiles', ctx.init.maxFileBytes, ctx.deps, (json) => indexStore(json, path, ctx.config.aliases));
  if (!read.ok) return fromRead(read.error, read.missing, { path });
  const entries = read.value.get(ctx.provider);
  if (entries === undefined) return fromRead(errorData('E_NO_PROFILE', ctx.provider), true, { path });
  if (probe.eligibility === 'any') return present({ path, profileId: (entries[0] as ProfileEntry).profileId });
  const skewMs = ctx.init.expirySkewMs;
  const now = Date.now();
  let latest: { readonly profileId: string; readonly expires: number } | undefined;
  for (const { profileId, standing } of entries) {
    if (!standing.usable) continue;
    if (standing.expires === undefined) return present({ path, profileId });
    if (stillValid(standing.expires, skewMs, now) && (latest === undefined || standing.expires > latest.expires)) latest = { profileId, expires: standing.expires };
  }
  if (latest !== undefined) return present({ path, profileId: latest.profileId }, validUntilOf(latest.expires, skewMs));
  // None is usable: say why for the first, in store order.
  const first = entries[0] as ProfileEntry;
  const rule = first.standing.usable ? `token ${describeExpiry(first.standing.expires as number, now)}` : first.standing.rule;
  const more = entries.length > 1 ? ` (and ${entries.length - 1} more not usable)` : '';
  return fromRead(errorData('E_PROFILE_NOT_USABLE', `${first.profileId}: ${rule}${more}`), true, { path, profileId: first.profileId });
}
