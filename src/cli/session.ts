/**
 * What a `check` or `explain` run probes with: the configuration, the
 * environment (`--env-file`, `--home`), the scope (`--agent-dir`) and one pool.
 */
import { resolve } from 'node:path';
import { compileConfig, type CompiledConfig } from '../config/compile.js';
import { AuthProbeError } from '../errors.js';
import { createAuthProbePool, type AuthProbePool } from '../pool.js';
import type { Scope } from '../config/schema.js';
import { CliError, type CliArgs } from './args.js';
import { cliConfig } from './config-file.js';
import { probeEnv } from './env-file.js';

export interface Session {
  readonly pool: AuthProbePool;
  /** The effective configuration, compiled: provider ids for a sweep, probe specs for descriptions. */
  readonly config: CompiledConfig;
  readonly scope: Scope | undefined;
  /** The HOME probes resolve `~` against, to show paths under it as `~/…`. */
  readonly home: string | undefined;
}

export function openSession(args: CliArgs, processEnv: Record<string, string | undefined>): Session {
  const { probes, configDir } = cliConfig(args);
  const env = probeEnv(args, processEnv);
  let pool: AuthProbePool;
  try {
    pool = createAuthProbePool({
      probes,
      configDir,
      env,
      ...(args.threads !== undefined ? { threads: { min: 1, max: args.threads } } : {}),
      ...(args.timeoutMs !== undefined ? { probeTimeoutMs: args.timeoutMs } : {}),
    });
  } catch (err) {
    // A merged configuration can still break a limit (64 probes per provider, with --extend).
    if (err instanceof AuthProbeError) throw new CliError(err.message);
    throw err;
  }
  return {
    pool,
    config: compileConfig(probes),
    scope: args.agentDir !== undefined ? { agentDir: resolve(args.agentDir) } : undefined,
    home: env['HOME'],
  };
}
