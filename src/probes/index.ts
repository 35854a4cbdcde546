/**
 * The probe kinds, each run by its own function. Runs inside a worker.
 */
import type { Probe } from '../config/schema.js';
import { authProfilesProbe } from './auth-profiles.js';
import { commandProbe } from './command.js';
import type { ProbeContext } from './context.js';
import { credentialFileProbe } from './credential-file.js';
import { envProbe } from './env.js';
import { moduleProbe } from './module.js';
import { openclawStoreProbe } from './openclaw-store.js';
import { absent, type Verdict } from './verdict.js';

export type { ProbeContext } from './context.js';
export type { Verdict } from './verdict.js';

export function runProbe(probe: Probe, ctx: ProbeContext): Verdict | Promise<Verdict> {
  if (probe.platforms && !probe.platforms.includes(process.platform)) {
    return absent('E_PLATFORM_SKIPPED', `runs on ${probe.platforms.join(', ')}`);
  }
  // Empty or blank counts as unset, as in path templates, so of a `$VAR` probe and its `unlessEnv: [VAR]` fallback exactly one runs.
  const overriding = probe.unlessEnv?.find((name) => (ctx.env[name] ?? '').trim() !== '');
  if (overriding !== undefined) return absent('E_ENV_OVERRIDDEN', `${overriding} is set`, { variable: overriding });
  switch (probe.kind) {
    case 'env':
      return envProbe(probe, ctx);
    case 'authProfiles':
      return authProfilesProbe(probe, ctx);
    case 'openclawStore':
      return openclawStoreProbe(probe, ctx);
    case 'credentialFile':
      return credentialFileProbe(probe, ctx);
    case 'command':
      return commandProbe(probe, ctx);
    case 'module':
      return moduleProbe(probe, ctx);
  }
}
