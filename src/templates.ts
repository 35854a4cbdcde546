/**
 * Path templates: `{agentDir}`, `{workspaceDir}`, `{provider}`, a leading `~`,
 * and `$VAR` / `${VAR}`, resolved against the scope inside the worker.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { errorData, type ErrorData } from './errors.js';

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

export function resolvePathTemplate(template: string, ctx: TemplateContext): Resolved {
  let missing: string | undefined;
  let out = template.replace(PLACEHOLDER, (whole, name?: string, braced?: string, bare?: string) => {
    const value = name !== undefined ? placeholder(name, ctx) : ctx.env[(braced ?? bare) as string];
    if (value === undefined || value === '') {
      missing ??= whole;
      return '';
    }
    return value;
  });
  if (missing !== undefined) return { ok: false, error: errorData('E_TEMPLATE_UNRESOLVED', `${missing} in ${template}`) };
  if (out === '~' || out.startsWith('~/')) {
    const home = ctx.env['HOME'] || homedir();
    out = home + out.slice(1);
  }
  return { ok: true, path: isAbsolute(out) ? resolve(out) : resolve(ctx.baseDir, out) };
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
