/**
 * The configuration `auth-probe` runs with: the built-in set, the keychain
 * preset with `--keychain`, and a `--config` file laid over them. A bad file
 * is reported field by field with its line, as `file:line:column: field: reason`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadProbeConfig } from '../config/compile.js';
import { defaultProbeConfig, keychainProbeConfig } from '../config/defaults.js';
import { AuthProbeError } from '../errors.js';
import { locateJsonPath, locateJsonSyntaxError, type JsonPosition } from '../config/json-locate.js';
import { mergeProbeConfig } from '../config/merge.js';
import type { ProbeConfig } from '../config/schema.js';
import { formatZodError } from '../config/zod-errors.js';
import { CliError, type CliArgs } from './args.js';

export interface CliConfig {
  readonly probes: ProbeConfig;
  /** Where relative paths in the config resolve: the file's directory, or the working directory. */
  readonly configDir: string;
}

export function cliConfig(args: Pick<CliArgs, 'config' | 'extend' | 'noDefaults' | 'keychain'>): CliConfig {
  let builtIn = defaultProbeConfig;
  if (args.keychain) builtIn = mergeProbeConfig(builtIn, keychainProbeConfig, { providers: 'extend' });
  if (args.config === undefined) return { probes: builtIn, configDir: process.cwd() };
  const user = loadCliConfigFile(args.config);
  if (args.noDefaults) return user;
  return { probes: mergeProbeConfig(builtIn, user.probes, { providers: args.extend ? 'extend' : 'replace' }), configDir: user.configDir };
}

/** `loadProbeConfig`, with each error located in the file's text. */
export function loadCliConfigFile(file: string): CliConfig {
  try {
    return loadProbeConfig(file);
  } catch (err) {
    if (!(err instanceof AuthProbeError)) throw err;
    throw new CliError(configErrorReport(resolve(file), err));
  }
}

function configErrorReport(path: string, err: AuthProbeError): string {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return err.message; // unreadable: loadProbeConfig's message says why
  }
  const header = `invalid probe configuration ${path}`;
  if (!(err.cause instanceof z.ZodError)) {
    const at = locateJsonSyntaxError(text);
    return at ? `${header}\n  ${where(path, at)}: not valid JSON` : err.message;
  }
  const lines = err.cause.issues.slice(0, 20).map((issue) => {
    // An unknown key is reported on its parent object; name and point at the key itself.
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const named = unknown === undefined ? issue : { ...issue, path: [...issue.path, unknown], message: 'not a known field' };
    const at = locateJsonPath(text, named.path);
    // formatZodError names the field and never quotes a value.
    const reason = formatZodError(new z.ZodError([named]));
    return `  ${at ? `${where(path, at)}: ` : ''}${reason}`;
  });
  return [header, ...lines].join('\n');
}

const where = (path: string, at: JsonPosition): string => `${path}:${at.line}:${at.column}`;
