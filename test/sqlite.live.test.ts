import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AuthChangeEvent } from 'auth-probe-pool';
import { runCli } from './helpers/cli.js';
import { useFixture } from './helpers/fixture.js';
import { eventually } from './helpers/processes.js';
import { gatewayMessage, hasSqlite, NO_SQLITE, openDb, setAgentProfiles, writeAgentDb, writeStateDb } from './helpers/sqlite.js';

const SECRET = 'sk-sqlite-live-secret-9b2c';
const key = { type: 'api_key', key: SECRET };
const probes = { providers: {}, defaults: [{ kind: 'openclawStore' as const }] };
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Only where node:sqlite exists (Node 22.13+, 24): elsewhere skipped, saying why, with nothing created.
if (hasSqlite) {
  describe('a SQLite store written on every message', () => {
    const { dir, pools } = useFixture({ prefix: 'sqlite-live-' });

    it('decides by the auth rows alone: messages re-run no probe and publish nothing; a profile added or removed is one change event', async () => {
      const stateDir = dir.path('fresh/state');
      const agentDir = `${stateDir}/agents/a1/agent`;
      const agentDb = `${agentDir}/openclaw-agent.sqlite`;
      writeAgentDb(agentDb, { 'openai:default': key });
      writeStateDb(`${stateDir}/state/openclaw.sqlite`, { flag: { location: 'state-db' }, store: { 'mistral:team': key } });
      const pool = pools.create({ probes, env: {} });
      const events: AuthChangeEvent[] = [];
      pool.on('change', (e: AuthChangeEvent) => events.push(e));
      const scope = { agentDir, env: { OPENCLAW_STATE_DIR: stateDir } };
      const check = pool.createChecker(scope);
      await pool.warm(['openai', 'mistral', 'groq'], scope);
      expect(await Promise.all(['openai', 'mistral', 'groq'].map((p) => check(p)))).toEqual([true, true, false]);
      // The answers are followed from the probes' reads: the databases' files are as those reads saw them (their
      // signatures were recorded with the rows), so nothing is read again.
      await settle(300);
      expect(pool.stats().storeRowChecks).toBe(0);
      const db = openDb(agentDb);
      try {
        // Idle, the pool's own reads wake nothing (as root, SQLite fchowns the -wal on every open, read-only too).
        await settle(300);
        const idle = pool.stats().storeRowChecks;
        await settle(600);
        expect(pool.stats().storeRowChecks).toBe(idle);
        const probed = pool.stats().probesRunByKind.openclawStore;
        const checked = pool.stats().storeRowChecks;
        for (let n = 0; n < 40; n++) {
          gatewayMessage(db, n);
          await settle(5);
        }
        // The messages were seen (the rows were read again) and changed nothing: no probe ran, no event.
        expect(await eventually(() => pool.stats().storeRowChecks > checked)).toBe(true);
        await settle(300);
        expect(pool.stats().probesRunByKind.openclawStore).toBe(probed);
        expect(events).toEqual([]);
        // A login added: one event, and the answer.
        setAgentProfiles(db, { 'openai:default': key, 'groq:ci': key });
        expect(await eventually(() => events.length === 1)).toBe(true);
        expect(events[0]).toMatchObject({ provider: 'groq', previous: false, current: true });
        expect(await check('groq')).toBe(true);
        // And removed, messages going on meanwhile: one more event, for that provider alone.
        gatewayMessage(db, 100);
        setAgentProfiles(db, { 'openai:default': key });
        gatewayMessage(db, 101);
        expect(await eventually(() => events.length === 2)).toBe(true);
        expect(events[1]).toMatchObject({ provider: 'groq', previous: true, current: false });
        await settle(300);
        expect(events).toHaveLength(2);
        expect(await Promise.all(['openai', 'mistral', 'groq'].map((p) => check(p)))).toEqual([true, true, false]);
      } finally {
        db.close();
      }
    });

    it("leaves the gateway's writer unharmed: no busy error, and a TRUNCATE checkpoint succeeds while the pool reads", async () => {
      const stateDir = dir.path('writer/state');
      const agents = ['a1', 'a2', 'a3'].map((id) => `${stateDir}/agents/${id}/agent`);
      const dbs = agents.map((a) => `${a}/openclaw-agent.sqlite`);
      for (const db of dbs) writeAgentDb(db, { 'openai:default': key, 'groq:x': { type: 'api_key', key: '' } });
      const stateDb = `${stateDir}/state/openclaw.sqlite`;
      writeStateDb(stateDb, { flag: { location: 'state-db' }, store: { 'mistral:team': key } });
      // The gateway's writer, in a process of its own: BEGIN IMMEDIATE, usage state and a transcript row, COMMIT, on every
      // message, until its stdin closes. It reports its commits as it goes, and its totals at the end.
      const writer = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/sqlite-writer.mjs', import.meta.url)), ...dbs], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      writer.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
      const committed = () => Number(/(\d+)\n[^\n]*$/.exec(out)?.[1] ?? 0);
      const pool = pools.create({ probes, env: {}, watch: { verifyMs: 50 } });
      const providers = ['openai', 'groq', 'mistral', 'deepseek'];
      let sweeps = 0;
      let wrong = 0;
      try {
        // Sweeps race the writer until it has committed a few hundred times, however slowly either runs.
        while ((sweeps < 3 || committed() < 200) && writer.exitCode === null && sweeps < 500) {
          for (const agentDir of agents) {
            const scope = { agentDir, env: { OPENCLAW_STATE_DIR: stateDir } };
            // warm() reads every store again (a forced run), racing the writer's transactions.
            const report = await pool.warm(providers, scope);
            if (JSON.stringify(report.answers) !== JSON.stringify({ openai: true, groq: false, mistral: true, deepseek: false })) wrong++;
          }
          sweeps++;
        }
        writer.stdin.end();
        expect(await exited).toBe(0);
        out = out.slice(out.lastIndexOf('{'));
        const result = JSON.parse(out) as { commits: number; busy: number; errors: number };
        expect(sweeps).toBeGreaterThanOrEqual(3);
        expect(result.commits).toBeGreaterThanOrEqual(200);
        expect(result).toMatchObject({ busy: 0, errors: 0 });
        expect(wrong).toBe(0);
        // The pool is open and has read all along: nothing of it holds a read transaction, so the log can be reset.
        for (const path of [...dbs, stateDb]) {
          const db = openDb(path);
          try {
            db.exec('PRAGMA busy_timeout = 0');
            expect(db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()).toMatchObject({ busy: 0 });
            expect(statSync(`${path}-wal`).size).toBe(0);
          } finally {
            db.close();
          }
        }
      } finally {
        writer.kill('SIGKILL');
        await exited;
      }
    });

    it("keeps node:sqlite's ExperimentalWarning (Node 22) off the gateway's stderr", () => {
      const stateDir = dir.path('stderr/state');
      const agentDir = `${stateDir}/agents/a1/agent`;
      writeAgentDb(`${agentDir}/openclaw-agent.sqlite`, { 'openai:default': key });
      const dist = (path: string) => new URL(`../dist/src/${path}`, import.meta.url).href;
      // The pool's own workers, and a plain worker thread loading the reader's module (whose warning Node prints at once).
      const script = `
        import { Worker } from 'node:worker_threads';
        import { createAuthProbePool } from ${JSON.stringify(dist('index.js'))};
        const pool = createAuthProbePool({ probes: ${JSON.stringify(probes)}, env: {} });
        console.log(await pool.hasAuth('openai', { agentDir: ${JSON.stringify(agentDir)}, env: { OPENCLAW_STATE_DIR: ${JSON.stringify(stateDir)} } }));
        await pool.close();
        const source = 'import { loadSqlite } from ' + ${JSON.stringify(JSON.stringify(dist('probes/store/sqlite.js')))} + '; console.log(loadSqlite() !== null);';
        const worker = new Worker(new URL('data:text/javascript,' + encodeURIComponent(source)));
        await new Promise((resolve) => worker.on('exit', resolve));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env['PATH'] ?? '' } });
      expect(run.stdout.trim().split('\n')).toEqual(['true', 'true']);
      expect(run.stderr).not.toMatch(/ExperimentalWarning|SQLite is an experimental/);
      expect(run.status).toBe(0);
    });

    it('auth-probe check and explain name the database, row and profile that decided, never a value', () => {
      const stateDir = dir.path('cli/state');
      const agentDir = `${stateDir}/agents/a1/agent`;
      writeAgentDb(`${agentDir}/openclaw-agent.sqlite`, { 'openai:default': key });
      writeStateDb(`${stateDir}/state/openclaw.sqlite`, { flag: { location: 'state-db' }, store: { 'mistral:team': key } });
      const envFile = dir.write('cli/env', `OPENCLAW_STATE_DIR=${stateDir}\n`);
      dir.write('cli/home/.keep', '');
      const at = ['--home', dir.path('cli/home'), '--env-file', envFile, '--agent-dir', agentDir];
      const check = runCli(['check', 'openai', 'mistral', ...at]);
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
      expect(check.stdout).toMatch(/^openai\s+yes\s+profile openai:default in auth_profile_store\/primary of .*\/agents\/a1\/agent\/openclaw-agent\.sqlite \(agent store\)/m);
      expect(check.stdout).toMatch(/^mistral\s+yes\s+profile mistral:team in config_machine_state\/authProfiles\.store of .*\/state\/openclaw\.sqlite \(shared store\)/m);
      const explain = runCli(['explain', '--json', 'mistral', ...at]);
      const report = JSON.parse(explain.stdout) as { decidedBy: { detail: Record<string, string> } };
      expect(report.decidedBy.detail).toMatchObject({ row: 'config_machine_state/authProfiles.store', store: 'shared', profileId: 'mistral:team' });
      for (const run of [check, explain]) expect(run.stdout + run.stderr).not.toContain(SECRET);
    });
  });
} else {
  describe('a SQLite store written on every message', () => it.skip(NO_SQLITE, () => {}));
}
