/**
 * auth-probe-pool: synchronous auth probes (env, credential files, CLIs) run
 * in a worker pool, behind an async, cached, coalescing checker, so a
 * gateway's event loop stays free.
 */
export { createAuthProbePool } from './pool.js';
export type { AuthChecker, AuthProbePool, WarmReport, WarmOptions, WarmProgress, WarmTarget, ExplainOptions, AuthChangeEvent } from './pool.js';
export type { ExplainReport } from './explain.js';
export type { PoolStats, DurationSummary } from './pool-types.js';
export { PoolOptionsSchema } from './config/options.js';
export type { AuthProbePoolOptions } from './config/options.js';
export { loadProbeConfig } from './config/compile.js';
export {
  ProbeConfigSchema,
  ProbeSchema,
  EnvProbeSchema,
  AuthProfilesProbeSchema,
  OpenclawStoreProbeSchema,
  CredentialFileProbeSchema,
  CommandProbeSchema,
  ModuleProbeSchema,
  ScopeSchema,
  ProbeOutcomeSchema,
} from './config/schema.js';
export type { Probe, ProbeKind, ProbeConfig, ProbeConfigInput, Scope, ProbeOutcome } from './config/schema.js';
export { AuthProbeError, ERROR_CODES } from './errors.js';
export type { ErrorCode, ErrorData } from './errors.js';
export type { ModuleProbeContext, ModuleProbeFunction } from './probes/module.js';
export type { AuthProbeLogger } from './logger.js';
export { startLivenessMonitor, type LivenessOptions, type LivenessSample } from './liveness.js';
export { defaultProbeConfig, keychainProbeConfig } from './config/defaults.js';
export { mergeProbeConfig, type MergeProbeConfigOptions } from './config/merge.js';
export { exposeChecker, connectChecker, type ExposedChecker, type ConnectedChecker, type ExposeCheckerOptions } from './share.js';
