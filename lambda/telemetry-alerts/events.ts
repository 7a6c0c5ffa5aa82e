import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AlertEvent } from './rules';

/** The source of every fleet alert event on EventBridge; the monitoring stack routes critical openings to the on-call topic. */
export const ALERT_EVENT_SOURCE = 'telemetry-lakehouse.alerts';

/** EventBridge's detail-type per kind: what the custom application subscribes to. */
export const ALERT_DETAIL_TYPES = { opened: 'Fleet alert opened', updated: 'Fleet alert updated', closed: 'Fleet alert closed' } as const;

/** PutEvents takes at most 10 entries a call. */
const PUT_EVENTS_LIMIT = 10;

export function eventEntry(event: AlertEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    Source: ALERT_EVENT_SOURCE,
    DetailType: ALERT_DETAIL_TYPES[event.kind],
    EventBusName: eventBusName,
    // alertId with kind identifies a publication: a redelivery publishes it again, consumers deduplicate on the pair.
    Detail: JSON.stringify({ alertId: `${event.vehicleId}/${event.rule}#${event.openedAt}`, ...event }),
    Time: new Date(event.at),
  };
}

/** Publishes events to EventBridge, 10 a call; an entry EventBridge refuses fails the call, so the batch is retried. */
export async function publishEvents(client: Pick<EventBridgeClient, 'send'>, eventBusName: string, events: readonly AlertEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += PUT_EVENTS_LIMIT) {
    const entries = events.slice(i, i + PUT_EVENTS_LIMIT).map((e) => eventEntry(e, eventBusName));
    const response = await client.send(new PutEventsCommand({ Entries: entries }));
    if ((response.FailedEntryCount ?? 0) > 0) {
      const failed = (response.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
      throw new Error(`EventBridge refused ${response.FailedEntryCount} of ${entries.length} alert events: ${failed.join('; ')}`);
    }
  }
}
