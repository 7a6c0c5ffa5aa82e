import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AlertEvent, AlertRules, evaluate, initialState, Reading, VehicleState } from './rules';

/**
 * The alerts table (one per environment), written only through conditional writes, so that a
 * Kinesis redelivery, a retried batch or two batches of one vehicle at once never double an alert:
 *
 * - an alert is the item (vehicle_id, alert_id = `<rule>#<openedAt>`): opened with
 *   attribute_not_exists, raised to a new peak only if higher, closed only if open;
 * - while open it carries `open_severity`, the key of the sparse index of open alerts by severity,
 *   removed on close; a closed alert gets `expires_at`, the table's TTL attribute;
 * - each vehicle's rule state is the item (vehicle_id, `#state`) with a version: a batch saves it
 *   only if nobody saved another since it read it, else it reads it again and re-evaluates.
 */

export const STATE_SORT_KEY = '#state';
export const OPEN_INDEX = 'open-by-severity';

export interface AlertsTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days a closed alert stays before DynamoDB's TTL removes it. */
  readonly closedRetentionDays: number;
}

interface StoredState {
  readonly state: VehicleState;
  readonly version: number;
}

export async function loadState(table: AlertsTable, vehicleId: string): Promise<StoredState> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { vehicle_id: vehicleId, alert_id: STATE_SORT_KEY }, ConsistentRead: true }));
  return Item ? { state: Item.state as VehicleState, version: Item.version as number } : { state: initialState(vehicleId), version: 0 };
}

/** Saves the state if it is still the version read; false when another batch saved first. */
export async function saveState(table: AlertsTable, stored: StoredState): Promise<boolean> {
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { vehicle_id: stored.state.vehicleId, alert_id: STATE_SORT_KEY, state: stored.state, version: stored.version + 1 },
        ConditionExpression: 'attribute_not_exists(vehicle_id) OR version = :read',
        ExpressionAttributeValues: { ':read': stored.version },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Writes one event; a write its condition refuses was already made (a redelivery) and is counted. */
export async function applyEvent(table: AlertsTable, event: AlertEvent): Promise<'written' | 'already'> {
  const key = { vehicle_id: event.vehicleId, alert_id: `${event.rule}#${event.openedAt}` };
  const send = (): Promise<unknown> =>
    event.kind === 'opened'
      ? table.client.send(new PutCommand({
          TableName: table.tableName,
          Item: {
            ...key,
            rule: event.rule,
            severity: event.severity,
            status: 'open',
            open_severity: event.severity,
            opened_at: event.openedAt,
            updated_at: event.at,
            peak: event.peak,
            last_value: event.value,
          },
          ConditionExpression: 'attribute_not_exists(alert_id)',
        }))
      : event.kind === 'updated'
        ? table.client.send(new UpdateCommand({
            TableName: table.tableName,
            Key: key,
            UpdateExpression: 'SET peak = :peak, last_value = :value, updated_at = :at',
            ConditionExpression: '#status = :open AND peak < :peak',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':peak': event.peak, ':value': event.value, ':at': event.at, ':open': 'open' },
          }))
        : table.client.send(new UpdateCommand({
            TableName: table.tableName,
            Key: key,
            UpdateExpression: 'SET #status = :closed, closed_at = :at, last_value = :value, expires_at = :expires REMOVE open_severity',
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':closed': 'closed',
              ':open': 'open',
              ':at': event.at,
              ':value': event.value,
              ':expires': Math.floor(Date.parse(event.at) / 1000) + table.closedRetentionDays * 86_400,
            },
          }));
  try {
    await send();
    return 'written';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return 'already';
    throw error;
  }
}

export interface VehicleOutcome {
  readonly events: AlertEvent[];
  readonly written: number;
  readonly already: number;
  readonly skipped: number;
  /** Times another batch saved the vehicle's state between this one's read and write. */
  readonly conflicts: number;
}

/**
 * One vehicle's readings: read its state, evaluate, write the events, publish them, save the state
 * if nobody else did meanwhile, else start over from the newer state (the readings it already
 * covers are then skipped). Events are written and published before the state, so a crash between
 * replays them on redelivery: the writes are no-ops by their conditions, the publications repeat
 * (consumers deduplicate on the alert id and kind).
 */
export async function processVehicle(
  table: AlertsTable,
  vehicleId: string,
  readings: readonly Reading[],
  rules: AlertRules,
  /** Called with the attempt's events after they are written and before the state is saved: at least once per event. */
  publish: (events: readonly AlertEvent[]) => Promise<void> = async () => undefined,
  maxAttempts = 5,
): Promise<VehicleOutcome> {
  let conflicts = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stored = await loadState(table, vehicleId);
    const { state, events, skipped } = evaluate(stored.state, readings, rules);
    let written = 0;
    let already = 0;
    for (const event of events) {
      if ((await applyEvent(table, event)) === 'written') written += 1;
      else already += 1;
    }
    if (events.length === 0 && skipped === readings.length) return { events, written, already, skipped, conflicts };
    if (events.length > 0) await publish(events);
    if (await saveState(table, { state, version: stored.version })) return { events, written, already, skipped, conflicts };
    conflicts += 1;
  }
  throw new Error(`${vehicleId}: the state changed under ${maxAttempts} attempts in a row; the batch is retried`);
}
