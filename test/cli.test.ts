import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultProbeConfig } from 'auth-probe-pool';
import { CLI, runCli } from './helpers/cli.js';
import { credentialHome, SECRET } from './helpers/credentials.js';
import { useFixture } from './helpers/fixture.js';

/** The data rows of a table: the first word of each line between the header and the blank line. */
function tableRows(stdout: string): Map<string, string> {
  const lines = stdout.split('\n');
  const end = lines.indexOf('');
  return new Map(lines.slice(1, end).map((line) => [line.split(/\s+/)[0] as string, line]));
}

describe('auth-probe check', () => {
  const { dir } = useFixture();
  const home = credentialHome(dir, 'home');
  const empty = dir.path('empty-home');
  dir.write('empty-home/.keep', '');
  const envFile = dir.write('gateway.env', `# the gateway's environment\nOPENAI_API_KEY=${SECRET}\nexport MISTRAL_API_KEY="${SECRET}"\nAWS_ACCESS_KEY_ID=AKIDEXAMPLE\n`);
  const noEnv = dir.write('none.env', '');
  const at = ['--home', home, '--env-file', envFile];

  it('prints provider, auth, source and time, and exits 0 when every named provider has auth', () => {
    const run = runCli(['check', 'openai', 'openai-codex', 'anthropic', 'google-gemini-cli', 'qwen-portal', 'minimax-portal', ...at]);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^PROVIDER\s+AUTH\s+SOURCE\s+TIME$/);
    const rows = tableRows(run.stdout);
    expect(rows.get('openai')).toMatch(/^openai\s+yes\s+\$OPENAI_API_KEY\s+[0-9.]+ ms$/);
    expect(rows.get('openai-codex')).toMatch(/\byes\s+~\/\.codex\/auth\.json\b/);
    expect(rows.get('anthropic')).toMatch(/\byes\s+~\/\.claude\/\.credentials\.json\b/);
    expect(rows.get('google-gemini-cli')).toMatch(/\byes\s+~\/\.gemini\/oauth_creds\.json\b/);
    expect(rows.size).toBe(6);
    expect(run.stdout).toContain('6 of 6 providers have auth');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('exits 1 when some named provider lacks auth, and still lists them all', () => {
    const run = runCli(['check', 'openai', 'groq', 'amazon-bedrock', ...at]);
    expect(run.status).toBe(1);
    const rows = tableRows(run.stdout);
    expect(rows.get('openai')).toMatch(/\byes\b/);
    expect(rows.get('groq')).toMatch(/^groq\s+no\s+-\s/);
    // Half a key pair is no key pair.
    expect(rows.get('amazon-bedrock')).toMatch(/\bno\b/);
    expect(run.stdout).toContain('1 of 3 providers has auth');
  });

  it('prints JSON with --json: the deciding probe with its variable name, never its value', () => {
    const run = runCli(['check', '--json', 'openai', 'OpenAI', 'groq', ...at]);
    expect(run.status).toBe(1);
    const out = JSON.parse(run.stdout) as {
      providers: { provider: string; auth: boolean; source: { kind: string; detail: { variable?: string }; description: string } | null }[];
      total: number;
      withAuth: number;
    };
    // "OpenAI" normalises to "openai": one row.
    expect(out.providers.map((p) => [p.provider, p.auth])).toEqual([
      ['openai', true],
      ['groq', false],
    ]);
    expect(out.providers[0]?.source).toMatchObject({ kind: 'env', detail: { variable: 'OPENAI_API_KEY' }, description: '$OPENAI_API_KEY' });
    expect(out.providers[1]?.source).toBeNull();
    expect(out).toMatchObject({ total: 2, withAuth: 1 });
    expect(run.stdout).not.toContain(SECRET);
  });

  it('sweeps every built-in provider when none is named: exit 0 when any has auth', () => {
    const run = runCli(['check', ...at]);
    expect(run.status).toBe(0);
    const rows = tableRows(run.stdout);
    expect([...rows.keys()].sort()).toEqual(Object.keys(defaultProbeConfig.providers).sort());
    // From the OpenClaw store in the fixture home, through `defaults`.
    expect(rows.get('zai')).toMatch(/\byes\s+profile zai:default in ~\/\.openclaw\/agents\/main\/agent\/auth-profiles\.json\b/);
    expect(rows.get('github-copilot')).toMatch(/\byes\s+~\/\.config\/github-copilot\/hosts\.json\b/);
    expect(rows.get('google-vertex')).toMatch(/\byes\b/);
    expect(rows.get('xai')).toMatch(/\bno\b/);
  });

  it('exits 1 from a sweep of a machine with no auth at all', () => {
    const run = runCli(['check', '--home', empty, '--env-file', noEnv]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`0 of ${Object.keys(defaultProbeConfig.providers).length} providers have auth`);
  });

  it('probes the env file instead of its own environment', () => {
    // OPENAI_API_KEY in the process env, but not in the env file: not seen.
    const run = runCli(['check', 'openai', '--home', empty, '--env-file', noEnv], { OPENAI_API_KEY: SECRET });
    expect(run.status).toBe(1);
    const direct = runCli(['check', 'openai', '--home', empty], { OPENAI_API_KEY: SECRET });
    expect(direct.status).toBe(0);
  });

  it('resolves {agentDir} against --agent-dir', () => {
    dir.write('agent/auth-profiles.json', { version: 1, profiles: { 'groq:work': { type: 'api_key', key: SECRET } } });
    const run = runCli(['check', 'groq', '--home', empty, '--env-file', noEnv, '--agent-dir', dir.path('agent')]);
    expect(run.status).toBe(0);
    expect(tableRows(run.stdout).get('groq')).toMatch(/\byes\s+profile groq:work in /);
  });

  it('is quiet on stderr when stdout is not a terminal', () => {
    const run = runCli(['check', ...at]);
    expect(run.stdout).not.toBe('');
    expect(run.stderr).toBe('');
  });
});

describe('auth-probe explain', () => {
  const { dir } = useFixture();
  const home = credentialHome(dir, 'home');
  dir.write('home/.codex/auth.json', `{"tokens": {"access_token": "${SECRET}"`); // corrupt
  const envFile = dir.write('env', `ANTHROPIC_API_KEY=${SECRET}\n`);

  it('shows every probe tried, its outcome and error code, never a secret', () => {
    const run = runCli(['explain', 'anthropic', '--home', home, '--env-file', envFile]);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('anthropic: auth yes, from Anthropic API key or OAuth token: $ANTHROPIC_API_KEY');
    expect(run.stdout).toMatch(/^1\s+provider\s+env\s+present\s+-\s/m);
    expect(run.stdout).toMatch(/^2\s+provider\s+env\s+absent\s+E_ENV_UNSET\s.*\$CLAUDE_CODE_OAUTH_TOKEN$/m);
    expect(run.stdout).toMatch(/^3\s+provider\s+credentialFile\s+absent\s+E_TEMPLATE_UNRESOLVED\s/m);
    expect(run.stdout).toMatch(
      /^4\s+provider\s+credentialFile\s+present\s+-\s.*~\/\.claude\/\.credentials\.json \/claudeAiOauth\/accessToken expiry \/claudeAiOauth\/expiresAt \(ms\) refresh \/claudeAiOauth\/refreshToken$/m,
    );
    // No SQLite store in the fixture home: the gateway is an older one, and its main agent's JSON store decides.
    expect(run.stdout).toMatch(/^5\s+defaults\s+openclawStore\s+absent\s+E_NO_PROFILE\s.*~\/\.openclaw\/agents\/main\/agent\/auth-profiles\.json$/m);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('reports a corrupt credential file as an error with its code, and exits 1', () => {
    const run = runCli(['explain', 'openai-codex', '--home', home, '--env-file', envFile]);
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')[0]).toBe('openai-codex: auth no');
    expect(run.stdout).toMatch(/^2\s+provider\s+credentialFile\s+error\s+E_JSON_INVALID\s.*~\/\.codex\/auth\.json/m);
    expect(run.stdout).not.toContain(SECRET);
  });

  it('prints the report as JSON with --json', () => {
    const run = runCli(['explain', '--json', 'openai-codex', '--home', home, '--env-file', envFile]);
    const report = JSON.parse(run.stdout) as { provider: string; auth: boolean; probes: { kind: string; outcome: string; error?: { code: string }; description: string }[] };
    expect(report).toMatchObject({ provider: 'openai-codex', auth: false });
    expect(report.probes.map((p) => p.error?.code ?? p.outcome)).toEqual(['E_TEMPLATE_UNRESOLVED', 'E_JSON_INVALID', 'E_NO_PROFILE']);
    expect(run.stdout).not.toContain(SECRET);
  });

  it('says so when a provider has no probes', () => {
    const run = runCli(['explain', 'nobody-configured-this', '--home', home, '--env-file', envFile, '--config', dir.write('empty.json', { providers: {} }), '--no-defaults']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('no probes are configured for this provider');
  });
});

describe('auth-probe check and explain: credentials found but not usable', () => {
  const { dir } = useFixture();
  const HOUR = 3_600_000;
  const expiresAt = Date.now() - HOUR;
  const tokenExpires = Date.now() + 2 * HOUR;
  // Claude Code's login, expired, with no refresh token; a Gemini login without its refresh token.
  dir.write('home/.claude/.credentials.json', { claudeAiOauth: { accessToken: SECRET, expiresAt } });
  dir.write('home/.gemini/oauth_creds.json', { access_token: SECRET, expiry_date: expiresAt });
  dir.write('agent/auth-profiles.json', {
    version: 1,
    profiles: { 'mistral:work': { type: 'api_key', key: '' }, 'groq:ci': { type: 'token', token: SECRET, expires: tokenExpires } },
  });
  const noEnv = dir.write('none.env', '');
  const at = ['--home', dir.path('home'), '--env-file', noEnv, '--agent-dir', dir.path('agent')];
  const iso = (ms: number) => new Date(ms).toISOString();

  it('check names the code and the credential next to "no", and the end of an answer that expires', () => {
    const run = runCli(['check', 'anthropic', 'google-gemini-cli', 'mistral', 'groq', ...at]);
    expect(run.status).toBe(1);
    const rows = tableRows(run.stdout);
    expect(rows.get('anthropic')).toMatch(/^anthropic\s+no\s+E_TOKEN_EXPIRED ~\/\.claude\/\.credentials\.json\s/);
    expect(rows.get('google-gemini-cli')).toMatch(/\bno\s+E_POINTER_MISSING ~\/\.gemini\/oauth_creds\.json\s/);
    expect(rows.get('mistral')).toMatch(/\bno\s+E_PROFILE_NOT_USABLE profile mistral:work in /);
    expect(rows.get('groq')).toContain(`yes   profile groq:ci in `);
    expect(rows.get('groq')).toContain(` until ${iso(tokenExpires - 300_000).replace(/\.\d{3}Z$/, 'Z')}`);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('check --json lists the codes under notUsable, and validUntil on the source', () => {
    const run = runCli(['check', '--json', 'anthropic', 'groq', ...at]);
    const out = JSON.parse(run.stdout) as { providers: { provider: string; notUsable: { code: string; description: string }[]; source: { validUntil?: number } | null }[] };
    expect(out.providers[0]?.notUsable).toEqual([{ code: 'E_TOKEN_EXPIRED', description: '~/.claude/.credentials.json' }]);
    expect(out.providers[1]?.source?.validUntil).toBe(tokenExpires - 300_000);
    expect(out.providers[1]?.notUsable).toEqual([]);
  });

  it('explain gives the reason: the expiry as ISO, the missing pointer, the profile and its rule; never a token', () => {
    const claude = runCli(['explain', 'anthropic', ...at]);
    expect(claude.status).toBe(1);
    expect(claude.stdout).toMatch(/^4\s+provider\s+credentialFile\s+absent\s+E_TOKEN_EXPIRED\s/m);
    expect(claude.stdout).toMatch(new RegExp(`^4  E_TOKEN_EXPIRED: .*expired at ${iso(expiresAt).replace(/\./g, '\\.')} .*no refresh token at /claudeAiOauth/refreshToken`, 'm'));
    const gemini = runCli(['explain', 'google-gemini-cli', ...at]);
    expect(gemini.stdout).toMatch(/^1 {2}E_POINTER_MISSING: .*\/refresh_token in .*oauth_creds\.json/m);
    const mistral = runCli(['explain', 'mistral', ...at]);
    expect(mistral.stdout).toMatch(/^2 {2}E_PROFILE_NOT_USABLE: .*mistral:work: api_key needs a non-empty key or a keyRef object/m);
    for (const run of [claude, gemini, mistral]) expect(run.stdout + run.stderr).not.toContain(SECRET);
  });
});

describe('auth-probe --config', () => {
  const { dir } = useFixture();
  const home = dir.path('home');
  dir.write('home/.keep', '');
  const envFile = dir.write('env', `OPENAI_API_KEY=${SECRET}\nMY_OPENAI_KEY=${SECRET}\n`);
  const base = ['--home', home, '--env-file', envFile];
  const config = dir.write('probes.json', {
    $schema: './node_modules/auth-probe-pool/schema/probe-config.schema.json',
    providers: { openai: [{ kind: 'env', vars: ['OTHER_OPENAI_KEY'] }], custom: [{ kind: 'env', vars: ['MY_OPENAI_KEY'] }] },
  });

  it('replaces a provider\'s built-in probes with the file\'s (and accepts a "$schema" key)', () => {
    const run = runCli(['check', 'openai', 'custom', 'groq', '--config', config, ...base]);
    const rows = tableRows(run.stdout);
    expect(rows.get('openai')).toMatch(/\bno\b/);
    expect(rows.get('custom')).toMatch(/\byes\s+\$MY_OPENAI_KEY\b/);
    // Providers the file does not name keep their built-in probes.
    expect(rows.has('groq')).toBe(true);
  });

  it('keeps the built-in probes too with --extend, and drops them all with --no-defaults', () => {
    expect(tableRows(runCli(['check', 'openai', '--config', config, '--extend', ...base]).stdout).get('openai')).toMatch(/\byes\s+\$OPENAI_API_KEY\b/);
    const alone = runCli(['check', '--config', config, '--no-defaults', ...base]);
    expect([...tableRows(alone.stdout).keys()]).toEqual(['custom', 'openai']);
  });

  it('names the field and line of each error, exits 2, and never prints a value', () => {
    const bad = dir.write(
      'bad.json',
      [
        '{',
        '  "providers": {',
        '    "openai": [',
        `      { "kind": "env", "vars": ["${SECRET}"] },`,
        '      { "kind": "credentialFile", "path": "~/x.json" }',
        '    ]',
        '  },',
        '  "alias": {}',
        '}',
        '',
      ].join('\n'),
    );
    const run = runCli(['check', '--config', bad, ...base]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`invalid probe configuration ${bad}`);
    expect(run.stderr).toContain(`${bad}:4:33: providers.openai[0].vars[0]: must be an environment variable name`);
    expect(run.stderr).toContain(`${bad}:5:7: providers.openai[1].pointer: needs pointer, require or anyOf`);
    expect(run.stderr).toContain(`${bad}:8:3: alias: not a known field`);
    expect(run.stderr).not.toContain(SECRET);
  });

  it('gives the line of a JSON syntax error without quoting the text', () => {
    const bad = dir.write('syntax.json', `{\n  "providers": {\n    "openai": [ { "kind": "env", "vars": ["${SECRET}"] } ],\n  }\n}\n`);
    const run = runCli(['check', '--config', bad, ...base]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${bad}:4:3: not valid JSON`);
    expect(run.stderr).not.toContain(SECRET);
  });

  it('exits 2 when the file cannot be read', () => {
    const run = runCli(['check', '--config', dir.path('missing.json'), ...base]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/cannot read .*missing\.json \(ENOENT\)/);
  });
});

describe('auth-probe usage', () => {
  it.each([
    [['check', '--frob'], /Unknown option '--frob'/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [[], /missing command/],
    [['explain'], /explain takes exactly one provider/],
    [['check', '--threads', 'many'], /--threads must be a whole number/],
    [['check', '--timeout', '0'], /--timeout must be a whole number/],
    [['check', '--home', '/nonexistent/home'], /--home .* is not a directory/],
    [['check', 'bad/../id'], /E_BAD_PROVIDER_ID|invalid provider id/],
    [['check', '--no-defaults'], /--no-defaults needs --config/],
  ])('exits 2 on bad usage: %j', (args, message) => {
    const run = runCli(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('exits non-zero, naming the file, when --env-file does not exist', () => {
    // Node itself checks an --env-file argument, even one after the script name (nodejs/node#54232),
    // and exits 9 before auth-probe runs; behind `--` it reaches auth-probe, which exits 2.
    const viaBin = runCli(['check', '--env-file', '/nonexistent/env']);
    expect(viaBin.status === 2 || viaBin.status === 9).toBe(true);
    expect(viaBin.stderr).toContain('/nonexistent/env');
    const direct = spawnSync(process.execPath, ['--', CLI, 'check', '--env-file', '/nonexistent/env'], { encoding: 'utf8', env: { PATH: process.env['PATH'] }, timeout: 30_000 });
    expect(direct.status).toBe(2);
    expect(direct.stderr).toMatch(/cannot read --env-file \/nonexistent\/env \(ENOENT\)/);
  });

  it('prints the usage with --help, and the package version with --version', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: auth-probe <command>/);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(runCli(['--version']).stdout.trim()).toBe(pkg.version);
  });

  it('is the package.json bin "auth-probe", an executable Node script', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(new URL(`../${pkg.bin['auth-probe']}`, import.meta.url).pathname).toBe(CLI);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });
});
