import * as fs from 'fs';
import * as path from 'path';
import { KpiError } from './errors';

/**
 * The KPI catalogue: one SQL file per KPI under queries/, the same files the Athena named queries
 * are deployed from. A file opens with comment lines: its title, then one line per parameter,
 *
 *   -- Fuel consumption by city: a ratio of sums, never an average of ratios.
 *   -- :from date        first metric date (inclusive)
 *   -- :city string?     only this city (all cities when absent)
 *
 * and its SQL names them `:from`, `:city` (Spark's named markers, so the tests and the local run
 * bind them natively). For Athena, `compile` turns each marker into a positional `?` and each value
 * into the literal text Athena's execution parameters take: a user's value is never concatenated
 * into the SQL, and a string's quotes are doubled inside its literal. An optional string that is
 * absent binds as '' (the SQL reads `(:city = '' OR city = :city)`), so every engine sees a typed
 * literal and never a bare NULL.
 */

export type KpiParameterType = 'date' | 'string';

export interface KpiParameter {
  readonly name: string;
  readonly type: KpiParameterType;
  readonly optional: boolean;
  readonly description: string;
}

export interface Kpi {
  /** The file name with dashes: `fuel_by_city.sql` is `fuel-by-city`. */
  readonly name: string;
  readonly file: string;
  readonly title: string;
  readonly parameters: readonly KpiParameter[];
  /** The SQL with its `:name` markers, as the file has it. */
  readonly sql: string;
}

/** Where the catalogue's limits come from (config `serving`). */
export interface KpiLimits {
  /** The longest date range a request may ask for, in days (inclusive). */
  readonly maxRangeDays: number;
}

const PARAMETER_LINE = /^--\s*:([a-z][a-z0-9_]*)\s+(date|string)(\?)?\s+(\S.*)$/;
const MARKER = /(?<![:\w]):([a-z][a-z0-9_]*)\b/g;
/** Letters (any script), digits, spaces and . , ' - ( ) &: what a city, segment or condition name holds. */
const STRING_VALUE = /^[\p{L}\p{N} .,'()&-]{1,64}$/u;
const DATE_VALUE = /^\d{4}-\d{2}-\d{2}$/;

export function kpiName(file: string): string {
  return path.basename(file, '.sql').replace(/_/g, '-');
}

/** Parses one KPI file; throws naming the file and every problem. */
export function parseKpi(file: string, text: string): Kpi {
  const lines = text.split('\n');
  const problems: string[] = [];
  const title = (lines[0] ?? '').replace(/^--\s*/, '').trim();
  if (!lines[0]?.startsWith('--') || !title) problems.push('the first line must be a -- comment with the KPI\'s title');
  const parameters: KpiParameter[] = [];
  let i = 1;
  for (; i < lines.length && lines[i].startsWith('-- :'); i++) {
    const match = PARAMETER_LINE.exec(lines[i].trim());
    if (!match) {
      problems.push(`line ${i + 1}: a parameter line reads '-- :name date|string[?] description'`);
      continue;
    }
    parameters.push({ name: match[1], type: match[2] as KpiParameterType, optional: match[3] === '?', description: match[4].trim() });
  }
  const sql = lines.slice(i).join('\n').trim();
  const used = new Set([...stripStrings(sql).matchAll(MARKER)].map((m) => m[1]));
  for (const p of parameters) if (!used.has(p.name)) problems.push(`:${p.name} is declared but the SQL does not use it`);
  for (const name of used) if (!parameters.some((p) => p.name === name)) problems.push(`:${name} is used but not declared`);
  if ([...sql.matchAll(MARKER)].length !== [...stripStrings(sql).matchAll(MARKER)].length) problems.push('a string literal holds a :name; markers go outside literals');
  if (sql.includes('?')) problems.push('positional ? markers are made by compile(); write :name');
  if (problems.length > 0) throw new Error(`${path.basename(file)}: ${problems.join('; ')}`);
  return { name: kpiName(file), file: path.basename(file), title, parameters, sql };
}

/** Every KPI of a folder, by file name. */
export function loadCatalogue(directory: string): Kpi[] {
  return fs
    .readdirSync(directory)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseKpi(f, fs.readFileSync(path.join(directory, f), 'utf8')));
}

export function kpiOf(catalogue: readonly Kpi[], name: string): Kpi {
  const kpi = catalogue.find((k) => k.name === name);
  if (!kpi) throw new KpiError('UNKNOWN_QUERY', `unknown KPI '${name}'; known: ${catalogue.map((k) => k.name).join(', ')}`);
  return kpi;
}

/** A request's parameters checked against the KPI's: every one known, required ones present, values well formed, the range in order and within the limit. */
export function validateParameters(kpi: Kpi, given: Readonly<Record<string, string | undefined>>, limits: KpiLimits): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (given[name] === undefined) continue;
    if (!kpi.parameters.some((p) => p.name === name)) {
      throw new KpiError('UNKNOWN_PARAMETER', `${kpi.name} has no parameter '${name}'; it takes ${describeParameters(kpi)}`, name);
    }
  }
  for (const p of kpi.parameters) {
    const value = given[p.name];
    if (value === undefined || value === '') {
      if (!p.optional) throw new KpiError('MISSING_PARAMETER', `${kpi.name} needs '${p.name}' (${p.type}): ${p.description}`, p.name);
      continue;
    }
    if (p.type === 'date' && !isRealDate(value)) throw new KpiError('BAD_PARAMETER', `'${p.name}' must be a day as yyyy-MM-dd, got '${value}'`, p.name);
    if (p.type === 'string' && !STRING_VALUE.test(value)) {
      throw new KpiError('BAD_PARAMETER', `'${p.name}' must be 1 to 64 letters, digits, spaces or . , ' ( ) & -, got '${value}'`, p.name);
    }
    values[p.name] = value;
  }
  if (values.from !== undefined && values.to !== undefined) {
    if (values.from > values.to) throw new KpiError('INVERTED_RANGE', `'from' (${values.from}) is after 'to' (${values.to})`, 'from');
    const days = (Date.parse(values.to) - Date.parse(values.from)) / 86_400_000 + 1;
    if (days > limits.maxRangeDays) {
      throw new KpiError('RANGE_TOO_LONG', `${values.from} to ${values.to} is ${days} days; at most ${limits.maxRangeDays} at once`, 'to');
    }
  }
  return values;
}

/** The SQL with positional markers and the literal text of each, in the order Athena applies them. */
export function compile(kpi: Kpi, values: Readonly<Record<string, string>>): { sql: string; executionParameters: string[] } {
  const executionParameters: string[] = [];
  const sql = kpi.sql.replace(MARKER, (_, name: string) => {
    executionParameters.push(literal(values[name] ?? ''));
    return '?';
  });
  return { sql, executionParameters };
}

/** A value as an SQL string literal; a quote inside is doubled, so the value stays one literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function describeParameters(kpi: Kpi): string {
  return kpi.parameters.map((p) => `${p.name} (${p.type}${p.optional ? ', optional' : ''})`).join(', ') || 'no parameters';
}

function isRealDate(value: string): boolean {
  if (!DATE_VALUE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/** The SQL without its string literals, so a ':' inside one is not taken for a marker. */
function stripStrings(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''");
}

/** The SQL as Athena's console runs it (positional markers), and the parameters in their order. */
export function positional(kpi: Kpi): { sql: string; order: string[] } {
  const order: string[] = [];
  const sql = kpi.sql.replace(MARKER, (_, name: string) => {
    order.push(name);
    return '?';
  });
  return { sql, order };
}
