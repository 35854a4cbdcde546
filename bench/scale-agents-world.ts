/**
 * The gateways of `agents-json` and `agents-sqlite`: an OpenClaw state
 * directory of many agents, each with its own store, and the answer each
 * (agent, provider) must get, computed from the generated data alone
 * (`sqlite-profiles.ts`' oracle).
 *
 * - JSON, the gateway before 2026.6: `<stateDir>/agents/<id>/agent/auth-profiles.json`
 *   per agent (`{ version: 1, profiles }`), over the main agent's
 *   (`<stateDir>/agents/main/agent/auth-profiles.json`), per profile id;
 * - SQLite: `bench:sqlite`'s world (`sqlite-scenario.ts`), its agent
 *   databases without transcript rows (the reader never reads them).
 *
 * The pool reads them through `defaultProbeConfig`'s `openclawStore` probe,
 * which finds whichever layout the state directory holds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './scenario-util.js';
import type { Sqlite } from './sqlite-db.js';
import { agentStore, answersOf, sharedStore } from './sqlite-profiles.js';
import { buildSqliteScenario } from './sqlite-scenario.js';

/** The providers checked per agent (`bench:sqlite`'s). */
export const AGENT_PROVIDERS = ['openai', 'anthropic', 'mistral', 'groq', 'deepseek'] as const;

export interface AgentsWorld {
  /** The variables the probes need: an empty HOME and the state directory. */
  readonly vars: Readonly<Record<string, string>>;
  readonly agents: readonly { readonly agentDir: string; readonly expected: readonly boolean[] }[];
  /** An agent never measured: the pool and the old ways warm up on it. */
  readonly spare: string;
  /** The files a read parses (touched before each measured read, so no cache hides it). */
  readonly files: readonly string[];
  /** Pairs with auth, of agents × providers. */
  readonly withAuth: number;
}

const SEED = 1;

/** `agents` agents with `auth-profiles.json` stores, and a spare, under `root`. */
export function jsonAgentsWorld(root: string, agents: number): AgentsWorld {
  const dir = mkdtempSync(join(root, 'agents-json-'));
  const stateDir = join(dir, 'openclaw');
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const random = seededRandom(SEED);
  const now = Date.now();
  const shared = sharedStore(random, now);
  const write = (agentDir: string, store: unknown) => {
    mkdirSync(agentDir, { recursive: true });
    const file = join(agentDir, 'auth-profiles.json');
    writeFileSync(file, JSON.stringify(store, null, 2));
    return file;
  };
  const files = [write(join(stateDir, 'agents', 'main', 'agent'), shared)];
  const all: { agentDir: string; expected: boolean[] }[] = [];
  for (let i = 0; i <= agents; i++) {
    const agentDir = join(stateDir, 'agents', `agent-${String(i).padStart(5, '0')}`, 'agent');
    const store = agentStore(random, AGENT_PROVIDERS, shared, now);
    files.push(write(agentDir, store));
    all.push({ agentDir, expected: answersOf(store, shared, AGENT_PROVIDERS, now) });
  }
  const measured = all.slice(0, agents);
  return {
    vars: { HOME: home, OPENCLAW_STATE_DIR: stateDir },
    agents: measured,
    spare: (all[agents] as (typeof all)[number]).agentDir,
    files,
    withAuth: measured.reduce((n, a) => n + a.expected.filter(Boolean).length, 0),
  };
}

/**
 * `agents` agents with `openclaw-agent.sqlite` stores and the shared state database, and a spare, in a temp dir of
 * their own (`cleanup()` removes it). Each database is left as a running gateway's is, with its `-wal` and `-shm`
 * beside it: the builder's connection, the last to close, removed them, and the first read-only open of a WAL database
 * makes them again (32 KiB of shared memory index, on disk). Without this, the first run of a case timed that creation
 * for 2,000 databases (the pool, which reads first, at about twice its later runs' wall) and the runs after it did not.
 */
export function sqliteAgentsWorld(sqlite: Sqlite, agents: number): AgentsWorld & { cleanup(): void } {
  const s = buildSqliteScenario(sqlite, { agents, spareAgents: 1, providers: AGENT_PROVIDERS, transcriptKb: 0, seed: SEED });
  for (const dbPath of [s.stateDbPath, ...s.agents.map((a) => a.dbPath), ...s.spares.map((a) => a.dbPath)]) {
    const db = new sqlite.DatabaseSync(dbPath, { readOnly: true });
    try {
      db.exec('SELECT count(*) FROM sqlite_master');
    } finally {
      db.close();
    }
  }
  return {
    vars: { HOME: s.home, OPENCLAW_STATE_DIR: s.stateDir },
    agents: s.agents.map((a) => ({ agentDir: a.agentDir, expected: a.expected })),
    spare: (s.spares[0] as (typeof s.spares)[number]).agentDir,
    files: [...s.agents, ...s.spares].map((a) => a.dbPath),
    withAuth: s.withAuth,
    cleanup: () => rmSync(s.root, { recursive: true, force: true }),
  };
}
