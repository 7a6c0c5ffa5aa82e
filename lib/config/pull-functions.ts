import { METRICS_NAMESPACE } from './metrics';
import { SENSOR_PULL_SETTINGS, sensorPullSettings } from '../../lambda/sensor-pull/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from '../../lambda/weather-pull/settings';
import { EnvironmentConfig } from './schema';
import type { ZodMiniType } from 'zod/mini';

/**
 * The environment of each scheduled pull Lambda, built from the configuration in one place: the
 * stacks deploy it, and the local platform run (tools/local-run) starts the same handlers with it,
 * pointed at local endpoints. Each function's settings are one JSON variable, written here with
 * the schema its handler parses them with (lambda/<name>/settings.ts), so the two cannot drift;
 * a value the schema refuses fails synth. Powertools reads its own two variables. The bucket's
 * name is a deploy-time reference inside the JSON text; CloudFormation joins it in (a bucket name
 * has nothing JSON would escape).
 */

/** Where a pull function writes, which only the deployment (or the local run) knows. */
export interface PullTargets {
  readonly rawBucket: string;
  /** The account that must own the bucket (S3 ExpectedBucketOwner). */
  readonly account: string;
}

/** A count a pull function publishes (Powertools Metrics, its service dimension) that must stay at zero. */
export interface PullCountAlarm {
  readonly metricName: string;
  readonly description: string;
  readonly thresholdReason: string;
}

/** The weather pull's counts of lost data (lambda/weather-pull/core.ts), each alarmed on its first. */
export const WEATHER_PULL_COUNT_ALARMS: readonly PullCountAlarm[] = [
  {
    metricName: 'HoursMissing',
    description: 'hours the weather API left out of its answer are missing from the raw zone (flagged as missing in the processed table).',
    thresholdReason: 'a missing hour takes its intervals out of the KPI (no_weather); one is worth a look, most clear with the next run.',
  },
  {
    metricName: 'RowsQuarantined',
    description: 'weather rows broke the contract and were quarantined (raw/weather/_quarantine/), with their reasons.',
    thresholdReason: 'the API answering values the contract refuses is a fault at the source; each row is an hour the KPI lacks.',
  },
];

/** The sensor pull's count of readings kept out of the stream (lambda/sensor-pull/core.ts). */
export const SENSOR_PULL_COUNT_ALARMS: readonly PullCountAlarm[] = [
  {
    metricName: 'ReadingsQuarantined',
    description: 'readings were quarantined (raw/sensors/_quarantine/), each with its reasons: the contract, a ts outside the window, a Kinesis limit, or a reading_id repeated with another ts.',
    thresholdReason: 'a quarantined reading is missing from the stream and the enriched table; the API sending one is a fault at the source worth a look.',
  },
];

/**
 * A pull function's environment: its settings, with the bucket it writes and the account that
 * must own it, as one JSON variable checked against the handler's schema; and Powertools' two.
 */
function pullEnvironment<T>(service: string, variable: string, schema: ZodMiniType<T>, targets: PullTargets, settings: Omit<T, 'bucket' | 'expectedBucketOwner'>): Record<string, string> {
  return {
    ...settingsEnvironment(variable, schema, { ...settings, bucket: targets.rawBucket, expectedBucketOwner: targets.account } as T),
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
}

export function weatherPullEnvironment(config: EnvironmentConfig, targets: PullTargets): Record<string, string> {
  const { apiBaseUrl, cities, requestTimeoutMs, maxAttempts, retryBaseDelayMs, retryMaxDelayMs, concurrency } = config.ingestion.weather;
  const settings = { apiBaseUrl, cities, requestTimeoutMs, maxAttempts, retryBaseDelayMs, retryMaxDelayMs, concurrency };
  return pullEnvironment('weather-pull', WEATHER_PULL_SETTINGS, weatherPullSettings, targets, settings);
}

export function sensorPullEnvironment(config: EnvironmentConfig, targets: PullTargets & { readonly readingsStream: string }): Record<string, string> {
  const pull = config.streaming.sensorPull;
  return pullEnvironment('sensor-pull', SENSOR_PULL_SETTINGS, sensorPullSettings, targets, {
    streamName: targets.readingsStream,
    apiBaseUrl: pull.apiBaseUrl,
    windowMinutes: pull.windowMinutes,
    requestTimeoutMs: pull.requestTimeoutMs,
    http: { maxAttempts: pull.maxAttempts, baseDelayMs: pull.retryBaseDelayMs, maxDelayMs: pull.retryMaxDelayMs },
    putRecords: pull.putRecords,
  });
}
