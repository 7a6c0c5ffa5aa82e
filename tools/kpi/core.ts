import { allRows, AthenaSender, AthenaSettings, CellValue, queryStatus, startKpiQuery, waitForQuery } from '../../lambda/shared/kpi/athena';
import { Kpi, KpiLimits, kpiOf, validateParameters } from '../../lambda/shared/kpi/catalogue';
import { KpiError } from '../../lambda/shared/kpi/errors';

/**
 * The kpi command without its process: parses the arguments, runs the KPI through the Athena
 * core, and renders the rows; tests call it with moto's Athena and read what it wrote.
 */

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export const USAGE = `usage: npm run kpi -- [--env dev|staging|prod] <kpi> --from yyyy-MM-dd --to yyyy-MM-dd [--<filter> value ...] [--format table|csv|json]
       npm run kpi -- [--env ...] --list`;

export interface KpiRequest {
  readonly env?: string;
  readonly list: boolean;
  readonly kpi?: string;
  readonly format: Format;
  readonly parameters: Record<string, string>;
}

/** The command line as a request; a malformed one is a usage error (exit 2). */
export function parseArguments(argv: readonly string[]): KpiRequest {
  const parameters: Record<string, string> = {};
  let env: string | undefined;
  let kpi: string | undefined;
  let format: Format = 'table';
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--list') {
      list = true;
    } else if (arg.startsWith('--')) {
      const name = arg.slice(2);
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new KpiError('BAD_PARAMETER', `--${name} needs a value\n${USAGE}`, name);
      i += 1;
      if (name === 'env') env = value;
      else if (name === 'format') {
        if (!(FORMATS as readonly string[]).includes(value)) throw new KpiError('BAD_PARAMETER', `--format must be one of ${FORMATS.join(', ')}, got '${value}'`, 'format');
        format = value as Format;
      } else parameters[name] = value;
    } else if (kpi === undefined) {
      kpi = arg;
    } else {
      throw new KpiError('BAD_PARAMETER', `one KPI at a time: '${kpi}', then '${arg}'\n${USAGE}`);
    }
  }
  if (!list && !kpi) throw new KpiError('UNKNOWN_QUERY', `name a KPI, or --list\n${USAGE}`);
  return { env, list, kpi, format, parameters };
}

/** The catalogue as --list prints it: each KPI, its title and parameters. */
export function listing(catalogue: readonly Kpi[]): string {
  return catalogue
    .map((k) => [`${k.name}: ${k.title}`, ...k.parameters.map((p) => `    --${p.name} ${p.type}${p.optional ? ' (optional)' : ''}: ${p.description}`)].join('\n'))
    .join('\n\n');
}

export interface KpiAnswer {
  readonly queryId: string;
  readonly bytesScanned: number;
  readonly reused: boolean;
  readonly columns: readonly string[];
  readonly rows: readonly CellValue[][];
}

export interface CommandSettings {
  readonly athena: AthenaSettings;
  readonly limits: KpiLimits;
  /** How long the command waits for Athena before it gives up (the query keeps running, and its id is printed). */
  readonly timeoutMs: number;
  readonly pageSize: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function runKpiCommand(client: AthenaSender, catalogue: readonly Kpi[], request: KpiRequest, settings: CommandSettings): Promise<KpiAnswer> {
  const kpi = kpiOf(catalogue, request.kpi!);
  const values = validateParameters(kpi, request.parameters, settings.limits);
  const queryId = await startKpiQuery(client, settings.athena, kpi, values);
  const status = await waitForQuery(client, settings.athena, queryId, { timeoutMs: settings.timeoutMs, pollInitialMs: 250, pollMaxMs: 5_000, now: settings.now, sleep: settings.sleep });
  if (status.state !== 'SUCCEEDED') {
    throw new Error(`the query ${queryId} is still ${status.state.toLowerCase()} after ${settings.timeoutMs / 1000} s; its results will be in the workgroup's history`);
  }
  const page = await allRows(client, queryId, settings.pageSize);
  const final = await queryStatus(client, settings.athena, queryId);
  return { queryId, bytesScanned: final.bytesScanned, reused: final.reused, columns: page.columns.map((c) => c.name), rows: page.rows };
}

export function render(answer: KpiAnswer, format: Format): string {
  if (format === 'json') {
    return JSON.stringify(answer.rows.map((r) => Object.fromEntries(answer.columns.map((c, i) => [c, r[i]]))), null, 2);
  }
  if (format === 'csv') {
    return [answer.columns, ...answer.rows].map((r) => r.map(csvField).join(',')).join('\n');
  }
  // A column with any fraction shows two decimals on every row, so its numbers line up.
  const decimals = answer.columns.map((_, i) => answer.rows.some((r) => typeof r[i] === 'number' && !Number.isInteger(r[i])));
  const text = answer.rows.map((r) => r.map((v, i) => (v === null ? '' : typeof v === 'number' && decimals[i] ? v.toFixed(2) : String(v))));
  const widths = answer.columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i].length)));
  const numeric = answer.columns.map((_, i) => answer.rows.length > 0 && answer.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  const line = (cells: string[]) => cells.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line([...answer.columns]), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** The line the command prints to stderr: what the query cost and where to find it again. */
export function footer(answer: KpiAnswer): string {
  const mb = answer.bytesScanned / 1_000_000;
  return `${answer.rows.length} row${answer.rows.length === 1 ? '' : 's'}; query ${answer.queryId}; ${mb.toFixed(mb < 1 ? 3 : 1)} MB scanned${answer.reused ? ' (a reused result: nothing scanned again)' : ''}`;
}


function csvField(value: CellValue | string): string {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
