/** One line of the results table. A string in place of a figure says why there is none. */
export interface Row {
  workload: string;
  unit: string;
  /** Which way is better, for the ratio's reading. */
  better: 'higher' | 'lower';
  wharf: number | string;
  distribution: number | string;
  note?: string;
}

export interface Report {
  title: string;
  context: string[];
  rows: Row[];
  notes: string[];
}

function figure(value: number | string): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function ratio(row: Row): string {
  const { wharf, distribution } = row;
  if (typeof wharf !== 'number' || typeof distribution !== 'number' || !Number.isFinite(wharf) || !Number.isFinite(distribution) || distribution === 0) return '–';
  return `${(wharf / distribution).toFixed(2)}×`;
}

function cells(row: Row): string[] {
  return [`${row.workload} (${row.unit})`, figure(row.wharf), figure(row.distribution), ratio(row), row.better === 'higher' ? 'higher' : 'lower', row.note ?? ''];
}

const HEADER = ['workload', 'Wharf', 'Distribution', 'Wharf/Distribution', 'better', 'note'];

/** A fixed-width table for the terminal. */
export function renderText(report: Report): string {
  const rows = [HEADER, ...report.rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    report.title,
    ...report.context.map((c) => `  ${c}`),
    '',
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    ...(report.notes.length ? ['', ...report.notes.map((n) => `* ${n}`)] : []),
  ].join('\n');
}

export function renderMarkdown(report: Report): string {
  const escapeCell = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `# ${report.title}`,
    '',
    ...report.context.map((c) => `- ${c}`),
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i === 0 || i === 5 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...report.rows.map((row) => `| ${cells(row).map(escapeCell).join(' | ')} |`),
    ...(report.notes.length ? ['', ...report.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}
