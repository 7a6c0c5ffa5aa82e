import type { ZodMiniType } from 'zod/mini';
import { SENSOR_PULL_SETTINGS, sensorPullSettings } from '../../lambda/sensor-pull/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from '../../lambda/weather-pull/settings';
import { EnvironmentConfig } from '../config';
import { METRICS_NAMESPACE } from '../config/metrics';

/**
 * The registry of scheduled pull functions: one declaration per function, from which its stack
 * builds it (lib/constructs/pull-functions.ts: function, schedule, role grants, alarms) and the
 * local run invokes it (tools/local-run/platform.ts) against its stand-in API. A new API-pulled
 * source adds one entry here and its code under lambda/<name>/.
 *
 * Each function's settings are one JSON variable, written here with the schema its handler parses
 * them with (lambda/<name>/settings.ts), so the two cannot drift; a value the schema refuses fails
 * synth. Every retry, timeout and memory value comes from the environment's config. The bucket's
 * name is a deploy-time reference inside the JSON text; CloudFormation joins it in (a bucket name
 * has nothing JSON would escape).
 */

/** The stream names a pull may write, as `TelemetryStreams` names them. */
export type PullStream = 'telemetry' | 'sensorReadings' | 'deviceUpdates';

/** Where a pull function writes, which only the deployment (or the local run) knows. */
export interface PullTargets {
  readonly rawBucket: string;
  /** The account that must own the bucket (S3 ExpectedBucketOwner). */
  readonly account: string;
  /** Physical names of the streams the function writes (`writesStreams`). */
  readonly streams: Partial<Record<PullStream, string>>;
}

/** A count a pull function publishes (Powertools Metrics, its service dimension) that must stay at zero. */
export interface PullCountAlarm {
  readonly metricName: string;
  readonly description: string;
  readonly thresholdReason: string;
}

export interface PullFunctionDeclaration {
  /** Folder under lambda/ (handler.ts is the entry point), the function's name after the prefix, its metrics' service. */
  readonly name: string;
  /** Construct ID in its stack; the function and its log group are named, so it never changes. */
  readonly id: string;
  /** The stack that builds it. */
  readonly layer: 'ingestion' | 'streaming';
  /** The dataset it lands: its contract's source names the raw writer role it runs as. */
  readonly dataset: string;
  readonly description: string;
  readonly schedule: (config: EnvironmentConfig) => string;
  readonly timeoutSeconds: (config: EnvironmentConfig) => number;
  /** @default 512 */
  readonly memoryMiB?: (config: EnvironmentConfig) => number;
  /** The configured API; the local run replaces it with its stand-in. */
  readonly apiBaseUrl: (config: EnvironmentConfig) => string;
  /** The handler's settings, without the bucket and its owner, which every pull gets. */
  readonly settings: (config: EnvironmentConfig, targets: PullTargets, apiBaseUrl: string) => Record<string, unknown>;
  readonly settingsVariable: string;
  readonly settingsSchema: ZodMiniType<unknown>;
  /**
   * Why the function reads back the objects of its own dataset (GetObject and List under its raw
   * prefix, decrypt with the raw key), or undefined when it only writes.
   * @default - writes only
   */
  readonly readsOwnPrefix?: string;
  /** @default - none */
  readonly writesStreams?: readonly PullStream[];
  /** Counts of lost or quarantined data it publishes, each alarmed on its first. */
  readonly countAlarms: readonly PullCountAlarm[];
  /** Module under tools/stand-ins/ that plays its API for the local run (`serveFile`). */
  readonly localStandIn: string;
}

/** The function's environment: its settings as one JSON variable, and Powertools' two. */
export function pullEnvironment(pull: PullFunctionDeclaration, config: EnvironmentConfig, targets: PullTargets, apiBaseUrl = pull.apiBaseUrl(config)): Record<string, string> {
  const settings = { ...pull.settings(config, targets, apiBaseUrl), bucket: targets.rawBucket, expectedBucketOwner: targets.account };
  return {
    ...settingsEnvironment(pull.settingsVariable, pull.settingsSchema, settings),
    POWERTOOLS_SERVICE_NAME: pull.name,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
}

const weatherPull: PullFunctionDeclaration = {
  name: 'weather-pull',
  id: 'WeatherPull',
  layer: 'ingestion',
  dataset: 'weather',
  description: 'Pulls hourly weather for the configured cities into the raw zone',
  schedule: (c) => c.ingestion.weather.schedule,
  timeoutSeconds: (c) => {
    const w = c.ingestion.weather;
    // Worst case: every batch of cities uses all its attempts, each timing out, with the longest backoff between.
    const worstCaseMs = Math.ceil(w.cities.length / w.concurrency) * w.maxAttempts * (w.requestTimeoutMs + w.retryMaxDelayMs);
    return Math.min(900, Math.ceil(worstCaseMs / 1000) + 30);
  },
  apiBaseUrl: (c) => c.ingestion.weather.apiBaseUrl,
  settings: (c, _targets, apiBaseUrl) => {
    const { cities, requestTimeoutMs, maxAttempts, retryBaseDelayMs, retryMaxDelayMs, concurrency } = c.ingestion.weather;
    return { apiBaseUrl, cities, requestTimeoutMs, maxAttempts, retryBaseDelayMs, retryMaxDelayMs, concurrency };
  },
  settingsVariable: WEATHER_PULL_SETTINGS,
  settingsSchema: weatherPullSettings,
  readsOwnPrefix: "a run merges the day's object with the hours it already holds",
  countAlarms: [
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
  ],
  localStandIn: 'weather-api-server',
};

const sensorPull: PullFunctionDeclaration = {
  name: 'sensor-pull',
  id: 'SensorPull',
  layer: 'streaming',
  dataset: 'sensor_readings',
  description: 'Pulls sensor readings (Dataset A) into the raw zone as Parquet and onto the sensor-readings stream',
  schedule: (c) => c.streaming.sensorPull.schedule,
  timeoutSeconds: (c) => c.streaming.sensorPull.timeoutSeconds,
  memoryMiB: (c) => c.streaming.sensorPull.memoryMiB,
  apiBaseUrl: (c) => c.streaming.sensorPull.apiBaseUrl,
  settings: (c, targets, apiBaseUrl) => {
    const pull = c.streaming.sensorPull;
    return {
      streamName: targets.streams.sensorReadings,
      apiBaseUrl,
      windowMinutes: pull.windowMinutes,
      requestTimeoutMs: pull.requestTimeoutMs,
      http: { maxAttempts: pull.maxAttempts, baseDelayMs: pull.retryBaseDelayMs, maxDelayMs: pull.retryMaxDelayMs },
      putRecords: pull.putRecords,
    };
  },
  settingsVariable: SENSOR_PULL_SETTINGS,
  settingsSchema: sensorPullSettings,
  writesStreams: ['sensorReadings'],
  countAlarms: [
    {
      metricName: 'ReadingsQuarantined',
      description: 'readings were quarantined (raw/sensors/_quarantine/), each with its reasons: the contract, a ts outside the window, a Kinesis limit, or a reading_id repeated with another ts.',
      thresholdReason: 'a quarantined reading is missing from the stream and the enriched table; the API sending one is a fault at the source worth a look.',
    },
  ],
  localStandIn: 'sensor-api-server',
};

export const PULL_FUNCTIONS: readonly PullFunctionDeclaration[] = [weatherPull, sensorPull];

/** The declaration of one pull function; fails naming the known ones. */
export function pullFunction(name: string): PullFunctionDeclaration {
  const pull = PULL_FUNCTIONS.find((p) => p.name === name);
  if (!pull) throw new Error(`No pull function '${name}'; known: ${PULL_FUNCTIONS.map((p) => p.name).join(', ')}`);
  return pull;
}
