/** Plain-text tables for `auth-probe`: left-aligned columns two spaces apart, a header row, no colour. */

export interface Column {
  readonly title: string;
  /** Right-aligned (numbers, durations). */
  readonly right?: boolean;
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const lines = [line(columns.map((c) => c.title)), ...rows.map(line)];
  return `${lines.join('\n')}\n`;
}
