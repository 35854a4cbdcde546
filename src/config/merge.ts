/**
 * Laying one probe configuration over another: a user's file over the
 * built-in set (src/config/defaults.ts), or the keychain preset over both.
 */
import { buildAliases, normalizeProviderId } from './provider-id.js';
import type { Probe, ProbeConfig } from './schema.js';

export interface MergeProbeConfigOptions {
  /**
   * `replace` (the default): a provider the override lists keeps only the
   * override's probes, so a user's entry never runs a built-in probe they did
   * not ask for (and `[]` turns a provider's built-in probes off). `extend`:
   * the override's probes run after the base's. `defaults` follow the same rule.
   */
  readonly providers?: 'replace' | 'extend';
}

/**
 * A new configuration: `base` with `override` laid over it. Provider ids are
 * matched after normalisation and aliases (an override's `OpenAI` or alias
 * `gemini` replaces the base's `openai` or `google`); aliases are merged, the
 * override's winning. Neither input is modified.
 */
export function mergeProbeConfig(base: ProbeConfig, override: ProbeConfig, options: MergeProbeConfigOptions = {}): ProbeConfig {
  const extend = options.providers === 'extend';
  const aliases = { ...base.aliases, ...override.aliases };
  const table = buildAliases(aliases);
  const providers = new Map<string, Probe[]>();
  const overridden = new Set<string>();
  const add = (entries: Record<string, Probe[]>, layer: 'base' | 'override') => {
    for (const [raw, probes] of Object.entries(entries)) {
      const id = normalizeProviderId(raw, table);
      const earlier = providers.get(id);
      // Two spellings within one layer always add up, as compileConfig does.
      const keep = earlier !== undefined && (layer === 'base' || extend || overridden.has(id));
      providers.set(id, keep ? [...earlier, ...probes] : [...probes]);
      if (layer === 'override') overridden.add(id);
    }
  };
  add(base.providers, 'base');
  add(override.providers, 'override');
  const defaults = override.defaults === undefined ? base.defaults : extend ? [...(base.defaults ?? []), ...override.defaults] : override.defaults;
  return {
    providers: Object.fromEntries(providers),
    ...(defaults !== undefined ? { defaults: [...defaults] } : {}),
    ...(Object.keys(aliases).length > 0 ? { aliases } : {}),
  };
}
