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

  it('accepts a warm of 10,000 providers in slices: a timer set as it starts fires before all its answers are made', async () => {
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`e${i}`, [{ kind: 'env' as const, vars: [`E${i}`] }]]));
    const pool = pools.create({ probes: { providers: many }, env: { E7: 'set' } });
    let ended = false;
    const warming = pool.warm(Object.keys(many)).then((report) => {
      ended = true;
      return report;
    });
    const atTimer = await new Promise<{ answers: number; ended: boolean }>((resolve) => setTimeout(() => resolve({ answers: pool.stats().answers, ended }), 0));
    const report = await warming;
    expect(atTimer.ended).toBe(false);
    // Made in one turn, all 10,000 would be there before any timer could fire.
    expect(atTimer.answers).toBeLessThan(10_000);
    expect(Object.keys(report.answers)).toHaveLength(10_000);
    expect(Object.entries(report.answers).filter(([, auth]) => auth)).toEqual([['e7', true]]);
  });

  it('accepts 5,000 checks of a thousand agents in slices: a timer set just after them fires before they are all taken', async () => {
    const pool = pools.create({ probes: { providers: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, [{ kind: 'env' as const, vars: [`P${i}`] }]])) }, env: { P1: 'set' } });
    await pool.hasAuth('p0');
    const missesBefore = pool.stats().misses;
    const checks: Promise<boolean>[] = [];
    for (let agent = 0; agent < 1000; agent++) {
      const check = pool.createChecker({ agentId: `agent-${agent}` });
      for (let p = 0; p < 5; p++) checks.push(check(`p${p}`));
    }
    const takenAtTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(pool.stats().misses - missesBefore), 0));
    const answers = await Promise.all(checks);
    expect(takenAtTimer).toBeLessThan(5000);
    expect(pool.stats().misses - missesBefore).toBe(5000);
    expect(answers.filter(Boolean)).toHaveLength(1000);
  });

  it("sends a burst's first tasks while the rest of its misses wait: the threads start before the last check is taken", async () => {
    const pool = pools.create({ probes: { providers: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, [{ kind: 'env' as const, vars: [`P${i}`] }]])) }, env: { P1: 'set' } });
    await pool.hasAuth('p0');
    const before = pool.stats();
    const checks: Promise<boolean>[] = [];
    for (let agent = 0; agent < 1000; agent++) {
      const check = pool.createChecker({ agentId: `agent-${agent}` });
      for (let p = 0; p < 5; p++) checks.push(check(`p${p}`));
    }
    // Between two of the pool's slices: how many misses were taken when the first of the burst's tasks had gone out.
    const takenAtFirstTask = await new Promise<number>((resolve) => {
      const look = () => {
        const now = pool.stats();
        if (now.dispatches > before.dispatches) resolve(now.misses - before.misses);
        else setImmediate(look);
      };
      setImmediate(look);
    });
    const answers = await Promise.all(checks);
    expect(takenAtFirstTask).toBeLessThan(5000);
    expect(answers.filter(Boolean)).toHaveLength(1000);
  });
});
