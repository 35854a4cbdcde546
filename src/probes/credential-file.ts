import type { z } from 'zod';
import { errorData } from '../errors.js';
import type { CredentialFileProbeSchema } from '../config/schema.js';
import { resolveProbePath } from '../config/templates.js';
import type { ProbeContext } from './context.js';
import { describeExpiry, expiryMs, stillValid, validUntilOf } from './expiry.js';
import { deriveFromJsonFile, type FileRead } from './files.js';
import { fromRead, present, unresolved, type Verdict } from './verdict.js';

type CredentialFileProbe = z.infer<typeof CredentialFileProbeSchema>;

/** RFC 6901: `/a/b~1c` names `json.a["b/c"]`. Own properties only. */
function atPointer(json: unknown, pointer: string): unknown {
  let node = json;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const names = (json: unknown, pointer: string): boolean => {
  const value = atPointer(json, pointer);
  return typeof value === 'string' && value.trim() !== '';
};

/**
 * What the file says, independent of the clock, so it can be cached by the
 * file's fingerprint: the login's expiry (when the probe has one) and whether
 * a refresh token is there. Only these facts leave this function, never a value.
 */
interface FileFacts {
  readonly expiresAtMs: number | undefined;
  readonly refreshable: boolean;
}

function factsOf(json: unknown, probe: CredentialFileProbe, path: string): FileRead<FileFacts> {
  const lacking = (message: string): FileRead<FileFacts> => ({ ok: false, error: errorData('E_POINTER_MISSING', message), missing: true });
  for (const pointer of [...(probe.pointer !== undefined ? [probe.pointer] : []), ...(probe.require ?? [])]) {
    if (!names(json, pointer)) return lacking(`${pointer} in ${path}`);
  }
  if (probe.anyOf !== undefined && !probe.anyOf.some((group) => group.every((pointer) => names(json, pointer)))) {
    // For each alternative, the first pointer it lacks: the shortest account of what would make the file count.
    const gaps = probe.anyOf.map((group) => group.find((pointer) => !names(json, pointer)) as string);
    return lacking(`${gaps.join(' or ')} in ${path} (no alternative of anyOf is complete)`);
  }
  if (probe.expiry === undefined) return { ok: true, value: { expiresAtMs: undefined, refreshable: false } };
  const expiresAtMs = expiryMs(atPointer(json, probe.expiry.pointer), probe.expiry.unit);
  if (expiresAtMs === undefined) {
    const wanted = probe.expiry.unit === 'iso' ? 'an ISO 8601 date' : `a positive number of ${probe.expiry.unit === 's' ? 'seconds' : 'milliseconds'}`;
    return { ok: false, error: errorData('E_EXPIRY_MISSING', `${probe.expiry.pointer} in ${path} is not ${wanted}`), missing: true };
  }
  return { ok: true, value: { expiresAtMs, refreshable: probe.refresh !== undefined && names(json, probe.refresh) } };
}

/**
 * True when the file parses and holds what the probe requires (see
 * `CredentialFileProbeSchema`). A login that rests on its expiry alone is
 * reported with `validUntil`; one with a refresh token does not end.
 */
export function credentialFileProbe(probe: CredentialFileProbe, ctx: ProbeContext): Verdict {
  const where = resolveProbePath(probe.path, ctx);
  if (!where.ok) return unresolved(where.error);
  const path = where.path;
  const key = `credentialFile:${JSON.stringify([probe.pointer, probe.require, probe.anyOf, probe.expiry, probe.refresh])}`;
  const read = deriveFromJsonFile(path, key, ctx.init.maxFileBytes, ctx.deps, (json) => factsOf(json, probe, path), ctx.memo);
  if (!read.ok) return fromRead(read.error, read.missing, { path });
  const { expiresAtMs, refreshable } = read.value;
  if (expiresAtMs === undefined || refreshable) return present({ path });
  const skewMs = ctx.init.expirySkewMs;
  if (stillValid(expiresAtMs, skewMs)) return present({ path }, validUntilOf(expiresAtMs, skewMs));
  const noRefresh = probe.refresh !== undefined ? `, no refresh token at ${probe.refresh}` : '';
  return fromRead(errorData('E_TOKEN_EXPIRED', `${describeExpiry(expiresAtMs)} (${path}${noRefresh})`), true, { path });
}
