import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvEpochs } from '../src/dispatch/env-epochs.js';
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

  it('told that many lookups are coming, reads the environment whole a sample of lookups after the names, and answers the same', () => {
    const reader = processEnvReader();
    reader.expect(1_000_000);
    const names = processEnvReads.names;
    const whole = processEnvReads.whole;
    let afterNames = -1;
    for (let i = 0; processEnvReads.whole === whole && i < N; i++) {
      expect(reader.get(nameOf(i))).toBe(process.env[nameOf(i)]);
      if (afterNames >= 0) afterNames++;
      else if (processEnvReads.names > names) afterNames = 0;
    }
    expect(processEnvReads.whole).toBe(whole + 1);
    // The sample (32 lookups) and the next set variable. Told nothing, it reads on until its single reads have cost what
    // a whole read is expected to: hundreds of them.
    expect(afterNames).toBeGreaterThanOrEqual(0);
    expect(afterNames).toBeLessThanOrEqual(40);
    for (let i = 0; i < N; i++) expect(reader.get(nameOf(i))).toBe(process.env[nameOf(i)]);
  });

  it('told that few lookups are coming, reads them one at a time', () => {
    const reader = processEnvReader();
    reader.expect(40);
    const whole = processEnvReads.whole;
    for (let i = 0; i < 80; i += 2) expect(reader.get(nameOf(i))).toBe(`value-${i}`);
    expect(processEnvReads.whole).toBe(whole);
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

  describe("an epoch's announced lookups", () => {
    it('are told with the tasks sent after them, add up within an epoch, and start again with the next', () => {
      const epochs = new EnvEpochs(undefined);
      expect(epochs.current(1000).reads).toBeUndefined();
      epochs.expect(100);
      const first = epochs.current(1001);
      expect(first).toMatchObject({ at: 1000, reads: 100 });
      // Tasks sent later in the epoch carry the same figure until more is announced.
      expect(epochs.current(1002)).toBe(first);
      epochs.expect(50);
      expect(epochs.current(1003)).toMatchObject({ at: 1000, reads: 150 });
      epochs.renew();
      epochs.expect(7);
      expect(epochs.current(1004)).toEqual({ at: 1004, reads: 7 });
      expect(epochs.current(1005).reads).toBe(7);
    });

    it("are not told with an env object's snapshot, which a worker reads whole", () => {
      const epochs = new EnvEpochs({ A: '1' });
      epochs.expect(100);
      const ref = epochs.current(1000);
      expect(ref.snapshot).toBeDefined();
      expect(ref.reads).toBeUndefined();
    });
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
