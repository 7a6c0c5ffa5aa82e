import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { handleRecords, WindowState } from './core';
import { alertsRuntime } from './runtime';

/**
 * Kinesis entry point of the live alerts (event source mapping on the telemetry stream, with
 * partial batch responses and a tumbling window): settings from the environment, the table, EventBridge.
 */
const logger = new Logger({ serviceName: 'telemetry-alerts' });
// Namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack sets.
const metrics = new Metrics({ serviceName: 'telemetry-alerts' });
const { settings, table, publish } = alertsRuntime(process.env);

/** A Kinesis batch; with a tumbling window, Lambda adds the window, its state and whether this is its last invocation. */
export async function handler(event: KinesisStreamTumblingWindowEvent): Promise<KinesisStreamBatchResponse | KinesisStreamStateResponse> {
  const window = event.window ? { state: (event.state ?? {}) as WindowState, final: event.isFinalInvokeForWindow } : undefined;
  try {
    return await handleRecords(
      event.Records.map((r) => ({ sequenceNumber: r.kinesis.sequenceNumber, data: r.kinesis.data })),
      {
        table,
        rules: settings.rules,
        publish,
        count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
        log: (message, details) => logger.warn(message, details),
      },
      window,
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}
