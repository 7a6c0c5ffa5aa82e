import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ScheduledEvent } from 'aws-lambda';
import { settingsFromEnvironment } from '../shared/settings';
import { pullSensors } from './core';
import { SENSOR_PULL_SETTINGS, sensorPullSettings } from './settings';

/**
 * Scheduled entry point of the sensor pull: settings from the environment (set by the CDK
 * construct), the window of the event's time; any failure fails the invocation so that Lambda
 * retries it and then dead-letters it.
 */
const logger = new Logger({ serviceName: 'sensor-pull' });
// Namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack sets.
const metrics = new Metrics({ serviceName: 'sensor-pull' });
// Path-style addressing only for local runs against moto (AWS_ENDPOINT_URL_S3 on 127.0.0.1).
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
// HTTP/1.1: PutRecords needs nothing of HTTP/2, and local Kinesis endpoints (moto) refuse it.
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }) });

// Parsed at start: a deployment that wrote them wrong fails every invocation with the field named.
const settings = settingsFromEnvironment(SENSOR_PULL_SETTINGS, sensorPullSettings, process.env);

export async function handler(event: ScheduledEvent): Promise<{ readings: number; key: string }> {
  const now = event.time ? new Date(event.time) : new Date();
  try {
    const report = await pullSensors(settings, now, {
      s3,
      kinesis,
      logger,
      metrics: { addMetric: (name, _unit, value) => metrics.addMetric(name, MetricUnit.Count, value) },
    });
    return { readings: report.readings, key: report.dataKey };
  } finally {
    metrics.publishStoredMetrics();
  }
}
