/**
 * What the scenario's credential files and keyring module contain: the
 * shapes the real CLIs write, with made-up tokens.
 */
import { token, type Random } from './scenario-util.js';

export type CredentialFileKind = 'codex' | 'claude' | 'gemini';

export interface CredentialFile {
  /** Relative to the home directory. */
  readonly path: string;
  /** Where the token is, as a JSON pointer. */
  readonly pointer: string;
  readonly json: unknown;
}

/** One credential file per CLI: Codex `auth.json`, Claude `.credentials.json`, Gemini `oauth_creds.json`. */
export function credentialFiles(random: Random): Record<CredentialFileKind, CredentialFile> {
  const jwt = () => `eyJ${token(random, 36)}.${token(random, 320)}.${token(random, 86)}`;
  return {
    codex: {
      path: '.codex/auth.json',
      pointer: '/tokens/access_token',
      json: {
        OPENAI_API_KEY: null,
        tokens: { id_token: jwt(), access_token: jwt(), refresh_token: `rt_${token(random, 64)}`, account_id: token(random, 36) },
        last_refresh: '2025-06-01T12:00:00.000Z',
      },
    },
    claude: {
      path: '.claude/.credentials.json',
      pointer: '/claudeAiOauth/accessToken',
      json: {
        claudeAiOauth: {
          accessToken: `sk-ant-oat01-${token(random, 95)}`,
          refreshToken: `sk-ant-ort01-${token(random, 95)}`,
          expiresAt: 1_900_000_000_000,
          scopes: ['user:inference', 'user:profile'],
          subscriptionType: 'pro',
        },
      },
    },
    gemini: {
      path: '.gemini/oauth_creds.json',
      pointer: '/access_token',
      json: {
        access_token: `ya29.${token(random, 200)}`,
        refresh_token: `1//${token(random, 100)}`,
        scope: 'https://www.googleapis.com/auth/cloud-platform openid',
        token_type: 'Bearer',
        id_token: jwt(),
        expiry_date: 1_900_000_000_000,
      },
    },
  };
}

/**
 * A module probe that unlocks a per-provider keyring entry: PBKDF2-SHA256 of
 * the passphrase from the env, compared with the entry's check value. CPU
 * work on whichever thread runs it, as a local keyring decrypt is.
 */
export function keyringModuleSource(): string {
  return `import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export default function keyring({ provider, env }) {
  let entry;
  try {
    entry = JSON.parse(readFileSync(join(env.HOME, '.keyring', provider + '.json'), 'utf8'));
  } catch {
    return false;
  }
  const key = pbkdf2Sync(env.KEYRING_PASSPHRASE ?? '', Buffer.from(entry.salt, 'base64'), entry.iterations, 32, 'sha256');
  return timingSafeEqual(key, Buffer.from(entry.check, 'base64'));
}
`;
}
