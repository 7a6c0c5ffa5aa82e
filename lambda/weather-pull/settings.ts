import * as z from 'zod/mini';
import { positiveInt } from '../shared/settings';

/** The environment variable that holds the weather pull's settings (JSON). */
export const WEATHER_PULL_SETTINGS = 'WEATHER_PULL_SETTINGS';

/** Everything the weather pull is told by its deployment (lib/config: ingestion.weather). */
export const weatherPullSettings = z.object({
  bucket: z.string().check(z.minLength(3)),
  /** The account that must own the bucket (S3 ExpectedBucketOwner). */
  expectedBucketOwner: z.optional(z.string()),
  apiBaseUrl: z.url(),
  cities: z
    .array(z.object({ id: z.string().check(z.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/)), name: z.string().check(z.minLength(1)), latitude: z.number(), longitude: z.number() }))
    .check(z.minLength(1)),
  requestTimeoutMs: positiveInt,
  maxAttempts: positiveInt,
  retryBaseDelayMs: positiveInt,
  retryMaxDelayMs: positiveInt,
  /** Cities pulled at the same time. */
  concurrency: positiveInt,
});
export type WeatherPullSettings = z.infer<typeof weatherPullSettings>;
