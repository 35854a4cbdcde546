/**
 * `npm run bench:sqlite`: the answers its generated stores must get, its
 * targets, and a tiny run end to end where this Node has node:sqlite (22.13+
 * and 24); on a Node without it, the one line it prints instead.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { PhaseFigures, PhaseName } from '../dist/bench/sqlite-phases.js';
import { answersOf, usable, type Store } from '../dist/bench/sqlite-profiles.js';
import { sqliteTargets } from '../dist/bench/sqlite-report.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A specifier TypeScript does not resolve: this package's @types/node predates node:sqlite.
const SQLITE = 'node:sqlite';
const hasSqlite = await import(SQLITE).then(
  () => true,
  () => false,
);

function run(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/bench/sqlite.js', ...args], { cwd: ROOT, env, timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

describe('the answers bench:sqlite expects of its stores', () => {
  it('counts a profile as the gateway does: a key, an unexpired token, an OAuth access or refresh token', () => {
    expect(usable({ type: 'api_key', provider: 'openai', key: 'sk-1' }, NOW)).toBe(true);
    expect(usable({ type: 'api_key', provider: 'openai', key: '' }, NOW)).toBe(false);
    expect(usable({ type: 'token', provider: 'groq', token: 't' }, NOW)).toBe(true);
    expect(usable({ type: 'token', provider: 'groq', token: 't', expires: NOW + DAY }, NOW)).toBe(true);
    expect(usable({ type: 'token', provider: 'groq', token: 't', expires: NOW - DAY }, NOW)).toBe(false);
    expect(usable({ type: 'token', provider: 'groq', token: '' }, NOW)).toBe(false);
    expect(usable({ type: 'oauth', provider: 'anthropic', access: '', refresh: 'r', expires: NOW - DAY }, NOW)).toBe(true);
    expect(usable({ type: 'oauth', provider: 'anthropic', access: '', refresh: '' }, NOW)).toBe(false);
  });

  it("lets an agent's profile hide the shared one of the same id, and only that one", () => {
    const shared: Store = {
      version: 1,
      profiles: {
        'deepseek:team': { type: 'api_key', provider: 'deepseek', key: 'sk-shared' },
        'anthropic:default': { type: 'oauth', provider: 'anthropic', access: 'a' },
        'openai:default': { type: 'api_key', provider: 'openai', key: '' },
      },
    };
    const agent: Store = {
      version: 1,
      profiles: {
        'anthropic:default': { type: 'api_key', provider: 'anthropic', key: '' },
        'openai:default': { type: 'api_key', provider: 'openai', key: 'sk-own' },
      },
    };
    expect(answersOf(agent, shared, ['openai', 'anthropic', 'deepseek', 'mistral'], NOW)).toEqual([true, false, true, false]);
    expect(answersOf({ version: 1, profiles: {} }, shared, ['openai', 'anthropic', 'deepseek'], NOW)).toEqual([false, true, true]);
  });
});

function phase(name: PhaseName, over: Partial<PhaseFigures> = {}, writer: Partial<PhaseFigures['writer']> = {}): PhaseFigures {
  const pool = name.startsWith('pool');
  return {
    name,
    wallMs: pool ? 900 : 0,
    checks: name.startsWith('alone') ? 0 : 5000,
    wrong: 0,
    errors: 0,
    loopP99Ms: 1.5,
    loopMaxMs: 6,
    beatMaxMs: 6,
    beatMaxAtMs: 10,
    gcMaxMs: 1,
    otherCpuCores: 0,
    processCpuCores: pool ? 0.5 : 0,
    pool: pool ? { storeRowChecks: 2000, probesRun: 5000, watchedPaths: 2002 } : null,
    changeEvents: pool ? 0 : null,
    ...over,
    writer: {
      phase: name,
      seconds: 10,
      commits: 2000,
      commitMs: { count: 2000, p50: 0.1, p99: 0.5, max: 2 },
      busy: 0,
      errors: 0,
      firstError: null,
      lateMaxMs: 2,
      walPeakBytes: 400_000,
      walGrowthTotalBytes: 64_000_000,
      walGrowthBytes: 160_000,
      walGrowthAgent: 'agent-00001',
      stateCommits: 10,
      stateWalPeakBytes: 40_000,
      ...writer,
    },
  };
}

describe('the targets of bench:sqlite', () => {
  const scenario = { agents: 1000, spareAgents: 5, providers: ['openai'], withAuth: 1, profiles: { agents: 1, shared: 1 }, agentDbMiB: 1, transcriptMiB: 1, generateMs: 1, writerOpenMs: 1 };
  const checkpoint = [{ path: 'state/openclaw.sqlite', busy: 0, log: 0, checkpointed: 0, walBytesBefore: 4096, walBytesAfter: 0, ms: 1 }];
  const critical = { sync: { ms: 0.4, samples: [0.4], wrong: 0 }, pool: { ms: 2, samples: [2], wrong: 0 } };

  it('are all met when the pool phases look like the writer alone and nothing went wrong', () => {
    const phases = {
      alone: phase('alone'),
      sync: phase('sync', { loopMaxMs: 120 }),
      'pool-cold': phase('pool-cold'),
      'pool-hot': phase('pool-hot'),
      'alone-after': phase('alone-after', {}, { commitMs: { count: 2000, p50: 0.1, p99: 0.9, max: 2 } }),
    };
    const out = sqliteTargets({ phases, criticalPath: critical, checkpoint, changeEvents: 0, scenario });
    expect(out.map((t) => t.target)).toEqual([
      'pool-cold loop-delay max <= 15 ms (1000 agents)',
      'pool-hot loop-delay max <= 15 ms (1000 agents)',
      'pool-cold writer commit p99 / alone (the lower of the two) <= 1.2',
      'pool-hot writer commit p99 / alone (the lower of the two) <= 1.2',
      'writer SQLITE_BUSY errors, all phases = 0',
      'pool-cold WAL growth / alone (the mean of the two) <= 1.05',
      'pool-hot WAL growth / alone (the mean of the two) <= 1.05',
      'wrong answers, pool phases and pool critical path = 0',
      'spurious change events = 0',
      'TRUNCATE checkpoints with the pool open not done (busy or error) = 0',
    ]);
    expect(out.filter((t) => !t.met)).toEqual([]);
  });

  it('are missed by a stalled loop, a slower commit, a busy error, a WAL grown more, a wrong answer, a change and a busy checkpoint', () => {
    const phases = {
      alone: phase('alone'),
      sync: phase('sync', {}, { busy: 1 }),
      'pool-cold': phase('pool-cold', { loopMaxMs: 20, wrong: 3 }, { commitMs: { count: 2000, p50: 0.1, p99: 0.7, max: 9 }, walGrowthTotalBytes: 69_000_000 }),
      'pool-hot': phase('pool-hot'),
      // A pause of the machine in one writer-alone phase does not make the commit target easier.
      'alone-after': phase('alone-after', {}, { commitMs: { count: 2000, p50: 0.1, p99: 5, max: 150 } }),
    };
    const out = sqliteTargets({ phases, criticalPath: critical, checkpoint: checkpoint.map((c) => ({ ...c, busy: 1 })), changeEvents: 2, scenario });
    expect(out.filter((t) => !t.met).map((t) => t.target)).toEqual([
      'pool-cold loop-delay max <= 15 ms (1000 agents)',
      'pool-cold writer commit p99 / alone (the lower of the two) <= 1.2',
      'writer SQLITE_BUSY errors, all phases = 0',
      'pool-cold WAL growth / alone (the mean of the two) <= 1.05',
      'wrong answers, pool phases and pool critical path = 0',
      'spurious change events = 0',
      'TRUNCATE checkpoints with the pool open not done (busy or error) = 0',
    ]);
  });
});

describe('npm run bench:sqlite, with tiny parameters', () => {
  const dir = tempDir('bench-sqlite-');
  afterAll(() => dir.cleanup());

  it('prints its usage for --help and one line for a bad flag (exit 2), on any Node', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run bench:sqlite/);
    for (const flag of ['--agents', '--providers', '--transcript-kb', '--write-rate', '--threads', '--json', '--keep']) expect(help.stdout).toContain(flag);
    const bad = await run(['--agents', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('sqlite.js: --agents: expected an integer from 1 to 100000 (see --help)\n');
  });

  it.skipIf(hasSqlite)('says in one line that it needs node:sqlite and exits 0, measuring nothing (this Node has none)', async () => {
    const { code, stdout, stderr } = await run(['--agents', '3']);
    expect(code).toBe(0);
    expect(stdout).toBe(`bench:sqlite needs node:sqlite (Node >= 22.13 or 24); this is Node ${process.version}, nothing measured\n`);
    expect(stderr).toBe('');
  });

  it.skipIf(!hasSqlite)(
    'runs every phase, the critical paths and the checkpoints and prints one JSON object, leaving no temp dir (needs node:sqlite: Node >= 22.13 or 24)',
    { timeout: 90_000 },
    async () => {
      // The benchmark builds its world under TMPDIR: an empty one shows it cleaned up after itself.
      const tmp = dir.path('tmp');
      dir.write('tmp/.keep', '');
      const args = ['--json', '--agents', '6', '--transcript-kb', '8', '--window-ms', '300', '--write-rate', '100', '--providers', 'openai,anthropic,deepseek'];
      const { code, stdout, stderr } = await run(args, { ...process.env, TMPDIR: tmp });
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout) as {
        machine: { node: string };
        scenario: { agents: number; spareAgents: number; providers: string[] };
        phases: Record<string, PhaseFigures>;
        criticalPath: { sync: { ms: number; wrong: number }; pool: { ms: number } | null };
        checkpoint: { path: string; busy: number }[];
        changeEvents: number;
        targets: { target: string; met: boolean }[];
      };
      expect(result.machine.node).toBe(process.version);
      expect(result.scenario).toMatchObject({ agents: 6, spareAgents: 5, providers: ['openai', 'anthropic', 'deepseek'] });
      expect(Object.keys(result.phases)).toEqual(['alone', 'sync', 'pool-cold', 'pool-hot', 'alone-after']);
      for (const p of Object.values(result.phases)) {
        expect(p.writer.commits, p.name).toBeGreaterThan(0);
        expect(typeof p.loopMaxMs, p.name).toBe('number');
        expect(p.checks, p.name).toBe(p.name.startsWith('alone') ? 0 : 18);
      }
      // The main thread's own reads agree with the generated answers: the oracle and the databases say the same.
      expect(result.phases['sync']?.wrong).toBe(0);
      expect(result.criticalPath.sync.wrong).toBe(0);
      expect(result.criticalPath.pool?.ms).toBeGreaterThan(0);
      // The five largest WALs of the eleven agents, then the state database.
      expect(result.checkpoint.map((c) => c.path.replace(/agent-\d+/, 'agent-N'))).toEqual([...Array(5).fill('agents/agent-N/agent/openclaw-agent.sqlite'), 'state/openclaw.sqlite']);
      expect(result.targets.length).toBe(10);
      expect(stderr).toContain('targets:');
      expect(readdirSync(tmp)).toEqual(['.keep']);
    },
  );
});
