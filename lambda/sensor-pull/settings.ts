import * as z from 'zod/mini';
import { backoffPolicy, positiveInt } from '../shared/settings';

/** The environment variable that holds the sensor pull's settings (JSON). */
export const SENSOR_PULL_SETTINGS = 'SENSOR_PULL_SETTINGS';

/** Everything the sensor pull is told by its deployment (lib/config: streaming.sensorPull). */
export const sensorPullSettings = z.object({
  bucket: z.string().check(z.minLength(3)),
  expectedBucketOwner: z.optional(z.string()),
  streamName: z.string().check(z.minLength(1)),
  apiBaseUrl: z.url(),
  /** Each pull asks for this many minutes back from the run's minute (overlapping the previous pull). */
  windowMinutes: positiveInt,
  requestTimeoutMs: positiveInt,
  /** Retries of an API page. */
  http: backoffPolicy,
  /** Retries of the PutRecords entries Kinesis refused. */
  putRecords: backoffPolicy,
});
export type SensorPullSettings = z.infer<typeof sensorPullSettings>;
