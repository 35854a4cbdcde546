import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

/** Records the order in which a 50 ms timer and a 2 s probe finish. */
function race(probe: () => Promise<unknown> | unknown): Promise<string[]> {
  const order: string[] = [];
  const timer = new Promise<void>((resolve) =>
    setTimeout(() => {
      order.push('timer');
      resolve();
    }, 50),
  );
  const done = Promise.resolve()
    .then(probe)
    .then(() => order.push('probe'));
  return Promise.all([timer, done]).then(() => order);
}

describe("the gateway's event loop", () => {
  const { dir, pools } = useFixture();
  const keychain = fakeCli(dir, 'slow-keychain', `setTimeout(() => { process.stdout.write('token'); process.exit(0); }, 2000);`);

  it('stays free while a 2 s CLI probe runs in the pool: a 50 ms timer fires first', async () => {
    const pool = pools.create({ probes: { providers: { anthropic: [{ kind: 'command', command: keychain, requireStdout: true }] } } });
    let answer: boolean | undefined;
    const order = await race(async () => {
      answer = await pool.hasAuth('anthropic');
    });
    expect(answer).toBe(true);
    expect(order).toEqual(['timer', 'probe']);
  });

  it('is blocked when the same probe runs the old synchronous way: the timer cannot fire first', async () => {
    const order = await race(() => execFileSync(keychain, [], { timeout: 5000, killSignal: 'SIGKILL' }));
    expect(order).toEqual(['probe', 'timer']);
  });

  it('sends a sweep of many agents to the workers a slice per turn: a check of the next turn is not held until all are sent', async () => {
    const pool = pools.create({ probes: { providers: { a: [{ kind: 'env', vars: ['A'] }], b: [{ kind: 'env', vars: ['B'] }] } }, batchSize: 4 });
    await pool.hasAuth('a');
    const before = pool.stats().dispatches;
    const checks: Promise<boolean>[] = [];
    for (let i = 0; i < 300; i++) {
      const check = pool.createChecker({ agentId: `agent-${i}` });
      checks.push(check('a'), check('b'));
    }
    // 600 runs of 4 make 150 tasks; a turn of the loop comes before the last of them is sent.
    const atNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(pool.stats().dispatches - before)));
    await Promise.all(checks);
    const all = pool.stats().dispatches - before;
    expect(all).toBe(150);
    expect(atNextTurn).toBeLessThan(all);
    // close() still waits for every run asked for before it.
    const pending = Array.from({ length: 100 }, (_, i) => pool.createChecker({ agentId: `late-${i}` })('b'));
    const closing = pool.close();
    expect(await Promise.all(pending)).toEqual(pending.map(() => false));
    await closing;
  });
});
