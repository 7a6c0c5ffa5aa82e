import type { ColumnType, ContractColumn, DatasetContract, TimestampEncoding } from '../../lib/contracts';

/**
 * Validation of records as they are written to the raw zone, derived from the dataset's
 * contract: required fields, types (the column's raw type and timestamp encoding), value ranges,
 * allowed values and unknown fields. Returns every problem, so a quarantined record says all
 * that is wrong with it.
 */
export function recordProblems(contract: DatasetContract, record: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  for (const column of contract.columns) {
    const name = column.raw?.name ?? column.name;
    known.add(name);
    const value = record[name];
    if (value === undefined || value === null) {
      if (column.required) problems.push(`${name}: required`);
      continue;
    }
    const typeProblem = checkType(value, column.raw?.type ?? column.type, column.raw?.encoding);
    if (typeProblem) {
      problems.push(`${name}: ${typeProblem}`);
      continue;
    }
    problems.push(...rangeProblems(name, column, value));
  }
  for (const field of Object.keys(record)) {
    if (!known.has(field)) problems.push(`${field}: not in the contract`);
  }
  return problems;
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;

/**
 * Whether an ISO-8601 UTC text (yyyy-MM-ddTHH:mm:ss[.SSS]Z) names a real instant: a day the
 * calendar has (no 30 February) and a time the clock shows (no 25:00). The pattern alone lets
 * both through, and a Date built from them silently rolls over into another day.
 */
export function isRealUtcTimestamp(text: string): boolean {
  const m = ISO_UTC.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  t.setUTCHours(hour, minute, second, 0);
  return (
    t.getUTCFullYear() === year && t.getUTCMonth() === month - 1 && t.getUTCDate() === day &&
    t.getUTCHours() === hour && t.getUTCMinutes() === minute && t.getUTCSeconds() === second
  );
}

function timestampProblem(value: string): string | undefined {
  if (!ISO_UTC.test(value)) return 'expected a UTC timestamp';
  return isRealUtcTimestamp(value) ? undefined : `'${value}' is not a real date and time`;
}
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INT32 = 2 ** 31;

function checkType(value: unknown, type: ColumnType, encoding?: TimestampEncoding): string | undefined {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${typeof value}`;
      if (encoding === 'iso8601') {
        if (!ISO_UTC.test(value)) return 'expected an ISO-8601 UTC timestamp';
        return isRealUtcTimestamp(value) ? undefined : `'${value}' is not a real date and time`;
      }
      return undefined;
    case 'int':
      return Number.isInteger(value) && Math.abs(value as number) < INT32 ? undefined : 'expected a 32-bit integer';
    case 'bigint':
      return Number.isSafeInteger(value) ? undefined : 'expected an integer';
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) ? undefined : 'expected a date yyyy-MM-dd';
    case 'timestamp':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'expected a UTC timestamp' : undefined;
      return typeof value === 'string' ? timestampProblem(value) : 'expected a UTC timestamp';
  }
}

function rangeProblems(name: string, column: ContractColumn, value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value === 'number') {
    if (column.min !== undefined && value < column.min) problems.push(`${name}: ${value} is below the minimum ${column.min}`);
    if (column.max !== undefined && value > column.max) problems.push(`${name}: ${value} is above the maximum ${column.max}`);
  }
  if (column.allowed && typeof value === 'string' && !column.allowed.includes(value)) {
    problems.push(`${name}: '${value}' is not one of ${column.allowed.join(', ')}`);
  }
  return problems;
}
