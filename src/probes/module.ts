import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import type { ModuleProbeSchema } from '../config/schema.js';
import type { ProbeContext } from './context.js';
import { errorName } from '../errors.js';
import { absent, failed, present, type Verdict } from './verdict.js';

/** What a module probe's function receives. */
export interface ModuleProbeContext {
  readonly provider: string;
  readonly modelApi: string | undefined;
  readonly scope: { readonly agentDir?: string; readonly workspaceDir?: string; readonly agentId?: string };
  readonly env: Readonly<Record<string, string>>;
}

/** A gateway's own synchronous probe, moved off the main thread. */
export type ModuleProbeFunction = (ctx: ModuleProbeContext) => boolean | Promise<boolean>;

const loaded = new Map<string, Promise<Record<string, unknown>>>();

function modulePath(probe: z.infer<typeof ModuleProbeSchema>, configDir: string): string {
  return isAbsolute(probe.module) ? probe.module : resolve(configDir, probe.module);
}

/**
 * Imports the module once per worker and calls its export with the probe
 * context. Only a boolean is accepted. What it throws is reduced to the
 * error's name: a message written by someone else's code may hold a secret.
 */
export async function moduleProbe(probe: z.infer<typeof ModuleProbeSchema>, ctx: ProbeContext): Promise<Verdict> {
  const path = modulePath(probe, ctx.init.configDir);
  const name = probe.export ?? 'default';
  let namespace = loaded.get(path);
  if (!namespace) {
    namespace = import(pathToFileURL(path).href) as Promise<Record<string, unknown>>;
    loaded.set(path, namespace);
  }
  let fn: unknown;
  try {
    fn = (await namespace)[name];
  } catch (err) {
    loaded.delete(path);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND') return failed('E_MODULE_LOAD', `${path} not found`, { path });
    return failed('E_MODULE_LOAD', `${path} (${errorName(err)})`, { path });
  }
  if (typeof fn !== 'function') return failed('E_MODULE_LOAD', `${path} has no function export "${name}"`, { path });
  let result: unknown;
  try {
    result = await (fn as ModuleProbeFunction)({ provider: ctx.provider, modelApi: ctx.modelApi, scope: ctx.scope, env: ctx.env });
  } catch (err) {
    return failed('E_MODULE_THREW', `${path} threw ${errorName(err)}`, { path });
  }
  if (typeof result !== 'boolean') return failed('E_MODULE_BAD_RESULT', `${path} returned ${result === null ? 'null' : typeof result}`, { path });
  return result ? present({ path }) : absent('E_MODULE_FALSE', undefined, { path });
}
