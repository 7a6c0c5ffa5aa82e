import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import contractJson from '../../contracts/weather.weather.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import { getJson, HttpRequestError } from '../shared/http-json';
import { putWholeObject, toNdjson } from '../shared/s3-objects';
import { conditionOf, forecastUrl, openMeteoResponse, OpenMeteoResponse } from './open-meteo';
import type { WeatherPullSettings } from './settings';

const CONTRACT = contractJson as unknown as DatasetContract;
const RAW_PREFIX = `raw/${CONTRACT.source}/${CONTRACT.dataset}/`;
/** Rejected rows of the dataset, outside the table's location but under the source's own prefix. */
const QUARANTINE_PREFIX = `raw/${CONTRACT.source}/_quarantine/${CONTRACT.dataset}/`;

export type { WeatherPullSettings } from './settings';
/** A configured city: its id names its objects (lib/config/schema.ts), its name goes in the rows. */
export type City = WeatherPullSettings['cities'][number];

/** The Powertools logger's calls the core uses. */
export type Logger = Pick<PowertoolsLogger, 'info' | 'warn' | 'error'>;

export interface MetricsSink {
  addMetric(name: string, unit: 'Count', value: number): void;
}

export interface WeatherPullDeps {
  readonly s3: S3Client;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly fetchImpl?: typeof fetch;
}

/** The UTC day pulled, and the hours of it that are complete at the time of the run. */
export interface PullWindow {
  readonly day: string;
  readonly hours: readonly string[];
}

export interface CityResult {
  readonly city: string;
  readonly ok: boolean;
  readonly key?: string;
  readonly rowsWritten: number;
  /** Rows in the city's quarantine object, once it is written (a later failure does not undo it). */
  readonly rowsQuarantined: number;
  readonly missingHours: readonly string[];
  /** Hours the day's object already held that this answer lacked or refused: kept, not lost. */
  readonly hoursKept: number;
  readonly error?: string;
}

export interface WeatherPullReport {
  readonly window: PullWindow;
  readonly results: readonly CityResult[];
  /** In the first CATCH_UP_HOURS of a UTC day: the day before pulled again, and each city's result. */
  readonly catchUp?: { readonly window: PullWindow; readonly results: readonly CityResult[] };
}

/**
 * Runs in the first hours of a UTC day also pull the whole day before. The day's last hour is
 * complete only at midnight, so the 00:05 run is the one that takes it; if the API or S3 fails
 * that run and its Lambda retries (an outage across midnight), the next runs fill the hour, for
 * this many hours. A day's object only grows (mergeHours), so pulling it again is harmless.
 */
export const CATCH_UP_HOURS = 6;

/** The day before `now`'s window, whole, when `now` is within CATCH_UP_HOURS of midnight UTC and that day is not the window's. */
export function catchUpWindow(now: Date): PullWindow | undefined {
  const current = pullWindow(now);
  if (now.getUTCHours() >= CATCH_UP_HOURS) return undefined;
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const before = pullWindow(new Date(midnight));
  return before.day === current.day ? undefined : before;
}

/** Thrown when any city failed, after the others were written; names each failed city. */
export class WeatherPullError extends Error {
  constructor(readonly failures: readonly CityResult[], total: number) {
    super(`weather-pull: ${failures.length} of ${total} cities failed: ${failures.map((f) => `${f.city} (${f.error})`).join('; ')}`);
    this.name = 'WeatherPullError';
  }
}

const HOUR_MS = 3_600_000;

/**
 * The window of a run at `now`: the UTC day of the last complete hour, and that day's complete
 * hours. A run at 10:05 pulls 00:00-09:00 of today; a run at 00:05 the whole of yesterday. Every
 * run of a day rewrites that day's object with the hours complete so far, so a retry (same `now`)
 * writes the same bytes, and the day's last run leaves all 24 hours.
 */
export function pullWindow(now: Date): PullWindow {
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS; // start of the current, incomplete hour
  const lastComplete = end - HOUR_MS;
  const day = new Date(lastComplete).toISOString().slice(0, 10);
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  const hours: string[] = [];
  for (let t = dayStart; t <= lastComplete; t += HOUR_MS) hours.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  return { day, hours };
}

export function dataKey(day: string, cityId: string): string {
  return `${RAW_PREFIX}ingest_date=${day}/${cityId}.ndjson`;
}

export function quarantineKey(day: string, cityId: string): string {
  return `${QUARANTINE_PREFIX}ingest_date=${day}/${cityId}.ndjson`;
}

interface Rows {
  readonly valid: Record<string, unknown>[];
  readonly quarantined: { reasons: string[]; record: Record<string, unknown> }[];
  readonly missingHours: string[];
}

/**
 * One row per complete hour of the window, in the contract's raw shape. An hour the answer lacks
 * is reported as missing (the ETL flags the gap); a row that breaks the contract (a null
 * temperature, an unknown weather code) is quarantined with its reasons. Hours after the window
 * are forecasts, not observations, and are not rows.
 */
export function rowsOf(city: City, response: OpenMeteoResponse, window: PullWindow): Rows {
  const indexes = new Map<string, number[]>();
  response.hourly.time.forEach((t, i) => indexes.set(`${t}:00Z`, [...(indexes.get(`${t}:00Z`) ?? []), i]));
  const rows: Rows = { valid: [], quarantined: [], missingHours: [] };
  const recordAt = (hour: string, i: number): Record<string, unknown> => {
    const code = response.hourly.weather_code[i];
    return {
      city: city.name,
      observation_hour: hour,
      temperature_c: response.hourly.temperature_2m[i],
      precipitation_mm: response.hourly.precipitation[i],
      wind_speed_kmh: response.hourly.wind_speed_10m[i],
      weather_code: code,
      condition: conditionOf(code),
      latitude: response.latitude,
      longitude: response.longitude,
    };
  };
  for (const hour of window.hours) {
    const found = indexes.get(hour);
    if (found === undefined) {
      rows.missingHours.push(hour);
      continue;
    }
    const copies = found.map((i) => recordAt(hour, i));
    if (new Set(copies.map((c) => JSON.stringify(c))).size > 1) {
      // Which of two different answers for one hour is right cannot be told: neither is taken.
      for (const record of copies) rows.quarantined.push({ reasons: [`observation_hour: given ${copies.length} times with different values`], record });
      continue;
    }
    const record = copies[0];
    const code = record.weather_code as number | null;
    const problems = recordProblems(CONTRACT, record);
    if (problems.length === 0) rows.valid.push(record);
    else rows.quarantined.push({ reasons: code !== null && conditionOf(code) === null ? [...problems, `weather_code: ${code} is not a WMO code`] : problems, record });
  }
  return rows;
}

/** The rows of an NDJSON object, or none when it does not exist yet. */
async function readRows(s3: S3Client, bucket: string, key: string, expectedBucketOwner?: string): Promise<Record<string, unknown>[]> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: expectedBucketOwner }));
    const text = await object.Body!.transformToString('utf8');
    return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof NoSuchKey) return [];
    throw error;
  }
}

/**
 * The day's rows: this answer's valid hours, and every hour the day's object already held that
 * the answer lacks or refuses (an API that answers fewer hours later never erases earlier ones).
 */
export function mergeHours(earlier: readonly Record<string, unknown>[], now: readonly Record<string, unknown>[]): { rows: Record<string, unknown>[]; kept: number } {
  const answered = new Set(now.map((r) => String(r.observation_hour)));
  const kept = earlier.filter((r) => !answered.has(String(r.observation_hour)));
  const rows = [...now, ...kept].sort((a, b) => String(a.observation_hour).localeCompare(String(b.observation_hour)));
  return { rows, kept: kept.length };
}

async function pullCity(city: City, window: PullWindow, settings: WeatherPullSettings, deps: WeatherPullDeps): Promise<CityResult> {
  const failed = (error: string, rowsQuarantined = 0): CityResult => ({ city: city.name, ok: false, rowsWritten: 0, rowsQuarantined, missingHours: [], hoursKept: 0, error });
  let response: OpenMeteoResponse;
  try {
    const body = await getJson(forecastUrl(settings.apiBaseUrl, city.latitude, city.longitude, window.day), {
      timeoutMs: settings.requestTimeoutMs,
      maxAttempts: settings.maxAttempts,
      baseDelayMs: settings.retryBaseDelayMs,
      maxDelayMs: settings.retryMaxDelayMs,
      fetchImpl: deps.fetchImpl,
    });
    const parsed = openMeteoResponse.safeParse(body);
    if (!parsed.success) {
      return failed(`answer does not match the Open-Meteo schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join(', ')}`);
    }
    response = parsed.data;
  } catch (error) {
    return failed(error instanceof HttpRequestError ? error.message : `request failed: ${(error as Error).message}`);
  }
  if (response.utc_offset_seconds !== undefined && response.utc_offset_seconds !== 0) {
    return failed(`answer is in local time (utc_offset_seconds ${response.utc_offset_seconds}, timezone ${response.timezone ?? 'not given'}), not the GMT asked for; refused`);
  }

  const rows = rowsOf(city, response, window);
  const target = { bucket: settings.bucket, expectedBucketOwner: settings.expectedBucketOwner, contentType: 'application/x-ndjson' };
  let rowsQuarantined = 0;
  try {
    // The quarantine first and always (empty when nothing is refused), so that it never keeps an
    // earlier run's rows; a data write that fails after it leaves both to the retried run.
    await putWholeObject(deps.s3, { ...target, key: quarantineKey(window.day, city.id), body: toNdjson(rows.quarantined) });
    rowsQuarantined = rows.quarantined.length;
    const key = dataKey(window.day, city.id);
    const day = mergeHours(await readRows(deps.s3, settings.bucket, key, settings.expectedBucketOwner), rows.valid);
    await putWholeObject(deps.s3, { ...target, key, body: toNdjson(day.rows) });
    const held = new Set(day.rows.map((r) => String(r.observation_hour)));
    return {
      city: city.name,
      ok: true,
      key,
      rowsWritten: day.rows.length,
      rowsQuarantined,
      missingHours: rows.missingHours.filter((h) => !held.has(h)),
      hoursKept: day.kept,
    };
  } catch (error) {
    return failed(`S3 failed: ${(error as Error).name}: ${(error as Error).message}`, rowsQuarantined);
  }
}

/** Runs `task` over `items` with at most `limit` running at once, keeping the input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Pulls every city's complete hours of the window and writes one NDJSON object per city and day.
 * A failing city does not stop the others; the report says what happened to each, and the
 * caller fails the invocation when any failed.
 */
export async function pullWeather(settings: WeatherPullSettings, now: Date, deps: WeatherPullDeps): Promise<WeatherPullReport> {
  const window = pullWindow(now);
  const results = await pullCities(window, settings, deps);
  const before = catchUpWindow(now);
  if (!before) return { window, results };
  return { window, results, catchUp: { window: before, results: await pullCities(before, settings, deps) } };
}

async function pullCities(window: PullWindow, settings: WeatherPullSettings, deps: WeatherPullDeps): Promise<CityResult[]> {
  const results = await mapLimited(settings.cities, settings.concurrency, (city) => pullCity(city, window, settings, deps));
  for (const r of results) {
    if (r.ok) {
      deps.logger.info('city written', { city: r.city, key: r.key, rows: r.rowsWritten, quarantined: r.rowsQuarantined, missingHours: r.missingHours });
      if (r.missingHours.length > 0) deps.logger.warn('hours missing from the answer', { city: r.city, missingHours: r.missingHours });
      if (r.hoursKept > 0) deps.logger.warn('hours the day already held were kept: the answer lacked or refused them', { city: r.city, hoursKept: r.hoursKept });
    } else {
      deps.logger.error('city failed', { city: r.city, error: r.error });
    }
  }
  const ok = results.filter((r) => r.ok);
  deps.metrics.addMetric('CitiesFetched', 'Count', ok.length);
  deps.metrics.addMetric('CitiesFailed', 'Count', results.length - ok.length);
  deps.metrics.addMetric('RowsWritten', 'Count', sum(ok.map((r) => r.rowsWritten)));
  // Quarantine objects count whether or not their city's data write succeeded afterwards.
  deps.metrics.addMetric('RowsQuarantined', 'Count', sum(results.map((r) => r.rowsQuarantined)));
  deps.metrics.addMetric('HoursMissing', 'Count', sum(ok.map((r) => r.missingHours.length)));
  deps.metrics.addMetric('HoursKept', 'Count', sum(ok.map((r) => r.hoursKept)));
  return results;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
