/**
 * One test per transition of an answer's state machine (src/answers/lifecycle.ts), named for it. Each drives the
 * real answer book (its timers, waiters, change events and dependency watcher) into the `from` state and makes the
 * event happen as the pool would: a check, a warm, a run's result or refusal, a timer, `invalidate()`. The runs are
 * answered by the test instead of by worker threads, so every transition is reached on purpose and in order; the
 * same behaviours are tested end to end, with real threads and CLIs, in answers.lifecycle.test.ts and beside it.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Answer } from '../src/answers/answer.js';
import type { AnswerEvent, AnswerState } from '../src/answers/lifecycle.js';
import type { ProviderResult } from '../src/config/schema.js';
import { eventually } from './helpers/processes.js';

// The book is internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { AnswerBook } = (await import(dist('answers/book.js'))) as typeof import('../src/answers/book.js');
const { TRANSITIONS } = (await import(dist('answers/lifecycle.js'))) as typeof import('../src/answers/lifecycle.js');
const { createCheckerFor, Miss } = (await import(dist('answers/checker.js'))) as typeof import('../src/answers/checker.js');
const { DependencyWatcher } = (await import(dist('answers/watcher.js'))) as typeof import('../src/answers/watcher.js');
const { resolveOptions } = (await import(dist('config/options.js'))) as typeof import('../src/config/options.js');
const { resolveScope } = (await import(dist('config/scope.js'))) as typeof import('../src/config/scope.js');
const { AuthProbeError } = (await import(dist('errors.js'))) as typeof import('../src/errors.js');
const { Slices } = (await import(dist('slices.js'))) as typeof import('../src/slices.js');

type Book = InstanceType<typeof AnswerBook>;
type Options = Parameters<typeof resolveOptions>[0];

interface PendingRun {
  readonly id: string;
  resolve(result: ProviderResult): void;
  reject(err: unknown): void;
}

const probe = (outcome: 'present' | 'absent', validUntil?: number) => ({
  position: 0,
  index: 0,
  source: 'provider' as const,
  kind: 'env' as const,
  outcome,
  durationMs: 1,
  ...(validUntil === undefined ? {} : { validUntil }),
});
const present = (id: string, validUntil?: number): ProviderResult => ({ provider: id, auth: true, decidedBy: 0, probes: [probe('present', validUntil)], durationMs: 1 });
const absent = (id: string): ProviderResult => ({ provider: id, auth: false, decidedBy: null, probes: [probe('absent')], durationMs: 1 });

const harnesses: { close(): void }[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

/** The book with runs answered by the test, each transition of every answer logged as `from --event--> to`. */
function harness(extra: Partial<Options> = {}) {
  const options = resolveOptions({
    probes: { providers: { p: [{ kind: 'env', vars: ['P'] }], q: [{ kind: 'env', vars: ['Q'] }] } },
    // A `true` lives longer than any expiry of these tests: an expiry, not its TTL, is what ends it.
    cacheTtlMs: { positive: 10_000, negative: 100, staleWhileRevalidate: 150 },
    failureBackoffMs: { initial: 40, max: 40 },
    logger: pino({ level: 'silent' }),
    ...extra,
  } as Options);
  const runs: PendingRun[] = [];
  const batcher = {
    enqueue: (_modelApi: unknown, run: { id: string; ended(result: ProviderResult): void; refused(err: unknown): void }) =>
      runs.push({ id: run.id, resolve: (result) => run.ended(result), reject: (err) => run.refused(err) }),
    sent: async () => {},
  };
  const changes: string[] = [];
  const log: string[] = [];
  let book: Book | undefined;
  const slices = new Slices((err) => {
    throw err;
  });
  const watcher = new DependencyWatcher<never>({ ...options.watch, logger: options.logger, read: async () => [], slices }, (c) => book?.filesChanged(c));
  book = new AnswerBook(options, { batcher, watcher, slices } as never, (answer, previous) => changes.push(`${answer.id}:${previous}→${answer.auth}`));
  const home = book.scopes.get(resolveScope(undefined));
  const counters = { cacheHits: 0, staleHits: 0, snapshotHits: 0 };
  const logged = new WeakSet<Answer>();
  const watch = (id: string) => {
    const answer = home.answers.get(id);
    // The log follows `p`; `q` is there to fill the queue.
    if (id !== 'p' || !answer || logged.has(answer)) return;
    logged.add(answer);
    const on = answer.on.bind(answer);
    answer.on = (event: AnswerEvent) => {
      const from = answer.state;
      const to = on(event);
      log.push(`${from} --${event}--> ${to}`);
      return to;
    };
  };
  const host = {
    counters,
    lookup: (_state: unknown, provider: unknown) =>
      new Promise<boolean>((resolve, reject) => {
        const id = provider as string;
        // The book's side of a miss: the pool's own slice (lookupNow) is not part of this harness.
        const miss = new Miss({ lookupNow: () => undefined }, home, id, undefined, false);
        miss.settle = resolve;
        miss.reject = reject;
        (book as Book).lookup(home, { id, key: id, modelApi: undefined, kinds: ['env'] }, miss);
        watch(id);
      }),
    revalidate: (answer: Answer) => (book as Book).revalidate(answer),
  };
  const checker = createCheckerFor(host, home);
  const h = {
    book,
    runs,
    changes,
    log,
    check: (id: string) => checker(id),
    answer: (id: string) => home.answers.get(id) as Answer,
    state: (id: string): AnswerState | undefined => home.answers.get(id)?.state,
    warm: (id: string) => {
      const warmed = (book as Book).warm(home, [{ id, key: id, modelApi: undefined, kinds: ['env'] }], () => {});
      watch(id);
      return warmed;
    },
    /** Answers the oldest run still pending for `id`, and lets the book take the result. */
    async finish(id: string, result: ProviderResult) {
      const i = runs.findIndex((r) => r.id === id);
      expect(i, `a run of ${id} is pending`).toBeGreaterThanOrEqual(0);
      runs.splice(i, 1)[0]?.resolve(result);
      await new Promise((resolve) => setImmediate(resolve));
    },
    /** Refuses the oldest run pending for `id`, as a closed dispatcher does. */
    async refuse(id: string) {
      const i = runs.findIndex((r) => r.id === id);
      expect(i, `a run of ${id} is pending`).toBeGreaterThanOrEqual(0);
      runs.splice(i, 1)[0]?.reject(new AuthProbeError('E_POOL_CLOSED'));
      await new Promise((resolve) => setImmediate(resolve));
    },
    /** Resolves once `id` is in `state` (its timers run meanwhile). */
    reach: async (id: string, state: AnswerState) => expect(await eventually(() => home.answers.get(id)?.state === state, 5000), `${id} reaches ${state}`).toBe(true),
    close() {
      (book as Book).close();
      watcher.close();
    },
  };
  harnesses.push(h);
  return h;
}

type Harness = ReturnType<typeof harness>;

async function fresh(h: Harness, id: string, result: ProviderResult): Promise<void> {
  const checked = h.check(id);
  await h.finish(id, result);
  await checked;
  expect(h.state(id)).toBe('fresh');
  // The log starts from here.
  h.log.length = 0;
}

async function undecided(h: Harness): Promise<void> {
  expect(await h.check('p')).toBe(false);
  expect(h.state('p')).toBe('undecided');
}

/** `p` true on a finding that expires in `inMs`, then held by maxQueue (1) while `q`'s first run is under way. */
async function held(h: Harness, inMs = 10_000): Promise<void> {
  await fresh(h, 'p', present('p', Date.now() + inMs));
  void h.check('q');
  void h.warm('p');
  expect(h.state('p')).toBe('held');
}

async function expired(h: Harness): Promise<void> {
  await fresh(h, 'p', present('p', Date.now() + 300));
  await h.reach('p', 'expired');
}

/** `invalidate()` of an answer brought to `from` by `reach`: dropped, and nothing kept. */
function invalidated(from: AnswerState, options: Partial<Options>, reach: (h: Harness) => Promise<void>): () => Promise<void> {
  return async () => {
    const h = harness(options);
    await reach(h);
    expect(h.state('p')).toBe(from);
    h.book.invalidate();
    expect(h.log.at(-1)).toBe(`${from} --evict--> retired`);
    expect(h.book.size).toBe(0);
  };
}

/** Every transition of the table, and how a test brings it about. */
const scenarios: Record<string, (options?: Partial<Options>) => Promise<void>> = {
  'probing --publish--> fresh': async () => {
    const h = harness();
    const checked = h.check('p');
    expect(h.state('p')).toBe('probing');
    await h.finish('p', present('p'));
    expect(await checked).toBe(true);
    expect(h.log).toEqual(['probing --publish--> fresh']);
    expect(h.changes, 'a first answer is no flip').toEqual([]);
  },
  'probing --deadline--> undecided': async () => {
    const h = harness({ answerWithinMs: 20 });
    await undecided(h);
    expect(
      h.runs.map((r) => r.id),
      'the run goes on',
    ).toEqual(['p']);
    expect(h.book.counters.undecided).toBe(1);
  },
  'probing --blocked--> retired': async () => {
    const h = harness();
    const checked = h.check('p').catch((err: unknown) => err);
    await h.refuse('p');
    expect(await checked).toMatchObject({ code: 'E_POOL_CLOSED' });
    expect(h.log).toEqual(['probing --blocked--> retired']);
    expect(h.book.size).toBe(0);
  },
  'probing --evict--> retired': async () => {
    const h = harness();
    const checked = h.check('p');
    h.book.invalidate();
    await h.finish('p', present('p'));
    expect(await checked, 'the waiting check is answered, nothing kept').toBe(true);
    expect(h.log).toEqual(['probing --evict--> retired']);
    expect(h.book.size).toBe(0);
  },
  'expired --publish--> fresh': async () => {
    const h = harness();
    await expired(h);
    const checked = h.check('p');
    await h.finish('p', absent('p'));
    expect(await checked, 'the check waited for the run: never true past the expiry').toBe(false);
    expect(h.log).toEqual(['fresh --expire--> expired', 'expired --publish--> fresh']);
    expect(h.changes).toEqual(['p:true→false']);
  },
  'expired --deadline--> undecided': async () => {
    const h = harness({ answerWithinMs: 20 });
    await expired(h);
    expect(await h.check('p')).toBe(false);
    expect(h.log).toEqual(['fresh --expire--> expired', 'expired --deadline--> undecided']);
    expect(h.changes).toEqual(['p:true→false']);
  },
  'expired --blocked--> held': async () => {
    const h = harness({ maxQueue: 1 });
    await fresh(h, 'p', present('p', Date.now() + 300));
    void h.check('q');
    await h.reach('p', 'held');
    expect(h.log).toEqual(['fresh --expire--> expired', 'expired --blocked--> held']);
    expect(await h.check('p'), 'at maxQueue, what is left is published: false').toBe(false);
    expect(h.changes).toEqual(['p:true→false']);
  },
  'expired --evict--> retired': invalidated('expired', {}, expired),
  'undecided --publish--> fresh': async () => {
    const h = harness({ answerWithinMs: 20 });
    await undecided(h);
    await h.finish('p', present('p'));
    expect(h.log).toEqual(['probing --deadline--> undecided', 'undecided --publish--> fresh']);
    expect(h.changes, 'whoever was told false hears of the true').toEqual(['p:false→true']);
    expect(h.answer('p').followed).toBe(true);
  },
  'undecided --blocked--> held': async () => {
    const h = harness({ answerWithinMs: 20 });
    await undecided(h);
    await h.refuse('p');
    expect(h.log.at(-1)).toBe('undecided --blocked--> held');
    expect(await h.check('p')).toBe(false);
  },
  'undecided --evict--> retired': invalidated('undecided', { answerWithinMs: 20 }, undecided),
  'fresh --refresh--> refreshing': async () => {
    const h = harness();
    await fresh(h, 'p', absent('p'));
    const warmed = h.warm('p');
    expect(h.state('p')).toBe('refreshing');
    expect(await h.check('p'), 'served as is meanwhile').toBe(false);
    await h.finish('p', present('p'));
    expect(await warmed).toMatchObject([{ auth: true }]);
    expect(h.log).toEqual(['fresh --refresh--> refreshing', 'refreshing --publish--> fresh']);
  },
  'fresh --idle--> stale': async () => {
    const h = harness();
    await fresh(h, 'p', absent('p'));
    await h.reach('p', 'stale');
    expect(h.log).toEqual(['fresh --idle--> stale']);
    expect(h.runs, 'an answer nobody used is not run again').toEqual([]);
  },
  'fresh --expire--> expired': async () => {
    const h = harness();
    await expired(h);
    expect(h.log).toEqual(['fresh --expire--> expired']);
    expect(h.answer('p').served).toBe(false);
    expect(
      h.runs.map((r) => r.id),
      'its run started',
    ).toEqual(['p']);
  },
  'fresh --blocked--> held': async () => {
    const h = harness({ maxQueue: 1 });
    await held(h);
    expect(h.log).toEqual(['fresh --blocked--> held']);
    expect(await h.check('p'), 'served as is').toBe(true);
  },
  'fresh --evict--> retired': invalidated('fresh', {}, (h) => fresh(h, 'p', present('p'))),
  'refreshing --publish--> fresh': async () => {
    const h = harness();
    await fresh(h, 'p', present('p'));
    void h.warm('p');
    await h.finish('p', absent('p'));
    expect(h.log).toEqual(['fresh --refresh--> refreshing', 'refreshing --publish--> fresh']);
    expect(h.changes).toEqual(['p:true→false']);
  },
  'refreshing --expire--> expired': async () => {
    const h = harness();
    await fresh(h, 'p', present('p', Date.now() + 300));
    void h.warm('p');
    await h.reach('p', 'expired');
    expect(h.log).toEqual(['fresh --refresh--> refreshing', 'refreshing --expire--> expired']);
    const checked = h.check('p');
    await h.finish('p', present('p'));
    expect(await checked, 'the run under way decides').toBe(true);
  },
  'refreshing --blocked--> held': async () => {
    const h = harness();
    await fresh(h, 'p', present('p'));
    void h.warm('p');
    await h.refuse('p');
    expect(h.log).toEqual(['fresh --refresh--> refreshing', 'refreshing --blocked--> held']);
    expect(await h.check('p')).toBe(true);
  },
  'refreshing --evict--> retired': invalidated('refreshing', {}, async (h) => {
    await fresh(h, 'p', present('p'));
    void h.warm('p');
  }),
  'held --refresh--> refreshing': async () => {
    const h = harness({ maxQueue: 1 });
    await held(h);
    await h.finish('q', absent('q'));
    await h.reach('p', 'refreshing');
    expect(h.log).toEqual(['fresh --blocked--> held', 'held --refresh--> refreshing']);
  },
  'held --expire--> expired': async () => {
    const h = harness({ maxQueue: 1 });
    await held(h, 300);
    await eventually(() => h.log.includes('held --expire--> expired'), 5000);
    // Still at maxQueue: what is left is published, false, and it waits again (retries may have come first).
    const at = h.log.indexOf('held --expire--> expired');
    expect(h.log.slice(at, at + 2)).toEqual(['held --expire--> expired', 'expired --blocked--> held']);
    expect(await h.check('p')).toBe(false);
  },
  'held --blocked--> held': async () => {
    const h = harness({ maxQueue: 1 });
    await held(h);
    await eventually(() => h.log.includes('held --blocked--> held'), 5000);
    expect(h.log[0]).toBe('fresh --blocked--> held');
    expect(await h.check('p')).toBe(true);
  },
  'held --evict--> retired': invalidated('held', { maxQueue: 1 }, (h) => held(h)),
  'stale --refresh--> refreshing': async () => {
    const h = harness();
    await fresh(h, 'p', absent('p'));
    await h.reach('p', 'stale');
    expect(await h.check('p'), 'served stale').toBe(false);
    expect(h.log).toEqual(['fresh --idle--> stale', 'stale --refresh--> refreshing']);
  },
  'stale --expire--> expired': async () => {
    const h = harness({ cacheTtlMs: { positive: 20, negative: 20, staleWhileRevalidate: 10_000 } });
    const until = Date.now() + 400;
    await fresh(h, 'p', present('p', until));
    // Not used: due at 20 ms, then stale.
    await h.reach('p', 'stale');
    // The loop held past the expiry, so that a check comes before the timer that would drop it.
    while (Date.now() <= until) {}
    const checked = h.check('p');
    expect(h.log).toEqual(['fresh --idle--> stale', 'stale --expire--> expired']);
    await h.finish('p', absent('p'));
    expect(await checked).toBe(false);
  },
  'stale --blocked--> held': async () => {
    const h = harness({ maxQueue: 1 });
    await fresh(h, 'p', absent('p'));
    await h.reach('p', 'stale');
    void h.check('q');
    expect(await h.check('p')).toBe(false);
    expect(h.log).toEqual(['fresh --idle--> stale', 'stale --blocked--> held']);
  },
  'stale --evict--> retired': async () => {
    const h = harness();
    await fresh(h, 'p', absent('p'));
    await h.reach('p', 'stale');
    expect(await eventually(() => h.book.size === 0, 5000)).toBe(true);
    expect(h.log).toEqual(['fresh --idle--> stale', 'stale --evict--> retired']);
  },
};

describe("an answer's life: one test per transition of the state machine", () => {
  for (const [name, scenario] of Object.entries(scenarios)) it(name, () => scenario());

  it('has a test for every transition of the table, and the table no other', () => {
    const table = Object.entries(TRANSITIONS).flatMap(([from, events]) => Object.entries(events).map(([event, to]) => `${from} --${event}--> ${to}`));
    expect(Object.keys(scenarios).sort()).toEqual(table.sort());
  });

  it('refuses a transition the table does not have, naming it', async () => {
    const h = harness();
    await fresh(h, 'p', present('p'));
    expect(() => h.answer('p').on('deadline')).toThrow('no transition from fresh on deadline');
    expect(h.state('p'), 'unchanged').toBe('fresh');
  });

  it('does not follow an undecided false whose run ends false: no event, no background run', async () => {
    const h = harness({ answerWithinMs: 20 });
    await undecided(h);
    await h.finish('p', absent('p'));
    expect(h.state('p')).toBe('fresh');
    expect(h.changes).toEqual([]);
    expect({ used: h.answer('p').used, followed: h.answer('p').followed }).toEqual({ used: false, followed: false });
    await h.reach('p', 'stale');
    expect(h.runs).toEqual([]);
  });
});
