import type { z } from 'zod';
import type { AuthProfilesProbeSchema } from '../config/schema.js';
import { resolveProbePath } from '../config/templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile } from './files.js';
import { judgeProfiles, providerProfiles, storeProfiles } from './store/profiles.js';
import { fromRead, present, unresolved, type Verdict } from './verdict.js';

/**
 * True when a profile in the store belongs to the checked provider and (by default) is usable now.
 * The store is parsed once per fingerprint; only the clock is consulted per check. A profile usable
 * for good wins over one that expires; among expiring ones the latest decides, reported with `validUntil`.
 */
export function authProfilesProbe(probe: z.infer<typeof AuthProfilesProbeSchema>, ctx: ProbeContext): Verdict {
  const where = resolveProbePath(probe.path, ctx);
  if (!where.ok) return unresolved(where.error);
  const path = where.path;
  const read = deriveFromJsonFile(
    path,
    'authProfiles',
    ctx.init.maxFileBytes,
    ctx.deps,
    (json) => {
      const store = storeProfiles(json, path);
      return store.ok ? { ok: true, value: [{ profiles: store.profiles }] } : { ok: false, error: store.error, missing: false };
    },
    ctx.memo,
  );
  if (!read.ok) return fromRead(read.error, read.missing, { path });
  const judged = judgeProfiles(providerProfiles(read.value, ctx.config.aliases, ctx.provider), ctx.provider, probe.eligibility, ctx.init.expirySkewMs);
  if (judged.found) return present({ path, profileId: judged.entry.profileId }, judged.validUntil);
  return fromRead(judged.error, true, { path, ...(judged.entry ? { profileId: judged.entry.profileId } : {}) });
}
