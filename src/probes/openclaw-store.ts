/**
 * The `openclawStore` probe: the OpenClaw gateway's auth-profile store as
 * the gateway of the machine keeps it. Since 2026.6 that is SQLite:
 *
 * - the agent's store, row `primary` of `auth_profile_store` in
 *   `<agentDir>/openclaw-agent.sqlite`;
 * - over the shared store, per profile id, which lives where the row
 *   `auth.sharedStore` of `config_machine_state` in
 *   `<stateDir>/state/openclaw.sqlite` says: `state-db`, in that database
 *   (row `authProfiles.store`, or before the v13 schema the row `shared` of
 *   `auth_profile_stores`); absent or `legacy-main`, the main agent's
 *   database; anything else the gateway refuses, and so does this probe;
 * - an agent whose SQLite store has no profiles while a legacy
 *   `auth-profiles.json` lies beside it is refused by the gateway until it is
 *   migrated: false, `E_STORE_MIGRATION_REQUIRED`.
 *
 * Where none of those databases exists the gateway is older, and its store is
 * `auth-profiles.json`: the agent's over the main agent's, per id.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { errorData, type ErrorData } from '../errors.js';
import { absent, rowsKey, withFilesSignature } from './fingerprint.js';
import { fileFingerprint, filesSignature, sameFilesSignature } from './dep-states.js';
import { DEFAULT_STORE_SCHEMA_VERSIONS, type OpenclawStoreProbeSchema } from '../config/schema.js';
import { ScopeMemo } from '../config/scope-memo.js';
import { resolveProbePath } from '../config/templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile } from './files.js';
import { judgeProfiles, providerProfiles, storeProfiles, type ProfileLayer } from './store/profiles.js';
import { fingerprintOfRows, readAgentRows, readLimitsOf, readStateRows, type ReadLimits, type RowsRead, type StateRows } from './store/sqlite.js';
import { failed, fromRead, present, unresolved, type Verdict } from './verdict.js';

type Spec = z.infer<typeof OpenclawStoreProbeSchema>;
type Detail = NonNullable<Verdict['detail']>;

export const AGENT_DB = 'openclaw-agent.sqlite';
export const STATE_DB = join('state', 'openclaw.sqlite');
const LEGACY_JSON = 'auth-profiles.json';
const AGENT_ROW = 'auth_profile_store/primary';
const FLAG_ROW = 'config_machine_state/auth.sharedStore';

/** Where the shared store lives, as the state database's flag says. */
type Shared = { readonly ok: true; readonly layer: ProfileLayer | undefined; readonly detail: Detail; readonly exists: boolean } | { readonly ok: false; readonly verdict: Verdict };

export function openclawStoreProbe(probe: Spec, ctx: ProbeContext): Verdict {
  const dirs = placesOf(probe, ctx);
  if (!dirs.ok) return unresolved(dirs.error);
  const { stateDb, agentDb } = dirs;
  const limits = readLimitsOf(ctx.init);
  const newest = { agent: probe.schemaVersions?.agent ?? DEFAULT_STORE_SCHEMA_VERSIONS.agent, state: probe.schemaVersions?.state ?? DEFAULT_STORE_SCHEMA_VERSIONS.state };
  const agent = readMemo(ctx, agentDb, 'agent', () => readAgentRows(agentDb, limits));
  const agentBad = unreadable(agent, agentDb, newest.agent, 'agent');
  if (agentBad) return fromRead(agentBad, false, { path: agentDb, store: 'agent' });
  const state = readMemo(ctx, stateDb, 'state', () => readStateRows(stateDb, limits));
  const stateBad = unreadable(state, stateDb, newest.state, 'state');
  if (stateBad) return fromRead(stateBad, false, { path: stateDb, store: 'shared' });
  const shared = sharedStore(state, stateDb, dirs.mainDb, agentDb, ctx, limits, newest.agent);
  if (!shared.ok) return shared.verdict;
  // No SQLite store of this gateway exists: it is older than 2026.6, and keeps its profiles in JSON.
  if (agent.state === 'missing' && !shared.exists) return jsonStores(probe, ctx, dirs);

  const own = profilesOf(agent.state === 'ok' ? agent.rows.store : null, agentDb, AGENT_ROW, ctx);
  if (!own.ok) return fromRead(own.error, false, { path: agentDb, row: AGENT_ROW, store: 'agent' });
  if (Object.keys(own.profiles).length === 0) {
    const legacy = dirs.agentJson;
    if (exists(legacy, ctx)) return fromRead(errorData('E_STORE_MIGRATION_REQUIRED', legacy), true, { path: legacy, store: 'agent-json' });
  }
  const layers: ProfileLayer[] = [{ profiles: own.profiles, origin: 'agent' }];
  if (shared.layer) layers.push(shared.layer);
  const judged = judgeProfiles(providerProfiles(layers, ctx.config.aliases, ctx.provider), ctx.provider, probe.eligibility, ctx.init.expirySkewMs);
  const where = (origin: string | undefined): Detail => (origin === 'shared' ? shared.detail : { path: agentDb, row: AGENT_ROW, store: 'agent' });
  if (judged.found) return present({ ...where(judged.entry.origin), profileId: judged.entry.profileId }, judged.validUntil);
  return fromRead(judged.error, true, judged.entry ? { ...where(judged.entry.origin), profileId: judged.entry.profileId } : { path: agentDb, store: 'agent' });
}

/** Where a store's files are: the agent's directory (the main agent's when the scope names none), the main agent's, the state database, and the files in them. */
interface Places {
  readonly ok: true;
  readonly agentDir: string;
  readonly mainDir: string;
  readonly stateDb: string;
  readonly agentDb: string;
  readonly mainDb: string;
  readonly agentJson: string;
  readonly mainJson: string;
}

/** Places by probe, worked out once per task and scope (see `scope-memo.ts`): the same for each of an agent's providers. */
const places = new ScopeMemo<Spec, Places | { ok: false; error: ErrorData }>();

function placesOf(probe: Spec, ctx: ProbeContext): Places | { ok: false; error: ErrorData } {
  return places.get(ctx, probe, () => {
    const stateDir = firstResolved(probe.stateDir ?? ['$OPENCLAW_STATE_DIR', '~/.openclaw'], ctx);
    if (!stateDir.ok) return stateDir;
    const main = firstResolved(probe.mainAgentDir ?? ['$OPENCLAW_AGENT_DIR'], ctx);
    if (!main.ok && main.error.code !== 'E_TEMPLATE_UNRESOLVED') return main;
    const mainDir = main.ok ? main.path : join(stateDir.path, 'agents', 'main', 'agent');
    const agent = resolveProbePath(probe.agentDir ?? '{agentDir}', ctx);
    if (!agent.ok && agent.error.code !== 'E_TEMPLATE_UNRESOLVED') return agent;
    const agentDir = agent.ok ? agent.path : mainDir;
    return {
      ok: true,
      agentDir,
      mainDir,
      stateDb: join(stateDir.path, STATE_DB),
      agentDb: join(agentDir, AGENT_DB),
      mainDb: join(mainDir, AGENT_DB),
      agentJson: join(agentDir, LEGACY_JSON),
      mainJson: join(mainDir, LEGACY_JSON),
    };
  });
}

/** The first template that resolves; an unset variable passes to the next, a refused value stops. */
function firstResolved(templates: readonly string[], ctx: ProbeContext): { ok: true; path: string } | { ok: false; error: ErrorData } {
  let last: ErrorData = errorData('E_TEMPLATE_UNRESOLVED');
  for (const template of templates) {
    const resolved = resolveProbePath(template, ctx);
    if (resolved.ok || resolved.error.code !== 'E_TEMPLATE_UNRESOLVED') return resolved;
    last = resolved.error;
  }
  return { ok: false, error: last };
}

function sharedStore(state: RowsRead<StateRows>, stateDb: string, mainDb: string, agentDb: string, ctx: ProbeContext, limits: ReadLimits, newest: number): Shared {
  const rows = state.state === 'ok' ? state.rows : undefined;
  const location = rows?.flag == null ? undefined : locationOf(rows.flag);
  if (location === 'state-db') {
    const row = rows?.store != null ? 'config_machine_state/authProfiles.store' : 'auth_profile_stores/shared';
    const store = profilesOf(rows?.store ?? rows?.legacyStore ?? null, stateDb, row, ctx);
    const detail: Detail = { path: stateDb, row, store: 'shared' };
    if (!store.ok) return { ok: false, verdict: fromRead(store.error, false, detail) };
    return { ok: true, layer: { profiles: store.profiles, origin: 'shared' }, detail, exists: true };
  }
  if (location !== undefined && location !== 'legacy-main') {
    return { ok: false, verdict: failed('E_SHARED_STORE_INVALID', `${FLAG_ROW} in ${stateDb}`, { path: stateDb, row: FLAG_ROW, store: 'shared' }) };
  }
  // Absent or legacy-main: the main agent's database is the shared store (nothing more to add for the main agent).
  const detail: Detail = { path: mainDb, row: AGENT_ROW, store: 'shared' };
  if (mainDb === agentDb) return { ok: true, layer: undefined, detail, exists: false };
  const main = readMemo(ctx, mainDb, 'agent', () => readAgentRows(mainDb, limits));
  const bad = unreadable(main, mainDb, newest, 'agent');
  if (bad) return { ok: false, verdict: fromRead(bad, false, detail) };
  if (main.state !== 'ok') return { ok: true, layer: undefined, detail, exists: false };
  const store = profilesOf(main.rows.store, mainDb, AGENT_ROW, ctx);
  if (!store.ok) return { ok: false, verdict: fromRead(store.error, false, detail) };
  return { ok: true, layer: { profiles: store.profiles, origin: 'shared' }, detail, exists: true };
}

/**
 * Why a read cannot be used: its failure, or a schema newer than the probe reads (`schemaVersions`), which also
 * explains a table the newer schema no longer has.
 */
function unreadable(read: RowsRead<unknown>, dbPath: string, newest: number, role: 'agent' | 'state'): ErrorData | undefined {
  const version = read.state === 'ok' ? read.version : read.state === 'failed' ? read.version : undefined;
  if (version !== undefined && version > newest) {
    return errorData('E_STORE_SCHEMA_NEWER', `${dbPath} is at user_version ${version}, newest read ${newest} (schemaVersions.${role})`);
  }
  return read.state === 'failed' ? read.error : undefined;
}

/** The flag's `location`; a value that is not an object with a string location is refused like an unknown one. */
function locationOf(flag: string): string {
  try {
    const value = JSON.parse(flag) as unknown;
    const location = typeof value === 'object' && value !== null ? (value as { location?: unknown }).location : undefined;
    return typeof location === 'string' ? location : '(no location)';
  } catch {
    return '(not JSON)';
  }
}

type Profiles = { ok: true; profiles: Readonly<Record<string, unknown>> } | { ok: false; error: ErrorData };

const NO_PROFILES: Profiles = { ok: true, profiles: Object.freeze({}) };

/**
 * A store row's profiles: none for an absent row. The JSON is ours to judge and never leaves this thread. Parsed once
 * per task (its rows are read once per task, see `readMemo`): every provider of the task then shares one profiles
 * object, and so one index of them (see `providerProfiles`).
 */
function profilesOf(json: string | null, dbPath: string, row: string, ctx: ProbeContext): Profiles {
  if (json === null) return NO_PROFILES;
  const key = `profiles\0${dbPath}\0${row}`;
  const known = ctx.memo?.get(key) as Profiles | undefined;
  if (known) return known;
  let profiles: Profiles;
  try {
    profiles = storeProfiles(JSON.parse(json) as unknown, `${row} in ${dbPath}`);
  } catch {
    profiles = { ok: false, error: errorData('E_STORE_INVALID', `${row} in ${dbPath} is not JSON`) };
  }
  ctx.memo?.set(key, profiles);
  return profiles;
}

/** A gateway older than 2026.6: the agent's `auth-profiles.json` over the main agent's, per profile id. */
function jsonStores(probe: Spec, ctx: ProbeContext, { agentDir, mainDir, agentJson, mainJson }: Places): Verdict {
  const files: { path: string; origin: 'agent-json' | 'main-json' }[] = [{ path: agentJson, origin: 'agent-json' }];
  if (mainDir !== agentDir) files.push({ path: mainJson, origin: 'main-json' });
  const layers: ProfileLayer[] = [];
  for (const { path, origin } of files) {
    const read = deriveFromJsonFile(
      path,
      'openclawStore',
      ctx.init.maxFileBytes,
      ctx.deps,
      (json) => {
        const store = storeProfiles(json, path);
        return store.ok ? { ok: true, value: store.profiles } : { ok: false, error: store.error, missing: false };
      },
      ctx.memo,
    );
    // A half-written file may hide, per id, what the other holds: a failure, never an answer.
    if (!read.ok && !read.missing) return fromRead(read.error, false, { path, store: origin });
    if (read.ok) layers.push({ profiles: read.value, origin });
  }
  const judged = judgeProfiles(providerProfiles(layers, ctx.config.aliases, ctx.provider), ctx.provider, probe.eligibility, ctx.init.expirySkewMs);
  const pathOf = (origin: string | undefined) => files.find((f) => f.origin === origin)?.path ?? (files[0] as (typeof files)[number]).path;
  const detail = (origin: string | undefined, profileId?: string): Detail => ({
    path: pathOf(origin),
    store: origin === 'main-json' ? 'main-json' : 'agent-json',
    ...(profileId !== undefined ? { profileId } : {}),
  });
  if (judged.found) return present(detail(judged.entry.origin, judged.entry.profileId), judged.validUntil);
  return fromRead(judged.error, true, judged.entry ? detail(judged.entry.origin, judged.entry.profileId) : detail('agent-json'));
}

/** Whether a file exists, recorded as a dependency (its appearing or going changes the answer). */
function exists(path: string, ctx: ProbeContext): boolean {
  const fingerprint = fileFingerprint(path);
  ctx.deps.set(path, fingerprint);
  return !absent(fingerprint);
}

/**
 * One read of a database per task (a sweep of 200 providers over one agent opens its database once), recorded as
 * the probe's dependency by its rows' fingerprint, with the signature its files had (see `withFilesSignature`).
 */
function readMemo<T>(ctx: ProbeContext, dbPath: string, role: 'agent' | 'state', readNow: () => RowsRead<T>): RowsRead<T> {
  const key = rowsKey(role, dbPath);
  let memo = ctx.memo?.get(key) as { read: RowsRead<T>; signature: string } | undefined;
  if (memo === undefined) {
    // Taken before the read (a write during it shows as files that differ, and the watcher reads the rows again),
    // and after it: our own read-only open creates an absent -wal, empty, which is no write.
    const before = filesSignature(key);
    const read = readNow();
    // A database found missing was not opened: no file of ours can have appeared since `before` (a JSON-era agent
    // has no database, and each of its tasks would stat both roles' files twice).
    const after = read.state === 'missing' ? before : filesSignature(key);
    memo = { read, signature: sameFilesSignature(before, after) ? after : before };
    ctx.memo?.set(key, memo);
  }
  ctx.deps.set(key, withFilesSignature(fingerprintOfRows(memo.read), memo.signature));
  return memo.read;
}
