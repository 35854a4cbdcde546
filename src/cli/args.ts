/**
 * `auth-probe` command-line arguments, parsed with node:util's parseArgs.
 * Bad usage is a {@link CliError} with exit code 2.
 */
import { parseArgs } from 'node:util';

export const USAGE = `Usage: auth-probe <command> [options]

Commands:
  check [provider...]   Probe the providers (default: every configured one) and print
                        provider, auth, source and time. Exit 0 when every named provider
                        has auth (with none named: when any has), 1 otherwise.
  explain <provider>    Show every probe tried for the provider, its outcome and error code.
  schema                Print the JSON Schema of a probe configuration file.

Options:
  --config FILE         A JSON probe configuration laid over the built-in set: a provider
                        it lists replaces that provider's built-in probes.
  --extend              Run the config's probes after a provider's built-in ones instead.
  --no-defaults         Use the config alone, without the built-in set.
  --keychain            Add the macOS keychain lookups (may show an unlock dialog).
  --home DIR            Resolve ~ and $HOME against DIR.
  --env-file FILE       Probe the KEY=VALUE variables of FILE instead of this shell's
                        environment (PATH and HOME are kept unless FILE sets them).
  --agent-dir DIR       The agent directory for {agentDir} paths (auth-profiles.json).
  --threads N           Worker threads, at most (default: up to 4).
  --timeout MS          Deadline of one probe in milliseconds (default 5000).
  --json                Print JSON instead of a table.
  -h, --help            Show this help.
  -v, --version         Show the version.
`;

/** An error the CLI reports on stderr and exits with; never carries a secret value. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CliArgs {
  readonly command: 'check' | 'explain' | 'schema' | 'help' | 'version';
  readonly providers: readonly string[];
  readonly config?: string;
  readonly extend: boolean;
  readonly noDefaults: boolean;
  readonly keychain: boolean;
  readonly home?: string;
  readonly envFile?: string;
  readonly agentDir?: string;
  readonly threads?: number;
  /** Milliseconds. */
  readonly timeoutMs?: number;
  readonly json: boolean;
}

const OPTIONS = {
  config: { type: 'string' },
  extend: { type: 'boolean' },
  'no-defaults': { type: 'boolean' },
  keychain: { type: 'boolean' },
  home: { type: 'string' },
  'env-file': { type: 'string' },
  'agent-dir': { type: 'string' },
  threads: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** Node's parseArgs over `OPTIONS`, its error a usage error. */
function parseStrict(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the offending option; it never echoes an option's value.
    throw new CliError(`${(err as Error).message}\n(auth-probe --help shows the usage)`);
  }
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseStrict(argv);
  const [command, ...providers] = positionals;
  const args = {
    providers,
    extend: values.extend ?? false,
    noDefaults: values['no-defaults'] ?? false,
    keychain: values.keychain ?? false,
    json: values.json ?? false,
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(values.home !== undefined ? { home: values.home } : {}),
    ...(values['env-file'] !== undefined ? { envFile: values['env-file'] } : {}),
    ...(values['agent-dir'] !== undefined ? { agentDir: values['agent-dir'] } : {}),
    ...(values.threads !== undefined ? { threads: positiveInt('--threads', values.threads, 64) } : {}),
    ...(values.timeout !== undefined ? { timeoutMs: positiveInt('--timeout', values.timeout, 600_000) } : {}),
  };
  if (values.help) return { ...args, command: 'help' };
  if (values.version) return { ...args, command: 'version' };
  if (args.noDefaults && args.config === undefined) throw new CliError('--no-defaults needs --config FILE');
  switch (command) {
    case undefined:
      throw new CliError('missing command: check, explain or schema');
    case 'check':
    case 'schema':
      if (command === 'schema' && providers.length > 0) throw new CliError('schema takes no arguments');
      return { ...args, command };
    case 'explain':
      if (providers.length !== 1) throw new CliError('explain takes exactly one provider');
      return { ...args, command };
    default:
      throw new CliError(`unknown command "${command}": use check, explain or schema`);
  }
}

function positiveInt(flag: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new CliError(`${flag} must be a whole number from 1 to ${max}`);
  return n;
}
