import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config';
import { AlertEvent, Reading } from '../../lambda/telemetry-alerts/rules';
import { checkSilentVehicles } from '../../lambda/telemetry-alerts/silence';
import { advanceVehicle, AlertsTable, MOVING, MOVING_INDEX, OPEN_INDEX, processVehicle, saveEntry } from '../../lambda/telemetry-alerts/store';
import { alertsTableFixture } from '../helpers/alerts-table';

/** The silent-vehicle check and the closing of a silence, on moto_server's DynamoDB (127.0.0.1). */
const rules = loadConfig('dev').alerts;
const SILENT_AFTER = rules.vehicleSilent.silentAfterMinutes;
const LAG = 120;
const T0 = Date.parse('2026-11-20T08:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const reading = (vehicle: string, seconds: number, speed: number): Reading => ({
  vehicle_id: vehicle,
  ts: at(seconds),
  speed_kmh: speed,
  engine_temp_c: 90 + (seconds % 7),
  odometer_km: 1000 + seconds / 100,
  fuel_used_l: 500 + seconds / 1000,
});
/** The moment the check may open a silence of a vehicle last heard at `seconds`. */
const due = (seconds: number) => new Date(T0 + (seconds + SILENT_AFTER * 60 + LAG) * 1000 + 1000);

const fixture = alertsTableFixture('alerts-silence');
let client: DynamoDBDocumentClient;
let table: AlertsTable;
beforeEach(() => ({ client, table } = fixture));

const published: AlertEvent[] = [];
const publish = async (events: readonly AlertEvent[]) => void published.push(...events);
beforeEach(() => void (published.length = 0));
const check = (now: Date, over: { client?: DynamoDBDocumentClient; publish?: typeof publish } = {}) =>
  checkSilentVehicles({ ...table, client: over.client ?? client }, rules, now, LAG, over.publish ?? publish);
const item = async (vehicle: string, alertId: string) => (await client.send(new GetCommand({ TableName: table.tableName, Key: { vehicle_id: vehicle, alert_id: alertId } }))).Item;
const openWarnings = async () =>
  ((await client.send(new QueryCommand({ TableName: table.tableName, IndexName: OPEN_INDEX, KeyConditionExpression: 'open_severity = :s', ExpressionAttributeValues: { ':s': 'warning' } }))).Items ?? []).map(
    (i) => `${i.vehicle_id} ${i.alert_id}`,
  );
const moving = async () =>
  ((await client.send(new QueryCommand({ TableName: table.tableName, IndexName: MOVING_INDEX, KeyConditionExpression: 'moving_key = :m', ExpressionAttributeValues: { ':m': MOVING } }))).Items ?? []).map(
    (i) => i.vehicle_id,
  );

test('a vehicle that falls silent while moving gets one alert, and its next reading closes it', async () => {
  await processVehicle(table, 'veh-moving', [reading('veh-moving', 0, 40), reading('veh-moving', 30, 55)], rules);
  await processVehicle(table, 'veh-parked', [reading('veh-parked', 0, 20), reading('veh-parked', 30, 0)], rules);
  expect(await moving()).toEqual(['veh-moving']); // a vehicle that parked is not a candidate

  // not yet: the threshold plus the saves' lag has not passed
  expect((await check(new Date(due(30).getTime() - 2000))).opened).toEqual([]);
  const run = await check(due(30));
  const openedAt = at(30 + SILENT_AFTER * 60);
  expect(run.opened.map((e) => `${e.vehicleId} ${e.rule} ${e.openedAt}`)).toEqual([`veh-moving vehicleSilent ${openedAt}`]);
  expect(published.map((e) => `${e.vehicleId} ${e.kind}`)).toEqual(['veh-moving opened']);
  expect(await openWarnings()).toEqual([`veh-moving vehicleSilent#${openedAt}`]);
  expect(await moving()).toEqual([]); // out of the candidates: the next run does not open it again
  expect((await check(new Date(due(30).getTime() + 600_000))).opened).toEqual([]);

  // heard again 40 minutes later: the silence closes at that reading, its value the minutes silent
  const back = await processVehicle(table, 'veh-moving', [reading('veh-moving', 30 + 2400, 50), reading('veh-moving', 60 + 2400, 52)], rules);
  expect(back.events.map((e) => `${e.rule} ${e.kind} ${e.at} ${e.value}`)).toEqual([`vehicleSilent closed ${at(2430)} 40`]);
  expect(await item('veh-moving', `vehicleSilent#${openedAt}`)).toMatchObject({ status: 'closed', closed_at: at(2430) });
  expect(await openWarnings()).toEqual([]);
  expect(await moving()).toEqual(['veh-moving']); // a candidate again
  expect((await item('veh-moving', '#state'))?.silent_since).toBeUndefined();
});

test('a vehicle heard again between the query and the opening refuses the transaction: nothing opens', async () => {
  await processVehicle(table, 'veh-race', [reading('veh-race', 0, 60)], rules);
  const racing: DynamoDBDocumentClient = Object.create(client);
  racing.send = (async (command: { constructor: { name: string } }) => {
    // the stream function saves a newer reading just before the check's transaction
    if (command.constructor.name === 'TransactWriteCommand') await processVehicle(table, 'veh-race', [reading('veh-race', 1200, 60)], rules);
    return client.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  const run = await check(due(0), { client: racing });
  expect([run.opened.length, run.raced]).toEqual([0, 1]);
  expect(await openWarnings()).toEqual([]);
  expect(published).toEqual([]);
});

test('an opening whose publication failed is published by the next run, and opened once', async () => {
  await processVehicle(table, 'veh-lost', [reading('veh-lost', 0, 70)], rules);
  const failing = async () => {
    throw new Error('EventBridge refused 1 of 1 alert events');
  };
  await expect(check(due(0), { publish: failing })).rejects.toThrow('EventBridge refused');
  expect(await openWarnings()).toHaveLength(1); // committed, not yet published

  const next = await check(new Date(due(0).getTime() + 300_000));
  expect([next.opened.length, next.republished]).toEqual([0, 1]);
  expect(published.map((e) => `${e.vehicleId} ${e.kind} ${e.rule}`)).toEqual(['veh-lost opened vehicleSilent']);
  const after = await check(new Date(due(0).getTime() + 600_000));
  expect([after.opened.length, after.republished]).toEqual([0, 0]);
  expect(await openWarnings()).toHaveLength(1);
});

test('a silence marked while the stream function holds newer readings is closed when it saves', async () => {
  await processVehicle(table, 'veh-late', [reading('veh-late', 0, 70)], rules);
  // The check runs late and marks the silence; the stream function's save of a reading it already
  // evaluated (a window that read the state before the mark) is refused, re-reads and closes it.
  const { entry } = await advanceVehicle(table, undefined, 'veh-late', [reading('veh-late', 1500, 65)], rules, publish);
  await check(due(0));
  const saved = await saveEntry(table, entry, rules, publish);
  expect(saved.events.map((e) => `${e.rule} ${e.kind} ${e.at}`)).toEqual([`vehicleSilent closed ${at(1500)}`]);
  expect(saved.conflicts).toBe(1);
  expect(await openWarnings()).toEqual([]);
  expect((await item('veh-late', '#state'))?.silent_since).toBeUndefined();
  expect(await moving()).toEqual(['veh-late']);
});
