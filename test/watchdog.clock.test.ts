import { describe, expect, it } from 'vitest';
import { useFixture } from './helpers/fixture.js';

describe('the watchdog keeps time by the monotonic clock', () => {
  const { dir, pools } = useFixture();
  // A module probe that holds its thread for 600 ms, well within its 5 s deadline, then finds auth.
  const module = dir.write('slow-true.mjs', 'export default () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600); return true; };');

  it('ends no probe when the wall clock steps an hour forward under it (NTP, a VM resumed)', async () => {
    const pool = pools.create({ probes: { providers: { slow: [{ kind: 'module', module }] } }, probeTimeoutMs: 5000 });
    const realNow = Date.now;
    const checking = pool.hasAuth('slow');
    // Once the probe runs, the main thread's wall clock jumps: a deadline kept in wall time would be an hour past.
    const stepped = setTimeout(() => {
      const offset = 3_600_000;
      Date.now = () => realNow() + offset;
    }, 250);
    try {
      expect(await checking).toBe(true);
    } finally {
      clearTimeout(stepped);
      Date.now = realNow;
    }
    expect(pool.stats()).toMatchObject({ timeouts: 0, crashes: 0 });
    expect((await pool.explain('slow')).probes[0]).toMatchObject({ outcome: 'present' });
  });
});
