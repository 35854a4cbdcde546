/**
 * The JSON Schema of a probe configuration file, generated from the zod
 * schema (the contract) so the two cannot drift: `auth-probe schema` prints
 * it, `npm run gen:schema` writes `schema/probe-config.schema.json`, and a
 * test fails when the committed file is stale. Editors use it through a
 * `"$schema"` key, which `loadProbeConfig` accepts and ignores.
 */
import { z } from 'zod';
import {
  AuthProfilesProbeSchema,
  CommandProbeSchema,
  OpenclawStoreProbeSchema,
  CredentialFileProbeSchema,
  EnvProbeSchema,
  ExpirySchema,
  ModuleProbeSchema,
  ProbeConfigSchema,
  ProbeSchema,
} from './schema.js';

/** Hover texts for editors, by field name wherever the field appears. */
const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  label: 'A name shown in explain() reports and by `auth-probe explain`.',
  platforms: 'Run only on these process.platform values, e.g. ["darwin"]; elsewhere the probe is skipped as absent.',
  vars: 'Environment variable names; any non-empty one means auth.',
  path: 'A path; may use {agentDir}, {workspaceDir}, {provider}, a leading ~, and $VAR or ${VAR}. Relative paths resolve against the config file directory.',
  pointer: 'A JSON pointer (RFC 6901) such as /tokens/access_token, that must name a non-empty string.',
  require: 'JSON pointers that must each name a non-empty string.',
  anyOf: 'Alternatives: groups of JSON pointers; the file counts only when every pointer of at least one group names a non-empty string.',
  expiry: "The login's expiry: { pointer, unit }. Required to be present and valid; the login counts while it is later than now plus the pool's expirySkewMs, or for good with a refresh token.",
  unit: 'How the expiry is written: ms or s since the epoch, or iso (an ISO 8601 date).',
  refresh: 'A JSON pointer to a refresh token: when it names a non-empty string, an expired login still counts (the tool refreshes it).',
  agentDir: "The agent's directory (its openclaw-agent.sqlite, and a legacy auth-profiles.json); default {agentDir}. A scope without one checks the main agent.",
  stateDir: 'The gateway\'s state directory: the first template that resolves (an unset variable passes to the next). Default ["$OPENCLAW_STATE_DIR", "~/.openclaw"].',
  mainAgentDir: 'The main agent\'s directory: the first template that resolves, else <stateDir>/agents/main/agent. Default ["$OPENCLAW_AGENT_DIR"].',
  schemaVersions: 'The newest PRAGMA user_version read, per database ({ agent, state }; default { agent: 8, state: 20 }); a newer one fails (E_STORE_SCHEMA_NEWER) rather than being read wrong.',
  eligibility:
    'usable (default): a profile counts only when the gateway could use it (api_key: key or keyRef; token: token, and expires absent or later than now; oauth: access or refresh). any: every profile of the provider counts.',
  unlessEnv: 'Skip this probe (absent, E_ENV_OVERRIDDEN) when any of these variables is non-empty: a source another takes precedence over.',
  command: 'The executable, run without a shell.',
  args: 'Arguments passed to the executable.',
  timeoutMs: 'Milliseconds before the command is killed; capped by the pool probeTimeoutMs.',
  requireStdout: 'Also require non-empty stdout (read for that test only, never kept).',
  module: 'An ES module path; relative paths resolve against the config file directory.',
  export: 'The export to call; default "default".',
  providers: "Provider id → its probes, tried in order; any true one means auth. A provider's own probes run before `defaults`.",
  defaults: 'Probes tried for every provider, after its own.',
  aliases: 'Alternative provider id → the id it stands for, e.g. { "z.ai": "zai" }.',
};

const KINDS = [
  [EnvProbeSchema, 'True when any of the variables is non-empty in the env.'],
  [AuthProfilesProbeSchema, 'True when the auth-profiles.json store has a profile for the provider that is usable (or any profile, with eligibility: any).'],
  [
    OpenclawStoreProbeSchema,
    "True when a profile the OpenClaw gateway would let the agent use belongs to the provider: the agent's SQLite store over the shared one (per profile id), or, on a gateway older than 2026.6, the agent's auth-profiles.json over the main agent's.",
  ],
  [
    CredentialFileProbeSchema,
    'True when the JSON file exists, its pointers (pointer, require, one group of anyOf) name non-empty strings, and its expiry, if given, has not passed or a refresh token is present.',
  ],
  [CommandProbeSchema, 'True when the executable, run without a shell, exits 0 (and prints something, with requireStdout).'],
  [ModuleProbeSchema, 'True when the module export, called in a worker with { provider, modelApi, scope, env }, returns true.'],
] as const;

/** The probe configuration's JSON Schema (draft-07, which every editor supports), as a plain object. */
export function probeConfigJsonSchema(): Record<string, unknown> {
  const meta = z.registry<{ id?: string; title?: string; description?: string }>();
  meta.add(ProbeConfigSchema, { title: 'auth-probe-pool probe configuration', description: 'Which probes decide whether a provider has auth. See the auth-probe-pool README.' });
  // Named once under `definitions`, referenced by `providers` and `defaults`.
  meta.add(ProbeSchema, { id: 'Probe', description: 'One probe; `kind` says what it checks.' });
  const describeFields = (shape: Record<string, z.ZodType>) => {
    for (const [field, schema] of Object.entries(shape)) {
      const description = FIELD_DESCRIPTIONS[field];
      if (description !== undefined) meta.add(schema, { description });
    }
  };
  describeFields(ProbeConfigSchema.shape);
  for (const [schema, description] of KINDS) {
    meta.add(schema, { description });
    describeFields(schema.shape);
  }
  // Described apart: `pointer` here names a time, not a string that must be non-empty.
  meta.add(ExpirySchema.shape.pointer, { description: 'A JSON pointer (RFC 6901) to the expiry, such as /claudeAiOauth/expiresAt.' });
  meta.add(ExpirySchema.shape.unit, { description: FIELD_DESCRIPTIONS['unit'] as string });
  const generated = z.toJSONSchema(ProbeConfigSchema, { target: 'draft-7', io: 'input', metadata: meta }) as Record<string, unknown>;
  const properties = generated['properties'] as Record<string, unknown>;
  return {
    ...generated,
    properties: { $schema: { type: 'string', description: 'The JSON Schema this file follows, for editors; ignored when loading.' }, ...properties },
  };
}
