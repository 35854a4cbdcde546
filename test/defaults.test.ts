import { describe, expect, it } from 'vitest';
import { defaultProbeConfig, keychainProbeConfig, mergeProbeConfig, ProbeConfigSchema, type Probe, type ProbeConfig } from 'auth-probe-pool';
import { credentialHome, SECRET } from './helpers/credentials.js';
import { useFixture } from './helpers/fixture.js';

const allProbes = (config: ProbeConfig): Probe[] => [...Object.values(config.providers).flat(), ...(config.defaults ?? [])];

describe('the built-in probe set', () => {
  const { dir, pools } = useFixture();
  const home = credentialHome(dir, 'home');
  const empty = dir.path('empty');
  dir.write('empty/.keep', '');

  it('is a valid, frozen configuration whose every probe names its source', () => {
    expect(ProbeConfigSchema.safeParse(defaultProbeConfig).success).toBe(true);
    expect(ProbeConfigSchema.safeParse(keychainProbeConfig).success).toBe(true);
    expect(Object.isFrozen(defaultProbeConfig) && Object.isFrozen(defaultProbeConfig.providers['openai'])).toBe(true);
    for (const probe of [...allProbes(defaultProbeConfig), ...allProbes(keychainProbeConfig)]) expect(probe.label).toMatch(/\w/);
  });

  it('runs no command: the keychain lookups are a separate, darwin-only preset that reads no secret', () => {
    expect(allProbes(defaultProbeConfig).filter((p) => p.kind === 'command')).toEqual([]);
    const keychain = allProbes(keychainProbeConfig);
    expect(keychain.length).toBeGreaterThan(0);
    for (const probe of keychain) {
      expect(probe).toMatchObject({ kind: 'command', command: '/usr/bin/security', platforms: ['darwin'] });
      expect(probe.kind === 'command' && probe.args).not.toContain('-w');
    }
  });

  // The documented variable of each provider, one by one, in an env holding nothing else.
  it.each([
    ['openai', 'OPENAI_API_KEY'],
    ['anthropic', 'ANTHROPIC_API_KEY'],
    ['anthropic', 'ANTHROPIC_OAUTH_TOKEN'],
    ['anthropic', 'CLAUDE_CODE_OAUTH_TOKEN'],
    ['google', 'GEMINI_API_KEY'],
    ['google', 'GOOGLE_API_KEY'],
    ['mistral', 'MISTRAL_API_KEY'],
    ['openrouter', 'OPENROUTER_API_KEY'],
    ['xai', 'XAI_API_KEY'],
    ['groq', 'GROQ_API_KEY'],
    ['deepseek', 'DEEPSEEK_API_KEY'],
    ['cerebras', 'CEREBRAS_API_KEY'],
    ['together', 'TOGETHER_API_KEY'],
    ['fireworks', 'FIREWORKS_API_KEY'],
    ['amazon-bedrock', 'AWS_BEARER_TOKEN_BEDROCK'],
    ['amazon-bedrock', 'AWS_PROFILE'],
    ['azure-openai', 'AZURE_OPENAI_API_KEY'],
    ['github-copilot', 'COPILOT_GITHUB_TOKEN'],
    ['github-copilot', 'GH_TOKEN'],
    ['voyage', 'VOYAGE_API_KEY'],
    ['zai', 'ZAI_API_KEY'],
    ['huggingface', 'HF_TOKEN'],
  ])('finds %s from $%s', async (provider, variable) => {
    const pool = pools.create({ probes: defaultProbeConfig, env: { HOME: empty, [variable]: SECRET } });
    const report = await pool.explain(provider);
    expect(report.auth).toBe(true);
    expect(report.decidedBy?.detail?.variable).toBe(variable);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('finds no provider in an empty home and env', async () => {
    const pool = pools.create({ probes: defaultProbeConfig, env: { HOME: empty } });
    const report = await pool.warm(Object.keys(defaultProbeConfig.providers));
    expect(Object.values(report.answers).every((auth) => !auth)).toBe(true);
    expect(report.failed).toEqual([]);
  });

  it('wants both halves of an AWS key pair', async () => {
    const half = pools.create({ probes: defaultProbeConfig, env: { HOME: empty, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' } });
    expect(await half.hasAuth('amazon-bedrock')).toBe(false);
    const pair = pools.create({ probes: defaultProbeConfig, env: { HOME: empty, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET } });
    const report = await pair.explain('amazon-bedrock');
    expect(report.decidedBy).toMatchObject({ kind: 'module', outcome: 'present' });
  });

  it('finds the CLI logins in their real file formats under ~', async () => {
    const pool = pools.create({ probes: defaultProbeConfig, env: { HOME: home } });
    const expected: Record<string, string> = {
      'openai-codex': `${home}/.codex/auth.json`,
      anthropic: `${home}/.claude/.credentials.json`,
      'google-gemini-cli': `${home}/.gemini/oauth_creds.json`,
      'qwen-portal': `${home}/.qwen/oauth_creds.json`,
      'minimax-portal': `${home}/.minimax/oauth_creds.json`,
      'github-copilot': `${home}/.config/github-copilot/hosts.json`,
      'google-vertex': `${home}/.config/gcloud/application_default_credentials.json`,
    };
    for (const [provider, path] of Object.entries(expected)) {
      const report = await pool.explain(provider);
      expect({ provider, auth: report.auth, path: report.decidedBy?.detail?.path }).toEqual({ provider, auth: true, path });
      expect(JSON.stringify(report)).not.toContain(SECRET);
    }
    expect(await pool.hasAuth('openai')).toBe(false);
  });

  it('follows $CODEX_HOME, $CLAUDE_CONFIG_DIR and $GOOGLE_APPLICATION_CREDENTIALS', async () => {
    dir.write('elsewhere/codex/auth.json', { tokens: { access_token: SECRET, refresh_token: SECRET } });
    dir.write('elsewhere/claude/.credentials.json', { claudeAiOauth: { accessToken: SECRET, refreshToken: SECRET, expiresAt: 1767225600000 } });
    const adc = dir.write('elsewhere/sa.json', { type: 'service_account', private_key: SECRET });
    const pool = pools.create({
      probes: defaultProbeConfig,
      env: { HOME: empty, CODEX_HOME: dir.path('elsewhere/codex'), CLAUDE_CONFIG_DIR: dir.path('elsewhere/claude'), GOOGLE_APPLICATION_CREDENTIALS: adc },
    });
    expect((await pool.explain('openai-codex')).decidedBy?.detail?.path).toBe(dir.path('elsewhere/codex/auth.json'));
    expect((await pool.explain('anthropic')).decidedBy?.detail?.path).toBe(dir.path('elsewhere/claude/.credentials.json'));
    expect((await pool.explain('google-vertex')).decidedBy?.detail?.path).toBe(adc);
  });

  it("tries the agent's auth-profiles.json, then OpenClaw's main agent store, for every provider", async () => {
    dir.write('agent/auth-profiles.json', { version: 1, profiles: { 'my-gateway:default': { type: 'api_key', key: SECRET } } });
    const pool = pools.create({ probes: defaultProbeConfig, env: { HOME: home } });
    const scope = { agentDir: dir.path('agent') };
    expect((await pool.explain('my-gateway', scope)).decidedBy).toMatchObject({ source: 'defaults', detail: { profileId: 'my-gateway:default' } });
    expect((await pool.explain('zai', scope)).decidedBy).toMatchObject({ source: 'defaults', detail: { profileId: 'zai:default', path: `${home}/.openclaw/agents/main/agent/auth-profiles.json` } });
    // An alias of the built-in table: "z.ai" is zai.
    expect(await pool.hasAuth('Z.AI')).toBe(true);
  });

  it('skips the keychain lookups off macOS, as E_PLATFORM_SKIPPED', async () => {
    const pool = pools.create({ probes: mergeProbeConfig(defaultProbeConfig, keychainProbeConfig, { providers: 'extend' }), env: { HOME: empty } });
    const last = (await pool.explain('anthropic')).probes.find((p) => p.kind === 'command');
    expect(last?.outcome).toBe('absent');
    if (process.platform !== 'darwin') expect(last?.error?.code).toBe('E_PLATFORM_SKIPPED');
  });
});

describe('mergeProbeConfig', () => {
  const base: ProbeConfig = {
    aliases: { gemini: 'google' },
    providers: { openai: [{ kind: 'env', vars: ['OPENAI_API_KEY'] }], google: [{ kind: 'env', vars: ['GEMINI_API_KEY'] }], groq: [{ kind: 'env', vars: ['GROQ_API_KEY'] }] },
    defaults: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' }],
  };

  it("replaces a provider's probes by default, matching ids after normalisation and aliases", () => {
    const merged = mergeProbeConfig(base, { providers: { OpenAI: [{ kind: 'env', vars: ['MY_KEY'] }], gemini: [{ kind: 'env', vars: ['MY_GEMINI'] }] } });
    expect(merged.providers).toEqual({
      openai: [{ kind: 'env', vars: ['MY_KEY'] }],
      google: [{ kind: 'env', vars: ['MY_GEMINI'] }],
      groq: [{ kind: 'env', vars: ['GROQ_API_KEY'] }],
    });
    expect(merged.defaults).toEqual(base.defaults);
  });

  it("runs the override's probes after the base's with providers: 'extend', defaults too", () => {
    const merged = mergeProbeConfig(base, { providers: { openai: [{ kind: 'env', vars: ['MY_KEY'] }] }, defaults: [{ kind: 'env', vars: ['ANY'] }] }, { providers: 'extend' });
    expect(merged.providers['openai']).toEqual([
      { kind: 'env', vars: ['OPENAI_API_KEY'] },
      { kind: 'env', vars: ['MY_KEY'] },
    ]);
    expect(merged.defaults).toHaveLength(2);
  });

  it('turns a provider off with an empty list, and replaces defaults when the override has them', () => {
    const merged = mergeProbeConfig(base, { providers: { groq: [] }, defaults: [] });
    expect(merged.providers['groq']).toEqual([]);
    expect(merged.defaults).toEqual([]);
  });

  it('merges aliases, the override winning, and leaves both inputs untouched', () => {
    const override: ProbeConfig = { aliases: { gemini: 'gemini-cli', 'z.ai': 'zai' }, providers: {} };
    const before = JSON.stringify([base, override]);
    const merged = mergeProbeConfig(base, override);
    expect(merged.aliases).toEqual({ gemini: 'gemini-cli', 'z.ai': 'zai' });
    expect(JSON.stringify([base, override])).toBe(before);
  });
});
