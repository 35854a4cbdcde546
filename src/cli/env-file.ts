/**
 * The environment `auth-probe` probes: this process's, or with `--env-file`
 * the file's variables instead (what a service started with that file would
 * see), and with `--home` a different HOME. Values are passed to the pool and
 * never printed.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as util from 'node:util';
import { CliError } from './args.js';

type Env = Record<string, string | undefined>;

/** Variables kept from this process under `--env-file` unless the file sets them: commands need PATH, `~` needs HOME. */
const KEPT = ['PATH', 'HOME'] as const;

/** Largest env file read, in bytes. */
const MAX_ENV_FILE_BYTES = 1024 * 1024;

export function probeEnv(options: { envFile?: string; home?: string }, processEnv: Env): Env {
  let env: Env;
  if (options.envFile === undefined) env = { ...processEnv };
  else {
    env = {};
    for (const name of KEPT) if (processEnv[name] !== undefined) env[name] = processEnv[name];
    Object.assign(env, readEnvFile(options.envFile));
  }
  if (options.home !== undefined) env['HOME'] = existingDir('--home', options.home);
  return env;
}

/** Parses `KEY=VALUE` lines (comments, quotes and `export` as dotenv and `node --env-file` accept them). */
export function readEnvFile(file: string): Record<string, string> {
  const parseEnv = (util as { parseEnv?: (content: string) => Record<string, string> }).parseEnv;
  if (typeof parseEnv !== 'function') throw new CliError(`--env-file needs Node 20.12 or later (this is ${process.version})`);
  const path = resolve(file);
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new CliError(`--env-file ${path} is not a regular file`);
    if (stat.size > MAX_ENV_FILE_BYTES) throw new CliError(`--env-file ${path} is larger than ${MAX_ENV_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read --env-file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseEnv(text);
}

function existingDir(flag: string, dir: string): string {
  const path = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new CliError(`${flag} ${path} is not a directory`);
  return path;
}
