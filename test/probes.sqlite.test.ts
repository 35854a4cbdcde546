import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProbeOutcome } from 'auth-probe-pool';
import { useFixture } from './helpers/fixture.js';
import { hasSqlite, NO_SQLITE, openDb, writeAgentDb, writeStateDb } from './helpers/sqlite.js';

const SECRET = 'sk-sqlite-secret-5d1e';
const HOUR = 3_600_000;
const probes = { providers: {}, defaults: [{ kind: 'openclawStore' as const }] };

// The SQLite stores are read where node:sqlite exists (Node 22.13+, 24); elsewhere the block is skipped, saying why, and
// Node 20's own behaviour is tested below. Nothing of a skipped block is created (no temp dir, no pool).
if (hasSqlite) {
  /** One gateway layout per test: its own state directory, agent directory and scope. */
  function useGateway() {
    const fixture = useFixture({ prefix: 'sqlite-store-' });
    let n = 0;
    const gateway = () => {
      const root = fixture.dir.path(`gw${n++}`);
      const stateDir = `${root}/state`;
      const agentDir = `${stateDir}/agents/a1/agent`;
      const mainDir = `${stateDir}/agents/main/agent`;
      const scope = { agentDir, env: { HOME: `${root}/home`, OPENCLAW_STATE_DIR: stateDir } };
      const pool = fixture.pools.create({ probes, env: {} });
      /** The store probe's outcome for a provider, and the answer. */
      const judge = async (provider: string) => {
        const report = await pool.explain(provider, scope);
        expect(JSON.stringify(report)).not.toContain(SECRET);
        return { auth: report.auth, outcome: report.probes[0] as ProbeOutcome };
      };
      return {
        root,
        stateDir,
        agentDir,
        mainDir,
        agentDb: `${agentDir}/openclaw-agent.sqlite`,
        mainDb: `${mainDir}/openclaw-agent.sqlite`,
        stateDb: `${stateDir}/state/openclaw.sqlite`,
        scope,
        pool,
        judge,
      };
    };
    return { ...fixture, gateway };
  }

  describe('openclawStore: the agent SQLite store', () => {
    const { gateway } = useGateway();
    const now = Date.now();

    it('is true for a usable profile of the provider, naming the database, row and profile, never the key', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'openai:default': { type: 'api_key', provider: 'openai', key: SECRET } });
      const { auth, outcome } = await g.judge('openai');
      expect(auth).toBe(true);
      expect(outcome).toMatchObject({ kind: 'openclawStore', outcome: 'present', detail: { path: g.agentDb, row: 'auth_profile_store/primary', profileId: 'openai:default', store: 'agent' } });
      expect(await g.judge('groq')).toMatchObject({ auth: false, outcome: { outcome: 'absent', error: { code: 'E_NO_PROFILE' } } });
    });

    it.each([
      ['api_key with a key', { type: 'api_key', key: SECRET }, true],
      ['api_key with a keyRef object', { type: 'api_key', keyRef: { source: 'env', id: 'X' } }, true],
      ['api_key with an empty key', { type: 'api_key', key: ' ' }, false],
      ['token without expires', { type: 'token', token: SECRET }, true],
      ['token with a tokenRef', { type: 'token', tokenRef: { source: 'env', id: 'X' } }, true],
      ['token expiring in an hour', { type: 'token', token: SECRET, expires: now + HOUR }, true],
      ['token expired', { type: 'token', token: SECRET, expires: now - HOUR }, false],
      ['token expires 0', { type: 'token', token: SECRET, expires: 0 }, false],
      ['token expires negative', { type: 'token', token: SECRET, expires: -1 }, false],
      ['token expires as a string', { type: 'token', token: SECRET, expires: String(now + HOUR) }, false],
      ['token expires past 8.64e15', { type: 'token', token: SECRET, expires: 9e15 }, false],
      ['oauth with an access token, expired (the gateway refreshes)', { type: 'oauth', access: SECRET, expires: now - HOUR }, true],
      ['oauth with a refresh token only', { type: 'oauth', refresh: SECRET }, true],
      ['oauth with only an oauthRef (unresolved)', { type: 'oauth', oauthRef: { id: 'x' } }, false],
      ['an unknown type', { type: 'password', key: SECRET }, false],
    ])('%s: %s', async (_name, profile, usable) => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'mistral:work': profile });
      const { auth, outcome } = await g.judge('mistral');
      expect(auth).toBe(usable);
      if (!usable) expect(outcome.error?.code).toBe('E_PROFILE_NOT_USABLE');
    });

    it('counts a profile for its provider field, or the <provider>: prefix of its id, after aliases', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'work:1': { type: 'api_key', provider: 'Groq', key: SECRET }, 'deepseek:x': { type: 'api_key', key: SECRET } });
      expect((await g.judge('groq')).auth).toBe(true);
      expect((await g.judge('deepseek')).auth).toBe(true);
      expect((await g.judge('work')).auth).toBe(false);
    });

    it('never creates a database, nor its -wal or -shm, where there is none', async () => {
      const g = gateway();
      expect((await g.judge('openai')).auth).toBe(false);
      expect(existsSync(g.agentDb)).toBe(false);
      expect(existsSync(g.stateDb)).toBe(false);
      expect(existsSync(g.root)).toBe(false);
    });
  });

  describe('openclawStore: the shared store and inheritance', () => {
    const { gateway } = useGateway();
    const key = { type: 'api_key', key: SECRET };
    const empty = { type: 'api_key', key: '' };

    it.each([
      ['the current schema: the row authProfiles.store of config_machine_state', 'store', 'config_machine_state/authProfiles.store'],
      ['before the v13 schema: the row shared of auth_profile_stores', 'legacyStore', 'auth_profile_stores/shared'],
    ] as const)('state-db, %s', async (_name, layout, row) => {
      const g = gateway();
      writeAgentDb(g.agentDb, {});
      writeStateDb(g.stateDb, { flag: { location: 'state-db' }, [layout]: { 'deepseek:team': key } });
      const { auth, outcome } = await g.judge('deepseek');
      expect(auth).toBe(true);
      expect(outcome.detail).toMatchObject({ path: g.stateDb, row, profileId: 'deepseek:team', store: 'shared' });
    });

    it.each([
      ['no flag row', undefined],
      ['the flag legacy-main', { location: 'legacy-main' }],
    ])('%s: the main agent database is the shared store', async (_name, flag) => {
      const g = gateway();
      writeAgentDb(g.agentDb, {});
      writeAgentDb(g.mainDb, { 'deepseek:team': key });
      writeStateDb(g.stateDb, flag === undefined ? {} : { flag });
      const { auth, outcome } = await g.judge('deepseek');
      expect(auth).toBe(true);
      expect(outcome.detail).toMatchObject({ path: g.mainDb, row: 'auth_profile_store/primary', store: 'shared' });
    });

    it('legacy-main follows $OPENCLAW_AGENT_DIR, and a scope without agentDir checks the main agent', async () => {
      const g = gateway();
      const mainDir = `${g.root}/elsewhere/main`;
      writeAgentDb(`${mainDir}/openclaw-agent.sqlite`, { 'deepseek:team': key });
      writeAgentDb(g.agentDb, {});
      const env = { ...g.scope.env, OPENCLAW_AGENT_DIR: mainDir };
      expect(await g.pool.hasAuth('deepseek', { agentDir: g.agentDir, env })).toBe(true);
      expect(await g.pool.hasAuth('deepseek', { env })).toBe(true);
    });

    it("an agent's profile hides the shared one of the same id, and only that one", async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'openai:default': empty });
      writeStateDb(g.stateDb, { flag: { location: 'state-db' }, store: { 'openai:default': key, 'anthropic:default': key } });
      // The shared openai:default is hidden by the agent's unusable one; anthropic:default is not hidden.
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { error: { code: 'E_PROFILE_NOT_USABLE' }, detail: { store: 'agent', profileId: 'openai:default' } } });
      expect((await g.judge('anthropic')).auth).toBe(true);
      const h = gateway();
      writeAgentDb(h.agentDb, { 'openai:default': empty });
      writeStateDb(h.stateDb, { flag: { location: 'state-db' }, store: { 'openai:team': key } });
      expect(await h.judge('openai')).toMatchObject({ auth: true, outcome: { detail: { store: 'shared', profileId: 'openai:team' } } });
    });

    it('an unknown location is refused as the gateway refuses it: a failure, never an absence', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'openai:default': key });
      writeStateDb(g.stateDb, { flag: { location: 'somewhere-else' } });
      expect(await g.judge('openai')).toMatchObject({
        auth: false,
        outcome: { outcome: 'error', error: { code: 'E_SHARED_STORE_INVALID' }, detail: { row: 'config_machine_state/auth.sharedStore' } },
      });
    });
  });

  describe('openclawStore: legacy auth-profiles.json', () => {
    const { gateway, dir } = useGateway();
    const key = { type: 'api_key', key: SECRET };

    it('an empty SQLite store beside a legacy auth-profiles.json fails closed (migration required)', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, null);
      dir.write(`${g.agentDir.slice(dir.root.length + 1)}/auth-profiles.json`, { version: 1, profiles: { 'openai:default': key } });
      writeStateDb(g.stateDb, { flag: { location: 'state-db' }, store: { 'openai:team': key } });
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { outcome: 'absent', error: { code: 'E_STORE_MIGRATION_REQUIRED' }, detail: { store: 'agent-json' } } });
    });

    it('a SQLite store with profiles ignores the legacy file beside it', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'groq:x': key });
      dir.write(`${g.agentDir.slice(dir.root.length + 1)}/auth-profiles.json`, { version: 1, profiles: { 'openai:default': key } });
      expect((await g.judge('openai')).auth).toBe(false);
      expect((await g.judge('groq')).auth).toBe(true);
    });

    it('a gateway with no SQLite database keeps its JSON stores: the agent over the main agent, per id', async () => {
      const g = gateway();
      const rel = (path: string) => path.slice(dir.root.length + 1);
      dir.write(`${rel(g.agentDir)}/auth-profiles.json`, { version: 1, profiles: { 'openai:default': { type: 'api_key', key: '' } } });
      dir.write(`${rel(g.mainDir)}/auth-profiles.json`, { version: 1, profiles: { 'openai:default': key, 'mistral:main': key } });
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { detail: { store: 'agent-json' } } });
      expect(await g.judge('mistral')).toMatchObject({ auth: true, outcome: { detail: { store: 'main-json', profileId: 'mistral:main' } } });
    });
  });

  describe('openclawStore: databases that cannot be read are failures, never absences', () => {
    const { gateway, dir, pools } = useGateway();
    const key = { type: 'api_key', key: SECRET };

    it('a corrupt database: E_STORE_CORRUPT', async () => {
      const g = gateway();
      dir.write(g.agentDb.slice(dir.root.length + 1), `SQLite format 3\0${'garbage '.repeat(512)}`);
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { outcome: 'error', error: { code: 'E_STORE_CORRUPT' } } });
    });

    it('a database without the auth tables: E_STORE_SCHEMA_UNKNOWN', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, null, { authTables: false });
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { outcome: 'error', error: { code: 'E_STORE_SCHEMA_UNKNOWN' } } });
    });

    it('a newer user_version: E_STORE_SCHEMA_NEWER, read again once schemaVersions allows it', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'openai:default': key }, { userVersion: 99 });
      expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { outcome: 'error', error: { code: 'E_STORE_SCHEMA_NEWER' } } });
      const pool = pools.create({ probes: { providers: {}, defaults: [{ kind: 'openclawStore', schemaVersions: { agent: 99 } }] }, env: {} });
      expect(await pool.hasAuth('openai', g.scope)).toBe(true);
    });

    it('a writer holding the lock past the short busy timeout: E_STORE_BUSY, and the last good answer is kept', async () => {
      const g = gateway();
      writeAgentDb(g.agentDb, { 'openai:default': key }, { journal: 'DELETE' });
      const check = g.pool.createChecker(g.scope);
      expect(await check('openai')).toBe(true);
      const writer = openDb(g.agentDb, 'DELETE');
      writer.exec('BEGIN EXCLUSIVE');
      try {
        expect(await g.judge('openai')).toMatchObject({ auth: false, outcome: { outcome: 'error', error: { code: 'E_STORE_BUSY' } } });
        // warm() runs the probe again: it fails, and the answer in hand keeps serving, degraded.
        await g.pool.warm(['openai'], g.scope);
        expect(await check('openai')).toBe(true);
        expect((await g.pool.explain('openai', g.scope)).kept).toMatchObject({ auth: true, degraded: true });
      } finally {
        writer.exec('ROLLBACK');
        writer.close();
      }
    });
  });
} else {
  describe('SQLite stores', () => it.skip(NO_SQLITE, () => {}));
  describe('openclawStore on a Node without node:sqlite', () => {
    const { dir, pools } = useFixture();

    it(`an existing SQLite store is a failure naming the Node versions that read it (${process.version})`, async () => {
      // Any regular file will do: the reader needs node:sqlite before it opens one.
      dir.write('state/agents/a1/agent/openclaw-agent.sqlite', 'SQLite format 3\0');
      const pool = pools.create({ probes, env: {} });
      const scope = { agentDir: dir.path('state/agents/a1/agent'), env: { OPENCLAW_STATE_DIR: dir.path('state') } };
      const report = await pool.explain('openai', scope);
      expect(report.auth).toBe(false);
      expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_SQLITE_UNAVAILABLE' } });
      expect(report.probes[0]?.error?.message).toMatch(/Node 22\.13 or later, or 24/);
      expect(readdirSync(dir.path('state/agents/a1/agent'))).toEqual(['openclaw-agent.sqlite']);
    });
  });
}
