/**
 * Conformance: every rule of issue 11, checked through the built-in probe set
 * and a real pool, against real files in a temp home. The expectations are
 * written from the rules (how Claude Code, Gemini CLI, Qwen Code, the MiniMax
 * portal, Codex CLI, Google's ADC lookup and the gateway's auth-profiles.json
 * judge a credential), one case per rule and per branch of a rule.
 */
import { describe, expect, it } from 'vitest';
import { defaultProbeConfig, mergeProbeConfig, type ExplainReport } from 'auth-probe-pool';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-conformance-secret-41c7';
const HOUR = 3_600_000;
const SKEW = 300_000;
/** One clock reading for the whole file: every expiry below is at least minutes away from any boundary. */
const NOW = Date.now();

type Files = Record<string, object>;
interface Case {
  readonly provider: string;
  readonly files?: Files;
  readonly env?: Record<string, string>;
  readonly auth: boolean;
  /** A code some probe of the provider must report (the reason for a no, or a skipped fallback). */
  readonly code?: string;
  /** The deciding probe's `validUntil`, or `null` for an answer that does not rest on an expiry. */
  readonly validUntil?: number | null;
}

describe('conformance with the tools and the gateway', () => {
  const { dir, pools } = useFixture({ prefix: 'app-conformance-' });
  // An empty base env: nothing from the developer's own environment reaches a probe.
  const pool = pools.create({ probes: defaultProbeConfig, env: {} });
  let homes = 0;

  /** Writes the case's files into a fresh home and returns its explain() report; `{home}` in env values is that home. */
  async function run(c: Case, on = pool): Promise<ExplainReport> {
    const home = dir.path(`home-${++homes}`);
    dir.write(`home-${homes}/.keep`, '');
    for (const [relative, content] of Object.entries(c.files ?? {})) dir.write(`home-${homes}/${relative}`, content);
    const env = Object.fromEntries(Object.entries({ HOME: home, ...c.env }).map(([k, v]) => [k, v.replace('{home}', home)]));
    return on.explain(c.provider, { env, agentDir: `${home}/agent` });
  }

  function expectCase(report: ExplainReport, c: Case): void {
    const codes = report.probes.map((p) => p.error?.code);
    expect({ auth: report.auth, codes }).toMatchObject({ auth: c.auth });
    if (c.code !== undefined) expect(codes).toContain(c.code);
    if (c.validUntil !== undefined) expect(report.decidedBy?.validUntil ?? null).toBe(c.validUntil);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  }

  const claude = (oauth: object): Files => ({ '.claude/.credentials.json': { claudeAiOauth: { scopes: ['user:inference'], ...oauth } } });

  describe('Claude Code: accessToken and a positive expiresAt (ms) required; usable before expiresAt less the skew, or with a refresh token', () => {
    it.each<[string, Case]>([
      [
        'valid, no refresh token: true until expiresAt less the skew',
        { provider: 'anthropic', files: claude({ accessToken: SECRET, expiresAt: NOW + HOUR }), auth: true, validUntil: NOW + HOUR - SKEW },
      ],
      [
        'expired with a refresh token: true, not bounded by the expiry',
        { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: SECRET, expiresAt: NOW - HOUR }), auth: true, validUntil: null },
      ],
      ['expired without a refresh token: false, E_TOKEN_EXPIRED', { provider: 'anthropic', files: claude({ accessToken: SECRET, expiresAt: NOW - HOUR }), auth: false, code: 'E_TOKEN_EXPIRED' }],
      [
        'expired with an empty refresh token: false, E_TOKEN_EXPIRED',
        { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: '', expiresAt: NOW - HOUR }), auth: false, code: 'E_TOKEN_EXPIRED' },
      ],
      [
        'expiring within the skew, no refresh token: false, E_TOKEN_EXPIRED',
        { provider: 'anthropic', files: claude({ accessToken: SECRET, expiresAt: NOW + 120_000 }), auth: false, code: 'E_TOKEN_EXPIRED' },
      ],
      ['no expiresAt (even with a refresh token): false', { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: SECRET }), auth: false, code: 'E_EXPIRY_MISSING' }],
      ['expiresAt 0: false', { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: SECRET, expiresAt: 0 }), auth: false, code: 'E_EXPIRY_MISSING' }],
      ['expiresAt negative: false', { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: SECRET, expiresAt: -5 }), auth: false, code: 'E_EXPIRY_MISSING' }],
      ['expiresAt a string: false', { provider: 'anthropic', files: claude({ accessToken: SECRET, refreshToken: SECRET, expiresAt: String(NOW + HOUR) }), auth: false, code: 'E_EXPIRY_MISSING' }],
      [
        'empty accessToken: false, E_POINTER_MISSING',
        { provider: 'anthropic', files: claude({ accessToken: '', refreshToken: SECRET, expiresAt: NOW + HOUR }), auth: false, code: 'E_POINTER_MISSING' },
      ],
      [
        '$CLAUDE_CONFIG_DIR, expired with a refresh token: true',
        {
          provider: 'anthropic',
          files: { 'cfg/.credentials.json': { claudeAiOauth: { accessToken: SECRET, refreshToken: SECRET, expiresAt: NOW - HOUR } } },
          env: { CLAUDE_CONFIG_DIR: '{home}/cfg' },
          auth: true,
        },
      ],
      [
        '$CLAUDE_CONFIG_DIR, expired without a refresh token: false, E_TOKEN_EXPIRED',
        {
          provider: 'anthropic',
          files: { 'cfg/.credentials.json': { claudeAiOauth: { accessToken: SECRET, expiresAt: NOW - HOUR } } },
          env: { CLAUDE_CONFIG_DIR: '{home}/cfg' },
          auth: false,
          code: 'E_TOKEN_EXPIRED',
        },
      ],
    ])('%s', async (_, c) => expectCase(await run(c), c));

    it('says when the login expired, as ISO, and never the token', async () => {
      const report = await run({ provider: 'anthropic', files: claude({ accessToken: SECRET, expiresAt: NOW - HOUR }), auth: false });
      const expired = report.probes.find((p) => p.error?.code === 'E_TOKEN_EXPIRED');
      expect(expired?.outcome).toBe('absent');
      expect(expired?.error?.message).toContain(`expired at ${new Date(NOW - HOUR).toISOString()}`);
    });

    it('honours expirySkewMs: with 0, a login two minutes from its end still counts', async () => {
      const lenient = pools.create({ probes: defaultProbeConfig, env: {}, expirySkewMs: 0 });
      const c: Case = { provider: 'anthropic', files: claude({ accessToken: SECRET, expiresAt: NOW + 120_000 }), auth: true, validUntil: NOW + 120_000 };
      expectCase(await run(c, lenient), c);
    });
  });

  const oauthFile = { access_token: SECRET, refresh_token: SECRET, token_type: 'Bearer', expiry_date: NOW - HOUR };
  const without = (key: string) => Object.fromEntries(Object.entries(oauthFile).filter(([k]) => k !== key));

  describe.each([
    ['Gemini CLI', 'google-gemini-cli', '.gemini/oauth_creds.json'],
    ['Qwen Code', 'qwen-portal', '.qwen/oauth_creds.json'],
    ['MiniMax portal', 'minimax-portal', '.minimax/oauth_creds.json'],
  ])('%s (%s): access_token, refresh_token and a numeric expiry_date all required', (_, provider, path) => {
    it.each<[string, Case]>([
      ['all three, expiry passed: true (the CLI refreshes)', { provider, files: { [path]: oauthFile }, auth: true, validUntil: null }],
      ['no refresh_token: false, E_POINTER_MISSING', { provider, files: { [path]: without('refresh_token') }, auth: false, code: 'E_POINTER_MISSING' }],
      ['empty access_token: false, E_POINTER_MISSING', { provider, files: { [path]: { ...oauthFile, access_token: '' } }, auth: false, code: 'E_POINTER_MISSING' }],
      ['no expiry_date: false, E_EXPIRY_MISSING', { provider, files: { [path]: without('expiry_date') }, auth: false, code: 'E_EXPIRY_MISSING' }],
      ['expiry_date not a number: false, E_EXPIRY_MISSING', { provider, files: { [path]: { ...oauthFile, expiry_date: 'soon' } }, auth: false, code: 'E_EXPIRY_MISSING' }],
    ])('%s', async (_, c) => expectCase(await run(c), c));
  });

  describe('Codex CLI: tokens.access_token and tokens.refresh_token, or a top-level OPENAI_API_KEY', () => {
    const codex = (content: object): Files => ({ '.codex/auth.json': content });
    it.each<[string, Case]>([
      [
        'ChatGPT login with both tokens: true',
        { provider: 'openai-codex', files: codex({ OPENAI_API_KEY: null, tokens: { id_token: SECRET, access_token: SECRET, refresh_token: SECRET } }), auth: true },
      ],
      [
        'access token without refresh token: false, E_POINTER_MISSING',
        { provider: 'openai-codex', files: codex({ OPENAI_API_KEY: null, tokens: { access_token: SECRET } }), auth: false, code: 'E_POINTER_MISSING' },
      ],
      [
        'refresh token without access token: false',
        { provider: 'openai-codex', files: codex({ OPENAI_API_KEY: null, tokens: { access_token: '', refresh_token: SECRET } }), auth: false, code: 'E_POINTER_MISSING' },
      ],
      ['API-key login, tokens null: true', { provider: 'openai-codex', files: codex({ OPENAI_API_KEY: SECRET, tokens: null }), auth: true }],
      ['empty OPENAI_API_KEY and tokens null: false', { provider: 'openai-codex', files: codex({ OPENAI_API_KEY: '', tokens: null }), auth: false, code: 'E_POINTER_MISSING' }],
      ['$CODEX_HOME with an API-key login: true', { provider: 'openai-codex', files: { 'ch/auth.json': { OPENAI_API_KEY: SECRET, tokens: null } }, env: { CODEX_HOME: '{home}/ch' }, auth: true }],
    ])('%s', async (_, c) => expectCase(await run(c), c));
  });

  const store = (profiles: object): Files => ({ 'agent/auth-profiles.json': { version: 1, profiles } });

  describe('auth-profiles.json: a profile counts only when usable; its provider (or id prefix) decides whom it belongs to', () => {
    it.each<[string, Case]>([
      ['api_key with a key: true', { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', provider: 'mistral', key: SECRET } }), auth: true, validUntil: null }],
      ['api_key with a keyRef object: true', { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', keyRef: { source: 'env', id: 'MISTRAL_KEY' } } }), auth: true }],
      ['api_key with an empty key: false, E_PROFILE_NOT_USABLE', { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', key: ' ' } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      [
        'api_key with a keyRef that is not an object: false',
        { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', keyRef: 'MISTRAL_KEY' } }), auth: false, code: 'E_PROFILE_NOT_USABLE' },
      ],
      ['token without expires: true', { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET } }), auth: true, validUntil: null }],
      [
        'token expiring later: true until expires less the skew',
        { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: NOW + HOUR } }), auth: true, validUntil: NOW + HOUR - SKEW },
      ],
      [
        'token expired: false, E_PROFILE_NOT_USABLE',
        { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: NOW - HOUR } }), auth: false, code: 'E_PROFILE_NOT_USABLE' },
      ],
      ['token with expires 0: false', { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: 0 } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      ['token with a negative expires: false', { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: -1 } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      // JSON.stringify writes NaN as null: how a NaN expiry lands in a store.
      [
        'token with a NaN expires (written as null): false',
        { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: NaN } }), auth: false, code: 'E_PROFILE_NOT_USABLE' },
      ],
      ['token with an empty token: false', { provider: 'groq', files: store({ 'groq:t': { type: 'token', token: '', expires: NOW + HOUR } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      ['oauth with an access token only: true', { provider: 'openrouter', files: store({ 'openrouter:o': { type: 'oauth', access: SECRET } }), auth: true }],
      ['oauth with a refresh token only: true', { provider: 'openrouter', files: store({ 'openrouter:o': { type: 'oauth', refresh: SECRET } }), auth: true }],
      [
        'oauth long expired: true, expiry ignored',
        { provider: 'openrouter', files: store({ 'openrouter:o': { type: 'oauth', access: SECRET, refresh: SECRET, expires: NOW - 100 * HOUR } }), auth: true, validUntil: null },
      ],
      ['oauth with neither: false', { provider: 'openrouter', files: store({ 'openrouter:o': { type: 'oauth', access: '', refresh: '' } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      ['another type: false', { provider: 'openrouter', files: store({ 'openrouter:o': { type: 'password', key: SECRET } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      ['no type: false', { provider: 'openrouter', files: store({ 'openrouter:o': { key: SECRET } }), auth: false, code: 'E_PROFILE_NOT_USABLE' }],
      ['one usable profile among unusable ones: true', { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', key: '' }, 'mistral:b': { type: 'api_key', key: SECRET } }), auth: true }],
      ['the provider field wins over the id prefix: true for it', { provider: 'anthropic', files: store({ 'work:main': { type: 'api_key', provider: 'anthropic', key: SECRET } }), auth: true }],
      [
        'the provider field wins over the id prefix: false for the prefix',
        { provider: 'work', files: store({ 'work:main': { type: 'api_key', provider: 'anthropic', key: SECRET } }), auth: false, code: 'E_NO_PROFILE' },
      ],
      ['no provider field: the id prefix decides', { provider: 'my-gateway', files: store({ 'my-gateway:default': { type: 'api_key', key: SECRET } }), auth: true }],
    ])('%s', async (_, c) => expectCase(await run(c), c));

    it('names the profile and the rule it fails, never the value', async () => {
      const report = await run({ provider: 'groq', files: store({ 'groq:t': { type: 'token', token: SECRET, expires: NOW - HOUR } }), auth: false });
      const probe = report.probes.find((p) => p.error?.code === 'E_PROFILE_NOT_USABLE');
      expect(probe).toMatchObject({ outcome: 'absent', detail: { profileId: 'groq:t' } });
      expect(probe?.error?.message).toContain(`groq:t: token expired at ${new Date(NOW - HOUR).toISOString()}`);
    });

    it('goes back to "any profile counts" with eligibility: "any"', async () => {
      const anyProfile = mergeProbeConfig(defaultProbeConfig, { providers: {}, defaults: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json', eligibility: 'any' }] });
      const lenient = pools.create({ probes: anyProfile, env: {} });
      const c: Case = { provider: 'mistral', files: store({ 'mistral:a': { type: 'api_key', key: '' } }), auth: true };
      expectCase(await run(c, lenient), c);
    });
  });

  describe('Google ADC (google-vertex): GOOGLE_APPLICATION_CREDENTIALS alone decides when set', () => {
    const gcloud: Files = { '.config/gcloud/application_default_credentials.json': { type: 'authorized_user', client_id: 'id', client_secret: SECRET, refresh_token: SECRET } };
    const serviceAccount: Files = { 'sa.json': { type: 'service_account', private_key: SECRET } };
    it.each<[string, Case]>([
      ['unset: the gcloud file counts', { provider: 'google-vertex', files: gcloud, auth: true }],
      ['unset, no gcloud file: false', { provider: 'google-vertex', auth: false, code: 'E_FILE_NOT_FOUND' }],
      ['set to an existing file: true', { provider: 'google-vertex', files: serviceAccount, env: { GOOGLE_APPLICATION_CREDENTIALS: '{home}/sa.json' }, auth: true }],
      [
        'set to a missing file: false even with a gcloud file (no fallback)',
        { provider: 'google-vertex', files: gcloud, env: { GOOGLE_APPLICATION_CREDENTIALS: '{home}/missing.json' }, auth: false, code: 'E_ENV_OVERRIDDEN' },
      ],
      ['set but empty: treated as unset, the gcloud file counts', { provider: 'google-vertex', files: gcloud, env: { GOOGLE_APPLICATION_CREDENTIALS: '' }, auth: true }],
    ])('%s', async (_, c) => expectCase(await run(c), c));
  });

  describe("the upstream gateway's variable names and aliases", () => {
    it.each<[string, string]>([
      ['huggingface', 'HUGGINGFACE_HUB_TOKEN'],
      ['huggingface', 'HF_TOKEN'],
      ['zai', 'Z_AI_API_KEY'],
      ['zai', 'ZAI_API_KEY'],
      ['qwen-portal', 'QWEN_OAUTH_TOKEN'],
      ['qwen-portal', 'QWEN_PORTAL_API_KEY'],
      ['minimax-portal', 'MINIMAX_OAUTH_TOKEN'],
    ])('%s from $%s', async (provider, variable) => {
      const report = await run({ provider, env: { [variable]: SECRET }, auth: true });
      expectCase(report, { provider, auth: true });
      expect(report.decidedBy?.detail?.variable).toBe(variable);
    });

    it.each<[string, string]>([
      ['z-ai', 'zai'],
      ['z.ai', 'zai'],
      ['aws-bedrock', 'amazon-bedrock'],
      ['bedrock', 'amazon-bedrock'],
      ['codex-cli', 'openai-codex'],
      ['codex', 'openai-codex'],
    ])('alias %s is %s', async (alias, provider) => {
      const report = await run({ provider: alias, auth: false });
      expect(report.provider).toBe(provider);
    });
  });
});
