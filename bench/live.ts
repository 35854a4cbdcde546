/**
 * A gateway under churn: what its users see while it runs, not in a quiet
 * test. Four phases, each on a pool of its own, in one process:
 *
 * 1. churn: an `auth-profiles.json` store of about 1 MB rewritten in place
 *    (in 64 KiB writes, as a stream does) every `--write-ms` by another
 *    process, only its usage counters changing; 30 providers checked at a
 *    steady rate, one with a hung CLI, one with a slow CLI. Prints wrong
 *    answers, change events by direction, probes re-run by kind, CLI runs,
 *    check latency and the main thread's event-loop utilisation.
 * 2. hot sweep: 200 providers warmed, one of them with a hung CLI, then swept
 *    through a checker: what a cached `/models` costs.
 * 3. one-off ids: 40,000 distinct ids checked once (a user typing garbage),
 *    then every TTL and stale window left to pass: heap growth, and what one
 *    later store write re-probes.
 * 4. agents: 1,000 agents, each with its own `agentDir`, checked, then their
 *    watches verified every second: the main thread's longest stall.
 *
 * Run: `npm run build && node --expose-gc dist/bench/live.js [flags]`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAuthProbePool, type AuthProbePool, type ProbeConfigInput } from '../src/index.js';
import { FlagError, integerFlag, parseCommandLine, parseStrict } from './cli-args.js';
import { describeMachine } from './report.js';
import { median, percentile, round } from './stats.js';

const USAGE = `Usage: node --expose-gc dist/bench/live.js [flags]

  --seconds S          length of the churn phase (default 20)
  --write-ms MS        the store is rewritten in place this often (default 75)
  --check-ms MS        every provider is checked this often (default 25)
  --store-kb KB        size of the store (default 1024)
  --slow-cli-ms MS     the slow CLI's time (default 300)
  --hung-timeout-ms MS the hung CLI is killed after this (default 1500)
  --ids N              one-off ids checked in the memory phase (default 40000)
  --agents N           agents in the watch phase (default 1000)
  --phases a,b         phases to run (default all: churn,hot,ids,agents)
  --json               print the JSON result to stdout (the table goes to stderr)
  --help`;

const PHASES = ['churn', 'hot', 'ids', 'agents'] as const;

const { F, phases, values } = parseCommandLine(USAGE, (argv) => {
  const v = parseStrict(argv, {
    ...Object.fromEntries(['seconds', 'write-ms', 'check-ms', 'store-kb', 'slow-cli-ms', 'hung-timeout-ms', 'ids', 'agents', 'phases'].map((name) => [name, { type: 'string' as const }])),
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const phases = (typeof v['phases'] === 'string' ? v['phases'] : PHASES.join(',')).split(',').map((p) => p.trim());
  const unknownPhase = phases.find((p) => !(PHASES as readonly string[]).includes(p));
  if (unknownPhase !== undefined) throw new FlagError(`--phases: unknown ${unknownPhase}; choose from ${PHASES.join(', ')}`);
  const F = {
    seconds: integerFlag(v['seconds'], 'seconds', 1, 3600, 20),
    writeMs: integerFlag(v['write-ms'], 'write-ms', 5, 60_000, 75),
    checkMs: integerFlag(v['check-ms'], 'check-ms', 1, 60_000, 25),
    storeKb: integerFlag(v['store-kb'], 'store-kb', 1, 64 * 1024, 1024),
    slowCliMs: integerFlag(v['slow-cli-ms'], 'slow-cli-ms', 1, 60_000, 300),
    hungTimeoutMs: integerFlag(v['hung-timeout-ms'], 'hung-timeout-ms', 100, 60_000, 1500),
    ids: integerFlag(v['ids'], 'ids', 1, 1_000_000, 40_000),
    agents: integerFlag(v['agents'], 'agents', 1, 100_000, 1000),
  };
  return { F, phases, values: { json: v['json'] === true } };
});
const runs = (phase: (typeof PHASES)[number]) => phases.includes(phase);

// Heap figures need a full collection; allow one without the flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const out = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

/** Counts the lines a fake CLI appended to its mark file: how often it ran. */
function runsOf(markFile: string): number {
  try {
    return readFileSync(markFile, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

function writeCli(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** `probesRun` by kind where the pool reports it (`stats().probesRunByKind`), else only the total. */
function probesByKind(pool: AuthProbePool): Record<string, number> {
  const s = pool.stats() as unknown as { probesRun: number; probesRunByKind?: Record<string, number> };
  return s.probesRunByKind ? { ...s.probesRunByKind } : { total: s.probesRun };
}

function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) d[k] = v - (before[k] ?? 0);
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the store

const STORE_PROVIDERS = 20;
const STORE_PRESENT = 15;
const ENV_PROVIDERS = 8;

/** The store's text for write number `n`: the same profiles, other usage counters, padded to `kb`. */
function storeText(n: number, kb: number, extraProviders: readonly string[] = []): string {
  const profiles: Record<string, unknown> = {};
  for (let i = 0; i < STORE_PRESENT; i++) profiles[`p${pad(i)}:default`] = { type: 'api_key', provider: `p${pad(i)}`, key: `sk-live-${i}-secret` };
  for (const p of extraProviders) profiles[`${p}:default`] = { type: 'api_key', provider: p, key: 'sk-live-extra-secret' };
  const usageStats: Record<string, unknown> = {};
  const head = JSON.stringify({ version: 1, profiles }).length;
  let i = 0;
  let size = head;
  while (size < kb * 1024) {
    const entry = { lastUsed: 1_700_000_000_000 + n * 75 + i, requests: n * 31 + i, errorCount: (n + i) % 7 };
    size += JSON.stringify(entry).length + 16;
    usageStats[`u${i}:session`] = entry;
    i++;
  }
  return JSON.stringify({ version: 1, profiles, usageStats, lastGood: { n } });
}

const pad = (i: number) => String(i).padStart(2, '0');

/**
 * A writer in its own process, as a gateway's request handler: rewrites the
 * store in place (truncate, then 64 KiB writes) every `writeMs`, only the
 * usage counters changing. Prints how many writes it made when stopped.
 */
function startWriter(storeFile: string, writeMs: number, kb: number): { stop(): Promise<number> } {
  const code = `
    const fs = require('node:fs');
    const texts = JSON.parse(process.argv[1]).map((f) => fs.readFileSync(f));
    let n = 0, stopping = false;
    process.on('SIGTERM', () => { stopping = true; });
    const write = () => {
      if (stopping) { process.stdout.write(String(n)); process.exit(0); }
      const buf = texts[n % texts.length];
      const fd = fs.openSync(${JSON.stringify(storeFile)}, 'r+');
      fs.ftruncateSync(fd, 0);
      for (let off = 0; off < buf.length; off += 65536) fs.writeSync(fd, buf, off, Math.min(65536, buf.length - off), off);
      fs.closeSync(fd);
      n++;
      setTimeout(write, ${writeMs});
    };
    write();`;
  // Eight variants of the store, cycled: the file really changes at every write.
  const texts = Array.from({ length: 8 }, (_, n) => {
    const file = `${storeFile}.variant-${n}`;
    writeFileSync(file, storeText(n + 1, kb));
    return file;
  });
  const child = spawn(process.execPath, ['-e', code, JSON.stringify(texts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  child.stdout.on('data', (d: Buffer) => (printed += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(Number(printed) || 0)));
  return {
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

// ---------------------------------------------------------------- phase 1: churn

interface ChurnFigures {
  readonly seconds: number;
  readonly storeWrites: number;
  readonly checks: number;
  readonly wrongAnswers: number;
  readonly changeEvents: { readonly trueToFalse: number; readonly falseToTrue: number };
  readonly probesRerun: Record<string, number>;
  readonly cliRuns: { readonly slow: number; readonly hung: number };
  readonly checkLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly loopDelayMs: { readonly p99: number; readonly max: number };
  readonly mainThreadElu: number;
  readonly watchedPathsAtEnd: number;
  /** `warm()`s of the store's providers made while the store is still being rewritten, and how many published. */
  readonly warms: { readonly made: number; readonly published: number; readonly wrongAnswers: number };
  /** How long an answer in hand waited for its refresh to publish (`stats().refreshTime`), where the pool reports it. */
  readonly refreshMs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
}

async function churn(root: string): Promise<ChurnFigures> {
  const home = join(root, 'churn');
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  const agentDir = join(home, 'agent');
  mkdirSync(agentDir, { recursive: true });
  const storeFile = join(agentDir, 'auth-profiles.json');
  writeFileSync(storeFile, storeText(0, F.storeKb));
  const slowMark = join(home, 'slow.mark');
  const hungMark = join(home, 'hung.mark');
  const slow = writeCli(bin, 'slow-cli', `echo run >> '${slowMark}'\nsleep ${F.slowCliMs / 1000}\necho ok`);
  const hung = writeCli(bin, 'hung-cli', `echo run >> '${hungMark}'\nexec sleep 3600`);
  const store = { kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' } as const;
  const providers: ProbeConfigInput['providers'] = {};
  const expected = new Map<string, boolean>();
  for (let i = 0; i < STORE_PROVIDERS; i++) {
    providers[`p${pad(i)}`] = [store];
    expected.set(`p${pad(i)}`, i < STORE_PRESENT);
  }
  const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: home };
  for (let i = 0; i < ENV_PROVIDERS; i++) {
    providers[`e${pad(i)}`] = [{ kind: 'env', vars: [`E${pad(i)}_API_KEY`] }];
    env[`E${pad(i)}_API_KEY`] = `sk-env-${i}`;
    expected.set(`e${pad(i)}`, true);
  }
  // Providers with a store profile probe first and a CLI after it, as keychain-backed providers are configured.
  providers['slowcli'] = [store, { kind: 'command', command: slow, requireStdout: true }];
  expected.set('slowcli', true);
  providers['hungcli'] = [store, { kind: 'command', command: hung, timeoutMs: F.hungTimeoutMs }];
  expected.set('hungcli', false);

  const pool = createAuthProbePool({ probes: { providers }, env, threads: { max: 2 } });
  const events = { trueToFalse: 0, falseToTrue: 0 };
  pool.on('change', (e) => (e.current ? events.falseToTrue++ : events.trueToFalse++));
  const check = pool.createChecker({ agentDir });
  // The gateway starts: one cold sweep, not measured.
  await Promise.all([...expected.keys()].map((p) => check(p)));
  const probesBefore = probesByKind(pool);
  const slowBefore = runsOf(slowMark);
  const hungBefore = runsOf(hungMark);

  const latencies: number[] = [];
  let wrong = 0;
  let checks = 0;
  const outstanding = new Set<string>();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const writer = startWriter(storeFile, F.writeMs, F.storeKb);
  await sleep(F.writeMs * 2); // let the writer start
  gc(); // the benchmark's own garbage (the store's variants) is not the gateway's
  loop.enable();
  const elu0 = performance.eventLoopUtilization();
  const endAt = performance.now() + F.seconds * 1000;
  const ticker = setInterval(() => {
    for (const [provider, want] of expected) {
      if (outstanding.has(provider)) continue;
      outstanding.add(provider);
      checks++;
      const t0 = performance.now();
      check(provider).then(
        (got) => {
          latencies.push(performance.now() - t0);
          if (got !== want) wrong++;
          outstanding.delete(provider);
        },
        () => {
          latencies.push(performance.now() - t0);
          wrong++;
          outstanding.delete(provider);
        },
      );
    }
  }, F.checkMs);
  while (performance.now() < endAt) await sleep(50);
  clearInterval(ticker);
  const elu = performance.eventLoopUtilization(elu0);
  loop.disable();
  while (outstanding.size > 0) await sleep(10);
  const cliRuns = { slow: runsOf(slowMark) - slowBefore, hung: runsOf(hungMark) - hungBefore };
  const probesRerun = diffCounts(probesByKind(pool), probesBefore);
  // Warms of the store's providers while the store is still rewritten: each should publish.
  const storeIds = [...expected.keys()].filter((p) => p.startsWith('p'));
  const warms = { made: 0, published: 0, wrongAnswers: 0 };
  for (let i = 0; i < 20; i++) {
    const report = await pool.warm(storeIds, { agentDir });
    warms.made++;
    if (report.published) warms.published++;
    for (const id of storeIds) if (report.answers[id] !== expected.get(id)) warms.wrongAnswers++;
    await sleep(F.writeMs);
  }
  const writes = await writer.stop();
  while (outstanding.size > 0) await sleep(10);
  const watchedPathsAtEnd = pool.stats().watchedPaths;
  const rt = (pool.stats() as unknown as { refreshTime?: { count: number; p50: number; p99: number; max: number } }).refreshTime;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    seconds: F.seconds,
    storeWrites: writes,
    checks,
    wrongAnswers: wrong,
    changeEvents: events,
    probesRerun,
    cliRuns,
    warms,
    checkLatencyMs: { p50: round(percentile(latencies, 50), 3), p99: round(percentile(latencies, 99), 3), max: round(latencies.at(-1) ?? 0, 1) },
    loopDelayMs: { p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
    mainThreadElu: round(elu.utilization, 3),
    watchedPathsAtEnd,
    refreshMs: rt && rt.count > 0 ? { p50: round(rt.p50, 1), p99: round(rt.p99, 1), max: round(rt.max, 1) } : null,
  };
}

// ---------------------------------------------------------------- phase 2: hot sweep with a hung CLI

async function hotSweep(root: string): Promise<{ providers: number; sweepMs: number; sweeps: number; mapSweepMs: number }> {
  const home = join(root, 'hot');
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  const hung = writeCli(bin, 'hung-cli', 'exec sleep 3600');
  const providers: ProbeConfigInput['providers'] = {};
  const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: home };
  const ids: string[] = [];
  for (let i = 0; i < 199; i++) {
    const id = `prov${i}`;
    providers[id] = [{ kind: 'env', vars: [`PROV${i}_API_KEY`] }];
    if (i % 2 === 0) env[`PROV${i}_API_KEY`] = 'sk-x';
    ids.push(id);
  }
  providers['keychain'] = [{ kind: 'command', command: hung, timeoutMs: F.hungTimeoutMs }];
  ids.push('keychain');
  const pool = createAuthProbePool({ probes: { providers }, env, threads: { max: 2 } });
  try {
    await pool.warm(ids);
    const check = pool.createChecker();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await Promise.all(ids.map((id) => check(id)));
      times.push(performance.now() - t0);
    }
    const map = new Map(ids.map((id, i) => [id, i % 2 === 0]));
    const mapTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await Promise.all(ids.map(async (id) => map.get(id)));
      mapTimes.push(performance.now() - t0);
    }
    return { providers: ids.length, sweeps: times.length, sweepMs: round(median(times), 3), mapSweepMs: round(median(mapTimes), 3) };
  } finally {
    await pool.close({ force: true });
  }
}

// ---------------------------------------------------------------- phase 3: one-off ids

async function oneOffIds(root: string): Promise<{ ids: number; heapGrowthMb: number; reprobesAfterOneWrite: number }> {
  const home = join(root, 'ids');
  mkdirSync(home, { recursive: true });
  const storeFile = join(home, 'auth-profiles.json');
  writeFileSync(storeFile, storeText(0, 16));
  const pool = createAuthProbePool({
    probes: { providers: { p00: [{ kind: 'env', vars: ['NOPE'] }] }, defaults: [{ kind: 'authProfiles', path: storeFile }] },
    env: { HOME: home },
    cacheTtlMs: { positive: 1000, negative: 1000, staleWhileRevalidate: 1000 },
    threads: { max: 2 },
  });
  try {
    const check = pool.createChecker();
    await check('p00');
    await sleep(100);
    gc();
    const base = process.memoryUsage().heapUsed;
    for (let i = 0; i < F.ids; i += 1000) {
      const chunk = [];
      for (let j = i; j < Math.min(F.ids, i + 1000); j++) chunk.push(check(`garbage-${j}`).catch(() => false));
      await Promise.all(chunk);
    }
    // Every TTL and stale window passes (and the watcher settles).
    await sleep(3000);
    gc();
    const growth = process.memoryUsage().heapUsed - base;
    const before = pool.stats().probesRun;
    writeFileSync(storeFile, storeText(1, 16));
    await sleep(1500);
    return { ids: F.ids, heapGrowthMb: round(growth / 2 ** 20, 1), reprobesAfterOneWrite: pool.stats().probesRun - before };
  } finally {
    await pool.close({ force: true });
  }
}

// ---------------------------------------------------------------- phase 4: agents

async function agents(root: string): Promise<{ agents: number; watchedPaths: number; setupLoopMaxMs: number; verifyLoopMaxMs: number }> {
  const base = join(root, 'agents');
  const dirs: string[] = [];
  for (let i = 0; i < F.agents; i++) {
    const dir = join(base, `agent-${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'auth-profiles.json'), JSON.stringify({ profiles: { 'p00:default': { type: 'api_key', provider: 'p00', key: 'sk-a' } } }));
    dirs.push(dir);
  }
  const pool = createAuthProbePool({
    probes: { providers: { p00: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' }] } },
    env: { HOME: base },
    watch: { verifyMs: 1000 },
    threads: { max: 2 },
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  try {
    h.enable();
    for (let i = 0; i < dirs.length; i += 100) {
      await Promise.all(dirs.slice(i, i + 100).map((agentDir) => pool.hasAuth('p00', { agentDir })));
    }
    await sleep(500);
    h.disable();
    const setupMax = h.max / 1e6;
    h.reset();
    h.enable();
    await sleep(3500); // three verify passes or more
    h.disable();
    return { agents: F.agents, watchedPaths: pool.stats().watchedPaths, setupLoopMaxMs: round(setupMax, 1), verifyLoopMaxMs: round(h.max / 1e6, 1) };
  } finally {
    await pool.close({ force: true });
  }
}

// ---------------------------------------------------------------- main

const root = mkdtempSync(join(tmpdir(), 'app-bench-live-'));
// The pool's timers never hold the process open (a gateway's server does): this script must.
const keepAlive = setInterval(() => {}, 1000);
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // Not a checkout.
}
try {
  const machine = describeMachine();
  out(`live gateway benchmark on ${machine.cpus} × ${machine.model}, Node ${machine.node}, ${machine.platform}, commit ${commit}`);
  const churnFigures = runs('churn') ? await churn(root) : undefined;
  const hot = runs('hot') ? await hotSweep(root) : undefined;
  const idsFigures = runs('ids') ? await oneOffIds(root) : undefined;
  const agentFigures = runs('agents') ? await agents(root) : undefined;
  const result = { machine, commit, flags: F, churn: churnFigures, hotSweep: hot, oneOffIds: idsFigures, agents: agentFigures };
  out('');
  const c = churnFigures;
  if (c) {
    out(
      `churn: store of ${F.storeKb} KiB rewritten in place every ${F.writeMs} ms for ${F.seconds} s (${c.storeWrites} writes), ${STORE_PROVIDERS + ENV_PROVIDERS + 2} providers checked every ${F.checkMs} ms`,
    );
    out(`  checks                      ${c.checks}`);
    out(`  wrong answers               ${c.wrongAnswers}`);
    out(`  change events               true→false ${c.changeEvents.trueToFalse}, false→true ${c.changeEvents.falseToTrue}`);
    const rerun = Object.entries(c.probesRerun).map(([k, v]) => `${k} ${v}`);
    out(`  probes re-run               ${rerun.join(', ')}`);
    out(`  CLI runs                    slow ${c.cliRuns.slow}, hung ${c.cliRuns.hung}`);
    out(`  check latency (ms)          p50 ${c.checkLatencyMs.p50}, p99 ${c.checkLatencyMs.p99}, max ${c.checkLatencyMs.max}`);
    out(`  loop delay (ms)             p99 ${c.loopDelayMs.p99}, max ${c.loopDelayMs.max}`);
    out(`  main-thread ELU             ${c.mainThreadElu}`);
    out(`  watched paths at the end    ${c.watchedPathsAtEnd}`);
    out(`  warms under churn           ${c.warms.published} of ${c.warms.made} published, ${c.warms.wrongAnswers} wrong answers`);
    out(`  refresh staleness (ms)      ${c.refreshMs ? `p50 ${c.refreshMs.p50}, p99 ${c.refreshMs.p99}, max ${c.refreshMs.max}` : 'n/a'}`);
  }
  if (hot) out(`hot sweep of ${hot.providers} providers, one with a hung CLI: ${hot.sweepMs} ms (median of ${hot.sweeps}); the same through a Map: ${hot.mapSweepMs} ms`);
  if (idsFigures)
    out(`one-off ids: ${idsFigures.ids} checked once; heap after every TTL passed: +${idsFigures.heapGrowthMb} MiB; one store write then re-probed ${idsFigures.reprobesAfterOneWrite} probes`);
  if (agentFigures)
    out(
      `agents: ${agentFigures.agents} watched (${agentFigures.watchedPaths} paths); loop max while checking ${agentFigures.setupLoopMaxMs} ms, during verify passes ${agentFigures.verifyLoopMaxMs} ms`,
    );
  if (values.json) console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(keepAlive);
  rmSync(root, { recursive: true, force: true });
}
