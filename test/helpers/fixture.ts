import type { AuthProbePoolOptions } from 'auth-probe-pool';
import { afterAll } from 'vitest';
import { loopMonitor } from './loop-monitor.js';
import { poolFactory } from './pools.js';
import { tempDir } from './temp.js';

/**
 * The usual fixture of a describe block: a temp dir and a pool factory, both
 * cleaned up after the block (`pool`: options every pool of it gets, such as
 * `spawnVia`), and optionally a loop-delay monitor whose figures are printed then.
 */
export function useFixture(options: { prefix?: string; monitor?: string; pool?: Partial<AuthProbePoolOptions> } = {}) {
  const dir = tempDir(options.prefix);
  const pools = poolFactory(options.pool);
  const monitor = options.monitor ? loopMonitor(options.monitor) : undefined;
  afterAll(async () => {
    await pools.closeAll();
    dir.cleanup();
    monitor?.stop();
  });
  return { dir, pools };
}
