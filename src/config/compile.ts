/**
 * The probe configuration compiled once for fast lookups, on the main thread
 * and in each worker alike: normalised provider ids, the alias table, and each
 * provider's probe list with `defaults` after its own probes.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuthProbeError } from '../errors.js';
import { buildAliases, normalizeProviderId } from './provider-id.js';
import { ProbeConfigSchema, type Probe, type ProbeConfig } from './schema.js';
import { formatZodError } from './zod-errors.js';

/** A probe with where it came from, as `explain()` reports it. */
export interface PlannedProbe {
  readonly probe: Probe;
  readonly source: 'provider' | 'defaults';
  readonly index: number;
}

export interface CompiledConfig {
  readonly aliases: ReadonlyMap<string, string>;
  /** Normalised id → the provider's own probes (two spellings of one id are merged). */
  readonly providers: ReadonlyMap<string, readonly Probe[]>;
  readonly defaults: readonly Probe[];
}

export function compileConfig(config: ProbeConfig): CompiledConfig {
  const aliases = buildAliases(config.aliases);
  const providers = new Map<string, Probe[]>();
  for (const [raw, probes] of Object.entries(config.providers)) {
    const id = normalizeProviderId(raw, aliases);
    providers.set(id, [...(providers.get(id) ?? []), ...probes]);
  }
  return { aliases, providers, defaults: config.defaults ?? [] };
}

/**
 * Plans by provider, per compiled configuration, made once each where probes run (in each worker; the pool's main
 * thread keeps only each plan's kinds): an id the configuration does not name has the shared plan of `defaults` alone,
 * so garbage ids keep nothing.
 */
const plans = new WeakMap<CompiledConfig, { readonly byId: Map<string, readonly PlannedProbe[]>; readonly unnamed: readonly PlannedProbe[] }>();

/** {@link planProbes} for a normalised id, made once per configuration and id: the same array each time. */
export function planFor(config: CompiledConfig, id: string): readonly PlannedProbe[] {
  let known = plans.get(config);
  if (!known) plans.set(config, (known = { byId: new Map(), unnamed: planProbes(config, '\0') }));
  if (!config.providers.has(id)) return known.unnamed;
  let plan = known.byId.get(id);
  if (!plan) known.byId.set(id, (plan = planProbes(config, id)));
  return plan;
}

/** The probes to run for a normalised id, in order: its own, then `defaults`. */
export function planProbes(config: CompiledConfig, id: string): PlannedProbe[] {
  const own = config.providers.get(id) ?? [];
  // Made at its size: one is kept per configured provider, and an array grown by pushing holds 17 slots.
  const plan = new Array<PlannedProbe>(own.length + config.defaults.length);
  for (const [index, probe] of own.entries()) plan[index] = { probe, source: 'provider', index };
  for (const [index, probe] of config.defaults.entries()) plan[own.length + index] = { probe, source: 'defaults', index };
  return plan;
}

/**
 * Reads and validates a JSON probe configuration file. Relative module and
 * file paths in it are then resolved against the file's directory: pass the
 * returned `configDir` to `createAuthProbePool`.
 */
export function loadProbeConfig(file: string): { probes: ProbeConfig; configDir: string } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuthProbeError('E_BAD_CONFIG', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may hold a secret: say only where.
    throw new AuthProbeError('E_BAD_CONFIG', `${path} is not valid JSON`);
  }
  const parsed = ProbeConfigSchema.safeParse(withoutSchemaKey(json));
  // The zod error rides along as `cause`, so a caller (the CLI) can locate each issue in the text.
  if (!parsed.success) throw new AuthProbeError('E_BAD_CONFIG', `${path}: ${formatZodError(parsed.error)}`, { cause: parsed.error });
  return { probes: parsed.data, configDir: dirname(path) };
}

/** A top-level `"$schema"` string is for editors (see schema/probe-config.schema.json): not part of the configuration. */
function withoutSchemaKey(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof (json as Record<string, unknown>)['$schema'] !== 'string') return json;
  const { $schema: _, ...rest } = json as Record<string, unknown>;
  return rest;
}
