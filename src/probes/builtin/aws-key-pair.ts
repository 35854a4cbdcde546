/**
 * A module probe of the built-in set (see `src/config/defaults.ts`): AWS's key-pair
 * form needs both halves, which an `env` probe (true when any one variable is
 * set) cannot express. Runs inside a worker; reads names, returns a boolean.
 */
import type { ModuleProbeContext } from '../module.js';

const set = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/** True when both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are non-empty in the probed env. */
export default function awsKeyPair(ctx: ModuleProbeContext): boolean {
  return set(ctx.env['AWS_ACCESS_KEY_ID']) && set(ctx.env['AWS_SECRET_ACCESS_KEY']);
}
