import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { queryRows, RdsDataTarget, SqlValue } from '../../lambda/shared/rds-data';

/** What the fleet team asks of the registry (registry/migrations/V002__operations.sql). */
export type RegistryRequest =
  | { readonly op: 'add-vehicle'; readonly vehicle: string; readonly at: string }
  | { readonly op: 'mount-sensor'; readonly sensor: string; readonly type: string; readonly vehicle: string; readonly at: string; readonly scale: number; readonly offset: number }
  | { readonly op: 'calibrate'; readonly sensor: string; readonly version: number; readonly scale: number; readonly offset: number; readonly at: string };

export interface RegistryOutcome {
  /** The function's answer: added, mounted, moved, calibrated, or unchanged (a repeated call). */
  readonly outcome: string;
  /** The sensor's latest device version after the call (what the stream carries); none for a vehicle. */
  readonly deviceVersion?: number;
}

/** A command line that cannot be run: what is wrong and how it is written. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export const USAGE = [
  'usage: npm run registry -- <operation> [--env dev|staging|prod] [--at <ISO-8601 time with zone, default now>]',
  '  add-vehicle  --vehicle <id>',
  '  mount-sensor --sensor <id> --type <type> --vehicle <id> [--scale <factory scale, 1>] [--offset <factory offset, 0>]',
  '  calibrate    --sensor <id> --version <n> --scale <n> --offset <n>',
  '  apply        --file <path>: one operation a line, written as above without "npm run registry --"',
  '               (blank lines and lines starting with # are skipped); every line is checked before any is sent',
].join('\n');

const OPERATIONS = ['add-vehicle', 'mount-sensor', 'calibrate'] as const;
const FLAGS: Record<(typeof OPERATIONS)[number], { required: string[]; optional: string[] }> = {
  'add-vehicle': { required: ['vehicle'], optional: [] },
  'mount-sensor': { required: ['sensor', 'type', 'vehicle'], optional: ['scale', 'offset'] },
  calibrate: { required: ['sensor', 'version', 'scale', 'offset'], optional: [] },
};
/** Flags every operation takes: where (the environment, or the cluster itself) and when. */
const COMMON = ['env', 'at', 'cluster-arn', 'secret-arn', 'database'];
// A time must say its zone: a registry read in several countries cannot guess one.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The operation and its flags, every one checked before anything is sent. */
export function parseRegistryArguments(argv: readonly string[], now: Date): { request: RegistryRequest; flags: Record<string, string> } {
  const [op, ...rest] = argv;
  if (!OPERATIONS.includes(op as (typeof OPERATIONS)[number])) throw new UsageError(op ? `unknown operation '${op}'` : 'no operation given');
  const spec = FLAGS[op as (typeof OPERATIONS)[number]];
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i].replace(/^--/, '');
    if (!rest[i].startsWith('--') || ![...spec.required, ...spec.optional, ...COMMON].includes(name)) throw new UsageError(`${op}: unknown argument '${rest[i]}'`);
    if (rest[i + 1] === undefined || rest[i + 1].startsWith('--')) throw new UsageError(`${op}: --${name} needs a value`);
    if (name in flags) throw new UsageError(`${op}: --${name} given twice`);
    flags[name] = rest[i + 1];
  }
  const missing = spec.required.filter((f) => !(f in flags));
  if (missing.length > 0) throw new UsageError(`${op}: missing ${missing.map((f) => `--${f}`).join(', ')}`);
  const at = flags.at ?? now.toISOString();
  if (!ISO_WITH_ZONE.test(at) || Number.isNaN(Date.parse(at))) throw new UsageError(`${op}: --at ${at} is not an ISO-8601 time with its zone (2026-11-02T12:00:30Z)`);
  const number = (name: string, fallback?: number): number => {
    if (!(name in flags)) return fallback!;
    const value = Number(flags[name]);
    if (flags[name].trim() === '' || !Number.isFinite(value)) throw new UsageError(`${op}: --${name} ${flags[name]} is not a number`);
    return value;
  };
  switch (op) {
    case 'add-vehicle':
      return { request: { op, vehicle: flags.vehicle, at }, flags };
    case 'mount-sensor':
      return { request: { op, sensor: flags.sensor, type: flags.type, vehicle: flags.vehicle, at, scale: number('scale', 1), offset: number('offset', 0) }, flags };
    default: {
      const version = number('version');
      if (!Number.isInteger(version)) throw new UsageError(`calibrate: --version ${flags.version} is not a whole number`);
      return { request: { op: 'calibrate', sensor: flags.sensor, version, scale: number('scale'), offset: number('offset'), at }, flags };
    }
  }
}

/**
 * A file of operations (`apply --file`): each line one operation's arguments as on the command
 * line. Every line is checked first, so a typo on line 90 sends nothing; a line may not name
 * where (--env, --cluster-arn, ...), which the apply command line says once for all.
 */
export function parseRegistryFile(text: string, now: Date): RegistryRequest[] {
  const requests: RegistryRequest[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const argv = line.trim().split(/\s+/).filter((a) => a !== '');
    if (argv.length === 0 || argv[0].startsWith('#')) return;
    try {
      const { request, flags } = parseRegistryArguments(argv, now);
      const where = Object.keys(flags).filter((f) => COMMON.includes(f) && f !== 'at');
      if (where.length > 0) throw new Error(`--${where[0]} belongs on the apply command line, not on an operation's`);
      requests.push(request);
    } catch (error) {
      problems.push(`line ${i + 1}: ${(error as Error).message.split('\n')[0]}`);
    }
  });
  if (problems.length > 0) throw new UsageError(`apply: ${problems.length} line(s) cannot be run, nothing was sent:\n  ${problems.join('\n  ')}`);
  if (requests.length === 0) throw new UsageError('apply: the file has no operation');
  return requests;
}

/** The statement and values of a request; the time is cast in SQL, so no type hint is needed. */
function statementOf(request: RegistryRequest): { sql: string; values: Record<string, SqlValue> } {
  switch (request.op) {
    case 'add-vehicle':
      return { sql: 'SELECT registry.add_vehicle(:vehicle, CAST(:at AS TIMESTAMPTZ))', values: { vehicle: request.vehicle, at: request.at } };
    case 'mount-sensor':
      return {
        sql: 'SELECT registry.mount_sensor(:sensor, :type, :vehicle, CAST(:at AS TIMESTAMPTZ), CAST(:scale AS DOUBLE PRECISION), CAST(:offset AS DOUBLE PRECISION))',
        values: { sensor: request.sensor, type: request.type, vehicle: request.vehicle, at: request.at, scale: request.scale, offset: request.offset },
      };
    case 'calibrate':
      return {
        sql: 'SELECT registry.calibrate(:sensor, CAST(:version AS INTEGER), CAST(:scale AS DOUBLE PRECISION), CAST(:offset AS DOUBLE PRECISION), CAST(:at AS TIMESTAMPTZ))',
        values: { sensor: request.sensor, version: request.version, scale: request.scale, offset: request.offset, at: request.at },
      };
  }
}

/**
 * Runs one request through the RDS Data API: the registry's function decides (one transaction,
 * idempotent, refusing what contradicts the registry with PostgreSQL's words), then the sensor's
 * latest device version is read back for the answer.
 */
export async function runRegistryRequest(client: RDSDataClient, where: RdsDataTarget, request: RegistryRequest): Promise<RegistryOutcome> {
  const { sql, values } = statementOf(request);
  const [[outcome]] = await queryRows(client, where, sql, request.op, values);
  if (request.op === 'add-vehicle') return { outcome: String(outcome) };
  const [[latest]] = await queryRows(client, where, 'SELECT MAX(version) FROM registry.device_versions WHERE sensor_id = :sensor', 'read the device version', { sensor: request.sensor });
  return { outcome: String(outcome), deviceVersion: Number(latest) };
}
