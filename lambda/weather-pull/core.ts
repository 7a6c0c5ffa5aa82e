import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import contractJson from '../../contracts/weather.weather.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import { getJson, HttpRequestError } from '../shared/http-json';
import { putWholeObject, toNdjson } from '../shared/s3-objects';
import { conditionOf, forecastUrl, openMeteoResponse, OpenMeteoResponse } from './open-meteo';

const CONTRACT = contractJson as unknown as DatasetContract;
const RAW_PREFIX = `raw/${CONTRACT.source}/${CONTRACT.dataset}/`;
/** Rejected rows of the dataset, outside the table's location but under the source's own prefix. */
const QUARANTINE_PREFIX = `raw/${CONTRACT.source}/_quarantine/${CONTRACT.dataset}/`;

export interface City {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
}

export interface WeatherPullSettings {
  readonly bucket: string;
  readonly expectedBucketOwner?: string;
  readonly apiBaseUrl: string;
  readonly cities: readonly City[];
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Cities pulled at the same time. */
  readonly concurrency: number;
}

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
  readonly rowsQuarantined: number;
  readonly missingHours: readonly string[];
  readonly error?: string;
}

export interface WeatherPullReport {
  readonly window: PullWindow;
  readonly results: readonly CityResult[];
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

/** File-name form of a city: lower case, ASCII letters and digits, hyphens. */
export function citySlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function dataKey(day: string, city: string): string {
  return `${RAW_PREFIX}ingest_date=${day}/${citySlug(city)}.ndjson`;
}

export function quarantineKey(day: string, city: string): string {
  return `${QUARANTINE_PREFIX}ingest_date=${day}/${citySlug(city)}.ndjson`;
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
  const index = new Map(response.hourly.time.map((t, i) => [`${t}:00Z`, i]));
  const rows: Rows = { valid: [], quarantined: [], missingHours: [] };
  for (const hour of window.hours) {
    const i = index.get(hour);
    if (i === undefined) {
      rows.missingHours.push(hour);
      continue;
    }
    const code = response.hourly.weather_code[i];
    const record: Record<string, unknown> = {
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
    const problems = recordProblems(CONTRACT, record);
    if (problems.length === 0) rows.valid.push(record);
    else rows.quarantined.push({ reasons: code !== null && conditionOf(code) === null ? [...problems, `weather_code: ${code} is not a WMO code`] : problems, record });
  }
  return rows;
}

async function pullCity(city: City, window: PullWindow, settings: WeatherPullSettings, deps: WeatherPullDeps): Promise<CityResult> {
  const failed = (error: string): CityResult => ({ city: city.name, ok: false, rowsWritten: 0, rowsQuarantined: 0, missingHours: [], error });
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

  const rows = rowsOf(city, response, window);
  try {
    // Quarantine first: if the data write then fails, the retried run rewrites both.
    if (rows.quarantined.length > 0) {
      await putWholeObject(deps.s3, {
        bucket: settings.bucket,
        key: quarantineKey(window.day, city.name),
        body: toNdjson(rows.quarantined),
        contentType: 'application/x-ndjson',
        expectedBucketOwner: settings.expectedBucketOwner,
      });
    }
    const key = dataKey(window.day, city.name);
    await putWholeObject(deps.s3, {
      bucket: settings.bucket,
      key,
      body: toNdjson(rows.valid),
      contentType: 'application/x-ndjson',
      expectedBucketOwner: settings.expectedBucketOwner,
    });
    return { city: city.name, ok: true, key, rowsWritten: rows.valid.length, rowsQuarantined: rows.quarantined.length, missingHours: rows.missingHours };
  } catch (error) {
    return failed(`writing to S3 failed: ${(error as Error).name}: ${(error as Error).message}`);
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
  const results = await mapLimited(settings.cities, settings.concurrency, (city) => pullCity(city, window, settings, deps));
  for (const r of results) {
    if (r.ok) {
      deps.logger.info('city written', { city: r.city, key: r.key, rows: r.rowsWritten, quarantined: r.rowsQuarantined, missingHours: r.missingHours });
      if (r.missingHours.length > 0) deps.logger.warn('hours missing from the answer', { city: r.city, missingHours: r.missingHours });
    } else {
      deps.logger.error('city failed', { city: r.city, error: r.error });
    }
  }
  const ok = results.filter((r) => r.ok);
  deps.metrics.addMetric('CitiesFetched', 'Count', ok.length);
  deps.metrics.addMetric('CitiesFailed', 'Count', results.length - ok.length);
  deps.metrics.addMetric('RowsWritten', 'Count', sum(ok.map((r) => r.rowsWritten)));
  deps.metrics.addMetric('RowsQuarantined', 'Count', sum(ok.map((r) => r.rowsQuarantined)));
  deps.metrics.addMetric('HoursMissing', 'Count', sum(ok.map((r) => r.missingHours.length)));
  return { window, results };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
