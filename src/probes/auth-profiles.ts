import type { z } from 'zod';
import type { AuthProfilesProbeSchema } from '../schema.js';
import { errorData } from '../errors.js';
import { resolveProbePath } from '../templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile, type FileRead } from './files.js';
import { indexProfiles, judgeProfiles, StoreSchema, type ProviderIndex } from './store/profiles.js';
import { fromRead, present, unresolved, type Verdict } from './verdict.js';

/** Parses a store's JSON into its provider index, or says why it cannot. */
export function indexStoreJson(json: unknown, path: string, aliases: ReadonlyMap<string, string>, origin?: string): FileRead<ProviderIndex> {
  const store = StoreSchema.safeParse(json);
  if (!store.success) return { ok: false, error: errorData('E_STORE_INVALID', `${path} has no "profiles" object`), missing: false };
  return { ok: true, value: indexProfiles([{ profiles: store.data.profiles, ...(origin !== undefined ? { origin } : {}) }], aliases) };
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
  const read = deriveFromJsonFile(path, 'authProfiles', ctx.init.maxFileBytes, ctx.deps, (json) => indexStoreJson(json, path, ctx.config.aliases));
  if (!read.ok) return fromRead(read.error, read.missing, { path });
  const judged = judgeProfiles(read.value.get(ctx.provider), ctx.provider, probe.eligibility, ctx.init.expirySkewMs);
  if (judged.found) return present({ path, profileId: judged.entry.profileId }, judged.validUntil);
  return fromRead(judged.error, true, { path, ...(judged.entry ? { profileId: judged.entry.profileId } : {}) });
}
