import { afterAll, describe, expect, it } from 'vitest';
import { createAuthProbePool } from 'auth-probe-pool';

describe('env probe', () => {
  const pool = createAuthProbePool({
    probes: { providers: { openai: [{ kind: 'env', vars: ['OPENAI_API_KEY', 'OPENAI_KEY'] }] } },
    env: { OPENAI_KEY: 'sk-env-secret', EMPTY: '' },
    threads: { max: 1 },
  });
  afterAll(() => pool.close());

  it('is true when any named variable is non-empty', async () => {
    expect(await pool.hasAuth('openai')).toBe(true);
  });
});
