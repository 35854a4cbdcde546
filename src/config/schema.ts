/**
 * The contract between the gateway, the main thread and the workers. Every
 * type here is inferred from its zod schema, so the two never drift. This
 * module is imported by the worker entry too: keep it free of main-thread
 * state.
 */
import { isAbsolute } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { z } from 'zod';
import { ERROR_CODES, MAX_MESSAGE_CHARS, type ErrorCode } from '../errors.js';

const noNul = (s: string) => !s.includes('\0');

/** A path that may use `{agentDir}`, `{workspaceDir}`, `{provider}`, a leading `~`, and `$VAR` / `${VAR}`. */
export const PathTemplateSchema = z.string().min(1).max(4096).refine(noNul, { message: 'must not contain a NUL byte' });

const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A variable name, or a prefix of names ending in `*` (`LC_*`). */
export const EnvVarPatternSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'must be an environment variable name, or a prefix ending in *');

/** What a command gets of the environment by default: what a CLI needs to find its files and speak the locale, nothing more. */
export const DEFAULT_COMMAND_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_*', 'TZ', 'TMPDIR', 'XDG_*'] as const;

/** Every value Node's `process.platform` can take. */
export const PLATFORMS = ['aix', 'android', 'cygwin', 'darwin', 'freebsd', 'haiku', 'linux', 'netbsd', 'openbsd', 'sunos', 'win32'] as const;

const PlatformSchema = z.enum(PLATFORMS, { error: () => `must be a process.platform value: ${PLATFORMS.join(', ')}` });

const ProbeCommon = {
  /** A name shown in `explain()` reports. */
  label: z.string().min(1).max(200).optional(),
  /** Run only on these `process.platform` values (e.g. `["darwin"]` for keychain lookups). */
  platforms: z.array(PlatformSchema).min(1).optional(),
  /**
   * Skip the probe (absent, `E_ENV_OVERRIDDEN`) when any of these variables is non-empty: a source that
   * another takes precedence over, as `GOOGLE_APPLICATION_CREDENTIALS` does over gcloud's ADC file.
   */
  unlessEnv: z.array(EnvVarName).min(1).max(16).optional(),
};

/** Any of the named variables is non-empty in the scope's env. */
export const EnvProbeSchema = z.strictObject({
  kind: z.literal('env'),
  vars: z.array(EnvVarName).min(1).max(64),
  ...ProbeCommon,
});

/**
 * An `auth-profiles.json` store: true when a profile belongs to the provider (its `provider`, or the
 * `<provider>:` prefix of its id, after normalisation) and, with `eligibility: "usable"` (the default),
 * is usable as the gateway judges it: `api_key` with a non-empty `key` or a `keyRef` object, `token`
 * with a non-empty `token` and an `expires` (ms since the epoch) absent or later than now plus the
 * pool's `expirySkewMs`, `oauth` with a non-empty `access` or `refresh`. `"any"`: any profile counts.
 */
export const AuthProfilesProbeSchema = z.strictObject({
  kind: z.literal('authProfiles'),
  path: PathTemplateSchema,
  eligibility: z.enum(['usable', 'any']).optional(),
  ...ProbeCommon,
});

/** Schema versions (`PRAGMA user_version`) a store is read at; a newer one is a failure (`E_STORE_SCHEMA_NEWER`). */
export const DEFAULT_STORE_SCHEMA_VERSIONS = { agent: 8, state: 20 } as const;

/**
 * The OpenClaw gateway's auth-profile store, wherever the gateway's version keeps it. Since 2026.6 it is SQLite:
 * the agent's own `<agentDir>/openclaw-agent.sqlite` (row `primary` of `auth_profile_store`) over the shared store
 * (where `config_machine_state['auth.sharedStore']` of `<stateDir>/state/openclaw.sqlite` puts it), per profile id.
 * A gateway with none of those databases keeps `auth-profiles.json` files: the agent's over the main agent's, per id.
 * A provider has auth when a profile visible to the agent belongs to it and (by default) is usable, by the same rules
 * as the `authProfiles` kind. Read in the worker, read-only, never holding a transaction between reads.
 */
export const OpenclawStoreProbeSchema = z.strictObject({
  kind: z.literal('openclawStore'),
  /** The agent's directory; default `{agentDir}`. A scope without one checks the main agent. */
  agentDir: PathTemplateSchema.optional(),
  /** The gateway's state directory: the first template that resolves. Default `["$OPENCLAW_STATE_DIR", "~/.openclaw"]`. */
  stateDir: z.array(PathTemplateSchema).min(1).max(8).optional(),
  /** The main agent's directory: the first template that resolves, else `<stateDir>/agents/main/agent`. Default `["$OPENCLAW_AGENT_DIR"]`. */
  mainAgentDir: z.array(PathTemplateSchema).min(1).max(8).optional(),
  eligibility: z.enum(['usable', 'any']).optional(),
  /** The newest `user_version` read, per database; default `{ "agent": 8, "state": 20 }`. */
  schemaVersions: z.strictObject({ agent: z.number().int().nonnegative().optional(), state: z.number().int().nonnegative().optional() }).optional(),
  ...ProbeCommon,
});

/** A fresh schema per use: the JSON Schema generator describes fields by schema instance. */
const jsonPointer = () =>
  z
    .string()
    .max(1024)
    .regex(/^(\/[^/]*)+$/, 'must be a JSON pointer such as /tokens/access_token');

/** Where a credential file keeps its expiry, and in what unit: ms or s since the epoch, or an ISO 8601 date. */
export const ExpirySchema = z.strictObject({
  pointer: jsonPointer(),
  unit: z.enum(['ms', 's', 'iso']),
});

/**
 * A JSON credential file. True when the file parses, every pointer of `pointer` and `require` names a
 * non-empty string, at least one group of `anyOf` does so wholly (when given), and, with `expiry`, the
 * expiry is a valid time later than now plus the pool's `expirySkewMs`, or `refresh` names a non-empty
 * string (the tool refreshes the login itself). A missing or invalid expiry is an absence.
 */
export const CredentialFileProbeSchema = z
  .strictObject({
    kind: z.literal('credentialFile'),
    path: PathTemplateSchema,
    /** One JSON pointer that must name a non-empty string (the original form; same as a one-item `require`). */
    pointer: jsonPointer().optional(),
    /** JSON pointers that must each name a non-empty string. */
    require: z.array(jsonPointer()).min(1).max(32).optional(),
    /** Alternatives: groups of JSON pointers; at least one group must name non-empty strings throughout. */
    anyOf: z.array(z.array(jsonPointer()).min(1).max(32)).min(1).max(16).optional(),
    /** The login's expiry: required to be present and valid when given. */
    expiry: ExpirySchema.optional(),
    /** A JSON pointer to a refresh token: when it names a non-empty string, an expired login still counts. */
    refresh: jsonPointer().optional(),
    ...ProbeCommon,
  })
  .refine((p) => p.pointer !== undefined || p.require !== undefined || p.anyOf !== undefined, {
    message: 'needs pointer, require or anyOf',
    path: ['pointer'],
  })
  .refine((p) => p.refresh === undefined || p.expiry !== undefined, { message: 'refresh needs expiry', path: ['refresh'] });

/** An executable run without a shell; true on exit code 0 (and non-empty stdout when `requireStdout`). */
export const CommandProbeSchema = z.strictObject({
  kind: z.literal('command'),
  command: z.string().min(1).max(4096).refine(noNul, { message: 'must not contain a NUL byte' }),
  args: z
    .array(z.string().max(4096).refine(noNul, { message: 'must not contain a NUL byte' }))
    .max(64)
    .optional(),
  /** Milliseconds before the command is killed with SIGKILL; capped by the pool's `probeTimeoutMs`. */
  timeoutMs: z.number().int().positive().max(600_000).optional(),
  requireStdout: z.boolean().optional(),
  /**
   * Variables the command gets on top of the pool's `commandEnv` base list (PATH, HOME, locale, ...): it never sees
   * the rest of the gateway's environment. E.g. `["AWS_PROFILE", "AWS_CONFIG_FILE"]`.
   */
  passEnv: z.array(EnvVarName).max(64).optional(),
  ...ProbeCommon,
});

/** A module whose export (default `default`) runs inside the worker and returns a boolean. */
export const ModuleProbeSchema = z.strictObject({
  kind: z.literal('module'),
  module: z.string().min(1).max(4096).refine(noNul, { message: 'must not contain a NUL byte' }),
  export: z.string().min(1).max(200).optional(),
  ...ProbeCommon,
});

export const ProbeSchema = z.discriminatedUnion('kind', [EnvProbeSchema, AuthProfilesProbeSchema, OpenclawStoreProbeSchema, CredentialFileProbeSchema, CommandProbeSchema, ModuleProbeSchema]);

/** A provider id as written in a configuration: normalised before use. */
const ConfigProviderId = z.string().min(1).max(128);

/**
 * The probe configuration: JSON-serialisable, so it can live in a file.
 * A provider has auth when any of its probes, or of `defaults`, is true.
 */
export const ProbeConfigSchema = z.strictObject({
  providers: z.record(ConfigProviderId, z.array(ProbeSchema).max(64)),
  defaults: z.array(ProbeSchema).max(64).optional(),
  aliases: z.record(ConfigProviderId, ConfigProviderId).optional(),
});

/** Lengths of a scope's directories and agent id, in characters. */
const SCOPE_DIR_MAX = 4096;
const AGENT_ID_MAX = 256;

/**
 * A scope's directory: absolute, as the gateway knows it. A relative one would be read against whatever the current
 * directory is (or, in a path template, refused at every probe): refused here, at once, naming the field.
 */
const ScopeDir = z
  .string()
  .min(1)
  .max(SCOPE_DIR_MAX)
  .refine(noNul, { message: 'must not contain a NUL byte' })
  .refine((dir) => isAbsolute(dir), { message: 'must be an absolute path' });

const AgentId = z.string().min(1).max(AGENT_ID_MAX).refine(noNul, { message: 'must not contain a NUL byte' });

/** What a gateway passes per check today: where the agent lives and which env to probe. */
export const ScopeSchema = z.strictObject({
  agentDir: ScopeDir.optional(),
  workspaceDir: ScopeDir.optional(),
  agentId: AgentId.optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
});

/**
 * The common scopes, checked with {@link ScopeSchema}'s own limits but without a zod parse: a plain object of string
 * `agentDir`, `workspaceDir` and `agentId` alone, each valid. A gateway makes a checker per agent: for a thousand
 * agents' checkers made in one turn, zod's parse (cold) was half of that turn. Returns the scope as the schema would
 * parse it, or undefined for anything else (an `env`, a value these checks refuse), which the schema then parses, and
 * names what is wrong.
 */
export function commonScope(input: object): Scope | undefined {
  const proto = Object.getPrototypeOf(input);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const fields = input as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (typeof value !== 'string' || value.length === 0 || !noNul(value)) return undefined;
    if (name === 'agentId') {
      if (value.length > AGENT_ID_MAX) return undefined;
    } else if (name !== 'agentDir' && name !== 'workspaceDir') return undefined;
    else if (value.length > SCOPE_DIR_MAX || !isAbsolute(value)) return undefined;
  }
  return fields as Scope;
}

export type Probe = z.infer<typeof ProbeSchema>;
export type ProbeKind = Probe['kind'];
export type ProbeConfig = z.infer<typeof ProbeConfigSchema>;
export type ProbeConfigInput = z.input<typeof ProbeConfigSchema>;
export type Scope = z.infer<typeof ScopeSchema>;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const ErrorDataSchema = z.strictObject({ code: ErrorCodeSchema, message: z.string().max(MAX_MESSAGE_CHARS) });

const DepsSchema = z.array(z.tuple([z.string().max(4096), z.string().max(200)])).max(1024);

export const ProbeKindSchema = z.enum(['env', 'authProfiles', 'openclawStore', 'credentialFile', 'command', 'module']);

/** One probe's outcome as a worker reports it: presence and metadata, never a value. */
export const ProbeOutcomeSchema = z.strictObject({
  /** Position in the provider's plan (its own probes, then `defaults`): what the main thread keeps the outcome under. */
  position: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  source: z.enum(['provider', 'defaults']),
  kind: ProbeKindSchema,
  label: z.string().optional(),
  outcome: z.enum(['present', 'absent', 'error']),
  /**
   * For a `present` that rests on an expiry (a token profile's `expires`, a credential file's expiry
   * without a refresh token): when it stops being true, in ms since the epoch, the skew already taken off.
   */
  validUntil: z.number().optional(),
  durationMs: z.number().nonnegative(),
  error: ErrorDataSchema.optional(),
  detail: z
    .strictObject({
      path: z.string().max(4096).optional(),
      profileId: z.string().max(512).optional(),
      /** Which store decided, for an `openclawStore` probe: the agent's, the shared one, or a legacy JSON file. */
      store: z.enum(['agent', 'shared', 'agent-json', 'main-json']).optional(),
      /** The table and row read (`auth_profile_store/primary`, `config_machine_state/authProfiles.store`). */
      row: z.string().max(200).optional(),
      variable: z.string().max(256).optional(),
      exitCode: z.number().int().nullable().optional(),
      signal: z.string().max(32).nullable().optional(),
      /** The names (never the values) of the variables a command was given. */
      env: z.array(z.string().max(256)).max(512).optional(),
    })
    .optional(),
  /** Paths this probe consulted, each with its fingerprint then (or `missing`): what its outcome depends on. */
  deps: DepsSchema.optional(),
});

/** A worker's answer for one provider. */
export const ProviderResultSchema = z.strictObject({
  provider: z.string(),
  auth: z.boolean(),
  /** Position in `probes` of the probe that found auth, or null. */
  decidedBy: z.number().int().nonnegative().nullable(),
  probes: z.array(ProbeOutcomeSchema),
  durationMs: z.number().nonnegative(),
  /** Set when the provider could not be probed at all (deadline passed, worker died). */
  error: ErrorDataSchema.optional(),
});

export type ProbeOutcome = z.infer<typeof ProbeOutcomeSchema>;
export type ProviderResult = z.infer<typeof ProviderResultSchema>;

/** What the main thread sends a worker. Built by our own code, so not re-validated there. */
export interface ProbeTask {
  readonly providers: readonly string[];
  readonly modelApi?: string;
  readonly scope: { readonly agentDir?: string; readonly workspaceDir?: string; readonly agentId?: string };
  readonly env: Readonly<Record<string, string>>;
  /**
   * Scopes of a task that probes providers of several scopes at once (a thousand agents checked together go
   * out in a few tasks, not a thousand), and the index into it of each provider's scope; without them every
   * provider is probed in `scope` with `env`.
   */
  readonly scopes?: readonly { readonly scope: ProbeTask['scope']; readonly env: Readonly<Record<string, string>> }[];
  readonly scopeIndex?: readonly number[];
  /** `first` stops at the first probe that finds auth; `all` runs every probe (for `explain()`). */
  readonly mode: 'first' | 'all';
  /** Stream each provider's whole result (`explain()`); otherwise what a check keeps of it (see `check-result.ts`). */
  readonly full?: boolean;
  /** Watchdog cells shared with the main thread; see `src/dispatch/watchdog.ts`. */
  readonly control: SharedArrayBuffer;
  /**
   * Where the worker posts each provider's result as it completes (`{ results: [{ index, check | result }] }`, see
   * `src/probes/result-outbox.ts` and `src/dispatch/task-results.ts`), and,
   * with `spawnVia: 'helper'`, each command it needs run, whose answer comes back on it (see `src/dispatch/helper-protocol.ts`).
   */
  readonly port?: MessagePort;
  /**
   * Probes not to run again, by provider index and plan position, because they hung or killed the worker
   * in an earlier attempt: each is reported with its error and the provider's other probes still run.
   */
  readonly skip?: Readonly<Record<number, readonly ProbeSkip[]>>;
  /**
   * Plan positions to run, one entry per provider of `providers` (null: its whole plan). A refresh re-runs only
   * the probes whose files changed or whose outcome expired, never the provider's other probes.
   */
  readonly only?: readonly (readonly number[] | null)[];
}

/** What the main thread sends a worker to read the state of followed dependencies (see `probes/dep-states.ts`). */
export interface DepsTask {
  /** Dependency keys: file paths, and SQLite rows keys (see `fingerprint.ts`). */
  readonly deps: readonly string[];
  /** For each rows key, its files' signature when its rows were last read; null: read them whatever their files say. */
  readonly signatures: readonly (string | null)[];
}

/** One dependency's state, as a worker read it for a {@link DepsTask}. */
export const DepStateSchema = z.strictObject({
  /** Its fingerprint now; absent for a rows key whose files were as they were, so its rows were not read. */
  fingerprint: z.string().max(200).optional(),
  /** A rows key's files' signature now. */
  signature: z.string().max(400).optional(),
  /** What is absent: where each of its watched files is watched from (nearest existing directory, entry on the way). */
  anchors: z
    .array(z.tuple([z.string().max(4096), z.string().max(4096)]))
    .max(2)
    .optional(),
});
export type DepState = z.infer<typeof DepStateSchema>;

/** A worker's states for a {@link DepsTask}, in its order. The main thread parses it compiled (`dispatcher.ts`). */
export const DepsResultSchema = z.strictObject({ states: z.array(DepStateSchema) });

/** A probe left out of a re-run, and the error it is reported with. */
export interface ProbeSkip {
  readonly position: number;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** What every worker receives once, at start. */
export interface WorkerInit {
  readonly config: ProbeConfig;
  readonly configDir: string;
  readonly probeTimeoutMs: number;
  readonly maxFileBytes: number;
  readonly maxStdoutBytes: number;
  readonly allowedRoots: readonly string[] | undefined;
  readonly spawnVia: 'worker' | 'helper';
  /** Variables every command gets, by name; an entry ending in `*` is a prefix (`LC_*`). */
  readonly commandEnv: readonly string[];
  /** A login expiring within this many milliseconds counts as expired. */
  readonly expirySkewMs: number;
  /** Key of the digests SQLite stores are fingerprinted by: a digest crossing threads says nothing of a secret. */
  readonly digestKey: string;
  /** The pool's command budget, shared by every thread: at most `maxConcurrentCommands` CLIs at once (see `probes/command-budget.ts`). */
  readonly commandBudget: SharedArrayBuffer;
}
