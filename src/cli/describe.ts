/**
 * Words for probes in `auth-probe` output: which source decided, what each
 * probe looked at. Built from report metadata (variable names, paths, profile
 * ids) and the probe's spec, never from a value: a command's arguments are
 * not shown either.
 */
import { sep } from 'node:path';
import type { PlannedProbe } from '../config/compile.js';
import type { Probe, ProbeOutcome } from '../config/schema.js';

/** Shows `path` under `home` as `~/…`. */
export function tildify(path: string, home: string | undefined): string {
  if (!home) return path;
  if (path === home) return '~';
  const prefix = home.endsWith(sep) ? home : home + sep;
  return path.startsWith(prefix) ? `~${sep}${path.slice(prefix.length)}` : path;
}

/**
 * What a probe looked at: a variable, a file, a store and profile, a command,
 * a module. `verbose` (explain) adds a file's pointer and a module's path.
 */
export function describeProbe(outcome: ProbeOutcome, spec: Probe | undefined, home: string | undefined, verbose = false): string {
  const d = outcome.detail ?? {};
  const path = d.path !== undefined ? tildify(d.path, home) : undefined;
  switch (spec?.kind ?? outcome.kind) {
    case 'env':
      return d.variable !== undefined ? `$${d.variable}` : spec?.kind === 'env' ? spec.vars.map((v) => `$${v}`).join(' ') : 'env';
    case 'credentialFile': {
      const shown = path ?? (spec?.kind === 'credentialFile' ? spec.path : 'file');
      return verbose && spec?.kind === 'credentialFile' ? `${shown} ${fileRules(spec)}` : shown;
    }
    case 'authProfiles': {
      const shown = path ?? (spec?.kind === 'authProfiles' ? spec.path : 'auth-profiles.json');
      return d.profileId !== undefined ? `profile ${d.profileId} in ${shown}` : shown;
    }
    case 'openclawStore': {
      // Which database and row (or legacy file) decided, and the profile: never a value.
      const where = d.row !== undefined ? `${d.row} of ${path ?? 'the database'}` : (path ?? 'the OpenClaw store');
      const store = d.store === 'agent' || d.store === 'shared' ? ` (${d.store} store)` : '';
      return d.profileId !== undefined ? `profile ${d.profileId} in ${where}${store}` : `${where}${store}`;
    }
    case 'command':
      return `command ${spec?.kind === 'command' ? spec.command : ''}`.trim();
    case 'module':
      // A module's path says little in a table; its label, when it has one, says what it checks.
      if (!verbose && spec?.label) return spec.label;
      return `module ${path ?? (spec?.kind === 'module' ? spec.module : '')}`.trim();
  }
  return outcome.kind;
}

/**
 * A credential file probe's rules, short: required pointers joined by `+`, alternatives by `|`, then the
 * expiry and refresh pointers: `/a+/b expiry /e (ms) refresh /r`.
 */
function fileRules(spec: Extract<Probe, { kind: 'credentialFile' }>): string {
  const required = [...(spec.pointer !== undefined ? [spec.pointer] : []), ...(spec.require ?? [])];
  const parts: string[] = [];
  if (required.length > 0) parts.push(required.join('+'));
  if (spec.anyOf) parts.push(spec.anyOf.map((group) => group.join('+')).join(' | '));
  if (spec.expiry) parts.push(`expiry ${spec.expiry.pointer} (${spec.expiry.unit})`);
  if (spec.refresh) parts.push(`refresh ${spec.refresh}`);
  return parts.join(' ');
}

/** The spec of a reported probe, by where it came from: the plan is what the worker ran. */
export function specOf(plan: readonly PlannedProbe[], outcome: ProbeOutcome): Probe | undefined {
  return plan.find((p) => p.source === outcome.source && p.index === outcome.index)?.probe;
}

/**
 * Codes of lasting absences that mean a credential was found but cannot be used (expired, incomplete, a
 * profile that fails the gateway's rules): worth showing next to "no", unlike a variable that is unset.
 */
export const NOT_USABLE_CODES: ReadonlySet<string> = new Set(['E_TOKEN_EXPIRED', 'E_EXPIRY_MISSING', 'E_PROFILE_NOT_USABLE', 'E_POINTER_MISSING']);

/** An answer's end (`validUntil`, ms since the epoch) as `until 2026-01-01T12:00:00Z`; empty without one. */
export function describeUntil(outcome: ProbeOutcome | null | undefined): string {
  if (outcome?.validUntil === undefined) return '';
  return ` until ${new Date(outcome.validUntil).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/** Milliseconds, short: `0.12 ms`, `3.4 ms`, `120 ms`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}
