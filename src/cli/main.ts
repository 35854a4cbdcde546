/**
 * `auth-probe`: the command-line tool. Parses arguments, runs a command, and
 * maps what went wrong to an exit code: 0 all named providers have auth, 1
 * some lack it, 2 bad usage, configuration or environment.
 */
import { readFileSync } from 'node:fs';
import { AuthProbeError } from '../errors.js';
import { probeConfigJsonSchema } from '../config/json-schema.js';
import { CliError, parseCliArgs, USAGE, type CliArgs } from './args.js';
import { runCheck } from './check.js';
import { runExplain } from './explain.js';
import type { CliStreams } from './progress.js';
import { openSession } from './session.js';

export interface CliIo extends CliStreams {
  /** The environment of this process; probes see it unless `--env-file` is given. */
  readonly env: Record<string, string | undefined>;
}

/** Runs `auth-probe` with `argv` (without node and the script) and resolves to its exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(parseCliArgs(argv), io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`auth-probe: ${err.message}\n`);
      return err.exitCode;
    }
    // The library's messages name fields and codes, never values.
    const message = err instanceof AuthProbeError ? err.message : `unexpected ${err instanceof Error ? err.name : typeof err}`;
    io.stderr.write(`auth-probe: ${message}\n`);
    return 2;
  }
}

async function dispatch(args: CliArgs, io: CliIo): Promise<number> {
  switch (args.command) {
    case 'help':
      io.stdout.write(USAGE);
      return 0;
    case 'version':
      io.stdout.write(`${version()}\n`);
      return 0;
    case 'schema':
      io.stdout.write(`${JSON.stringify(probeConfigJsonSchema(), null, 2)}\n`);
      return 0;
    case 'check':
    case 'explain': {
      const session = openSession(args, io.env);
      try {
        return args.command === 'check' ? await runCheck(args, session, io) : await runExplain(args, session, io);
      } finally {
        await session.pool.close({ force: true });
      }
    }
  }
}

function version(): string {
  // dist/src/cli/main.js → the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
