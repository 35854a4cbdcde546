/**
 * Freshness figures: time from a credential file change to the new answer
 * (the `change` event), with watching and with the polling fallback, and the
 * cost of a hot check while answers are tracked, against a bare awaited Map
 * lookup. Run: `npm run build && node dist/bench/freshness.js [--changes N] [--json]` (`--help`).
 */
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAuthProbePool, type AuthChangeEvent, type AuthProbePool } from '../src/index.js';
import { integerFlag, parseCommandLine, parseStrict } from './cli-args.js';

const USAGE = `Usage: node dist/bench/freshness.js [flags]   (after npm run build)

  --changes N          file changes timed, with watching and with polling (default 30)
  --hits N             hot checks per round of the hot-check figure (default 1000000)
  --json               print the JSON result instead of the table
  --help`;

const flags = parseCommandLine(USAGE, (argv) => {
  const v = parseStrict(argv, { changes: { type: 'string' }, hits: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
  return { changes: integerFlag(v['changes'], 'changes', 1, 10_000, 30), hits: integerFlag(v['hits'], 'hits', 1, 1e9, 1_000_000), json: v['json'] === true };
});
const CHANGES = flags.changes;
const HITS = flags.hits;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const nextChange = (pool: AuthProbePool) => new Promise<AuthChangeEvent>((resolve) => pool.once('change', resolve));

/** Alternately writes and deletes the file; returns each write-to-event latency in ms. */
async function changeLatencies(home: string, watch: { enabled: boolean; pollMs?: number }): Promise<number[]> {
  const file = join(home, '.codex', 'auth.json');
  const pool = createAuthProbePool({
    probes: { providers: { codex: [{ kind: 'credentialFile', path: '~/.codex/auth.json', pointer: '/tokens/access_token' }] } },
    env: { HOME: home },
    watch,
  });
  try {
    const check = pool.createChecker();
    await check('codex');
    const out: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      // Let the previous refresh settle, its watch be armed and its post-publish check pass.
      await new Promise((r) => setTimeout(r, 120 + ((i * 37) % 200))); // varied, so polling is not phase-locked
      const changed = nextChange(pool);
      const t0 = performance.now();
      if (i % 2 === 0) writeFileSync(file, JSON.stringify({ tokens: { access_token: `sk-${i}` } }));
      else unlinkSync(file);
      const event = await changed;
      out.push(performance.now() - t0);
      if (event.current !== (i % 2 === 0) || (await check('codex')) !== event.current) throw new Error('answer did not follow the file');
    }
    return out.sort((a, b) => a - b);
  } finally {
    await pool.close();
  }
}

/** ns per operation of `fn` awaited `n` times. */
async function nsPerOp(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10_000; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1e6) / n;
}

async function hotCheck(home: string): Promise<{ checkNs: number; mapNs: number }> {
  const pool = createAuthProbePool({
    probes: { providers: { codex: [{ kind: 'credentialFile', path: '~/.codex/auth.json', pointer: '/tokens/access_token' }] } },
    env: { HOME: home },
  });
  try {
    const check = pool.createChecker();
    await check('codex');
    if (pool.stats().watchedPaths === 0) throw new Error('expected the answer to be tracked');
    const map = new Map([['codex', true]]);
    const bare = async () => map.get('codex');
    // Interleave to share the machine's noise fairly; report the medians of 5 rounds each.
    const checks: number[] = [];
    const maps: number[] = [];
    for (let round = 0; round < 5; round++) {
      checks.push(await nsPerOp(HITS, () => check('codex')));
      maps.push(await nsPerOp(HITS, bare));
    }
    return {
      checkNs: quantile(
        checks.sort((a, b) => a - b),
        0.5,
      ),
      mapNs: quantile(
        maps.sort((a, b) => a - b),
        0.5,
      ),
    };
  } finally {
    await pool.close();
  }
}

const root = mkdtempSync(join(tmpdir(), 'app-bench-fresh-'));
// The pool's watchers and timers never hold the process open (a gateway's server does): this script must.
const keepAlive = setInterval(() => {}, 1000);
try {
  const homeW = join(root, 'watch');
  const homeP = join(root, 'poll');
  for (const h of [homeW, homeP]) mkdirSync(join(h, '.codex'), { recursive: true });
  const watched = await changeLatencies(homeW, { enabled: true });
  const polled = await changeLatencies(homeP, { enabled: false, pollMs: 200 });
  writeFileSync(join(homeW, '.codex', 'auth.json'), JSON.stringify({ tokens: { access_token: 'sk-hot' } }));
  const hot = await hotCheck(homeW);
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    changes: CHANGES,
    changeToAnswerMs: {
      watch: { p50: quantile(watched, 0.5), p90: quantile(watched, 0.9), max: watched.at(-1) },
      poll200ms: { p50: quantile(polled, 0.5), p90: quantile(polled, 0.9), max: polled.at(-1) },
    },
    hotCheck: { trackedCheckNsPerOp: hot.checkNs, bareAwaitedMapNsPerOp: hot.mapNs, ratio: hot.checkNs / hot.mapNs },
  };
  if (flags.json) console.log(JSON.stringify(result, null, 2));
  else {
    const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
    console.log(`freshness on ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}, ${CHANGES} changes each`);
    console.log(`file change → new answer (ms)   p50     p90     max`);
    for (const [mode, s] of Object.entries(result.changeToAnswerMs)) console.log(`  ${mode.padEnd(28)} ${f(s.p50).padStart(6)}  ${f(s.p90).padStart(6)}  ${f(s.max).padStart(6)}`);
    console.log(`hot check, tracked answer: ${hot.checkNs.toFixed(1)} ns/op; bare awaited Map lookup: ${hot.mapNs.toFixed(1)} ns/op; ratio ${result.hotCheck.ratio.toFixed(2)}`);
  }
} finally {
  clearInterval(keepAlive);
  rmSync(root, { recursive: true, force: true });
}
