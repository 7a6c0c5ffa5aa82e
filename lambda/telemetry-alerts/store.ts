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
/**
 * Sparse index of the vehicles whose last reading was in motion, by when it was taken: what the
 * silent-vehicle check queries. A vehicle parked with its engine off stops sending by design, so
 * only one that fell silent while moving is a candidate. Its partition is `moving` while the
 * vehicle is a candidate, `silent-pending` while an opened silence awaits publication.
 */
export const MOVING_INDEX = 'moving-by-last-seen';
export const MOVING = 'moving';
export const SILENT_PENDING = 'silent-pending';

export interface AlertsTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days a closed alert stays before DynamoDB's TTL removes it. */
  readonly closedRetentionDays: number;
}

/** The vehicle state's item: the rules' state, its version, and the silence the check opened (if any). */
export interface StoredState {
  readonly state: VehicleState;
  readonly version: number;
  /** When the open vehicleSilent alert opened, as the silent-vehicle check marked it. */
  readonly silentSince?: string;
}

export async function loadState(table: AlertsTable, vehicleId: string): Promise<StoredState> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { vehicle_id: vehicleId, alert_id: STATE_SORT_KEY }, ConsistentRead: true }));
  return Item
    ? { state: Item.state as VehicleState, version: Item.version as number, ...(Item.silent_since ? { silentSince: Item.silent_since as string } : {}) }
    : { state: initialState(vehicleId), version: 0 };
}

export interface SaveOptions {
  /** The last reading counts as moving above this speed: the vehicle joins the silent-vehicle index. */
  readonly movingAboveKmh: number;
  /** The silence this writer closed, which the save clears; any other silence refuses the save. */
  readonly closedSilence?: string;
}

/**
 * Saves the state if it is still the version read and no silence opened since (the check marks
 * one without changing the version); false when either happened. The item's `last_seen` and
 * `moving_key` keep the silent-vehicle index current.
 */
export async function saveState(table: AlertsTable, stored: Pick<StoredState, 'state' | 'version'>, options: SaveOptions): Promise<boolean> {
  const { state } = stored;
  const moving = state.lastTs !== undefined && (state.last?.speed_kmh ?? 0) > options.movingAboveKmh;
  const values: Record<string, unknown> = { ':state': state, ':read': stored.version, ':next': stored.version + 1 };
  const set = ['#state = :state', 'version = :next'];
  const remove = ['silent_since'];
  if (state.lastTs !== undefined) {
    set.push('last_seen = :seen');
    values[':seen'] = state.lastTs;
  }
  if (moving) {
    set.push('moving_key = :moving');
    values[':moving'] = MOVING;
  } else remove.push('moving_key');
  let silence = 'attribute_not_exists(silent_since)';
  if (options.closedSilence !== undefined) {
    silence = `(${silence} OR silent_since = :closed)`;
    values[':closed'] = options.closedSilence;
  }
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { vehicle_id: state.vehicleId, alert_id: STATE_SORT_KEY },
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ConditionExpression: `(attribute_not_exists(vehicle_id) OR version = :read) AND ${silence}`,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The item of an alert as it opens: open, in the open-by-severity index. */
export function openedItem(event: AlertEvent): Record<string, unknown> {
  return {
    vehicle_id: event.vehicleId,
    alert_id: `${event.rule}#${event.openedAt}`,
    rule: event.rule,
    severity: event.severity,
    status: 'open',
    open_severity: event.severity,
    opened_at: event.openedAt,
    updated_at: event.at,
    peak: event.peak,
    last_value: event.value,
  };
}

/** Writes one event; a write its condition refuses was already made (a redelivery) and is counted. */
export async function applyEvent(table: AlertsTable, event: AlertEvent): Promise<'written' | 'already'> {
  const key = { vehicle_id: event.vehicleId, alert_id: `${event.rule}#${event.openedAt}` };
  const send = (): Promise<unknown> =>
    event.kind === 'opened'
      ? table.client.send(new PutCommand({ TableName: table.tableName, Item: openedItem(event), ConditionExpression: 'attribute_not_exists(alert_id)' }))
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
            // The closing carries the episode's peak: the rules' highest value, or how long a vehicle was silent.
            UpdateExpression: 'SET #status = :closed, closed_at = :at, last_value = :value, peak = :peak, expires_at = :expires REMOVE open_severity',
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':closed': 'closed',
              ':open': 'open',
              ':at': event.at,
              ':value': event.value,
              ':peak': event.peak,
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
}

/**
 * A vehicle's state as the stream function carries it through a tumbling window (Lambda keeps it
 * between invocations of a shard, so a vehicle's state is read once and written once a window,
 * not once a batch): the stored state advanced by the window's readings, the version it was read
 * at, and the silence its readings closed.
 */
export interface WindowEntry extends StoredState {
  /** The first reading of the window: when a silent vehicle was heard again. */
  readonly firstTs?: string;
  /** The silence this window closed; the save clears it. */
  readonly closedSilence?: string;
}

/** The closing of a silence: the vehicle was heard again at `at`; its value is the minutes it was silent. */
export function silenceClosed(state: VehicleState, openedAt: string, at: string, rules: Pick<AlertRules, 'vehicleSilent'>): AlertEvent {
  const minutes = state.lastTs ? Math.round((Date.parse(at) - Date.parse(state.lastTs)) / 60_000) : 0;
  return { kind: 'closed', vehicleId: state.vehicleId, rule: 'vehicleSilent', severity: rules.vehicleSilent.severity, openedAt, at, value: minutes, peak: minutes };
}

async function writeEvents(table: AlertsTable, events: readonly AlertEvent[]): Promise<{ written: number; already: number }> {
  let written = 0;
  let already = 0;
  for (const event of events) {
    if ((await applyEvent(table, event)) === 'written') written += 1;
    else already += 1;
  }
  return { written, already };
}

/**
 * One vehicle's readings of a batch: its window entry (read from the table on its first batch of
 * the window) advanced by the rules, the events written and then published. The state itself is
 * saved at the window's end (`saveEntry`). A silence the check opened is closed by the first new
 * reading. Events are written and published before the state is saved, so a crash between replays
 * them on redelivery: the writes are no-ops by their conditions, the publications repeat (consumers
 * deduplicate on the alert id and kind).
 */
export async function advanceVehicle(
  table: AlertsTable,
  entry: WindowEntry | undefined,
  vehicleId: string,
  readings: readonly Reading[],
  rules: AlertRules,
  /** Called with the events after they are written: at least once per event. */
  publish: (events: readonly AlertEvent[]) => Promise<void> = async () => undefined,
): Promise<{ entry: WindowEntry; outcome: VehicleOutcome }> {
  const current: WindowEntry = entry ?? (await loadState(table, vehicleId));
  const { state, events, skipped } = evaluate(current.state, readings, rules);
  const fresh = readings.map((r) => r.ts).filter((ts) => current.state.lastTs === undefined || ts > current.state.lastTs).sort();
  const firstTs = current.firstTs ?? fresh[0];
  let closedSilence = current.closedSilence;
  if (current.silentSince !== undefined && closedSilence === undefined && fresh.length > 0) {
    events.unshift(silenceClosed(current.state, current.silentSince, fresh[0], rules));
    closedSilence = current.silentSince;
  }
  const { written, already } = await writeEvents(table, events);
  if (events.length > 0) await publish(events);
  return {
    entry: { ...current, state, ...(firstTs ? { firstTs } : {}), ...(closedSilence ? { closedSilence } : {}) },
    outcome: { events, written, already, skipped },
  };
}

/**
 * Saves a window's state of a vehicle. The save is refused when the stored version moved (another
 * writer: a resharded stream's other function) or the silent-vehicle check marked a silence since
 * the window read it. Then the item is read again: a newer state stored by another writer wins
 * (its readings are later than this window's); a silence marked meanwhile ended with this window's
 * first reading and is closed here, then the save is tried again. Returns the events it wrote.
 */
export async function saveEntry(
  table: AlertsTable,
  entry: WindowEntry,
  rules: AlertRules,
  publish: (events: readonly AlertEvent[]) => Promise<void> = async () => undefined,
  maxAttempts = 5,
): Promise<{ events: AlertEvent[]; conflicts: number }> {
  const events: AlertEvent[] = [];
  let current = entry;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (await saveState(table, current, { movingAboveKmh: rules.vehicleSilent.movingAboveKmh, closedSilence: current.closedSilence })) return { events, conflicts: attempt - 1 };
    const stored = await loadState(table, current.state.vehicleId);
    if (stored.state.lastTs !== undefined && (current.state.lastTs === undefined || stored.state.lastTs >= current.state.lastTs)) return { events, conflicts: attempt };
    let closedSilence = current.closedSilence;
    if (stored.silentSince !== undefined && stored.silentSince !== closedSilence && current.firstTs !== undefined) {
      const closing = silenceClosed(stored.state, stored.silentSince, current.firstTs, rules);
      await writeEvents(table, [closing]);
      await publish([closing]);
      events.push(closing);
      closedSilence = stored.silentSince;
    }
    current = { ...current, version: stored.version, ...(closedSilence ? { closedSilence } : {}) };
  }
  throw new Error(`${entry.state.vehicleId}: the state changed under ${maxAttempts} attempts in a row; the window's end is retried`);
}

/**
 * One vehicle's readings read, evaluated and saved at once (a window of one batch). When another
 * writer saved the state or the check marked a silence meanwhile, it starts over from the stored
 * item: the readings that state already covers are skipped, the rest are evaluated on it.
 */
export async function processVehicle(
  table: AlertsTable,
  vehicleId: string,
  readings: readonly Reading[],
  rules: AlertRules,
  publish: (events: readonly AlertEvent[]) => Promise<void> = async () => undefined,
  maxAttempts = 5,
): Promise<VehicleOutcome & { conflicts: number }> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const { entry, outcome } = await advanceVehicle(table, undefined, vehicleId, readings, rules, publish);
    if (outcome.skipped === readings.length && outcome.events.length === 0) return { ...outcome, conflicts: attempt - 1 };
    if (await saveState(table, entry, { movingAboveKmh: rules.vehicleSilent.movingAboveKmh, closedSilence: entry.closedSilence })) return { ...outcome, conflicts: attempt - 1 };
  }
  throw new Error(`${vehicleId}: the state changed under ${maxAttempts} attempts in a row; the batch is retried`);
}
