// A task's results on their way back: streamed on the task's port while the task waits, or returned with the task
// when its last run completes them (one message to the main thread, not two), and taken in alike.
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ProviderResult } from '../src/config/schema.js';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { ResultOutbox } = (await import(dist('probes/result-outbox.js'))) as typeof import('../src/probes/result-outbox.js');
const { ChecksPacker, DepsLists, RESULT_WIDTH, unpackChecks } = (await import(dist('config/check-result.js'))) as typeof import('../src/config/check-result.js');
const { TaskResults } = (await import(dist('dispatch/task-results.js'))) as typeof import('../src/dispatch/task-results.js');
const { Accounting } = (await import(dist('dispatch/accounting.js'))) as typeof import('../src/dispatch/accounting.js');
const { Slices } = (await import(dist('slices.js'))) as typeof import('../src/slices.js');

const found = (provider: string): ProviderResult => ({ provider, auth: true, decidedBy: null, probes: [], durationMs: 1 });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const indices = (checks: Parameters<typeof unpackChecks>[0]) => unpackChecks(checks).map(({ index }) => index);

/** Runs `test` with a fresh channel (the task's port is `port2`, the main thread's end `port1`), both ends closed after. */
async function withChannel(test: (port1: MessagePort, port2: MessagePort) => Promise<void>): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  try {
    await test(port1, port2);
  } finally {
    port1.close();
    port2.close();
  }
}

/** The indices of the results in the next message on `port`, which must have one. */
function nextPosted(port: MessagePort): number[] {
  const next = receiveMessageOnPort(port);
  if (!next) throw new Error('nothing was posted');
  return indices((next.message as { checks: Parameters<typeof unpackChecks>[0] }).checks);
}

describe("a worker's results outbox", () => {
  it("posts a run's results once the run is over, in its microtasks, while its task still waits; gives those of the run that completes the task back to it", () =>
    withChannel(async (port1, port2) => {
      // Results waiting FLUSH_AFTER_MS (2 ms) go at once: a clock's rule, which a loaded machine's first add alone passed in
      // CI (compiling the packer). This is about the run's end, so the age is set out of reach; the rule has its own test.
      const outbox = new ResultOutbox(port2, false, 4, Number.POSITIVE_INFINITY);
      outbox.add(0, found('a'));
      outbox.add(1, found('b'));
      expect(receiveMessageOnPort(port1)).toBeUndefined();
      // The task waits (a CLI, a module's import): what its run completed is posted before anything else of the
      // thread's runs, in that run's microtasks, not a later phase of the loop (a module that then spins would hold it).
      await null;
      expect(nextPosted(port1)).toEqual([0, 1]);
      expect(outbox.takeLast()).toBeUndefined();

      // The run that completes the task: nothing is posted, the task takes its results back as it returns.
      outbox.add(2, found('c'));
      outbox.add(3, found('d'));
      await null;
      expect(receiveMessageOnPort(port1)).toBeUndefined();
      const last = outbox.takeLast();
      expect(last && indices(last)).toEqual([2, 3]);
      await nextTurn();
      expect(receiveMessageOnPort(port1)).toBeUndefined();
    }));

  it('posts what waits at once, before the run ends, once it is FLUSH_AFTER_MS old: a probe that then blocks the thread holds back no more', () =>
    withChannel(async (port1, port2) => {
      // An age of 0: every result is old enough as it is added, whatever the machine's speed.
      const outbox = new ResultOutbox(port2, false, 3, 0);
      outbox.add(0, found('a'));
      expect(nextPosted(port1)).toEqual([0]);
      outbox.add(1, found('b'));
      expect(nextPosted(port1)).toEqual([1]);
      // Nothing waits for the run's end, or for the task to take back.
      expect(outbox.takeLast()).toBeUndefined();
      await null;
      expect(receiveMessageOnPort(port1)).toBeUndefined();
    }));

  it('posts whole results (explain) on the port, never back with the task', () =>
    withChannel(async (port1, port2) => {
      const outbox = new ResultOutbox(port2, true, 1);
      outbox.add(0, found('a'));
      expect(outbox.takeLast()).toBeUndefined();
      await null;
      expect(receiveMessageOnPort(port1)?.message).toEqual({ results: [{ index: 0, result: found('a') }] });
    }));
});

/** What a task's results need of the pool, with what it logs at `error`. */
function resultsContext() {
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const context = { accounting: new Accounting({ logger, slowProbeMs: 1000 }), slices: new Slices(() => {}), deps: new DepsLists(), logger, closed: () => false };
  return { context, logged };
}

/** `providers`' results found, packed as a worker sends them. */
function packedFound(providers: readonly string[]) {
  const packer = new ChecksPacker();
  for (const [i, p] of providers.entries()) packer.add(i, found(p));
  return packer.take();
}

describe("a task's own result with its last run's results", () => {
  it('delivers each as a streamed one, a piece of work of its own before the task completes, and fails only a malformed one', async () => {
    const { context, logged } = resultsContext();
    const delivered: [number, ProviderResult][] = [];
    const results = new TaskResults(['a', 'b', 'c'], {}, context, (i, result) => void delivered.push([i, result]));
    try {
      const checks = structuredClone(packedFound(['a', 'b', 'c']));
      // b's `auth`, which no probe has (RESULT_WIDTH numbers each): a number that is neither 1 nor 0.
      (checks.nums as Float64Array)[RESULT_WIDTH + 1] = 7;
      const reply = { streamed: 3, checks };
      results.takeReturned(reply);
      let takenBefore = 0;
      const all = await context.slices.submit(() => {
        takenBefore = delivered.length;
        return results.complete(reply);
      });
      // a and c were taken in before the completion; b, refused then, is failed by it.
      expect(takenBefore).toBe(2);
      expect(all.map((r) => [r.provider, r.auth, r.error?.code])).toEqual([
        ['a', true, undefined],
        ['b', false, 'E_BAD_WORKER_RESULT'],
        ['c', true, undefined],
      ]);
      expect(delivered.map(([i]) => i).sort()).toEqual([0, 1, 2]);
      expect(logged.join('')).toContain('malformed');
    } finally {
      results.close();
    }
  });

  it('takes nothing of a frame that is not one, on the port or with the task: the task then fails what it left', async () => {
    const { context, logged } = resultsContext();
    const delivered: number[] = [];
    const results = new TaskResults(['a', 'b'], {}, context, (i) => void delivered.push(i));
    try {
      // On the port: a key no frame has, numbers not in a Float64Array, a string that is not one.
      results.port.postMessage({ checks: packedFound(['a', 'b']), extra: 1 });
      results.port.postMessage({ checks: { nums: Array.from(packedFound(['a', 'b']).nums), strings: [] } });
      results.port.postMessage({ checks: { nums: packedFound(['a', 'b']).nums, strings: [1] } });
      results.takeQueued();
      // With the task: a count no worker sends.
      const reply = { streamed: -1, checks: packedFound(['a', 'b']) };
      results.takeReturned(reply);
      let takenBefore = -1;
      const all = await context.slices.submit(() => {
        takenBefore = delivered.length;
        return results.complete(reply);
      });
      expect(takenBefore).toBe(0);
      expect(all.map((r) => [r.provider, r.auth, r.error?.code])).toEqual([
        ['a', false, 'E_BAD_WORKER_RESULT'],
        ['b', false, 'E_BAD_WORKER_RESULT'],
      ]);
      expect(logged.join('')).toContain('malformed');
    } finally {
      results.close();
    }

    // The same results in a frame that is one, on the port: both taken before the task completes.
    const fresh = resultsContext().context;
    const taken: number[] = [];
    const good = new TaskResults(['a', 'b'], {}, fresh, (i) => void taken.push(i));
    try {
      good.port.postMessage({ checks: packedFound(['a', 'b']) });
      good.takeQueued();
      const reply = { streamed: 2 };
      good.takeReturned(reply);
      let takenFirst: number[] = [];
      const all = await fresh.slices.submit(() => {
        takenFirst = [...taken];
        return good.complete(reply);
      });
      expect(takenFirst).toEqual([0, 1]);
      expect(all.map((r) => [r.provider, r.auth])).toEqual([
        ['a', true],
        ['b', true],
      ]);
    } finally {
      good.close();
    }
  });
});
