import { describe, expect, it } from 'vitest';
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
