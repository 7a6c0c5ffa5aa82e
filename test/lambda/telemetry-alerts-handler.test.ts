import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config';
import { AlertsDeps, handleRecords, StreamRecord } from '../../lambda/telemetry-alerts/core';
import { AlertEvent } from '../../lambda/telemetry-alerts/rules';
import { AlertsTable, OPEN_INDEX } from '../../lambda/telemetry-alerts/store';
import { alertsTableFixture } from '../helpers/alerts-table';

/** A batch of the telemetry stream through the alerts function's core, against moto_server's DynamoDB. */
const rules = loadConfig('dev').alerts;
const T0 = Date.parse('2026-11-20T08:00:00Z');

const fixture = alertsTableFixture('alerts-handler');
let client: DynamoDBDocumentClient;
let table: AlertsTable;
beforeEach(() => ({ client, table } = fixture));

let sequence = 1000;
/** A message as the IoT rule puts it on the stream (epoch millis, vehicle_id and ingested_at added). */
function record(vehicle: string, i: number, engine: number, extra: Record<string, unknown> = {}): StreamRecord {
  const message = { vehicle_id: vehicle, ts: T0 + i * 30_000, speed_kmh: 60, odometer_km: 1000 + i * 0.5, fuel_used_l: 500 + i * 0.15, engine_temp_c: engine, ingested_at: T0 + i * 30_000 + 800, ...extra };
  return { sequenceNumber: String(++sequence), data: Buffer.from(JSON.stringify(message)).toString('base64') };
}

function harness(over: Partial<AlertsDeps> = {}) {
  const published: AlertEvent[] = [];
  const counts: Record<string, number> = {};
  const logs: { message: string; details: Record<string, unknown> }[] = [];
  const deps: AlertsDeps = {
    table,
    rules,
    publish: async (events) => void published.push(...events),
    count: (metric, value) => void (counts[metric] = (counts[metric] ?? 0) + value),
    log: (message, details) => void logs.push({ message, details }),
    ...over,
  };
  return { deps, published, counts, logs };
}

const openAlerts = async () =>
  ((await client.send(new QueryCommand({ TableName: table.tableName, IndexName: OPEN_INDEX, KeyConditionExpression: 'open_severity = :s', ExpressionAttributeValues: { ':s': 'critical' } }))).Items ?? []).map(
    (i) => `${i.vehicle_id} ${i.alert_id}`,
  );

test('records that break the contract are logged with their reasons and counted; the others are evaluated', async () => {
  const { deps, counts, logs, published } = harness();
  const batch = [
    record('veh-1', 0, 112),
    { sequenceNumber: String(++sequence), data: Buffer.from('not json').toString('base64') },
    record('veh-1', 1, 113, { odometer_km: undefined }),
    record('veh-1', 2, 114, { speed_kmh: 400 }),
    record('veh-1', 3, 115),
    record('veh-1', 4, 116),
  ];
  expect(await handleRecords(batch, deps)).toEqual({ batchItemFailures: [] });
  expect(counts.ReadingsRejected).toBe(3);
  expect(logs.map((l) => l.details.reasons)).toEqual([['not JSON'], ['odometer_km: required'], ['speed_kmh: 400 is above the maximum 250']]);
  expect(published.map((e) => `${e.rule} ${e.kind}`)).toEqual(['engineOverheat opened']);
  expect(await openAlerts()).toEqual([`veh-1 engineOverheat#${new Date(T0 + 4 * 30_000).toISOString()}`]);
});

test('a batch that fails in the middle reports its first failed record; the retry from there loses and doubles nothing', async () => {
  const batch = [record('veh-1', 0, 112), record('veh-2', 0, 112), record('veh-1', 1, 113), record('veh-2', 1, 113), record('veh-1', 2, 114), record('veh-2', 2, 114)];
  // DynamoDB refuses every write of veh-2 in the first delivery
  const failing: DynamoDBDocumentClient = Object.create(client);
  failing.send = (async (command: { input: { Item?: { vehicle_id?: string }; Key?: { vehicle_id?: string } } }) => {
    if ((command.input.Item?.vehicle_id ?? command.input.Key?.vehicle_id) === 'veh-2') throw Object.assign(new Error('ProvisionedThroughputExceeded'), { name: 'ProvisionedThroughputExceededException' });
    return client.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  const first = harness({ table: { ...table, client: failing } });
  const response = await handleRecords(batch, first.deps);
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: batch[1].sequenceNumber }] });
  expect(await openAlerts()).toEqual([`veh-1 engineOverheat#${new Date(T0 + 60_000).toISOString()}`]);

  // Lambda delivers again from the failed record: veh-1's readings are skipped, veh-2's alert opens once
  const retry = harness();
  expect(await handleRecords(batch.slice(1), retry.deps)).toEqual({ batchItemFailures: [] });
  expect(retry.counts.ReadingsSkipped).toBe(2);
  expect(retry.published.map((e) => `${e.vehicleId} ${e.kind}`)).toEqual(['veh-2 opened']);
  expect((await openAlerts()).sort()).toEqual([`veh-1 engineOverheat#${new Date(T0 + 60_000).toISOString()}`, `veh-2 engineOverheat#${new Date(T0 + 60_000).toISOString()}`]);
});

test('the same batch delivered twice publishes and writes nothing the second time', async () => {
  const batch = [0, 1, 2].map((i) => record('veh-3', i, 112 + i));
  const once = harness();
  await handleRecords(batch, once.deps);
  const twice = harness();
  await handleRecords(batch, twice.deps);
  expect([once.published.length, twice.published.length, twice.counts.ReadingsSkipped]).toEqual([1, 0, 3]);
});

describe('in a tumbling window', () => {
  /** The table's writes by command, counted as DynamoDB would bill them. */
  function counting() {
    const writes: Record<string, number> = {};
    const counted: DynamoDBDocumentClient = Object.create(client);
    counted.send = (async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name;
      if (/Put|Update|Transact/.test(name)) writes[name] = (writes[name] ?? 0) + 1;
      return client.send(command as never);
    }) as DynamoDBDocumentClient['send'];
    return { writes, table: { ...table, client: counted } };
  }

  test('the state is carried between invocations and written once, at the window end; alerts are written as they happen', async () => {
    const { writes, table: countedTable } = counting();
    const { deps, published } = harness({ table: countedTable });
    const first = await handleRecords([record('veh-4', 0, 112), record('veh-5', 0, 90)], deps, { state: {}, final: false });
    expect(first.batchItemFailures).toEqual([]);
    expect(Object.keys(first.state?.vehicles ?? {}).sort()).toEqual(['veh-4', 'veh-5']);
    const second = await handleRecords([record('veh-4', 1, 113), record('veh-4', 2, 114), record('veh-5', 1, 91)], deps, { state: first.state!, final: false });
    // the alert opened on the third hot reading, in the middle of the window
    expect(published.map((e) => `${e.vehicleId} ${e.kind}`)).toEqual(['veh-4 opened']);
    expect(writes).toEqual({ PutCommand: 1 });
    expect(await client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'vehicle_id = :v', ExpressionAttributeValues: { ':v': 'veh-4' } })).then((r) => r.Items?.length)).toBe(1);

    // the final invocation (records or none) saves each vehicle's state once
    const last = await handleRecords([record('veh-4', 3, 95)], deps, { state: second.state!, final: true });
    expect(last).toEqual({ batchItemFailures: [], state: {} });
    expect(writes).toEqual({ PutCommand: 1, UpdateCommand: 2 });

    // the next window reads the saved state: veh-4's streak of cool readings continues from there
    const next = harness();
    await handleRecords([record('veh-4', 4, 94), record('veh-4', 5, 93)], next.deps, { state: {}, final: true });
    expect(next.published.map((e) => `${e.vehicleId} ${e.kind}`)).toEqual(['veh-4 closed']);
  });

  test('a retried invocation of the window (Lambda resends it with the state it had) doubles nothing', async () => {
    const { deps, published } = harness();
    const batch = [0, 1, 2].map((i) => record('veh-6', i, 115 + i));
    const once = await handleRecords(batch, deps, { state: {}, final: false });
    // the function timed out before Lambda got its answer: the batch again, with the window's earlier state
    const again = await handleRecords(batch, deps, { state: {}, final: false });
    expect(published.map((e) => e.kind)).toEqual(['opened', 'opened']); // published at least once
    expect(again.state).toEqual(once.state);
    await handleRecords([], deps, { state: again.state!, final: true });
    expect(await openAlerts()).toEqual([`veh-6 engineOverheat#${new Date(T0 + 60_000).toISOString()}`]);
  });
});
