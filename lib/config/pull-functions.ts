import { METRICS_NAMESPACE } from '../constructs/platform-monitoring';
import { EnvironmentConfig } from './schema';

/**
 * The environment of each scheduled pull Lambda, built from the configuration in one place: the
 * stacks deploy it, and the local platform run (tools/local-run) starts the same handlers with it,
 * pointed at local endpoints. The handlers read nothing else.
 */

/** Cities the weather pull fetches at the same time. */
export const WEATHER_CONCURRENCY = 4;
/** Longest backoff between two attempts of one city; the function's timeout derives from it. */
export const WEATHER_MAX_BACKOFF_MS = 5_000;

/** Where a pull function writes, which only the deployment (or the local run) knows. */
export interface PullTargets {
  readonly rawBucket: string;
  /** The account that must own the bucket (S3 ExpectedBucketOwner). */
  readonly account: string;
}

export function weatherPullEnvironment(config: EnvironmentConfig, targets: PullTargets): Record<string, string> {
  const weather = config.ingestion.weather;
  return {
    RAW_BUCKET: targets.rawBucket,
    EXPECTED_BUCKET_OWNER: targets.account,
    WEATHER_API_BASE_URL: weather.apiBaseUrl,
    WEATHER_CITIES: JSON.stringify(weather.cities),
    REQUEST_TIMEOUT_MS: String(weather.requestTimeoutMs),
    MAX_ATTEMPTS: String(weather.maxAttempts),
    CONCURRENCY: String(WEATHER_CONCURRENCY),
    RETRY_MAX_DELAY_MS: String(WEATHER_MAX_BACKOFF_MS),
    POWERTOOLS_SERVICE_NAME: 'weather-pull',
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
}

export function sensorPullEnvironment(config: EnvironmentConfig, targets: PullTargets & { readonly readingsStream: string }): Record<string, string> {
  const pull = config.streaming.sensorPull;
  return {
    RAW_BUCKET: targets.rawBucket,
    EXPECTED_BUCKET_OWNER: targets.account,
    SENSOR_STREAM_NAME: targets.readingsStream,
    SENSOR_API_BASE_URL: pull.apiBaseUrl,
    WINDOW_MINUTES: String(pull.windowMinutes),
    REQUEST_TIMEOUT_MS: String(pull.requestTimeoutMs),
    MAX_ATTEMPTS: String(pull.maxAttempts),
    POWERTOOLS_SERVICE_NAME: 'sensor-pull',
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
}
