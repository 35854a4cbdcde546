import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProbeConfigSchema } from 'auth-probe-pool';
import { createMode, cpuProviders, warmupProviders } from '../dist/bench/modes.js';
import { buildScenario, type Scenario } from '../dist/bench/scenario.js';
import { poolFactory } from './helpers/pools.js';

/** Reads the value at a JSON pointer such as /tokens/access_token. */
function at(json: unknown, pointer: string): unknown {
  return pointer
    .slice(1)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], json);
}

describe('the benchmark scenario', () => {
  const built: Scenario[] = [];
  const make = (seed = 7, providers = 40) => {
    const s = buildScenario({ providers, cliMs: 5, seed, hashIterations: 1000 });
    built.push(s);
    return s;
  };
  const pools = poolFactory();
  afterAll(async () => {
    await pools.closeAll();
    for (const s of built) s.cleanup();
  });

  it('is the same world for the same seed, and another for another seed', () => {
    const a = make(7);
    const b = make(7);
    const c = make(8);
    const portable = (s: Scenario) => JSON.stringify({ config: s.config, kinds: s.kinds, expected: s.expected }).replaceAll(s.root, '<root>');
    expect(portable(a)).toBe(portable(b));
    expect(a.providers).toEqual(b.providers);
    expect(c.providers).not.toEqual(a.providers);
  });

  it('mixes every kind of auth source, some providers with auth and some without', () => {
    const s = make();
    expect(new Set(Object.values(s.kinds))).toEqual(new Set(['store', 'env', 'codex', 'claude', 'gemini', 'keychain', 'slow-cli', 'hung-cli', 'keyring', 'none']));
    expect(s.providers).toHaveLength(40);
    expect(s.expected.length).toBeGreaterThan(0);
    expect(s.expected.length).toBeLessThan(40);
    expect(ProbeConfigSchema.safeParse(s.config).success).toBe(true);
    expect(cpuProviders(s).every((p) => s.kinds[p] === 'store' || s.kinds[p] === 'keyring')).toBe(true);
    expect(warmupProviders(s).some((p) => s.kinds[p] === 'keychain')).toBe(false);
  });

  it('writes an auth-profiles.json of 15 profiles per provider over more providers than are swept', () => {
    const s = make();
    const store = JSON.parse(readFileSync(join(s.agentDir, 'auth-profiles.json'), 'utf8')) as { profiles: Record<string, { provider: string }> };
    const profiles = Object.entries(store.profiles);
    expect(profiles).toHaveLength(600);
    expect(s.store).toMatchObject({ profiles: 600, bytes: statSync(join(s.agentDir, 'auth-profiles.json')).size });
    const owners = new Set(profiles.map(([, p]) => p.provider));
    expect(owners.size).toBeGreaterThan(40);
    for (const id of s.providers.filter((p) => s.kinds[p] === 'store')) expect(owners.has(id)).toBe(true);
    for (const [key, p] of profiles) expect(key.startsWith(`${p.provider}:`)).toBe(true);
  });

  it('writes the CLI credential files where and as the real CLIs do', () => {
    const s = make();
    const files = [
      ['.codex/auth.json', '/tokens/access_token'],
      ['.claude/.credentials.json', '/claudeAiOauth/accessToken'],
      ['.gemini/oauth_creds.json', '/access_token'],
    ] as const;
    for (const [path, pointer] of files) {
      const value = at(JSON.parse(readFileSync(join(s.home, path), 'utf8')), pointer);
      expect(typeof value).toBe('string');
      expect((value as string).length).toBeGreaterThan(20);
    }
  });

  it('has fake CLIs that answer like a keychain: a token when the entry exists, exit 44 when not', () => {
    const s = make();
    const keychain = s.providers.filter((p) => s.kinds[p] === 'keychain');
    const bin = join(s.root, 'bin', 'keychain');
    for (const id of keychain) {
      const run = spawnSync(bin, [id], { env: { ...s.env }, encoding: 'utf8', timeout: 10_000 });
      if (s.expected.includes(id)) {
        expect(run.status).toBe(0);
        expect(run.stdout.trim()).toBe(`kc-${id}`);
      } else {
        expect(run.status).toBe(44);
      }
    }
  });

  it('gives the library the answers it expects, and the old synchronous sweep the same ones', async () => {
    const s = make(3, 24);
    const pool = pools.create({ probes: s.config, configDir: s.root, env: s.env });
    const check = pool.createChecker({ agentDir: s.agentDir });
    const answers = await Promise.all(s.providers.map((p) => check(p)));
    expect(s.providers.filter((_, i) => answers[i]).sort()).toEqual(s.expected);
    const sync = createMode('sync', { scenario: s, threads: 1, niceIncrement: 0, ballastMb: 0 });
    expect(((await sync.sweep?.()) ?? []).sort()).toEqual(s.expected);
    await sync.close();
  });

  it('makes the next sweep cold on touch(), and leaves nothing behind on cleanup()', () => {
    const s = make();
    const store = join(s.agentDir, 'auth-profiles.json');
    s.touch();
    const first = statSync(store).mtimeMs;
    s.touch();
    expect(statSync(store).mtimeMs).not.toBe(first);
    s.cleanup();
    expect(existsSync(s.root)).toBe(false);
  });
});
