import type { z } from 'zod';
import type { AuthProfilesProbeSchema } from '../config/schema.js';
import { resolveProbePath } from '../config/templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile, type FileRead } from './files.js';
import { indexProfiles, judgeProfiles, storeProfiles, type ProviderIndex } from './store/profiles.js';
import { fromRead, present, unresolved, type Verdict } from './verdict.js';

/** Parses a store's JSON into its provider index, or says why it cannot. */
function indexStoreJson(json: unknown, path: string, aliases: ReadonlyMap<string, string>): FileRead<ProviderIndex> {
  const store = storeProfiles(json, path);
  return store.ok ? { ok: true, value: indexProfiles([{ profiles: store.profiles }], aliases) } : { ok: false, error: store.error, missing: false };
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
