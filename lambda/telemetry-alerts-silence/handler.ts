import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { alertsRuntime } from '../telemetry-alerts/runtime';
import { checkSilentVehicles } from '../telemetry-alerts/silence';

/**
 * Scheduled entry point of the silent-vehicle check (lambda/telemetry-alerts/silence.ts): the same
 * settings as the stream function, the alerts table, EventBridge.
 */
const logger = new Logger({ serviceName: 'telemetry-alerts-silence' });
const metrics = new Metrics({ serviceName: 'telemetry-alerts-silence' });
const { settings, table, publish } = alertsRuntime(process.env);

export async function handler(): Promise<{ opened: number; republished: number; raced: number }> {
  try {
    const outcome = await checkSilentVehicles(table, settings.rules, new Date(), settings.silenceLagSeconds, publish);
    metrics.addMetric('SilencesOpened', MetricUnit.Count, outcome.opened.length);
    metrics.addMetric('SilencesRepublished', MetricUnit.Count, outcome.republished);
    if (outcome.opened.length > 0) logger.info('silent vehicles', { vehicles: outcome.opened.map((e) => e.vehicleId) });
    return { opened: outcome.opened.length, republished: outcome.republished, raced: outcome.raced };
  } finally {
    metrics.publishStoredMetrics();
  }
}
