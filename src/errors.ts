/**
 * Every error this library reports, in one table. Codes are stable strings a
 * caller can switch on; messages never contain a secret value. Across the
 * thread boundary errors travel as plain `{ code, message }` data (Piscina
 * turns custom error classes into plain `Error`), and on the main thread the
 * {@link AuthProbeError} class carries the code.
 */
export const ERROR_CODES = {
  E_BAD_OPTIONS: 'invalid pool options',
  E_BAD_CONFIG: 'invalid probe configuration',
  E_BAD_PROVIDER_ID: 'invalid provider id',
  E_BAD_MODEL_API: 'invalid modelApi',
  E_BAD_SCOPE: 'invalid scope',
  E_POOL_CLOSED: 'the pool is closed',
  E_CHANNEL_CLOSED: 'the channel to the shared checker is closed',
  E_BAD_CHANNEL_REPLY: 'the shared checker sent a malformed reply',
  E_QUEUE_FULL: 'the probe queue is full',
  E_PROBE_TIMEOUT: 'the probe did not finish before its deadline',
  E_PROBE_FAILED: 'the probe failed unexpectedly',
  E_WORKER_CRASHED: 'the worker running the probe died',
  E_BAD_WORKER_RESULT: 'the worker returned a malformed result',
  E_ENV_UNSET: 'none of the variables is set',
  E_TEMPLATE_UNRESOLVED: 'the path template could not be resolved',
  E_PATH_REFUSED: 'the path is outside the allowed roots or its template value is unsafe',
  E_FILE_NOT_FOUND: 'the file does not exist',
  E_FILE_NOT_REGULAR: 'the path is not a regular file',
  E_FILE_TOO_LARGE: 'the file is larger than the limit',
  E_FILE_UNREADABLE: 'the file could not be read',
  E_JSON_INVALID: 'the file is not valid JSON',
  E_STORE_INVALID: 'the auth profile store has an unexpected shape',
  E_NO_PROFILE: 'no profile in the store matches the provider',
  E_PROFILE_NOT_USABLE: 'no profile of the provider in the store is usable',
  E_SQLITE_UNAVAILABLE: 'reading a SQLite store needs node:sqlite, which this Node lacks (Node 22.13 or later, or 24)',
  E_STORE_BUSY: 'the SQLite store was busy or locked by a writer past the short busy timeout',
  E_STORE_CORRUPT: 'the SQLite store is corrupt or not a database',
  E_STORE_SCHEMA_UNKNOWN: 'the SQLite store lacks the tables or columns the gateway keeps auth profiles in',
  E_STORE_SCHEMA_NEWER: 'the SQLite store has a newer schema version (user_version) than this library reads',
  E_STORE_UNREADABLE: 'the SQLite store could not be read',
  E_SHARED_STORE_INVALID: 'the shared auth store location is not one the gateway accepts (INVALID_SHARED_AUTH_STORE_OWNERSHIP)',
  E_STORE_MIGRATION_REQUIRED:
    "the agent's SQLite store has no profiles and a legacy auth-profiles.json lies beside it: the gateway refuses the agent until `openclaw doctor --fix` (AUTH_PROFILE_MIGRATION_REQUIRED)",
  E_POINTER_MISSING: 'the JSON pointer does not name a non-empty string',
  E_EXPIRY_MISSING: 'the expiry is missing or not a valid time',
  E_TOKEN_EXPIRED: 'the login has expired, or expires within the skew, and cannot be refreshed',
  E_COMMAND_NOT_FOUND: 'the command was not found',
  E_COMMAND_FAILED: 'the command exited unsuccessfully',
  E_COMMAND_NO_OUTPUT: 'the command printed nothing',
  E_MODULE_LOAD: 'the probe module could not be loaded',
  E_MODULE_THREW: 'the probe module threw',
  E_MODULE_FALSE: 'the probe module answered false',
  E_MODULE_BAD_RESULT: 'the probe module did not return a boolean',
  E_PLATFORM_SKIPPED: 'the probe does not run on this platform',
  E_ENV_OVERRIDDEN: 'the probe is skipped: a variable that takes precedence over it is set',
} as const;

/** A stable error code, e.g. `E_PROBE_TIMEOUT`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error as it crosses a thread boundary or appears in an `explain()` report. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The longest error message, in characters: a detail quoting a long path is cut to fit. */
export const MAX_MESSAGE_CHARS = 1000;

/**
 * Builds error data; `detail` is appended to the code's fixed message, and the
 * whole is cut to {@link MAX_MESSAGE_CHARS} (its middle elided, so both the
 * start of a path and the file it names stay readable).
 */
export function errorData(code: ErrorCode, detail?: string): ErrorData {
  const message = detail ? `${ERROR_CODES[code]}: ${detail}` : ERROR_CODES[code];
  return { code, message: message.length <= MAX_MESSAGE_CHARS ? message : elide(message, MAX_MESSAGE_CHARS) };
}

function elide(text: string, max: number): string {
  const tail = Math.floor((max - 1) / 3);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

/**
 * What may be said of an error someone else's code raised (a module probe, a
 * worker that died of it): its name, and its `code` when that looks like one
 * (`ERR_WORKER_OUT_OF_MEMORY`), never its message, which may quote a secret.
 */
export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const name = /^[A-Za-z]{1,64}$/.test(err.name) ? err.name : 'Error';
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? `${name} ${code}` : name;
}

/** The error class every rejection from this library uses; switch on `code`. */
export class AuthProbeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(errorData(code, detail).message, options);
    this.name = 'AuthProbeError';
    this.code = code;
  }

  static from(data: ErrorData): AuthProbeError {
    const err = new AuthProbeError(data.code);
    err.message = data.message;
    return err;
  }
}
