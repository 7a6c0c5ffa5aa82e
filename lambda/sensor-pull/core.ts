import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import contractJson from '../../contracts/sensors.sensor_readings.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import { getJson } from '../shared/http-json';
import { putAllRecords, PutStats, recordLimitProblem, UndeliveredRecordsError } from '../shared/kinesis-put';
import { contractParquet } from '../shared/parquet';
import { putWholeObject, toNdjson } from '../shared/s3-objects';
import { readingsPage, readingsUrl } from './sensor-api';
import type { SensorPullSettings } from './settings';

const CONTRACT = contractJson as unknown as DatasetContract;
const RAW_PREFIX = `raw/${CONTRACT.source}/${CONTRACT.dataset}/`;
const QUARANTINE_PREFIX = `raw/${CONTRACT.source}/_quarantine/${CONTRACT.dataset}/`;
/** Pages followed at most in one pull: a loop in the API's tokens must not run the Lambda out of time. */
const MAX_PAGES = 1000;

export type { SensorPullSettings } from './settings';

export interface SensorPullDeps {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly logger: Pick<PowertoolsLogger, 'info' | 'warn' | 'error'>;
  readonly metrics: { addMetric(name: string, unit: 'Count', value: number): void };
}

export interface SensorPullReport {
  readonly from: Date;
  readonly to: Date;
  readonly pages: number;
  /** Readings written to the raw zone and put on the stream (each reading_id once). */
  readonly readings: number;
  readonly quarantined: number;
  /** Copies of a reading already taken in this window (same reading_id and ts), dropped. */
  readonly repeated: number;
  readonly dataKey: string;
  readonly put: PutStats;
}

/** A quarantined element of a page: the record as the API sent it, every reason, and where it was. */
export interface QuarantinedReading {
  readonly reasons: string[];
  readonly record: unknown;
  readonly page: number;
  readonly index: number;
}

const MINUTE_MS = 60_000;

/** The window of a run at `now`: [minute(now) - windowMinutes, minute(now)). */
export function pullWindow(now: Date, windowMinutes: number): { from: Date; to: Date } {
  const to = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  return { from: new Date(to - windowMinutes * MINUTE_MS), to: new Date(to) };
}

const compact = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** One key per window: a retried run overwrites its own file instead of adding one. */
export function dataKey(from: Date, to: Date): string {
  return `${RAW_PREFIX}ingest_date=${to.toISOString().slice(0, 10)}/pull-${compact(from)}-${compact(to)}.parquet`;
}

export function quarantineKey(from: Date, to: Date): string {
  return `${QUARANTINE_PREFIX}ingest_date=${to.toISOString().slice(0, 10)}/pull-${compact(from)}-${compact(to)}.ndjson`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/**
 * Sorts the window's readings into those to write and those to quarantine, each with every
 * reason: the contract (timestamps parsed, not only matched), the window (a ts outside it belongs
 * to another pull, and a far one would move the Flink job's watermark), Kinesis's record limits,
 * and one rule for a reading_id seen again, within a page or across pages: the first occurrence
 * is kept (as the Flink job keeps the first arrival); a copy with the same ts is a repeat, dropped
 * and counted; a copy with another ts is quarantined, naming the ts kept.
 */
export function sortReadings(pages: readonly (readonly unknown[])[], from: Date, to: Date) {
  const valid: Record<string, unknown>[] = [];
  const quarantined: QuarantinedReading[] = [];
  const kept = new Map<string, string>(); // reading_id -> ts of the occurrence kept
  let repeated = 0;
  pages.forEach((readings, p) =>
    readings.forEach((record, index) => {
      const at = { page: p + 1, index };
      if (!isObject(record)) {
        quarantined.push({ reasons: [`not a JSON object but ${kindOf(record)}`], record, ...at });
        return;
      }
      const reasons = recordProblems(CONTRACT, record);
      if (reasons.length === 0) {
        const ts = Date.parse(String(record.ts));
        if (ts < from.getTime() || ts >= to.getTime()) reasons.push(`ts: ${record.ts} is outside the pulled window ${from.toISOString()} .. ${to.toISOString()}`);
        const limit = recordLimitProblem(Buffer.from(JSON.stringify(record), 'utf8'), String(record.reading_id), 'reading_id');
        if (limit) reasons.push(limit);
      }
      if (reasons.length === 0) {
        const id = String(record.reading_id);
        const first = kept.get(id);
        if (first === undefined) {
          kept.set(id, String(record.ts));
          valid.push(record);
        } else if (first === String(record.ts)) {
          repeated++;
        } else {
          reasons.push(`reading_id: repeated with another ts; the first occurrence, with ts ${first}, is kept`);
        }
      }
      if (reasons.length > 0) quarantined.push({ reasons, record, ...at });
    }),
  );
  return { valid, quarantined, repeated };
}

/**
 * Pulls the window's readings (every page), quarantines the readings that cannot be taken (with
 * every reason, their page and index), writes the rest as one Parquet file to the raw zone, and
 * puts them on the sensor-readings stream (partition key: reading_id, so records spread evenly and
 * the deduplication state in Flink, keyed by reading_id, stays local to a shard's reader).
 *
 * The quarantine object is written first and always, empty when nothing was quarantined, so it
 * never keeps the rows of an earlier run of the same window; then the data object; then the
 * stream. The counts are published as each step succeeds, a failed run's included. A failure
 * throws: the invocation's retry redoes the window, rewriting both files, and Flink drops the
 * readings it already has.
 */
export async function pullSensors(settings: SensorPullSettings, now: Date, deps: SensorPullDeps): Promise<SensorPullReport> {
  const { from, to } = pullWindow(now, settings.windowMinutes);
  const count = (name: string, value: number) => deps.metrics.addMetric(name, 'Count', value);
  const pages: unknown[][] = [];
  let pageToken: string | undefined;
  do {
    if (pages.length === MAX_PAGES) throw new Error(`sensor-pull: more than ${MAX_PAGES} pages for ${from.toISOString()}..${to.toISOString()}; refusing to follow further`);
    const body = await getJson(readingsUrl(settings.apiBaseUrl, from, to, pageToken), { timeoutMs: settings.requestTimeoutMs, ...settings.http });
    const page = readingsPage.safeParse(body);
    if (!page.success) {
      throw new Error(`sensor-pull: page ${pages.length + 1} does not match the API schema: ${page.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join(', ')}`);
    }
    pages.push(page.data.readings);
    pageToken = page.data.next_page_token ?? undefined;
  } while (pageToken);
  count('PagesFetched', pages.length);

  const { valid, quarantined, repeated } = sortReadings(pages, from, to);
  // Every reading here passed the parsed checks above, which is what the Parquet writer needs.
  const body = contractParquet(CONTRACT, valid);
  count('ReadingsRepeated', repeated);
  await putWholeObject(deps.s3, {
    bucket: settings.bucket,
    key: quarantineKey(from, to),
    body: toNdjson(quarantined),
    contentType: 'application/x-ndjson',
    expectedBucketOwner: settings.expectedBucketOwner,
  });
  count('ReadingsQuarantined', quarantined.length);
  if (quarantined.length > 0) deps.logger.warn('readings quarantined', { count: quarantined.length, first: quarantined[0].reasons });
  const key = dataKey(from, to);
  await putWholeObject(deps.s3, { bucket: settings.bucket, key, body, contentType: 'application/vnd.apache.parquet', expectedBucketOwner: settings.expectedBucketOwner });
  count('ReadingsWritten', valid.length);

  const entries = valid.map((r) => ({ Data: Buffer.from(JSON.stringify(r), 'utf8'), PartitionKey: String(r.reading_id) }));
  const put = await putAllRecords(deps.kinesis, settings.streamName, entries, settings.putRecords);
  count('PutRecordsCalls', put.calls);
  count('RecordsRetried', put.retriedRecords);
  count('RecordsUndelivered', put.undelivered);
  if (put.undelivered > 0) throw new UndeliveredRecordsError(put.undelivered, put.undeliveredCodes);
  deps.logger.info('window pulled', { from, to, pages: pages.length, readings: valid.length, quarantined: quarantined.length, repeated, key, putRecordsCalls: put.calls });
  return { from, to, pages: pages.length, readings: valid.length, quarantined: quarantined.length, repeated, dataKey: key, put };
}
