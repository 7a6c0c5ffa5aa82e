import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config';
import { Reading } from '../../lambda/telemetry-alerts/rules';
import { AlertsTable, applyEvent, loadState, OPEN_INDEX, processVehicle, saveState } from '../../lambda/telemetry-alerts/store';
import { alertsTableFixture } from '../helpers/alerts-table';

/** The alerts table's conditional writes on moto_server's DynamoDB (127.0.0.1): one alert per episode whatever is redelivered or raced. */
const rules = loadConfig('dev').alerts;
const T0 = Date.parse('2026-11-20T08:00:00Z');
const at = (i: number) => new Date(T0 + i * 30_000).toISOString();
const reading = (i: number, engine: number): Reading => ({ vehicle_id: 'veh-7', ts: at(i), speed_kmh: 60, engine_temp_c: engine, odometer_km: 1000 + i * 0.5, fuel_used_l: 500 + i * 0.15 });
const hot = [112, 114, 116].map((t, i) => reading(i, t));
const cool = [95, 94, 93].map((t, i) => reading(3 + i, t));

const fixture = alertsTableFixture('alerts');
let client: DynamoDBDocumentClient;
let table: AlertsTable;
beforeEach(() => ({ client, table } = fixture));

const openBySeverity = async (severity: string) =>
  (await client.send(new QueryCommand({ TableName: table.tableName, IndexName: OPEN_INDEX, KeyConditionExpression: 'open_severity = :s', ExpressionAttributeValues: { ':s': severity } }))).Items ?? [];
const alertItem = async (alertId: string) => (await client.send(new GetCommand({ TableName: table.tableName, Key: { vehicle_id: 'veh-7', alert_id: alertId } }))).Item;

test('an episode opens one item, in the open index, and closing takes it out with a TTL', async () => {
  const opened = await processVehicle(table, 'veh-7', hot, rules);
  expect(opened.events.map((e) => e.kind)).toEqual(['opened']);
  const id = `engineOverheat#${at(2)}`;
  expect(await alertItem(id)).toMatchObject({ status: 'open', severity: 'critical', open_severity: 'critical', peak: 116 });
  expect((await openBySeverity('critical')).map((i) => i.alert_id)).toEqual([id]);

  const closed = await processVehicle(table, 'veh-7', cool, rules);
  expect(closed.events.map((e) => e.kind)).toEqual(['closed']);
  const item = await alertItem(id);
  expect(item).toMatchObject({ status: 'closed', closed_at: at(5), peak: 116, expires_at: Math.floor(Date.parse(at(5)) / 1000) + 30 * 86_400 });
  expect(item).not.toHaveProperty('open_severity');
  expect(await openBySeverity('critical')).toEqual([]);
});

test('a batch delivered twice writes nothing the second time', async () => {
  const first = await processVehicle(table, 'veh-7', hot, rules);
  const again = await processVehicle(table, 'veh-7', hot, rules);
  expect([first.written, again.events.length, again.skipped]).toEqual([1, 0, 3]);
  expect((await loadState(table, 'veh-7')).version).toBe(1);
});

test('events replayed after a crash before the state was saved are no-ops', async () => {
  const first = await processVehicle(table, 'veh-7', hot, rules);
  const closing = await processVehicle(table, 'veh-7', cool, rules);
  // the same events written again, as a redelivery after a crash between events and state would
  const replayed = await Promise.all([...first.events, ...closing.events].map((e) => applyEvent(table, e)));
  expect(replayed).toEqual(['already', 'already']);
  expect(await alertItem(`engineOverheat#${at(2)}`)).toMatchObject({ status: 'closed' });
});

test('a batch that lost the race for the state re-reads it and doubles nothing', async () => {
  const stale = await loadState(table, 'veh-7');
  await processVehicle(table, 'veh-7', hot, rules); // another batch saves first
  expect(await saveState(table, stale, { movingAboveKmh: rules.vehicleSilent.movingAboveKmh })).toBe(false); // the stale write is refused
  // processVehicle itself: a second worker with the same readings sees them covered by the newer state
  const loser = await processVehicle(table, 'veh-7', hot, rules);
  expect([loser.written, loser.skipped]).toEqual([0, 3]);
  expect(await openBySeverity('critical')).toHaveLength(1);
});

test('when another batch saves between the read and the write, the batch starts over from the newer state', async () => {
  let raced = false;
  const racing: DynamoDBDocumentClient = Object.create(client);
  racing.send = (async (command: { input: { Key?: { alert_id?: string }; UpdateExpression?: string } }) => {
    if (!raced && command.input.Key?.alert_id === '#state' && command.input.UpdateExpression) {
      raced = true;
      // the other batch: the same vehicle's first two hot readings, saved first
      await processVehicle(table, 'veh-7', hot.slice(0, 2), rules);
    }
    return client.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  const outcome = await processVehicle({ ...table, client: racing }, 'veh-7', hot, rules);
  expect(outcome.conflicts).toBe(1);
  // the retry skipped the two readings the other batch covered and opened the alert once
  expect([outcome.skipped, outcome.events.map((e) => e.kind)]).toEqual([2, ['opened']]);
  expect(await openBySeverity('critical')).toHaveLength(1);
  expect((await loadState(table, 'veh-7')).version).toBe(2);
});
