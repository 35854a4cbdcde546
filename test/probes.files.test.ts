import { describe, expect, it } from 'vitest';
import { defaultProbeConfig } from 'auth-probe-pool';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-files-secret-7f3a';

describe('authProfiles probe', () => {
  const { dir, pools } = useFixture();
  const store = dir.write('agent/auth-profiles.json', {
    version: 1,
    profiles: {
      'anthropic:default': { type: 'api_key', provider: 'anthropic', key: SECRET },
      'z.ai:work': { type: 'token', provider: 'Z.AI', token: SECRET },
      'openrouter:main': { type: 'oauth', access: SECRET },
      'broken:entry': 'not an object',
    },
  });
  const probes = {
    aliases: { 'z.ai': 'zai' },
    providers: {
      anthropic: [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }],
      zai: [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }],
      openrouter: [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }],
      mistral: [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }],
    },
  };
  const scope = { agentDir: dir.path('agent') };

  it('is true when a profile names the provider, after normalisation and aliases', async () => {
    const pool = pools.create({ probes });
    const check = pool.createChecker(scope);
    expect(await check('anthropic')).toBe(true);
    expect(await check('zai')).toBe(true);
    expect(await check('Z.AI')).toBe(true);
    // No explicit provider field: the "<provider>:" prefix of the profile id counts.
    expect(await check('openrouter')).toBe(true);
  });

  it('is false, with E_NO_PROFILE, when no profile names the provider', async () => {
    const pool = pools.create({ probes });
    expect(await pool.hasAuth('mistral', scope)).toBe(false);
    const report = await pool.explain('mistral', scope);
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_NO_PROFILE' }, detail: { path: store } });
  });

  it('reports the profile id that matched, never the key', async () => {
    const pool = pools.create({ probes });
    const report = await pool.explain('anthropic', scope);
    expect(report.decidedBy?.detail?.profileId).toBe('anthropic:default');
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('is false when the template cannot resolve (no agentDir in scope)', async () => {
    const pool = pools.create({ probes });
    expect(await pool.hasAuth('anthropic')).toBe(false);
    expect((await pool.explain('anthropic')).probes[0]?.error?.code).toBe('E_TEMPLATE_UNRESOLVED');
  });

  it('refuses an agentDir with a ".." segment with E_PATH_REFUSED, and a relative one with E_BAD_SCOPE: never a read elsewhere', async () => {
    // A store the climbing agentDir would reach, were it resolved first.
    dir.write('evil/auth-profiles.json', { profiles: { 'anthropic:x': { type: 'api_key', provider: 'anthropic', key: SECRET } } });
    const pool = pools.create({ probes, configDir: dir.root });
    const agentDir = `${dir.root}/agents/user/../../evil`;
    expect(await pool.hasAuth('anthropic', { agentDir })).toBe(false);
    const report = await pool.explain('anthropic', { agentDir });
    expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PATH_REFUSED' } });
    expect(report.probes[0]?.detail?.path).toBeUndefined();
    for (const relative of ['evil', './evil']) await expect(pool.hasAuth('anthropic', { agentDir: relative })).rejects.toMatchObject({ code: 'E_BAD_SCOPE' });
  });

  it('gives E_JSON_INVALID for a corrupt store, without quoting it', async () => {
    dir.write('bad/auth-profiles.json', `{"profiles": {"anthropic:x": {"key": "${SECRET}"`);
    const pool = pools.create({ probes });
    const report = await pool.explain('anthropic', { agentDir: dir.path('bad') });
    expect(report.auth).toBe(false);
    expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_JSON_INVALID' } });
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('gives E_STORE_INVALID for JSON without a profiles object', async () => {
    dir.write('odd/auth-profiles.json', { version: 1, profiles: [SECRET] });
    const pool = pools.create({ probes });
    const report = await pool.explain('anthropic', { agentDir: dir.path('odd') });
    expect(report.probes[0]?.error?.code).toBe('E_STORE_INVALID');
  });
});

describe('credentialFile probe', () => {
  const { dir, pools } = useFixture();
  // The formats the real CLIs write.
  dir.write('home/.codex/auth.json', { OPENAI_API_KEY: null, tokens: { access_token: SECRET, refresh_token: SECRET, account_id: 'acct' } });
  dir.write('home/.claude/.credentials.json', { claudeAiOauth: { accessToken: SECRET, refreshToken: SECRET, expiresAt: 1 } });
  dir.write('home/.gemini/oauth_creds.json', { access_token: '', refresh_token: SECRET, token_type: 'Bearer' });
  dir.write('weird/keys.json', { 'a/b': { 'c~d': SECRET } });
  const probes = {
    providers: {
      'openai-codex': [{ kind: 'credentialFile' as const, path: '~/.codex/auth.json', pointer: '/tokens/access_token' }],
      anthropic: [{ kind: 'credentialFile' as const, path: '$HOME/.claude/.credentials.json', pointer: '/claudeAiOauth/accessToken' }],
      'google-gemini-cli': [{ kind: 'credentialFile' as const, path: '${HOME}/.gemini/oauth_creds.json', pointer: '/access_token' }],
      escaped: [{ kind: 'credentialFile' as const, path: '{workspaceDir}/keys.json', pointer: '/a~1b/c~0d' }],
      missing: [{ kind: 'credentialFile' as const, path: '~/.nothing/auth.json', pointer: '/token' }],
      nested: [{ kind: 'credentialFile' as const, path: '~/.codex/auth.json', pointer: '/tokens/account_id/deeper' }],
    },
  };
  const env = { HOME: dir.path('home') };

  it('is true when the pointer names a non-empty string (Codex, Claude formats; ~ and $VAR paths)', async () => {
    const pool = pools.create({ probes, env });
    expect(await pool.hasAuth('openai-codex')).toBe(true);
    expect(await pool.hasAuth('anthropic')).toBe(true);
  });

  it('is false for an empty string, with E_POINTER_MISSING (Gemini file with a blank access token)', async () => {
    const pool = pools.create({ probes, env });
    expect(await pool.hasAuth('google-gemini-cli')).toBe(false);
    expect((await pool.explain('google-gemini-cli')).probes[0]?.error?.code).toBe('E_POINTER_MISSING');
    expect(await pool.hasAuth('nested')).toBe(false);
  });

  it('decodes ~0 and ~1 in pointers', async () => {
    const pool = pools.create({ probes, env });
    expect(await pool.hasAuth('escaped', { workspaceDir: dir.path('weird') })).toBe(true);
  });

  it('treats a blank variable as unset: E_TEMPLATE_UNRESOLVED, never a path under the cwd', async () => {
    const pool = pools.create({ probes: { providers: { codex: [{ kind: 'credentialFile', path: '$CODEX_HOME/auth.json', pointer: '/tokens/access_token' }] } }, env: { CODEX_HOME: '   ' } });
    const report = await pool.explain('codex');
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_TEMPLATE_UNRESOLVED' } });
    expect(JSON.stringify(report)).not.toContain('   /auth.json');
  });

  it("reads a path of the gateway's variables as they are when asked to probe again, and judges allowed roots per scope", async () => {
    const name = `CODEX_HOME_TEST_${process.pid}`;
    const codex = { codex: [{ kind: 'credentialFile' as const, path: `$${name}/auth.json`, pointer: '/tokens/access_token' }] };
    process.env[name] = dir.path('home/.nothing');
    try {
      const pool = pools.create({ probes: { providers: codex } });
      expect(await pool.hasAuth('codex')).toBe(false);
      process.env[name] = dir.path('home/.codex');
      pool.invalidate();
      expect(await pool.hasAuth('codex')).toBe(true);
    } finally {
      delete process.env[name];
    }
    // The same template in two scopes, under roots that name the scope's directory: inside one, outside the other.
    const rooted = pools.create({ probes, env, allowedRoots: ['{agentDir}'], threads: { min: 1, max: 1 } });
    expect(await rooted.hasAuth('openai-codex', { agentDir: dir.path('home') })).toBe(true);
    expect(await rooted.hasAuth('openai-codex', { agentDir: dir.path('weird') })).toBe(false);
    expect((await rooted.explain('openai-codex', { agentDir: dir.path('weird') })).probes[0]?.error?.code).toBe('E_PATH_REFUSED');
  });

  it('is false, with E_FILE_NOT_FOUND, when the file does not exist', async () => {
    const pool = pools.create({ probes, env });
    expect(await pool.hasAuth('missing')).toBe(false);
    const report = await pool.explain('missing');
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_FILE_NOT_FOUND' } });
  });

  it('refuses a directory and a file over the size limit, with codes', async () => {
    dir.write('big/.codex/auth.json', { tokens: { access_token: SECRET }, pad: 'x'.repeat(4096) });
    dir.write('dir/.codex/auth.json/inner', 'x');
    const pool = pools.create({ probes, maxFileBytes: 1024 });
    const big = await pool.explain('openai-codex', { env: { HOME: dir.path('big') } });
    expect(big.auth).toBe(false);
    expect(big.probes[0]?.error?.code).toBe('E_FILE_TOO_LARGE');
    const asDir = await pool.explain('openai-codex', { env: { HOME: dir.path('dir') } });
    expect(asDir.probes[0]?.error?.code).toBe('E_FILE_NOT_REGULAR');
  });

  it('sees a rewritten file once its fingerprint changes', async () => {
    const file = dir.write('rewrite/.codex/auth.json', { tokens: { access_token: '' } });
    const pool = pools.create({ probes, threads: { min: 1, max: 1 } });
    const scope = { env: { HOME: dir.path('rewrite') } };
    expect((await pool.explain('openai-codex', scope)).auth).toBe(false);
    dir.write('rewrite/.codex/auth.json', { tokens: { access_token: SECRET } });
    expect(file).toBe(dir.path('rewrite/.codex/auth.json'));
    expect((await pool.explain('openai-codex', scope)).auth).toBe(true);
  });
});

describe('credentialFile rules: require, anyOf, expiry and refresh', () => {
  const { dir, pools } = useFixture();
  const HOUR = 3_600_000;
  const now = Date.now();
  const file = (name: string, content: object) => dir.write(`creds/${name}.json`, content);
  const probe = (name: string, rules: object) => [{ kind: 'credentialFile' as const, path: `${dir.path('creds')}/${name}.json`, ...rules }];
  const expiresIn = (ms: number, unit: 'ms' | 's' | 'iso') => (unit === 'ms' ? now + ms : unit === 's' ? Math.floor((now + ms) / 1000) : new Date(now + ms).toISOString());
  const login = { require: ['/access'], expiry: { pointer: '/expires', unit: 'ms' as const }, refresh: '/refresh' };

  file('pair', { a: SECRET, b: '' });
  file('alt', { tokens: null, API_KEY: SECRET });
  file('none', { tokens: { access: SECRET }, API_KEY: null });
  for (const unit of ['ms', 's', 'iso'] as const) {
    file(`future-${unit}`, { access: SECRET, expires: expiresIn(HOUR, unit) });
    file(`past-${unit}`, { access: SECRET, expires: expiresIn(-HOUR, unit) });
  }
  file('soon', { access: SECRET, expires: now + 120_000 });
  file('past-refresh', { access: SECRET, expires: now - HOUR, refresh: SECRET });
  file('no-expiry', { access: SECRET, refresh: SECRET });
  file('bad-expiry', { access: SECRET, expires: '2030-01-01', refresh: SECRET });
  const alternatives = { anyOf: [['/tokens/access', '/tokens/refresh'], ['/API_KEY']] };
  const probes = {
    providers: {
      pair: probe('pair', { require: ['/a', '/b'] }),
      alt: probe('alt', alternatives),
      none: probe('none', alternatives),
      ...Object.fromEntries(
        (['ms', 's', 'iso'] as const).flatMap((unit) => [
          [`future-${unit}`, probe(`future-${unit}`, { ...login, expiry: { pointer: '/expires', unit } })],
          [`past-${unit}`, probe(`past-${unit}`, { ...login, expiry: { pointer: '/expires', unit } })],
        ]),
      ),
      soon: probe('soon', login),
      'past-refresh': probe('past-refresh', login),
      'no-expiry': probe('no-expiry', login),
      'bad-expiry': probe('bad-expiry', login),
    },
  };

  it('wants every pointer of require, and names the first one missing', async () => {
    const report = await pools.create({ probes }).explain('pair');
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_POINTER_MISSING' } });
    expect(report.probes[0]?.error?.message).toContain('/b in ');
  });

  it('counts a file when one group of anyOf is complete, and names what each alternative lacks', async () => {
    const pool = pools.create({ probes });
    expect(await pool.hasAuth('alt')).toBe(true);
    const none = (await pool.explain('none')).probes[0];
    expect(none).toMatchObject({ outcome: 'absent', error: { code: 'E_POINTER_MISSING' } });
    expect(none?.error?.message).toContain('/tokens/refresh or /API_KEY');
  });

  it.each(['ms', 's', 'iso'] as const)('reads an expiry in %s: valid until the expiry less the skew, then E_TOKEN_EXPIRED with the time', async (unit) => {
    const pool = pools.create({ probes });
    const future = await pool.explain(`future-${unit}`);
    expect(future.auth).toBe(true);
    const expiry = unit === 's' ? Math.floor((now + HOUR) / 1000) * 1000 : now + HOUR;
    expect(future.decidedBy?.validUntil).toBe(expiry - 300_000);
    const past = (await pool.explain(`past-${unit}`)).probes[0];
    expect(past).toMatchObject({ outcome: 'absent', error: { code: 'E_TOKEN_EXPIRED' } });
    expect(past?.error?.message).toMatch(/expired at \d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(JSON.stringify(past)).not.toContain(SECRET);
  });

  it('counts a login expiring within expirySkewMs as expired, and honours a smaller skew', async () => {
    const soon = (await pools.create({ probes }).explain('soon')).probes[0];
    expect(soon?.error?.code).toBe('E_TOKEN_EXPIRED');
    expect(soon?.error?.message).toContain('within the expiry skew');
    const lenient = await pools.create({ probes, expirySkewMs: 0 }).explain('soon');
    expect(lenient.decidedBy).toMatchObject({ outcome: 'present', validUntil: now + 120_000 });
  });

  it('keeps an expired login with a refresh token, with no validUntil: the tool refreshes it', async () => {
    const report = await pools.create({ probes }).explain('past-refresh');
    expect(report.auth).toBe(true);
    expect(report.decidedBy).not.toHaveProperty('validUntil');
  });

  it('wants the expiry present and of its unit, even with a refresh token: E_EXPIRY_MISSING', async () => {
    const pool = pools.create({ probes });
    for (const provider of ['no-expiry', 'bad-expiry']) {
      const report = await pool.explain(provider);
      expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_EXPIRY_MISSING' } });
      expect(report.probes[0]?.error?.message).toContain('/expires');
    }
  });

  it('rejects a probe with nothing to require, and a refresh without an expiry', async () => {
    const { ProbeConfigSchema } = await import('auth-probe-pool');
    const check = (rules: object) => ProbeConfigSchema.safeParse({ providers: { x: [{ kind: 'credentialFile', path: 'x.json', ...rules }] } }).error?.issues[0];
    expect(check({})).toMatchObject({ path: ['providers', 'x', 0, 'pointer'], message: 'needs pointer, require or anyOf' });
    expect(check({ pointer: '/a', refresh: '/r' })).toMatchObject({ path: ['providers', 'x', 0, 'refresh'], message: 'refresh needs expiry' });
    expect(check({ pointer: '/a', expiry: { pointer: '/e', unit: 'minutes' } })?.path).toEqual(['providers', 'x', 0, 'expiry', 'unit']);
    expect(check({ pointer: '/a' })).toBeUndefined();
  });
});

describe('authProfiles eligibility', () => {
  const { dir, pools } = useFixture();
  const now = Date.now();
  const HOUR = 3_600_000;
  dir.write('agent/auth-profiles.json', {
    version: 1,
    profiles: {
      'openai:empty': { type: 'api_key', key: '  ' },
      'groq:soon': { type: 'token', token: SECRET, expires: now + HOUR },
      'groq:later': { type: 'token', token: SECRET, expires: now + 2 * HOUR },
      'mistral:token': { type: 'token', token: SECRET, expires: now + HOUR },
      'mistral:key': { type: 'api_key', key: SECRET },
    },
  });
  const store = (eligibility?: 'usable' | 'any') => [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json', ...(eligibility ? { eligibility } : {}) }];
  const scope = { agentDir: dir.path('agent') };

  it('counts only a usable profile by default, and any profile with eligibility "any"', async () => {
    const pool = pools.create({ probes: { providers: { openai: store() } } });
    const report = await pool.explain('openai', scope);
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_PROFILE_NOT_USABLE' }, detail: { profileId: 'openai:empty' } });
    expect(report.probes[0]?.error?.message).toContain('openai:empty: api_key needs a non-empty key or a keyRef object');
    const any = await pools.create({ probes: { providers: { openai: store('any') } } }).explain('openai', scope);
    expect(any.decidedBy).toMatchObject({ outcome: 'present', detail: { profileId: 'openai:empty' } });
  });

  it('reports the latest of expiring tokens with validUntil, and prefers a profile that does not expire', async () => {
    const pool = pools.create({ probes: { providers: { groq: store(), mistral: store() } } });
    expect((await pool.explain('groq', scope)).decidedBy).toMatchObject({ detail: { profileId: 'groq:later' }, validUntil: now + 2 * HOUR - 300_000 });
    const mistral = (await pool.explain('mistral', scope)).decidedBy;
    expect(mistral).toMatchObject({ detail: { profileId: 'mistral:key' } });
    expect(mistral).not.toHaveProperty('validUntil');
  });
});

describe('unlessEnv', () => {
  const { dir, pools } = useFixture();
  const fallback = dir.write('fallback.json', { token: SECRET });
  const probes = { providers: { p: [{ kind: 'credentialFile' as const, path: fallback, pointer: '/token', unlessEnv: ['MY_CREDENTIALS'] }] } };

  it('skips a probe, as absent with E_ENV_OVERRIDDEN, while a variable that takes precedence is set; empty counts as unset', async () => {
    const pool = pools.create({ probes, env: {} });
    expect(await pool.hasAuth('p')).toBe(true);
    expect(await pool.hasAuth('p', { env: { MY_CREDENTIALS: '' } })).toBe(true);
    expect(await pool.hasAuth('p', { env: { MY_CREDENTIALS: ' \t' } })).toBe(true);
    const report = await pool.explain('p', { env: { MY_CREDENTIALS: '/elsewhere.json' } });
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_ENV_OVERRIDDEN' }, detail: { variable: 'MY_CREDENTIALS' } });
  });
});

describe('a key pasted into a variable that holds a path', () => {
  const { dir, pools } = useFixture();

  it("is refused by the variable's name, never echoed, read as a file or watched", async () => {
    const key = 'sk-proj-pasted-into-a-path-var-4e1f';
    // A file of that name beside the config must not be what the answer rests on.
    dir.write(key, { type: 'service_account' });
    const pool = pools.create({ probes: defaultProbeConfig, configDir: dir.root, env: { GOOGLE_APPLICATION_CREDENTIALS: key, HOME: dir.path('home') } });
    expect(await pool.hasAuth('google-vertex')).toBe(false);
    const report = await pool.explain('google-vertex');
    expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PATH_REFUSED' } });
    expect(report.probes[0]?.error?.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(JSON.stringify(report)).not.toContain(key);
    expect(JSON.stringify(pool.stats())).not.toContain(key);
    // A path under ~ or an absolute one is still a path.
    for (const path of ['~/adc.json', dir.path('home/adc.json')]) {
      dir.write('home/adc.json', { type: 'authorized_user' });
      const other = pools.create({ probes: defaultProbeConfig, env: { GOOGLE_APPLICATION_CREDENTIALS: path, HOME: dir.path('home') } });
      expect(await other.hasAuth('google-vertex')).toBe(true);
    }
  });
});
