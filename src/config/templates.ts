/**
 * Path templates: `{agentDir}`, `{workspaceDir}`, `{provider}`, a leading `~`,
 * and `$VAR` / `${VAR}`, resolved against the scope inside the worker.
 *
 * A value substituted into a template (from the scope or the env) may not
 * climb out of where the template puts it: a `..` segment or a NUL byte in a
 * value refuses the path, and so does a relative `{agentDir}` or
 * `{workspaceDir}`. With `allowedRoots`, the resolved path must also lie
 * within one of the roots.
 */
import { homedir } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { errorData, type ErrorData } from '../errors.js';
import { ScopeMemo } from './scope-memo.js';

export interface TemplateContext {
  readonly provider: string;
  readonly agentDir?: string | undefined;
  readonly workspaceDir?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative results are resolved against this directory (the config's). */
  readonly baseDir: string;
}

export type Resolved = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: ErrorData };

const PLACEHOLDER = /\{([A-Za-z]+)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const CLIMBS = /(^|[\\/])\.\.([\\/]|$)/;

export function resolvePathTemplate(template: string, ctx: TemplateContext): Resolved {
  let missing: string | undefined;
  let unsafe: string | undefined;
  let opaque: string | undefined;
  let relativeDir: string | undefined;
  let out = template.replace(PLACEHOLDER, (whole, name: string | undefined, braced: string | undefined, bare: string | undefined, offset: number) => {
    const value = name !== undefined ? placeholder(name, ctx) : ctx.env[(braced ?? bare) as string];
    // Blank counts as unset: "   " is a misconfiguration, not a directory named three spaces under the cwd.
    if (value === undefined || value.trim() === '') {
      missing ??= whole;
      return '';
    }
    if (name === undefined && !plainlyAPath(value, offset === 0)) opaque ??= whole;
    else if (value.includes('\0') || CLIMBS.test(value)) unsafe ??= whole;
    else if ((name === 'agentDir' || name === 'workspaceDir') && !isAbsolute(value)) relativeDir ??= whole;
    return value;
  });
  if (missing !== undefined) return { ok: false, error: errorData('E_TEMPLATE_UNRESOLVED', `${missing} in ${template}`) };
  // Named, never quoted: the value may be a credential pasted where its path belongs.
  if (opaque !== undefined)
    return {
      ok: false,
      error: errorData(
        'E_PATH_REFUSED',
        `the value of ${opaque} in ${template} is not a path (it starts the path but is neither absolute nor under ~, holds a newline or "{", or is over ${MAX_ENV_PATH_CHARS} characters)`,
      ),
    };
  if (unsafe !== undefined) return { ok: false, error: errorData('E_PATH_REFUSED', `the value of ${unsafe} in ${template} contains ".." or NUL`) };
  // A scope's directory is the gateway's to state in full; resolved here it would mean the config's directory.
  if (relativeDir !== undefined) return { ok: false, error: errorData('E_PATH_REFUSED', `the value of ${relativeDir} in ${template} is not an absolute path`) };
  if (out === '~' || out.startsWith('~/')) {
    const home = ctx.env['HOME'] || homedir();
    if (!plainlyAPath(home)) return { ok: false, error: errorData('E_PATH_REFUSED', `HOME is not a path, in ${template}`) };
    if (CLIMBS.test(home)) return { ok: false, error: errorData('E_PATH_REFUSED', `HOME contains ".." in ${template}`) };
    out = home + out.slice(1);
  }
  return { ok: true, path: isAbsolute(out) ? resolve(out) : resolve(ctx.baseDir, out) };
}

/** Whether `path` lies within one of the roots, each resolved like a template; an unresolvable root is skipped. */
export function withinRoots(path: string, roots: readonly string[], ctx: TemplateContext): boolean {
  return roots.some((template) => {
    const root = resolvePathTemplate(template, ctx);
    if (!root.ok) return false;
    const rel = relative(root.path, path);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
}

/** The probe-facing entry: resolves a probe's `path` in its scope and enforces `allowedRoots`. */
export function resolveProbePath(
  template: string,
  probe: {
    readonly provider: string;
    readonly scope: { readonly agentDir?: string; readonly workspaceDir?: string };
    readonly env: Readonly<Record<string, string>>;
    readonly init: { readonly configDir: string; readonly allowedRoots: readonly string[] | undefined };
  },
): Resolved {
  const perProvider = template.includes('{provider}');
  const key = perProvider ? `${template}\0${probe.provider}` : template;
  // Kept for the epoch only what neither the scope nor the provider changes (a garbage id's path is kept no longer than its task).
  const envOnly = !perProvider && !namesScope(template) && !probe.init.allowedRoots?.some(namesScope);
  return resolved.get(
    probe,
    key,
    () => {
      const ctx: TemplateContext = { ...probe.scope, provider: probe.provider, env: probe.env, baseDir: probe.init.configDir };
      const path = resolvePathTemplate(template, ctx);
      if (path.ok && probe.init.allowedRoots && !withinRoots(path.path, probe.init.allowedRoots, ctx)) {
        return { ok: false, error: errorData('E_PATH_REFUSED', `${path.path} is outside the allowed roots`) };
      }
      return path;
    },
    envOnly,
  );
}

const namesScope = (template: string): boolean => template.includes('{agentDir}') || template.includes('{workspaceDir}');

/**
 * Templates resolved, by template (with the provider, for a template that names it), per scope or, for a template
 * that names neither a scope directory nor the provider (nor do the allowed roots), per env: path resolution was a
 * sixth of what a sweep of a thousand agents' stores allocated in the worker.
 */
const resolved = new ScopeMemo<string, Resolved>();

/** The longest env value used as (part of) a path, in characters; a longer one is named, never echoed. */
const MAX_ENV_PATH_CHARS = 1024;

/**
 * Whether an env value may be used, and echoed, as a path. A credential pasted where its path belongs has a newline
 * or a `{` (service-account JSON, a PEM key), or is long; or, pasted into a variable that starts a path (an API key
 * in GOOGLE_APPLICATION_CREDENTIALS), is one line that is neither absolute nor under `~`: a path that starts a
 * template must be one of those, so a key is refused by name, never read as a file beside the config, echoed or
 * watched.
 */
function plainlyAPath(value: string, starts = false): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character marks a value that is no path
  if (value.length > MAX_ENV_PATH_CHARS || /[\u0000-\u001f\u007f{]/.test(value)) return false;
  return !starts || isAbsolute(value) || value === '~' || value.startsWith('~/');
}

function placeholder(name: string, ctx: TemplateContext): string | undefined {
  switch (name) {
    case 'agentDir':
      return ctx.agentDir;
    case 'workspaceDir':
      return ctx.workspaceDir;
    case 'provider':
      return ctx.provider;
    default:
      return undefined;
  }
}
