import type { z } from 'zod';
import type { CredentialFileProbeSchema } from '../schema.js';
import { resolveProbePath } from '../templates.js';
import type { ProbeContext } from './context.js';
import { deriveFromJsonFile } from './files.js';
import { absent, failed, present, unresolved, type Verdict } from './verdict.js';

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

/** True when the file parses and the field at the pointer is a non-empty string. Only that boolean leaves this function. */
export function credentialFileProbe(probe: z.infer<typeof CredentialFileProbeSchema>, ctx: ProbeContext): Verdict {
  const where = resolveProbePath(probe.path, ctx);
  if (!where.ok) return unresolved(where.error);
  const path = where.path;
  const read = deriveFromJsonFile(path, `pointer:${probe.pointer}`, ctx.init.maxFileBytes, ctx.deps, (json) => {
    const value = atPointer(json, probe.pointer);
    return { ok: true, value: typeof value === 'string' && value.trim() !== '' };
  });
  if (!read.ok) return read.missing ? absent(read.error.code, path, { path }) : failed(read.error.code, read.error.message, { path });
  return read.value ? present({ path }) : absent('E_POINTER_MISSING', `${probe.pointer} in ${path}`, { path });
}
