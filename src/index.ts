/**
 * auth-probe-pool: synchronous auth probes (env, credential files, CLIs) run
 * in a worker pool, behind an async, cached, coalescing checker, so a
 * gateway's event loop stays free.
 */
export { createAuthProbePool } from './pool.js';
export type { AuthChecker, AuthProbePool, WarmReport, WarmOptions, WarmProgress, AuthChangeEvent } from './pool.js';
export type { ExplainReport } from './explain.js';
export type { PoolStats, DurationSummary } from './pool-types.js';
export { PoolOptionsSchema } from './options.js';
export type { AuthProbePoolOptions } from './options.js';
export { loadProbeConfig } from './config.js';
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
} from './schema.js';
export type { Probe, ProbeKind, ProbeConfig, ProbeConfigInput, Scope, ProbeOutcome } from './schema.js';
export { AuthProbeError, ERROR_CODES } from './errors.js';
export type { ErrorCode, ErrorData } from './errors.js';
export type { ModuleProbeContext, ModuleProbeFunction } from './probes/module.js';
export type { AuthProbeLogger } from './logger.js';
export { startLivenessMonitor, type LivenessOptions, type LivenessSample } from './liveness.js';
export { defaultProbeConfig, keychainProbeConfig } from './defaults.js';
export { mergeProbeConfig, type MergeProbeConfigOptions } from './merge-config.js';
export { exposeChecker, connectChecker, type ExposedChecker, type ConnectedChecker, type ExposeCheckerOptions } from './share.js';
