/**
 * The mixed configuration of `first-sweep` and `memory`, as a gateway's
 * first sweep meets it (`first-use.ts`' mix): a third of the providers
 * answer from env (every other one set), a sixth from a credential file
 * (every other one holding a token), `MIXED_CLIS` from a fake CLI that
 * sleeps `MIXED_CLI_MS` and exits 0, the rest from the agent's
 * `auth-profiles.json` through `defaults` (two in three of them in it).
 */
import { join } from 'node:path';
import type { ProbeConfig } from '../src/index.js';
import { writeFile, writeScript } from './scenario-util.js';

/** Fake CLIs of the mix, and how long each sleeps, in milliseconds. */
export const MIXED_CLIS = 4;
export const MIXED_CLI_MS = 200;

export interface MixedWorld {
  readonly ids: readonly string[];
  readonly config: ProbeConfig;
  /** The pool's env: PATH, HOME and the set keys. */
  readonly vars: Readonly<Record<string, string>>;
  readonly agentDir: string;
  readonly expected: readonly boolean[];
  /** A provider whose CLI is the slowest probe of the mix: the critical path, alone. */
  readonly slowest: string;
}

export function mixedWorld(root: string, n: number): MixedWorld {
  const agentDir = join(root, 'agent');
  const envCount = Math.ceil(n / 3);
  const fileCount = Math.ceil(n / 6);
  const cliCount = Math.max(0, Math.min(MIXED_CLIS, n - envCount - fileCount));
  const cli = writeScript(join(root, 'bin'), 'fake-cli', `sleep ${(MIXED_CLI_MS / 1000).toFixed(3)}\nexit 0`);
  const vars: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: root };
  const ids: string[] = [];
  const expected: boolean[] = [];
  const providers: ProbeConfig['providers'] = {};
  const profiles: Record<string, unknown> = {};
  let slowest = '';
  for (let i = 0; i < n; i++) {
    const id = `m${String(i).padStart(5, '0')}`;
    const key = `${id.toUpperCase()}_KEY`;
    ids.push(id);
    if (i < envCount) {
      providers[id] = [{ kind: 'env', vars: [key] }];
      if (i % 2 === 0) vars[key] = `sk-${i}-0123456789abcdef`;
      expected.push(i % 2 === 0);
    } else if (i < envCount + fileCount) {
      const file = writeFile(join(root, 'creds', `${id}.json`), JSON.stringify({ tokens: { access_token: i % 2 === 0 ? `at-${i}-0123456789abcdef` : '' } }));
      providers[id] = [
        { kind: 'env', vars: [key] },
        { kind: 'credentialFile', path: file, pointer: '/tokens/access_token' },
      ];
      expected.push(i % 2 === 0);
    } else if (i < envCount + fileCount + cliCount) {
      providers[id] = [{ kind: 'command', command: cli, timeoutMs: MIXED_CLI_MS + 10_000 }];
      expected.push(true);
      slowest ||= id;
    } else {
      providers[id] = [{ kind: 'env', vars: [key] }];
      const inStore = i % 3 !== 0;
      if (inStore) profiles[`${id}:default`] = { type: 'api_key', provider: id, key: `sk-store-${i}-0123456789abcdef` };
      expected.push(inStore);
    }
  }
  writeFile(join(agentDir, 'auth-profiles.json'), JSON.stringify({ version: 1, profiles }));
  return {
    ids,
    config: { providers, defaults: [{ kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' }] },
    vars,
    agentDir,
    expected,
    slowest: slowest || (ids[0] as string),
  };
}
