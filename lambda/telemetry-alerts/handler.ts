import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { settingsFromEnvironment } from '../shared/settings';
import { handleRecords, WindowState } from './core';
import { publishEvents } from './events';
import { TELEMETRY_ALERTS_SETTINGS, telemetryAlertsSettings } from './settings';

/**
 * Kinesis entry point of the live alerts (event source mapping on the telemetry stream, with
 * partial batch responses): settings from the environment, the table, EventBridge.
 */
const logger = new Logger({ serviceName: 'telemetry-alerts' });
// Namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack sets.
const metrics = new Metrics({ serviceName: 'telemetry-alerts' });
const settings = settingsFromEnvironment(TELEMETRY_ALERTS_SETTINGS, telemetryAlertsSettings, process.env);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
  tableName: settings.tableName,
  closedRetentionDays: settings.closedRetentionDays,
};
const events = new EventBridgeClient({});

/** A Kinesis batch; with a tumbling window, Lambda adds the window, its state and whether this is its last invocation. */
export async function handler(event: KinesisStreamTumblingWindowEvent): Promise<KinesisStreamBatchResponse | KinesisStreamStateResponse> {
  const window = event.window ? { state: (event.state ?? {}) as WindowState, final: event.isFinalInvokeForWindow } : undefined;
  try {
    return await handleRecords(
      event.Records.map((r) => ({ sequenceNumber: r.kinesis.sequenceNumber, data: r.kinesis.data })),
      {
        table,
        rules: settings.rules,
        publish: (alerts) => publishEvents(events, settings.eventBusName, alerts),
        count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
        log: (message, details) => logger.warn(message, details),
      },
      window,
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}
