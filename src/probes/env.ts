import type { ProbeContext } from './context.js';
import type { EnvProbeSchema } from '../config/schema.js';
import type { z } from 'zod';
import { absent, present, type Verdict } from './verdict.js';

/** Any named variable non-empty in the scope's env. Reports the variable's name, never its value. */
export function envProbe(probe: z.infer<typeof EnvProbeSchema>, ctx: ProbeContext): Verdict {
  for (const name of probe.vars) {
    const value = ctx.env[name];
    if (value !== undefined && value.trim() !== '') return present({ variable: name });
  }
  return absent('E_ENV_UNSET', probe.vars.join(', '));
}
