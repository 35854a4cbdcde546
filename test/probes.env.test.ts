import { afterAll, describe, expect, it } from 'vitest';
import { poolFactory } from './helpers/pools.js';

describe('env probe', () => {
  const pools = poolFactory();
  afterAll(() => pools.closeAll());
  const probes = { providers: { openai: [{ kind: 'env' as const, vars: ['OPENAI_API_KEY', 'OPENAI_KEY'] }] } };

  it('is true when any named variable is non-empty', async () => {
    const pool = pools.create({ probes, env: { OPENAI_KEY: 'sk-env-secret' } });
    expect(await pool.hasAuth('openai')).toBe(true);
  });

  it('is false when the variables are unset, empty or blank, with E_ENV_UNSET', async () => {
    const pool = pools.create({ probes, env: { OPENAI_API_KEY: '', OPENAI_KEY: '   ' } });
    expect(await pool.hasAuth('openai')).toBe(false);
    const report = await pool.explain('openai');
    expect(report.probes[0]?.outcome).toBe('absent');
    expect(report.probes[0]?.error?.code).toBe('E_ENV_UNSET');
  });

  it("lets a scope's env override the pool's env, both ways", async () => {
    const pool = pools.create({ probes, env: { OPENAI_API_KEY: 'sk-pool' } });
    expect(await pool.hasAuth('openai', { env: { OPENAI_API_KEY: undefined } })).toBe(false);
    const bare = pools.create({ probes, env: {} });
    expect(await bare.hasAuth('openai')).toBe(false);
    expect(await bare.hasAuth('openai', { env: { OPENAI_KEY: 'sk-scope' } })).toBe(true);
    // Different scopes keep separate answers.
    expect(await bare.createChecker({ env: { OPENAI_KEY: 'sk-scope' } })('openai')).toBe(true);
    expect(await bare.createChecker()('openai')).toBe(false);
  });

  it('reads process.env at dispatch time when no env option is given', async () => {
    const name = `APP_TEST_KEY_${process.pid}`;
    const pool = pools.create({ probes: { providers: { custom: [{ kind: 'env', vars: [name] }] } } });
    expect(await pool.hasAuth('custom')).toBe(false);
    process.env[name] = 'set-later';
    try {
      pool.invalidate();
      expect(await pool.hasAuth('custom')).toBe(true);
    } finally {
      delete process.env[name];
    }
  });

  it('names the variable that matched, never its value', async () => {
    const pool = pools.create({ probes, env: { OPENAI_KEY: 'sk-env-secret-value' } });
    const report = await pool.explain('openai');
    expect(report.decidedBy?.detail?.variable).toBe('OPENAI_KEY');
    expect(JSON.stringify(report)).not.toContain('sk-env-secret-value');
  });
});
