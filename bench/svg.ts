/**
 * A self-contained SVG line chart: latency over time, one line per series,
 * logarithmic y axis, and an optional dashed deadline line. No dependency:
 * the output is plain text a README can show.
 */

/** One line of the chart: points of (time since start, latency), both in milliseconds. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [tMs: number, latencyMs: number])[];
}

export interface ChartOptions {
  readonly title: string;
  /** A note under the title (machine, command). */
  readonly subtitle?: string;
  /** A horizontal dashed line at this latency, in milliseconds, with its label. */
  readonly deadline?: { readonly ms: number; readonly label: string };
  /** Pixel size of the whole image. Defaults 900 × 480. */
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#7f7f7f', '#d62728', '#ff7f0e', '#9467bd', '#1f77b4', '#17becf', '#2ca02c', '#8c564b'];
const MARGIN = { left: 70, right: 170, top: 56, bottom: 48 };

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Decades from the one at or below `min` to the one at or above `max`: [10^a, …, 10^b], at least two. */
export function logDecades(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
  const hi = Math.max(Math.ceil(Math.log10(Math.max(max, 1e-3))), lo + 1);
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(10 ** e);
  return out;
}

function formatMs(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  return `${ms < 1 ? ms.toFixed(ms < 0.1 ? 2 : 1) : ms} ms`;
}

/** A "nice" tick step for a time axis spanning `spanMs` milliseconds, aiming at about 8 ticks. */
function timeStep(spanMs: number): number {
  const raw = spanMs / 8;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
}

/** Renders the chart. Series with no points still get a legend entry. */
export function renderLatencyChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 480;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const all = series.flatMap((s) => s.points);
  const latencies = all.map((p) => p[1]).filter((v) => v > 0 && Number.isFinite(v));
  const decades = logDecades(Math.min(...latencies, options.deadline?.ms ?? Infinity, 1), Math.max(...latencies, options.deadline?.ms ?? 0, 10));
  const yLo = Math.log10(decades[0] as number);
  const yHi = Math.log10(decades[decades.length - 1] as number);
  const tMax = Math.max(...all.map((p) => p[0]), 1000);
  const x = (t: number) => MARGIN.left + (Math.max(t, 0) / tMax) * plotW;
  const y = (ms: number) => MARGIN.top + plotH - ((Math.log10(Math.min(Math.max(ms, 10 ** yLo), 10 ** yHi)) - yLo) / (yHi - yLo)) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="16" font-weight="600">${escapeXml(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${MARGIN.left}" y="40" fill="#555">${escapeXml(options.subtitle)}</text>`);

  // Grid and y labels at each decade.
  for (const d of decades) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(d))}" y2="${f(y(d))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${f(y(d) + 4)}" text-anchor="end" fill="#444">${formatMs(d)}</text>`);
  }
  const step = timeStep(tMax);
  for (let t = 0; t <= tMax; t += step) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#444"/>`);
    out.push(`<text x="${f(x(t))}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" fill="#444">${t / 1000} s</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">time since the sweep started</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">ack latency (log scale)</text>`);

  if (options.deadline) {
    const dy = f(y(options.deadline.ms));
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${dy}" y2="${dy}" stroke="#000" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${MARGIN.left + plotW - 4}" y="${f(y(options.deadline.ms) - 5)}" text-anchor="end">${escapeXml(options.deadline.label)}</text>`);
  }

  const color = (i: number) => COLORS[i % COLORS.length] as string;
  // Lines are drawn last series first, so the first ones (the baseline) stay visible on top.
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i] as Series;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]).map(([t, ms]) => `${f(x(t))},${f(y(ms))}`);
    if (pts.length > 0) out.push(`<polyline data-series="${escapeXml(s.name)}" fill="none" stroke="${color(i)}" stroke-width="1.5" stroke-linejoin="round" points="${pts.join(' ')}"/>`);
  }
  series.forEach((s, i) => {
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 14;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color(i)}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 28}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
