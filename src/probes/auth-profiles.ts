import { z } from 'zod';
import type { AuthProfilesProbeSchema } from '../schema.js';
import { errorData } from '../errors.js';
import { normalizeProviderId } from '../provider-id.js';
import { resolveProbePath } from '../templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile, type FileRead } from './files.js';
import { absent, failed, present, unresolved, type Verdict } from './verdict.js';

/** The store's outer shape; profiles are checked one by one so one odd entry does not hide the rest. */
const StoreSchema = z.looseObject({ profiles: z.record(z.string(), z.unknown()) });
const ProfileSchema = z.looseObject({
  provider: z.string().min(1).max(256).optional(),
  type: z.string().max(64).optional(),
});

/** Normalised provider → the first profile id that names it. */
type ProviderIndex = ReadonlyMap<string, string>;

function indexStore(json: unknown, path: string, aliases: ReadonlyMap<string, string>): FileRead<ProviderIndex> {
  const store = StoreSchema.safeParse(json);
  if (!store.success) return { ok: false, error: errorData('E_STORE_INVALID', `${path} has no "profiles" object`), missing: false };
  const index = new Map<string, string>();
  for (const [profileId, raw] of Object.entries(store.data.profiles)) {
    const profile = ProfileSchema.safeParse(raw);
    if (!profile.success) continue;
    // Profiles are keyed "<provider>:<name>"; an explicit `provider` field wins.
    const named = profile.data.provider ?? profileId.split(':', 1)[0] ?? '';
    if (named === '') continue;
    const provider = normalizeProviderId(named, aliases);
    if (!index.has(provider)) index.set(provider, profileId);
  }
  return { ok: true, value: index };
}

/** True when a profile in the store belongs to the checked provider. The store is parsed once per fingerprint. */
export function authProfilesProbe(probe: z.infer<typeof AuthProfilesProbeSchema>, ctx: ProbeContext): Verdict {
  const where = resolveProbePath(probe.path, ctx);
  if (!where.ok) return unresolved(where.error);
  const path = where.path;
  const read = deriveFromJsonFile(path, 'authProfiles', ctx.init.maxFileBytes, ctx.deps, (json) => indexStore(json, path, ctx.config.aliases));
  if (!read.ok) return read.missing ? absent(read.error.code, path, { path }) : failed(read.error.code, read.error.message, { path });
  const profileId = read.value.get(ctx.provider);
  return profileId === undefined ? absent('E_NO_PROFILE', ctx.provider, { path }) : present({ path, profileId });
}
