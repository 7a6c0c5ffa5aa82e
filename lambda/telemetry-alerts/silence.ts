import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, QueryCommandOutput, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlertEvent, AlertRules } from './rules';
import { AlertsTable, MOVING, MOVING_INDEX, openedItem, SILENT_PENDING, STATE_SORT_KEY } from './store';

/**
 * The silent-vehicle check, run on a schedule (the stream function cannot see a reading that never
 * comes). It queries the sparse index of vehicles last seen moving for those not heard from for
 * `silentAfterMinutes` plus the lag of the stream function's saves, and opens a vehicleSilent alert
 * for each; the vehicle's next reading closes it (store.ts).
 *
 * Opening is one DynamoDB transaction: the alert item is put, and the state item marked
 * (`silent_since`, index partition `silent-pending`) only if `last_seen` is still the one queried;
 * a vehicle heard again in between refuses the transaction and nothing opens. The opening is then
 * published and the mark moved out of the index. A run that dies between the two leaves the mark
 * pending, and the next run publishes it again: at least once, like every alert event.
 */
export interface SilenceOutcome {
  /** Silences opened by this run. */
  readonly opened: AlertEvent[];
  /** Openings of an earlier run published again (it died before marking them published). */
  readonly republished: number;
  /** Candidates heard again (or marked by another run) between the query and the transaction. */
  readonly raced: number;
}

export async function checkSilentVehicles(
  table: AlertsTable,
  rules: Pick<AlertRules, 'vehicleSilent'>,
  now: Date,
  /** How far behind the stream the saved `last_seen` may be: the tumbling window, the batching window and ingestion. */
  lagSeconds: number,
  publish: (events: readonly AlertEvent[]) => Promise<void>,
): Promise<SilenceOutcome> {
  const { silentAfterMinutes, severity } = rules.vehicleSilent;
  const opening = (vehicleId: string, openedAt: string): AlertEvent => ({
    kind: 'opened',
    vehicleId,
    rule: 'vehicleSilent',
    severity,
    openedAt,
    at: openedAt,
    value: silentAfterMinutes,
    peak: silentAfterMinutes,
  });

  const pending = (await queryIndex(table, SILENT_PENDING)).map((item) => opening(item.vehicle_id as string, item.silent_since as string));

  const cutoff = new Date(now.getTime() - (silentAfterMinutes * 60 + lagSeconds) * 1000).toISOString();
  const opened: AlertEvent[] = [];
  let raced = 0;
  for (const item of await queryIndex(table, MOVING, cutoff)) {
    const lastSeen = item.last_seen as string;
    // The silence began when the vehicle had been quiet for the threshold: a deterministic opening, so a rerun finds the same alert.
    const event = opening(item.vehicle_id as string, new Date(Date.parse(lastSeen) + silentAfterMinutes * 60_000).toISOString());
    try {
      await table.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table.tableName,
                Key: { vehicle_id: event.vehicleId, alert_id: STATE_SORT_KEY },
                UpdateExpression: 'SET moving_key = :pending, silent_since = :opened',
                ConditionExpression: 'last_seen = :seen AND moving_key = :moving AND attribute_not_exists(silent_since)',
                ExpressionAttributeValues: { ':pending': SILENT_PENDING, ':opened': event.openedAt, ':seen': lastSeen, ':moving': MOVING },
              },
            },
            { Put: { TableName: table.tableName, Item: openedItem(event), ConditionExpression: 'attribute_not_exists(alert_id)' } },
          ],
        }),
      );
      opened.push(event);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      raced += 1;
    }
  }

  const toPublish = [...pending, ...opened];
  if (toPublish.length > 0) await publish(toPublish);
  for (const event of toPublish) {
    try {
      await table.client.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { vehicle_id: event.vehicleId, alert_id: STATE_SORT_KEY },
          UpdateExpression: 'REMOVE moving_key',
          ConditionExpression: 'moving_key = :pending AND silent_since = :opened',
          ExpressionAttributeValues: { ':pending': SILENT_PENDING, ':opened': event.openedAt },
        }),
      );
    } catch (error) {
      // The vehicle was heard again and its state saved meanwhile: the stream function owns the item now.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return { opened, republished: pending.length, raced };
}

/** Every state item in one partition of the moving index, optionally last seen before `before`. */
async function queryIndex(table: AlertsTable, partition: string, before?: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: MOVING_INDEX,
        KeyConditionExpression: before ? 'moving_key = :p AND last_seen < :before' : 'moving_key = :p',
        ExpressionAttributeValues: before ? { ':p': partition, ':before': before } : { ':p': partition },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
