import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import contractJson from '../../contracts/sensors.sensor_readings.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import { getJson } from '../shared/http-json';
import { putAllRecords, PutStats } from '../shared/kinesis-put';
import { contractParquet } from '../shared/parquet';
import { BackoffPolicy } from '../shared/retry';
import { putWholeObject, toNdjson } from '../shared/s3-objects';
import { readingsPage, readingsUrl } from './sensor-api';

const CONTRACT = contractJson as unknown as DatasetContract;
const RAW_PREFIX = `raw/${CONTRACT.source}/${CONTRACT.dataset}/`;
const QUARANTINE_PREFIX = `raw/${CONTRACT.source}/_quarantine/${CONTRACT.dataset}/`;
/** Pages followed at most in one pull: a loop in the API's tokens must not run the Lambda out of time. */
const MAX_PAGES = 1000;

export interface SensorPullSettings {
  readonly bucket: string;
  readonly expectedBucketOwner?: string;
  readonly streamName: string;
  readonly apiBaseUrl: string;
  /** Each pull asks for this many minutes back from the run's minute (overlapping the previous pull). */
  readonly windowMinutes: number;
  readonly requestTimeoutMs: number;
  readonly http: BackoffPolicy;
  readonly putRecords: BackoffPolicy;
}

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
  readonly readings: number;
  readonly quarantined: number;
  readonly dataKey: string;
  readonly put: PutStats;
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

/**
 * Pulls the window's readings (every page), writes them as one Parquet file to the raw zone,
 * quarantines readings that break the contract with their reasons, and puts every valid reading
 * on the sensor-readings stream (partition key: reading_id, so records spread evenly and the
 * deduplication state in Flink, keyed by reading_id, stays local to a shard's reader).
 *
 * The API repeats readings across overlapping windows; both the file and the stream carry what
 * each pull saw, and the Flink job keeps the first arrival of each reading_id. Any failure throws:
 * the invocation's retry redoes the window, rewriting the same file.
 */
export async function pullSensors(settings: SensorPullSettings, now: Date, deps: SensorPullDeps): Promise<SensorPullReport> {
  const { from, to } = pullWindow(now, settings.windowMinutes);
  const valid: Record<string, unknown>[] = [];
  const quarantined: { reasons: string[]; record: Record<string, unknown> }[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    if (pages === MAX_PAGES) throw new Error(`sensor-pull: more than ${MAX_PAGES} pages for ${from.toISOString()}..${to.toISOString()}; refusing to follow further`);
    const body = await getJson(readingsUrl(settings.apiBaseUrl, from, to, pageToken), { timeoutMs: settings.requestTimeoutMs, ...settings.http });
    const page = readingsPage.safeParse(body);
    if (!page.success) {
      throw new Error(`sensor-pull: page ${pages + 1} does not match the API schema: ${page.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join(', ')}`);
    }
    pages++;
    for (const reading of page.data.readings) {
      const problems = recordProblems(CONTRACT, reading);
      if (problems.length === 0) valid.push(reading);
      else quarantined.push({ reasons: problems, record: reading });
    }
    pageToken = page.data.next_page_token ?? undefined;
  } while (pageToken);

  if (quarantined.length > 0) {
    await putWholeObject(deps.s3, {
      bucket: settings.bucket,
      key: quarantineKey(from, to),
      body: toNdjson(quarantined),
      contentType: 'application/x-ndjson',
      expectedBucketOwner: settings.expectedBucketOwner,
    });
    deps.logger.warn('readings quarantined', { count: quarantined.length, first: quarantined[0].reasons });
  }
  const key = dataKey(from, to);
  await putWholeObject(deps.s3, {
    bucket: settings.bucket,
    key,
    body: contractParquet(CONTRACT, valid),
    contentType: 'application/vnd.apache.parquet',
    expectedBucketOwner: settings.expectedBucketOwner,
  });

  const entries = valid.map((r) => ({ Data: Buffer.from(JSON.stringify(r), 'utf8'), PartitionKey: String(r.reading_id) }));
  const put = await putAllRecords(deps.kinesis, settings.streamName, entries, settings.putRecords);

  deps.metrics.addMetric('PagesFetched', 'Count', pages);
  deps.metrics.addMetric('ReadingsWritten', 'Count', valid.length);
  deps.metrics.addMetric('ReadingsQuarantined', 'Count', quarantined.length);
  deps.metrics.addMetric('PutRecordsCalls', 'Count', put.calls);
  deps.metrics.addMetric('RecordsRetried', 'Count', put.retriedRecords);
  deps.logger.info('window pulled', { from, to, pages, readings: valid.length, quarantined: quarantined.length, key, putRecordsCalls: put.calls });
  return { from, to, pages, readings: valid.length, quarantined: quarantined.length, dataKey: key, put };
}
