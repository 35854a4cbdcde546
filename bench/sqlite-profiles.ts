/**
 * The auth profiles of `bench:sqlite`'s gateway: a shared store and one
 * store per agent, generated so the answers differ across agents, and the
 * answer each (agent, provider) must get, computed here from the generated
 * data alone (the benchmark's oracle, independent of the library):
 *
 * - an agent sees its own profiles over the shared store's, per profile id
 *   (its `openai:default` hides the shared `openai:default`, not the shared
 *   `openai:team`);
 * - `api_key` is usable with a non-empty `key`; `token` with a non-empty
 *   `token` and `expires` absent or a future time (ms); `oauth` with a
 *   non-empty `access` or `refresh`;
 * - a provider has auth when a usable profile of it is visible.
 *
 * Expiry times are a month away either way, so no clock skew and no run
 * length can move an answer.
 */
import { token, type Random } from './scenario-util.js';

export type Profile =
  | { readonly type: 'api_key'; readonly provider: string; readonly key: string }
  | { readonly type: 'token'; readonly provider: string; readonly token: string; readonly expires?: number }
  | { readonly type: 'oauth'; readonly provider: string; readonly access?: string; readonly refresh?: string; readonly expires?: number };

/** `store_json` of an agent, and the shared store's `value_json`. */
export interface Store {
  readonly version: 1;
  readonly profiles: Readonly<Record<string, Profile>>;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;

const filled = (v: string | undefined): boolean => typeof v === 'string' && v !== '';

/** Whether the gateway could use `profile` at `now` (ms since the epoch). */
export function usable(profile: Profile, now: number): boolean {
  switch (profile.type) {
    case 'api_key':
      return filled(profile.key);
    case 'token':
      return filled(profile.token) && (profile.expires === undefined || profile.expires > now);
    case 'oauth':
      return filled(profile.access) || filled(profile.refresh);
  }
}

/** The profiles an agent sees: its own, then the shared store's whose ids it does not have. */
export function visibleProfiles(agent: Store, shared: Store): Record<string, Profile> {
  return { ...shared.profiles, ...agent.profiles };
}

/** Per provider, in `providers`' order: whether a usable profile of it is visible to the agent. */
export function answersOf(agent: Store, shared: Store, providers: readonly string[], now: number): boolean[] {
  const visible = Object.values(visibleProfiles(agent, shared));
  return providers.map((provider) => visible.some((p) => p.provider === provider && usable(p, now)));
}

const secret = (random: Random, prefix: string) => `${prefix}${token(random, 40)}`;

/**
 * The shared store: `deepseek:team` usable; `openai:default` with an empty
 * key (not usable; agents with an `openai:default` of their own hide it);
 * `anthropic:default` an OAuth login (usable, unless an agent's own
 * unusable `anthropic:default` hides it); `groq:shared` an expired token.
 */
export function sharedStore(random: Random, now: number): Store {
  return {
    version: 1,
    profiles: {
      'deepseek:team': { type: 'api_key', provider: 'deepseek', key: secret(random, 'sk-') },
      'openai:default': { type: 'api_key', provider: 'openai', key: '' },
      'anthropic:default': { type: 'oauth', provider: 'anthropic', access: secret(random, 'at-'), refresh: secret(random, 'rt-'), expires: now - MONTH_MS },
      'groq:shared': { type: 'token', provider: 'groq', token: secret(random, 'gt-'), expires: now - MONTH_MS },
    },
  };
}

/** One profile of `provider` under `name`: each kind usable and not, as stores in the wild hold them. */
type Variant = (random: Random, provider: string, now: number) => readonly [string, Profile];

const VARIANTS: readonly Variant[] = [
  (r, p) => [`${p}:default`, { type: 'api_key', provider: p, key: secret(r, 'sk-') }],
  (_, p) => [`${p}:default`, { type: 'api_key', provider: p, key: '' }],
  (r, p) => [`${p}:work`, { type: 'token', provider: p, token: secret(r, 'tok-') }],
  (r, p, now) => [`${p}:work`, { type: 'token', provider: p, token: secret(r, 'tok-'), expires: now + MONTH_MS }],
  (r, p, now) => [`${p}:ci`, { type: 'token', provider: p, token: secret(r, 'tok-'), expires: now - MONTH_MS }],
  (_, p) => [`${p}:ci`, { type: 'token', provider: p, token: '' }],
  (r, p, now) => [`${p}:login`, { type: 'oauth', provider: p, access: secret(r, 'at-'), expires: now - MONTH_MS }],
  (r, p) => [`${p}:login`, { type: 'oauth', provider: p, access: '', refresh: secret(r, 'rt-') }],
  (_, p) => [`${p}:login`, { type: 'oauth', provider: p, access: '', refresh: '' }],
];

/**
 * An agent's own store: for each provider, nothing (a third of the time) or
 * one to three profiles drawn from every kind, usable and not; sometimes an
 * unusable profile under the id of a shared one, hiding it; and a profile of
 * a provider nobody checks.
 */
export function agentStore(random: Random, providers: readonly string[], shared: Store, now: number): Store {
  const profiles: Record<string, Profile> = {};
  for (const provider of providers) {
    if (random() < 1 / 3) continue;
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      const [id, profile] = (VARIANTS[Math.floor(random() * VARIANTS.length)] as Variant)(random, provider, now);
      profiles[id] = profile;
    }
  }
  // Hides a shared profile behind one that cannot be used: the agent's answer must not fall back to the shared one.
  for (const [id, profile] of Object.entries(shared.profiles)) {
    if (random() < 0.15) profiles[id] = { type: 'api_key', provider: profile.provider, key: '' };
  }
  profiles['xai:default'] = { type: 'api_key', provider: 'xai', key: secret(random, 'xai-') };
  return { version: 1, profiles };
}

/** `state_json`: the usage the gateway rewrites on every request (never a reason to change an answer). */
export function usageState(profileIds: readonly string[], now: number, n: number): string {
  const usageStats: Record<string, { lastUsed: number; errorCount: number; cooldownUntil: number }> = {};
  for (const [i, id] of profileIds.entries()) usageStats[id] = { lastUsed: now - ((n + i) % 97) * 1000, errorCount: (n + i) % 3, cooldownUntil: 0 };
  return JSON.stringify({ usageStats });
}
