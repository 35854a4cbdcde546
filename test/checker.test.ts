import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthProbeError } from 'auth-probe-pool';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

describe('the drop-in checker', () => {
  const { dir, pools } = useFixture();
  const count = dir.path('runs.txt');
  const cli = fakeCli(dir, 'auth-cli', `require('fs').appendFileSync(${JSON.stringify(count)}, process.argv[2] + '\\n'); setTimeout(() => process.exit(0), 200);`);
  const runs = (tag: string) => {
    try {
      return readFileSync(count, 'utf8')
        .split('\n')
        .filter((l) => l === tag).length;
    } catch {
      return 0;
    }
  };
  const probes = {
    aliases: { 'z.ai': 'zai', bedrock: 'amazon-bedrock' },
    providers: {
      zai: [{ kind: 'env' as const, vars: ['ZAI_API_KEY'] }],
      'amazon-bedrock': [{ kind: 'env' as const, vars: ['AWS_ACCESS_KEY_ID'] }],
      flight: [{ kind: 'command' as const, command: cli, args: ['flight'] }],
      many: [{ kind: 'env' as const, vars: ['NOPE'] }],
    },
  };

  it('follows aliases and normalises case and whitespace', async () => {
    const pool = pools.create({ probes, env: { ZAI_API_KEY: 'k', AWS_ACCESS_KEY_ID: 'k' } });
    const check = pool.createChecker();
    expect(await check('z.ai')).toBe(true);
    expect(await check('  Z.AI ')).toBe(true);
    expect(await check('Bedrock')).toBe(true);
    expect(await check('amazon-bedrock')).toBe(true);
  });

  it('shares one probe execution among 100 concurrent checks of the same key', async () => {
    const pool = pools.create({ probes });
    const check = pool.createChecker();
    const before = runs('flight');
    const answers = await Promise.all(Array.from({ length: 100 }, () => check('flight')));
    expect(answers.every((a) => a === true)).toBe(true);
    expect(runs('flight') - before).toBe(1);
    expect(pool.stats()).toMatchObject({ dispatches: 1, coalesced: 99 });
    // And afterwards it is a cache hit, with no new run.
    expect(await check('flight')).toBe(true);
    expect(runs('flight') - before).toBe(1);
    expect(pool.stats().cacheHits).toBe(1);
  });

  it('coalesces across checkers of the same scope too', async () => {
    const pool = pools.create({ probes });
    const before = runs('flight');
    const [a, b] = [pool.createChecker(), pool.createChecker()];
    expect(await Promise.all([a('flight'), b('flight'), pool.hasAuth('flight')])).toEqual([true, true, true]);
    expect(runs('flight') - before).toBe(1);
  });

  it('batches the misses of one tick into a few worker tasks', async () => {
    const providers = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, [{ kind: 'env' as const, vars: [`KEY_${i}`] }]]));
    const pool = pools.create({ probes: { providers }, env: { KEY_3: 'x', KEY_40: 'y' }, threads: { min: 1, max: 2 } });
    const check = pool.createChecker();
    const answers = await Promise.all(Object.keys(providers).map((p) => check(p)));
    expect(answers.filter(Boolean)).toHaveLength(2);
    expect(answers[3]).toBe(true);
    expect(answers[40]).toBe(true);
    expect(pool.stats().dispatches).toBeLessThan(64);
    expect(pool.stats().providersProbed).toBe(64);
  });

  it('answers false for a provider with no probes, without any dispatch', async () => {
    const pool = pools.create({ probes });
    expect(await pool.createChecker()('unknown-provider')).toBe(false);
    expect(pool.stats()).toMatchObject({ dispatches: 0, threads: 0 });
  });

  it('answers false for an id no provider can have, as the checker it replaces did: one odd catalog entry fails no model list', async () => {
    const pool = pools.create({ probes, env: { ZAI_API_KEY: 'k' } });
    const check = pool.createChecker();
    const odd = ['../../etc/passwd', 'a/b', 'openai:gpt', 'two words', 'nul\0byte', '$(rm -rf /)', 'x'.repeat(10_000), '', '..'];
    // The README's own handler: Promise.all over a catalog with one odd entry still lists the others.
    expect(await Promise.all(['zai', ...odd].map((id) => check(id)))).toEqual([true, ...odd.map(() => false)]);
    expect(await pool.hasAuth('a/b')).toBe(false);
    expect(pool.stats()).toMatchObject({ refusedIds: odd.length + 1 });
    // explain() and warm() still say why, with the code; and nothing reached a path or an argument.
    await expect(pool.explain('a/b')).rejects.toMatchObject({ code: 'E_BAD_PROVIDER_ID' });
    await expect(pool.warm(['zai', 'a/b'])).rejects.toMatchObject({ code: 'E_BAD_PROVIDER_ID' });
    expect(pool.stats().providersProbed).toBe(1);
  });

  it('rejects with a typed E_BAD_PROVIDER_ID what is not a question at all: an id that is not a string', async () => {
    const pool = pools.create({ probes });
    const check = pool.createChecker();
    for (const bad of [42, null, undefined, {}]) {
      const err = await check(bad as string).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AuthProbeError);
      expect((err as AuthProbeError).code).toBe('E_BAD_PROVIDER_ID');
    }
    expect(pool.stats().dispatches).toBe(0);
  });

  it('rejects a bad modelApi and a bad scope with typed errors', async () => {
    const pool = pools.create({ probes });
    await expect(pool.createChecker()('zai', 'a\0b')).rejects.toMatchObject({ code: 'E_BAD_MODEL_API' });
    expect(() => pool.createChecker({ agentDir: 'x\0y' })).toThrow(expect.objectContaining({ code: 'E_BAD_SCOPE' }));
    // A relative directory would silently answer false at every store probe: refused at once, naming the field.
    expect(() => pool.createChecker({ agentDir: 'agent' })).toThrow(expect.objectContaining({ code: 'E_BAD_SCOPE', message: expect.stringMatching(/agentDir.*absolute/) }));
    await expect(pool.hasAuth('zai', { workspaceDir: './ws' })).rejects.toMatchObject({ code: 'E_BAD_SCOPE', message: expect.stringMatching(/workspaceDir.*absolute/) });
    await expect(pool.hasAuth('zai', { nope: 1 } as never)).rejects.toMatchObject({ code: 'E_BAD_SCOPE' });
  });
});
