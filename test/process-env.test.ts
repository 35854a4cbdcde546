import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processEnvReader, processEnvReads } from '../src/probes/process-env.js';
import { poolFactory } from './helpers/pools.js';

/** Variables this file sets in process.env (shared with the pools' workers), and removes at the end. */
const PREFIX = `APP_ENV_TEST_${process.pid}_`;
const N = 3000;
const nameOf = (i: number) => `${PREFIX}${i}_KEY`;

describe('reading a large process.env', () => {
  beforeAll(() => {
    // Every other variable set: the rest are names a reader must find unset.
    for (let i = 0; i < N; i += 2) process.env[nameOf(i)] = `value-${i}`;
  });
  afterAll(() => {
    for (let i = 0; i < N; i++) delete process.env[nameOf(i)];
  });

  it('answers an unset variable from the names, once it has read them, without reading it', () => {
    const reader = processEnvReader();
    const before = processEnvReads.names;
    for (let round = 0; processEnvReads.names === before && round < 100_000; round++) expect(reader.get(nameOf(0))).toBe('value-0');
    expect(processEnvReads.names).toBe(before + 1);
    const singles = processEnvReads.single;
    for (let i = 1; i < N; i += 2) expect(reader.get(nameOf(i))).toBeUndefined();
    expect(processEnvReads.single).toBe(singles);
  });

  it('reads variables one at a time, then the environment whole, and answers the same either way', () => {
    const reader = processEnvReader();
    const before = processEnvReads.whole;
    const singles: (string | undefined)[] = [];
    // Reads repeat until they have cost what a whole read is expected to, whatever this machine's speed.
    for (let round = 0; processEnvReads.whole === before && round < 1000; round++) for (let i = 0; i < N; i++) singles[i] = reader.get(nameOf(i));
    expect(processEnvReads.whole).toBe(before + 1);
    const singleReads = processEnvReads.single;
    for (let i = 0; i < N; i++) {
      expect(singles[i]).toBe(process.env[nameOf(i)]);
      expect(reader.get(nameOf(i))).toBe(process.env[nameOf(i)]);
    }
    // Read whole, it reads nothing more one at a time, and lists every name set.
    expect(processEnvReads.single).toBe(singleReads);
    const names = new Set(reader.names());
    for (let i = 0; i < N; i++) expect(names.has(nameOf(i))).toBe(i % 2 === 0);
    expect(names.has('PATH')).toBe(process.env.PATH !== undefined);
  });

  it('lists the names without reading any value', () => {
    const before = { ...processEnvReads };
    const names = processEnvReader().names();
    expect(names.filter((n) => n.startsWith(PREFIX))).toHaveLength(N / 2);
    expect(processEnvReads).toEqual(before);
  });

  // A report without the environment, as under --report-exclude-env: `process.report.excludeEnv` exists on Node 22+.
  it.skipIf(!('excludeEnv' in process.report))('goes on reading one at a time when the report leaves the environment out (needs process.report.excludeEnv: Node 22+)', () => {
    const report = process.report as unknown as { excludeEnv: boolean };
    report.excludeEnv = true;
    try {
      const reader = processEnvReader();
      const before = processEnvReads.whole;
      for (let round = 0; round < 20; round++) for (let i = 0; i < N; i++) expect(reader.get(nameOf(i))).toBe(process.env[nameOf(i)]);
      expect(processEnvReads.whole).toBe(before);
    } finally {
      report.excludeEnv = false;
    }
  });

  describe('in a pool', () => {
    const pools = poolFactory();
    afterAll(() => pools.closeAll());

    it("answers thousands of env probes of the gateway's process.env right", async () => {
      const providers = Object.fromEntries(Array.from({ length: N }, (_, i) => [`p${i}`, [{ kind: 'env' as const, vars: [nameOf(i)] }]]));
      const pool = pools.create({ probes: { providers } });
      const ids = Object.keys(providers);
      const { answers } = await pool.warm(ids);
      expect(ids.filter((id, i) => answers[id] !== (i % 2 === 0))).toEqual([]);
      // A variable unset since is seen once the pool is asked to probe again.
      delete process.env[nameOf(0)];
      pool.invalidate();
      expect(await pool.hasAuth('p0')).toBe(false);
    });
  });
});
