/**
 * The benchmark's world, generated in a temp dir from a seed: an agent dir
 * with a multi-MB `auth-profiles.json`, CLI credential files in the formats
 * real CLIs write, fake CLIs (shell scripts) that take realistic times, a
 * keyring module probe that hashes, and the probe configuration over all of
 * it. Nothing is read from the host but `PATH`, `/bin/sh` and `sleep`.
 */
import { createHash, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probe, ProbeConfig } from '../src/config/schema.js';
import { credentialFiles, keyringModuleSource, type CredentialFileKind } from './scenario-files.js';
import { seededRandom, token, writeFile, writeScript, type Random } from './scenario-util.js';

/** How a provider gets (or fails to get) its auth. */
export type ProviderKind = 'store' | 'env' | CredentialFileKind | 'keychain' | 'slow-cli' | 'hung-cli' | 'keyring' | 'none';

export interface ScenarioOptions {
  /** Providers in the sweep. */
  readonly providers: number;
  /** A keychain-style CLI lookup's duration, in milliseconds; slow CLIs take 18×, hung ones are killed at 30× (at least 500 ms). */
  readonly cliMs: number;
  readonly seed: number;
  /** PBKDF2-SHA256 iterations of the keyring probe (CPU work per check: about 35 ms at 100000 on a 2020s core). */
  readonly hashIterations: number;
}

export interface Scenario {
  readonly root: string;
  readonly agentDir: string;
  readonly home: string;
  /** The probe configuration; relative paths resolve against `root`. */
  readonly config: ProbeConfig;
  /** Provider ids in sweep order. */
  readonly providers: readonly string[];
  readonly kinds: Readonly<Record<string, ProviderKind>>;
  /** The providers that have auth, sorted: what every mode's sweep must answer. */
  readonly expected: readonly string[];
  /** The env probes see (and the CLIs run with). */
  readonly env: Readonly<Record<string, string>>;
  /** Profiles in the store, providers they span, and its size in bytes. */
  readonly store: { readonly profiles: number; readonly providers: number; readonly bytes: number };
  /** Milliseconds after which a hung CLI is killed. */
  readonly hangTimeoutMs: number;
  /** Bumps the mtime of every file a probe parses, so each thread's parsed-file cache misses: the next sweep is cold. */
  touch(): void;
  cleanup(): void;
}

/**
 * Share of providers per kind, in the order slots are handed out: each kind
 * gets one slot first (while there are slots), then its share; the rest have
 * no auth anywhere.
 */
const MIX: readonly (readonly [ProviderKind, number])[] = [
  ['store', 0.35],
  ['keychain', 0.15],
  ['hung-cli', 0.01],
  ['keyring', 0.05],
  ['env', 0.1],
  ['codex', 0],
  ['slow-cli', 0.02],
  ['claude', 0],
  ['gemini', 0],
];

const NAMES = [
  'openai',
  'anthropic',
  'google',
  'mistral',
  'groq',
  'deepseek',
  'xai',
  'together',
  'fireworks',
  'openrouter',
  'cohere',
  'perplexity',
  'cerebras',
  'moonshot',
  'zai',
  'minimax',
  'qwen',
  'bedrock',
  'vertex',
  'azure',
];
const CLI_IDS: Record<CredentialFileKind, string> = { codex: 'openai-codex', claude: 'claude-cli', gemini: 'google-gemini-cli' };

/** The kind of each of `n` providers, shuffled by `random`. */
export function assignKinds(n: number, random: Random): ProviderKind[] {
  const slots: ProviderKind[] = MIX.map(([kind]) => kind);
  for (const [kind, share] of MIX) for (let i = 1; i < Math.round(share * n); i++) slots.push(kind);
  const kinds = slots.slice(0, n);
  while (kinds.length < n) kinds.push('none');
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j] as ProviderKind, kinds[i] as ProviderKind];
  }
  return kinds;
}

const envName = (id: string) => `${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;

/** Builds the scenario in a fresh temp dir. Deterministic for equal options (but for the temp dir's name). */
export function buildScenario(options: ScenarioOptions): Scenario {
  const random = seededRandom(options.seed);
  const root = mkdtempSync(join(tmpdir(), 'auth-probe-bench-'));
  try {
    return populate(root, options, random);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function populate(root: string, options: ScenarioOptions, random: Random): Scenario {
  const agentDir = join(root, 'agent');
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  const sec = (ms: number) => (ms / 1000).toFixed(3);
  const hangTimeoutMs = Math.max(30 * options.cliMs, 500);
  const passphrase = token(random, 24);
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, KEYRING_PASSPHRASE: passphrase };
  const parsed: string[] = [];

  const keychain = writeScript(bin, 'keychain', `sleep ${sec(options.cliMs)}\nif [ -f "$HOME/.keychain/$1" ]; then echo "kc-$1"; exit 0; fi\nexit 44`);
  const slowCli = writeScript(bin, 'slow-cli', `sleep ${sec(18 * options.cliMs)}\necho "ya29.$1"`);
  const hungCli = writeScript(bin, 'hung-cli', 'exec sleep 3600');
  writeFile(join(root, 'probes', 'keyring.mjs'), keyringModuleSource());

  const kinds = assignKinds(options.providers, random);
  const providers: string[] = [];
  const byId: Record<string, ProviderKind> = {};
  const expected: string[] = [];
  const probes: Record<string, Probe[]> = {};
  const count: Partial<Record<ProviderKind, number>> = {};
  const storeProbe: Probe = { kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' };

  kinds.forEach((kind, i) => {
    const nth = (count[kind] = (count[kind] ?? 0) + 1);
    const id = kind === 'codex' || kind === 'claude' || kind === 'gemini' ? CLI_IDS[kind] : `${NAMES[i % NAMES.length]}-${String(i).padStart(3, '0')}`;
    const own: Probe[] = [storeProbe, { kind: 'env', vars: [envName(id)] }];
    // Every other keychain entry and keyring is missing, and so answers no.
    let auth = kind !== 'none' && kind !== 'hung-cli';
    switch (kind) {
      case 'env':
        env[envName(id)] = `sk-${token(random, 40)}`;
        break;
      case 'codex':
      case 'claude':
      case 'gemini': {
        const file = credentialFiles(random)[kind];
        parsed.push(writeFile(join(home, file.path), JSON.stringify(file.json, null, 2)));
        own.push({ kind: 'credentialFile', path: `~/${file.path}`, pointer: file.pointer });
        break;
      }
      case 'keychain':
        auth = nth % 3 !== 0;
        if (auth) writeFile(join(home, '.keychain', id), token(random, 32));
        own.push({ kind: 'command', command: keychain, args: [id], requireStdout: true, label: 'keychain' });
        break;
      case 'slow-cli':
        own.push({ kind: 'command', command: slowCli, args: [id], requireStdout: true, label: 'slow cli' });
        break;
      case 'hung-cli':
        own.push({ kind: 'command', command: hungCli, args: [id], timeoutMs: hangTimeoutMs, label: 'hung cli' });
        break;
      case 'keyring': {
        auth = nth % 2 === 1;
        const salt = Buffer.from(token(random, 16));
        const check = pbkdf2Sync(auth ? passphrase : `not-${passphrase}`, salt, options.hashIterations, 32, 'sha256');
        const entry = { salt: salt.toString('base64'), iterations: options.hashIterations, check: check.toString('base64') };
        parsed.push(writeFile(join(home, '.keyring', `${id}.json`), JSON.stringify(entry)));
        own.push({ kind: 'module', module: './probes/keyring.mjs', label: 'keyring' });
        break;
      }
    }
    providers.push(id);
    byId[id] = kind;
    probes[id] = own;
    if (auth) expected.push(id);
  });

  const store = writeStore(
    agentDir,
    providers.filter((id) => byId[id] === 'store'),
    options.providers,
    random,
  );
  parsed.push(store.path);
  let generation = 0;
  return {
    root,
    agentDir,
    home,
    config: { providers: probes },
    providers,
    kinds: byId,
    expected: expected.sort(),
    env,
    store: { profiles: store.profiles, providers: store.providers, bytes: store.bytes },
    hangTimeoutMs,
    touch() {
      // A time in the past that moves on each call: a fingerprint never repeats.
      const at = new Date(Date.UTC(2020, 0, 1) + ++generation * 1000);
      for (const file of parsed) utimesSync(file, at, at);
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * `auth-profiles.json` as a gateway keeps it: profiles keyed
 * `<provider>:<name>`, about 1.2 KB each (OAuth tokens, refresh tokens,
 * metadata), 15 per swept provider, over the swept store providers and as
 * many providers again that no sweep asks about.
 */
function writeStore(agentDir: string, owners: readonly string[], n: number, random: Random) {
  const others = Array.from({ length: n }, (_, i) => `retired-${NAMES[i % NAMES.length]}-${i}`);
  const all = [...owners, ...others];
  const profiles: Record<string, unknown> = {};
  const total = Math.max(15 * n, all.length);
  for (let i = 0; i < total; i++) {
    // Every store provider gets one profile first; the rest land at random.
    const provider = i < all.length ? (all[i] as string) : (all[Math.floor(random() * all.length)] as string);
    const oauth = random() < 0.6;
    profiles[`${provider}:p${i}`] = oauth
      ? { type: 'oauth', provider, access: token(random, 900), refresh: token(random, 180), expires: 1_900_000_000_000 + i, email: `user${i}@example.test` }
      : { type: 'api_key', provider, key: `sk-${token(random, 100)}`, label: `key ${i}`, createdAt: '2025-01-01T00:00:00Z' };
  }
  const text = JSON.stringify({ version: 1, profiles, lastGood: {}, usageStats: { hash: createHash('sha256').update(String(total)).digest('hex') } });
  const path = writeFile(join(agentDir, 'auth-profiles.json'), text);
  return { path, profiles: total, providers: all.length, bytes: Buffer.byteLength(text) };
}
