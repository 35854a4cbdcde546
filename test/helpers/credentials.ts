import type { TempDir } from './temp.js';

/** A value that must never appear in any output. */
export const SECRET = 'sk-fixture-secret-5e1f';

/**
 * Writes the credential files the CLIs write, in their real formats, under
 * `home` (relative to `dir`), and returns the home's absolute path.
 */
export function credentialHome(dir: TempDir, home: string): string {
  // Codex CLI after "Sign in with ChatGPT".
  dir.write(`${home}/.codex/auth.json`, {
    OPENAI_API_KEY: null,
    tokens: { id_token: SECRET, access_token: SECRET, refresh_token: SECRET, account_id: 'acct-1' },
    last_refresh: '2025-01-01T00:00:00Z',
  });
  // Claude Code on Linux.
  dir.write(`${home}/.claude/.credentials.json`, {
    claudeAiOauth: { accessToken: SECRET, refreshToken: SECRET, expiresAt: 1767225600000, scopes: ['user:inference'], subscriptionType: 'pro' },
  });
  // Gemini CLI, Qwen Code and the MiniMax portal: Google-style OAuth token files.
  const oauth = { access_token: SECRET, refresh_token: SECRET, token_type: 'Bearer', expiry_date: 1767225600000 };
  dir.write(`${home}/.gemini/oauth_creds.json`, { ...oauth, scope: 'https://www.googleapis.com/auth/cloud-platform', id_token: SECRET });
  dir.write(`${home}/.qwen/oauth_creds.json`, { ...oauth, resource_url: 'portal.qwen.ai' });
  dir.write(`${home}/.minimax/oauth_creds.json`, oauth);
  // Copilot editor plugins.
  dir.write(`${home}/.config/github-copilot/hosts.json`, { 'github.com': { user: 'octocat', oauth_token: SECRET } });
  // `gcloud auth application-default login`.
  dir.write(`${home}/.config/gcloud/application_default_credentials.json`, {
    client_id: 'id.apps.googleusercontent.com',
    client_secret: SECRET,
    refresh_token: SECRET,
    type: 'authorized_user',
  });
  // OpenClaw's main agent store.
  dir.write(`${home}/.openclaw/agents/main/agent/auth-profiles.json`, {
    version: 1,
    profiles: { 'zai:default': { type: 'api_key', provider: 'zai', key: SECRET } },
  });
  return dir.path(home);
}
