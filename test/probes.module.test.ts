import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-module-secret-c0de';

describe('module probe', () => {
  const { dir, pools } = useFixture();
  const log = dir.path('calls.log');
  dir.write(
    'probes/gateway.mjs',
    `import { appendFileSync } from 'node:fs';
     export default function hasAuth(ctx) {
       appendFileSync(${JSON.stringify(log)}, JSON.stringify({ provider: ctx.provider, modelApi: ctx.modelApi ?? null, agentId: ctx.scope.agentId ?? null, key: ctx.env.GATEWAY_KEY ? 'set' : 'unset' }) + '\\n');
       return ctx.provider === 'custom' && ctx.env.GATEWAY_KEY !== undefined && ctx.modelApi !== 'responses';
     }
     export function throws() { throw new Error('leaked ${SECRET}'); }
     export function notBoolean() { return 'yes'; }
     export async function later() { return true; }
     export const notAFunction = 1;`,
  );
  const probes = {
    providers: {
      custom: [{ kind: 'module' as const, module: './probes/gateway.mjs' }],
      thrower: [{ kind: 'module' as const, module: './probes/gateway.mjs', export: 'throws' }],
      stringy: [{ kind: 'module' as const, module: './probes/gateway.mjs', export: 'notBoolean' }],
      asyncy: [{ kind: 'module' as const, module: './probes/gateway.mjs', export: 'later' }],
      nofn: [{ kind: 'module' as const, module: './probes/gateway.mjs', export: 'notAFunction' }],
      nofile: [{ kind: 'module' as const, module: './probes/missing.mjs' }],
    },
  };
  const calls = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('runs the export in the worker with provider, modelApi, scope and env (path relative to configDir)', async () => {
    const pool = pools.create({ probes, configDir: dir.root, env: { GATEWAY_KEY: SECRET } });
    const check = pool.createChecker({ agentId: 'agent-7' });
    expect(await check('custom', 'chat')).toBe(true);
    expect(calls().at(-1)).toEqual({ provider: 'custom', modelApi: 'chat', agentId: 'agent-7', key: 'set' });
  });

  it('keys the cache by modelApi as well as provider', async () => {
    const pool = pools.create({ probes, configDir: dir.root, env: { GATEWAY_KEY: SECRET } });
    const check = pool.createChecker();
    const before = calls().length;
    expect(await check('custom', 'chat')).toBe(true);
    expect(await check('custom', 'responses')).toBe(false);
    expect(await check('custom', 'chat')).toBe(true);
    expect(await check('custom', 'responses')).toBe(false);
    expect(calls().length - before).toBe(2);
    expect(pool.stats().cacheHits).toBe(2);
  });

  it('accepts an async export', async () => {
    const pool = pools.create({ probes, configDir: dir.root });
    expect(await pool.hasAuth('asyncy')).toBe(true);
  });

  it('turns a throw, a non-boolean, a missing export and a missing file into false with a code, quoting nothing', async () => {
    const pool = pools.create({ probes, configDir: dir.root });
    const cases: Record<string, string> = { thrower: 'E_MODULE_THREW', stringy: 'E_MODULE_BAD_RESULT', nofn: 'E_MODULE_LOAD', nofile: 'E_MODULE_LOAD' };
    for (const [provider, code] of Object.entries(cases)) {
      expect(await pool.hasAuth(provider)).toBe(false);
      const report = await pool.explain(provider);
      expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code } });
      expect(JSON.stringify(report)).not.toContain(SECRET);
    }
  });
});
