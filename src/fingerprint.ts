/**
 * File fingerprints: a cheap identity of a file's content (device, inode,
 * size, mtime and ctime in nanoseconds). Workers record one for every path a
 * probe consulted; the main thread compares them after a watch event or on
 * the polling fallback, so only answers whose files really changed are
 * re-probed. Shared by both sides so they agree on the format.
 */
import { stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';

/** The fingerprint of a path that does not exist. */
export const MISSING = 'missing';

export function fingerprintOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The fingerprint for a failed stat: `missing`, or `error:<code>`. */
export function fingerprintOfError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? MISSING : `error:${code ?? 'unknown'}`;
}

/** Main thread: the path's fingerprint now, without blocking the event loop. */
export async function currentFingerprint(path: string): Promise<string> {
  try {
    return fingerprintOf(await stat(path, { bigint: true }));
  } catch (err) {
    return fingerprintOfError(err);
  }
}

/** What a probe consulted: path → fingerprint at the time. */
export type Dependencies = Map<string, string>;
