import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ScheduledEvent } from 'aws-lambda';
import { settingsFromEnvironment } from '../shared/settings';
import { pullWeather, WeatherPullError } from './core';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from './settings';

/**
 * Scheduled entry point: reads its settings from the environment (set by the CDK construct),
 * pulls the window of the event's time, publishes metrics, and fails the invocation naming the
 * failed cities, so that the async retry and then the dead-letter queue see it.
 */
const logger = new Logger({ serviceName: 'weather-pull' });
// Namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack sets.
const metrics = new Metrics({ serviceName: 'weather-pull' });
// Path-style addressing only for local runs against moto (AWS_ENDPOINT_URL_S3 on 127.0.0.1).
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });

// Parsed at start: a deployment that wrote them wrong fails every invocation with the field named.
const settings = settingsFromEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, process.env);

export async function handler(event: ScheduledEvent): Promise<{ day: string; cities: number; caughtUp?: string }> {
  const now = event.time ? new Date(event.time) : new Date();
  try {
    const report = await pullWeather(settings, now, {
      s3,
      logger,
      metrics: { addMetric: (name, _unit, value) => metrics.addMetric(name, MetricUnit.Count, value) },
    });
    // A failed catch-up of the day before fails the run too: Lambda retries it, and the next runs try again.
    const results = [...report.results, ...(report.catchUp?.results ?? [])];
    const failures = results.filter((r) => !r.ok);
    if (failures.length > 0) throw new WeatherPullError(failures, results.length);
    return { day: report.window.day, cities: report.results.length, ...(report.catchUp ? { caughtUp: report.catchUp.window.day } : {}) };
  } finally {
    metrics.publishStoredMetrics();
  }
}
