/**
 * `auth-probe check [provider...]`: sweeps the providers through the pool and
 * prints provider, auth, source and time, or JSON. Exit 0 when every named
 * provider has auth (with none named, when any has), 1 otherwise.
 */
import { planProbes } from '../config/compile.js';
import { AuthProbeError } from '../errors.js';
import type { ExplainReport } from '../explain.js';
import { CliError, type CliArgs } from './args.js';
import { describeProbe, describeUntil, formatMs, NOT_USABLE_CODES, specOf } from './describe.js';
import { startProgress, type CliStreams } from './progress.js';
import type { Session } from './session.js';
import { renderTable } from './table.js';

/** One row of the sweep, as `--json` prints it. */
export interface CheckRow {
  readonly provider: string;
  readonly auth: boolean;
  /** The probe that found auth, with a description of what it looked at; null without auth. */
  readonly source: (ExplainReport['probes'][number] & { readonly description: string }) | null;
  /** Error codes of probes that failed (unreadable or corrupt files, timeouts), not mere absences. */
  readonly errors: readonly string[];
  /**
   * Why credentials that were found do not count (`E_TOKEN_EXPIRED`, `E_PROFILE_NOT_USABLE`, …), each with
   * a description of where: set when the provider has no auth.
   */
  readonly notUsable: readonly { readonly code: string; readonly description: string }[];
  /** Milliseconds the worker spent on the provider. */
  readonly durationMs: number;
}

export async function runCheck(args: CliArgs, session: Session, io: CliStreams): Promise<number> {
  const named = args.providers.length > 0;
  const names = named ? args.providers : [...session.config.providers.keys()].sort();
  const reports = await sweep(names, session, io);
  const rows = reports.map((report) => toRow(report, session));
  const withAuth = rows.filter((r) => r.auth).length;
  const ok = named ? withAuth === rows.length : withAuth > 0;
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ providers: rows, total: rows.length, withAuth }, null, 2)}\n`);
  } else {
    const table = renderTable(
      [{ title: 'PROVIDER' }, { title: 'AUTH' }, { title: 'SOURCE' }, { title: 'TIME', right: true }],
      rows.map((r) => [r.provider, r.auth ? 'yes' : 'no', sourceColumn(r), formatMs(r.durationMs)]),
    );
    io.stdout.write(`${table}\n${withAuth} of ${rows.length} provider${rows.length === 1 ? '' : 's'} ${withAuth === 1 ? 'has' : 'have'} auth\n`);
  }
  return ok ? 0 : 1;
}

/**
 * Explains every provider through the pool (one task each, run in parallel), in input order, once per
 * normalised id. Each stops at the probe that finds auth, as a check does: a slow or hanging probe
 * after it never runs.
 */
async function sweep(names: readonly string[], session: Session, io: CliStreams): Promise<ExplainReport[]> {
  const progress = startProgress({ total: names.length, label: 'probing', ...io });
  const settled = await Promise.allSettled(names.map((name) => session.pool.explain(name, session.scope, { stopAtFirst: true }).finally(() => progress.tick())));
  progress.done();
  const reports: ExplainReport[] = [];
  const seen = new Set<string>();
  for (const s of settled) {
    if (s.status === 'rejected') {
      if (s.reason instanceof AuthProbeError) throw new CliError(s.reason.message);
      throw s.reason;
    }
    if (seen.has(s.value.provider)) continue;
    seen.add(s.value.provider);
    reports.push(s.value);
  }
  return reports;
}

/** The deciding source (and its end, if it has one); else what failed; else the first credential found but not usable. */
function sourceColumn(row: CheckRow): string {
  if (row.source) return `${row.source.description}${describeUntil(row.source)}`;
  if (row.errors.length > 0) return `error ${row.errors.join(', ')}`;
  const first = row.notUsable[0];
  return first ? `${first.code} ${first.description}` : '-';
}

function toRow(report: ExplainReport, session: Session): CheckRow {
  const plan = planProbes(session.config, report.provider);
  const decided = report.decidedBy;
  const errors = report.probes.filter((p) => p.outcome === 'error' && p.error).map((p) => p.error?.code ?? '');
  if (report.error) errors.unshift(report.error.code);
  return {
    provider: report.provider,
    auth: report.auth,
    source: decided ? { ...decided, description: describeProbe(decided, specOf(plan, decided), session.home) } : null,
    errors,
    notUsable: report.auth
      ? []
      : report.probes
          .filter((p) => p.outcome === 'absent' && p.error && NOT_USABLE_CODES.has(p.error.code))
          .map((p) => ({ code: p.error?.code ?? '', description: describeProbe(p, specOf(plan, p), session.home) })),
    durationMs: report.durationMs,
  };
}
