/**
 * `auth-probe explain <provider>`: every probe tried, in order, with its
 * outcome, error code and time. Built from the pool's explain() report, which
 * never holds a value. Exit 0 when the provider has auth, 1 otherwise.
 */
import { planProbes } from '../config/compile.js';
import { AuthProbeError } from '../errors.js';
import type { ExplainReport } from '../explain.js';
import type { CliArgs } from './args.js';
import { CliError } from './args.js';
import { describeProbe, describeUntil, formatMs, NOT_USABLE_CODES, specOf } from './describe.js';
import type { CliStreams } from './progress.js';
import type { Session } from './session.js';
import { renderTable } from './table.js';

export async function runExplain(args: CliArgs, session: Session, io: CliStreams): Promise<number> {
  const input = args.providers[0] as string;
  let report: ExplainReport;
  try {
    report = await session.pool.explain(input, session.scope);
  } catch (err) {
    if (err instanceof AuthProbeError) throw new CliError(err.message);
    throw err;
  }
  const plan = planProbes(session.config, report.provider);
  const described = report.probes.map((p) => {
    const spec = specOf(plan, p);
    const what = describeProbe(p, spec, session.home, true);
    return { ...p, description: spec?.label ? `${spec.label}: ${what}` : what };
  });
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ ...report, probes: described }, null, 2)}\n`);
    return report.auth ? 0 : 1;
  }
  const decided = report.decidedBy ? described.find((p) => p.source === report.decidedBy?.source && p.index === report.decidedBy.index) : undefined;
  const head = decided ? `${report.provider}: auth yes, from ${decided.description}${describeUntil(decided)}` : `${report.provider}: auth no`;
  const lines = [head];
  if (report.error) lines.push(`could not probe: ${report.error.code} (${report.error.message})`);
  if (report.probes.length === 0 && !report.error) lines.push('no probes are configured for this provider');
  io.stdout.write(`${lines.join('\n')}\n`);
  if (report.probes.length > 0) {
    const table = renderTable(
      [{ title: '#', right: true }, { title: 'FROM' }, { title: 'KIND' }, { title: 'OUTCOME' }, { title: 'CODE' }, { title: 'TIME', right: true }, { title: 'PROBE' }],
      described.map((p, i) => [String(i + 1), p.source, p.kind, p.outcome, p.error?.code ?? '-', formatMs(p.durationMs), p.description]),
    );
    io.stdout.write(`\n${table}`);
    // The reasons behind "found but not usable" and failures: the table has room for codes only.
    const why = described.flatMap((p, i) => (p.error && (p.outcome === 'error' || NOT_USABLE_CODES.has(p.error.code)) ? [`${i + 1}  ${p.error.code}: ${p.error.message}`] : []));
    if (why.length > 0) io.stdout.write(`\n${why.join('\n')}\n`);
  }
  return report.auth ? 0 : 1;
}
