import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, symlinkSync, unlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultProbeConfig } from 'auth-probe-pool';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-hostile-file-5e77';
const isRoot = process.getuid?.() === 0;

describe('hostile credential files', () => {
  const { dir, pools } = useFixture({ monitor: 'faults.files' });

  /** One provider per hostile file, each a credentialFile probe at {workspaceDir}/<name>. */
  const names = ['fifo', 'zero', 'directory', 'dangling', 'loop', 'huge', 'garbage', 'truncated', 'deep', 'unreadable', 'good'];
  const probes = {
    providers: Object.fromEntries(names.map((n) => [n, [{ kind: 'credentialFile' as const, path: `{workspaceDir}/${n}.json`, pointer: '/token' }]])),
  };
  const ws = dir.path('ws');
  mkdirSync(ws, { recursive: true });
  execFileSync('mkfifo', [`${ws}/fifo.json`]);
  symlinkSync('/dev/zero', `${ws}/zero.json`);
  mkdirSync(`${ws}/directory.json`);
  symlinkSync(`${ws}/nowhere`, `${ws}/dangling.json`);
  symlinkSync(`${ws}/loop.json`, `${ws}/loop.json.tmp`);
  renameSync(`${ws}/loop.json.tmp`, `${ws}/loop.json`); // a link to itself
  const huge = openSync(`${ws}/huge.json`, 'w');
  ftruncateSync(huge, 300 * 1024 * 1024); // a sparse 300 MB file
  closeSync(huge);
  writeFileSync(`${ws}/garbage.json`, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)));
  writeFileSync(`${ws}/truncated.json`, `{"token": "${SECRET}`);
  const nested = '{"token":'.repeat(10_000);
  writeFileSync(`${ws}/deep.json`, `${nested}"${SECRET}"${'}'.repeat(10_000)}`);
  writeFileSync(`${ws}/unreadable.json`, JSON.stringify({ token: SECRET }), { mode: 0o000 });
  writeFileSync(`${ws}/good.json`, JSON.stringify({ token: SECRET }));

  const expected: Record<string, string> = {
    fifo: 'E_FILE_NOT_REGULAR',
    zero: 'E_FILE_NOT_REGULAR',
    directory: 'E_FILE_NOT_REGULAR',
    dangling: 'E_FILE_NOT_FOUND',
    loop: 'E_FILE_UNREADABLE',
    huge: 'E_FILE_TOO_LARGE',
    garbage: 'E_JSON_INVALID',
    truncated: 'E_JSON_INVALID',
    deep: 'E_POINTER_MISSING',
  };

  it('refuses each without blocking a worker: false with a clear code, never the secret', async () => {
    const pool = pools.create({ probes, probeTimeoutMs: 2000 });
    const scope = { workspaceDir: ws };
    const check = pool.createChecker(scope);
    const answers = await Promise.all(names.map((n) => check(n)));
    expect(Object.fromEntries(names.map((n, i) => [n, answers[i]]))).toEqual({ ...Object.fromEntries(names.map((n) => [n, false])), good: true, unreadable: isRoot });
    let worstMs = 0;
    for (const [name, code] of Object.entries(expected)) {
      const report = await pool.explain(name, scope);
      expect({ name, code: report.probes[0]?.error?.code }).toEqual({ name, code });
      expect(JSON.stringify(report)).not.toContain(SECRET);
      worstMs = Math.max(worstMs, report.durationMs);
    }
    // No bad file was cut off by the deadline: each was refused on its own.
    expect(pool.stats().timeouts).toBe(0);
    console.log(`[faults.files] worst time a bad file held a worker: ${worstMs.toFixed(2)} ms`);
  });

  it.skipIf(isRoot)('reports an unreadable (mode 000) file as E_FILE_UNREADABLE', async () => {
    const pool = pools.create({ probes });
    const report = await pool.explain('unreadable', { workspaceDir: ws });
    expect(report.probes[0]?.error?.code).toBe('E_FILE_UNREADABLE');
  });

  it('never answers a wrong true while the store is rewritten, replaced and deleted mid-sweep', async () => {
    const store = dir.path('agent/auth-profiles.json');
    mkdirSync(dir.path('agent'), { recursive: true });
    // Even providers come and go; odd providers are never in any version of the store.
    const version = (n: number) => {
      const profiles: Record<string, object> = {};
      for (let i = 0; i < 300; i += 2) if ((i + n) % 4 === 0) profiles[`p${i}:x`] = { type: 'api_key', provider: `p${i}`, key: SECRET };
      return JSON.stringify({ version: n, profiles, pad: 'x'.repeat(64 * 1024) });
    };
    writeFileSync(store, version(0));
    const providers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }]]));
    const pool = pools.create({ probes: { providers }, batchSize: 8 });
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        n++;
        if (n % 3 === 0) {
          writeFileSync(store, version(n)); // in place
        } else if (n % 3 === 1) {
          writeFileSync(`${store}.tmp`, version(n));
          renameSync(`${store}.tmp`, store); // by rename, as editors and CLIs do
        } else {
          try {
            unlinkSync(store);
          } catch {}
          await new Promise((r) => setImmediate(r));
          writeFileSync(store, version(n));
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    for (let round = 0; round < 5; round++) {
      pool.invalidate();
      const report = await pool.warm(Object.keys(providers), { agentDir: dir.path('agent') });
      const wrong = Object.entries(report.answers).filter(([id, auth]) => auth && Number(id.slice(1)) % 2 === 1);
      expect(wrong).toEqual([]);
    }
    writing = false;
    await writer;
    expect(n).toBeGreaterThan(3);
  });
});

describe('long error messages', () => {
  const { dir, pools } = useFixture();
  const privateKey = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(50)}\n-----END PRIVATE KEY-----\n`;
  const serviceAccount = JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: 'k', private_key: privateKey, client_email: 'x@p.iam.gserviceaccount.com' });

  it('never spoil another provider of the batch: a service-account JSON in GOOGLE_APPLICATION_CREDENTIALS leaves openai and anthropic true', async () => {
    const pool = pools.create({
      probes: defaultProbeConfig,
      threads: { min: 1, max: 1 },
      env: { HOME: dir.path('home'), OPENAI_API_KEY: 'sk-a', ANTHROPIC_API_KEY: 'sk-b', GOOGLE_APPLICATION_CREDENTIALS: serviceAccount },
    });
    // A sweep of every built-in provider, google-vertex first, so it shares a task with openai and anthropic.
    const rest = Object.keys(defaultProbeConfig.providers).filter((p) => !['google-vertex', 'openai', 'anthropic'].includes(p));
    const report = await pool.warm(['google-vertex', 'openai', 'anthropic', ...rest]);
    expect(report.dispatches).toBeLessThan(rest.length + 3);
    expect(report.answers).toMatchObject({ openai: true, anthropic: true, 'google-vertex': false });
    const vertex = await pool.explain('google-vertex');
    expect(vertex.probes[0]?.error?.code).not.toBe('E_BAD_WORKER_RESULT');
    for (const p of vertex.probes) expect((p.error?.message ?? '').length).toBeLessThanOrEqual(1000);
  });

  it('are cut where they are made: an agentDir of 997 characters gives a bounded E_FILE_NOT_FOUND, its neighbours their answers', async () => {
    // Directories of 99 characters each, none of them there: a path too long to print whole, not one the kernel refuses.
    const agentDir = dir.path(`${'a'.repeat(99)}/`.repeat(10)).slice(0, 997);
    expect(agentDir).toHaveLength(997);
    const pool = pools.create({
      threads: { min: 1, max: 1 },
      env: { KEY: 'set' },
      probes: { providers: { store: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' }], keyed: [{ kind: 'env', vars: ['KEY'] }] } },
    });
    const check = pool.createChecker({ agentDir });
    expect(await Promise.all([check('store'), check('keyed')])).toEqual([false, true]);
    const report = await pool.explain('store', { agentDir });
    expect(report.probes[0]?.error?.code).toBe('E_FILE_NOT_FOUND');
    expect(report.probes[0]?.error?.message.length).toBeLessThanOrEqual(1000);
    expect(report.probes[0]?.error?.message).toMatch(/…[a/]*\/auth-profiles\.json$/);
  });

  it('are never made of a secret: a credential in a path variable is named, not printed', async () => {
    const short = JSON.stringify({ type: 'service_account', private_key: 'sk-pasted-9c1e' });
    const pool = pools.create({ probes: defaultProbeConfig, env: { HOME: dir.path('home') } });
    for (const value of [serviceAccount, short, `/etc/${'x'.repeat(2000)}`, 'line\nbreak']) {
      const report = await pool.explain('google-vertex', { env: { GOOGLE_APPLICATION_CREDENTIALS: value } });
      expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PATH_REFUSED', message: expect.stringContaining('$GOOGLE_APPLICATION_CREDENTIALS') } });
      const text = JSON.stringify(report);
      for (const part of ['PRIVATE KEY', 'sk-pasted-9c1e', 'x'.repeat(100), 'break']) expect(text).not.toContain(part);
    }
    // A plain path is still shown as it is.
    const plain = await pool.explain('google-vertex', { env: { GOOGLE_APPLICATION_CREDENTIALS: dir.path('sa.json') } });
    expect(plain.probes[0]).toMatchObject({ error: { code: 'E_FILE_NOT_FOUND', message: expect.stringContaining(dir.path('sa.json')) } });
  });
});
