import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { settingsFromEnvironment } from '../shared/settings';
import { AlertEvent } from './rules';
import { publishEvents } from './events';
import { TELEMETRY_ALERTS_SETTINGS, TelemetryAlertsSettings, telemetryAlertsSettings } from './settings';
import { AlertsTable } from './store';

/** What both entry points (the stream function and the silence check) build from their deployment. */
export interface AlertsRuntime {
  readonly settings: TelemetryAlertsSettings;
  readonly table: AlertsTable;
  /** Puts events on the configured bus. */
  readonly publish: (events: readonly AlertEvent[]) => Promise<void>;
}

export function alertsRuntime(environment: NodeJS.ProcessEnv): AlertsRuntime {
  const settings = settingsFromEnvironment(TELEMETRY_ALERTS_SETTINGS, telemetryAlertsSettings, environment);
  const events = new EventBridgeClient({});
  return {
    settings,
    table: {
      client: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
      tableName: settings.tableName,
      closedRetentionDays: settings.closedRetentionDays,
    },
    publish: (alerts) => publishEvents(events, settings.eventBusName, alerts),
  };
}
