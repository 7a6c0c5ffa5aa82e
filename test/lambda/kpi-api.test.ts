import * as path from 'path';
import { AthenaClient, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AthenaSender } from '../../lambda/shared/kpi/athena';
import { loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { ApiDeps, route } from '../../lambda/kpi-api/core';
import { KPI_API_SETTINGS, KpiApiSettings } from '../../lambda/kpi-api/settings';
import { createWorkGroup, motoAthena, queueResults, stepQueries } from '../../tools/stand-ins/athena';
import { createAlertsTable, motoDynamoDb } from '../../tools/stand-ins/dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OPEN_INDEX, processVehicle } from '../../lambda/telemetry-alerts/store';
import { loadConfig } from '../../lib/config';
import { MOTO_REGION, Moto, startMoto } from '../../tools/stand-ins/moto';

const catalogue = loadCatalogue(path.join(__dirname, '..', '..', 'queries'));
const settings: KpiApiSettings = {
  athena: { workGroup: 'tlh-dev-analytics', database: 'tlh_dev_aggregated', resultReuseMaxAgeMinutes: 60, bytesScannedCutoff: 1_000_000_000 },
  maxRangeDays: 366,
  syncWaitMs: 5_000,
  pageSize: 1000,
  alertsTableName: 'tlh-dev-fleet-alerts',
};
const DAILY = {
  columns: [['metric_date', 'date'], ['intervals', 'bigint'], ['fuel_l_per_100km', 'double']] as [string, string][],
  rows: [['2026-11-01', '720', '36.5'], ['2026-11-02', '716', null]],
};

let moto: Moto;
let athena: AthenaClient;
let deps: ApiDeps;
let alertsClient: DynamoDBDocumentClient;
beforeAll(async () => {
  moto = await startMoto();
  athena = motoAthena(moto.endpoint);
  await createWorkGroup(athena, settings.athena.workGroup, 's3://results/athena-results/');
  alertsClient = motoDynamoDb(moto.endpoint);
  await createAlertsTable(alertsClient, settings.alertsTableName, OPEN_INDEX);
  deps = { athena, alerts: { client: alertsClient, tableName: settings.alertsTableName, pageSize: 2 }, catalogue, settings, sleep: async () => undefined };
});
afterAll(async () => moto?.stop());
beforeEach(async () => stepQueries(moto.endpoint, 0));

const get = (p: string, query: Record<string, string> = {}, d: ApiDeps = deps) => route({ path: p, query }, d);

test('GET /kpis is the catalogue, each KPI with its parameters', async () => {
  const { statusCode, body } = await get('/kpis');
  expect(statusCode).toBe(200);
  const kpis = body.kpis as { name: string; parameters: { name: string }[] }[];
  expect(kpis.map((k) => k.name)).toEqual(catalogue.map((k) => k.name));
  expect(kpis.find((k) => k.name === 'fuel-by-city')!.parameters.map((p) => p.name)).toEqual(['from', 'to', 'city']);
});

test('GET /kpis/{kpi} answers with typed rows when Athena is quick', async () => {
  await queueResults(moto.endpoint, [DAILY]);
  const { statusCode, body } = await get('/kpis/daily-fuel', { from: '2026-11-01', to: '2026-11-02' });
  expect(statusCode).toBe(200);
  expect(body).toMatchObject({
    state: 'SUCCEEDED',
    columns: [{ name: 'metric_date', type: 'date' }, { name: 'intervals', type: 'bigint' }, { name: 'fuel_l_per_100km', type: 'double' }],
    rows: [['2026-11-01', 720, 36.5], ['2026-11-02', 716, null]],
  });
  expect(body).not.toHaveProperty('nextPageToken');
});

test('a slow query answers 202 with its id; /queries/{id} answers 202 until it succeeds, then the rows', async () => {
  await stepQueries(moto.endpoint, 2);
  await queueResults(moto.endpoint, [DAILY]);
  const slow = { ...deps, settings: { ...settings, syncWaitMs: 1 } };
  const started = await get('/kpis/daily-fuel', { from: '2026-11-01', to: '2026-11-02' }, slow);
  expect(started.statusCode).toBe(202);
  const queryId = started.body.queryId as string;
  expect(started.body).toEqual({ queryId, state: 'QUEUED', poll: `/queries/${queryId}` });
  const states: number[] = [];
  for (let i = 0; i < 10; i++) {
    const polled = await get(`/queries/${queryId}`);
    states.push(polled.statusCode);
    if (polled.statusCode === 200) {
      expect(polled.body.rows).toEqual(DAILY.rows.map(([d, n, f]) => [d, Number(n), f === null ? null : Number(f)]));
      break;
    }
  }
  expect(states).toEqual([202, 202, 200]);
});

test.each([
  ['/kpis/fuel-by-city', { from: '2026-11-01', to: '2026-11-07', town: 'Madrid' }, 400, 'UNKNOWN_PARAMETER', 'town'],
  ['/kpis/fuel-by-city', { to: '2026-11-07' }, 400, 'MISSING_PARAMETER', 'from'],
  ['/kpis/fuel-by-city', { from: '2026-11-31', to: '2026-12-07' }, 400, 'BAD_PARAMETER', 'from'],
  ['/kpis/fuel-by-city', { from: '2026-11-08', to: '2026-11-07' }, 400, 'INVERTED_RANGE', 'from'],
  ['/kpis/fuel-by-city', { from: '2026-11-01', to: '2026-11-07', city: "x'; DROP TABLE telemetry_metrics; --" }, 400, 'BAD_PARAMETER', 'city'],
  ['/kpis/fuel-by-moon', { from: '2026-11-01', to: '2026-11-07' }, 404, 'UNKNOWN_QUERY', undefined],
  ['/queries/not-an-id', {}, 404, 'UNKNOWN_QUERY_ID', undefined],
  ['/queries/6a1c4f52-8b8e-4f6b-9f0a-3d2b1c0e9a77', { pageToken: 'not base64url!' }, 400, 'BAD_PAGE_TOKEN', 'pageToken'],
  ['/queries/6a1c4f52-8b8e-4f6b-9f0a-3d2b1c0e9a77', { limit: '5' }, 400, 'UNKNOWN_PARAMETER', 'limit'],
  ['/nothing', {}, 404, 'UNKNOWN_ROUTE', undefined],
])('GET %s %j is %i %s', async (p, query, status, code, parameter) => {
  const { statusCode, body } = await get(p, query as Record<string, string>);
  expect([statusCode, body.code, body.parameter]).toEqual([status, code, parameter]);
  expect(typeof body.message).toBe('string');
});

test('a cancelled query is 502 naming it', async () => {
  await stepQueries(moto.endpoint, 50);
  const started = await get('/kpis/daily-fuel', { from: '2026-11-01', to: '2026-11-02' }, { ...deps, settings: { ...settings, syncWaitMs: 1 } });
  const queryId = started.body.queryId as string;
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
  const { statusCode, body } = await get(`/queries/${queryId}`);
  expect([statusCode, body.code]).toEqual([502, 'QUERY_CANCELLED']);
});

/** Faults moto cannot produce: throttling, a page token Athena refuses, an unexpected error. */
function scripted(send: (name: string, input: Record<string, unknown>) => unknown): AthenaSender {
  return { send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => send(command.constructor.name, command.input)) as AthenaSender['send'] };
}
const SUCCEEDED = { QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10 } } };
const ID = '6a1c4f52-8b8e-4f6b-9f0a-3d2b1c0e9a77';

test('throttled is 429; a refused page token is 400; an id Athena does not know is 404; anything else is 500 without its details', async () => {
  const throttled = scripted(() => {
    throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  });
  expect((await get('/kpis/daily-fuel', { from: '2026-11-01', to: '2026-11-02' }, { ...deps, athena: throttled })).statusCode).toBe(429);
  const badToken = scripted((name) => {
    if (name === 'GetQueryExecutionCommand') return SUCCEEDED;
    throw Object.assign(new Error('Invalid token'), { name: 'InvalidRequestException' });
  });
  const refused = await get(`/queries/${ID}`, { pageToken: Buffer.from('forged').toString('base64url') }, { ...deps, athena: badToken });
  expect([refused.statusCode, refused.body.code, refused.body.parameter]).toEqual([400, 'BAD_PAGE_TOKEN', 'pageToken']);
  const gone = scripted(() => {
    throw Object.assign(new Error(`QueryExecution ${ID} was not found`), { name: 'InvalidRequestException' });
  });
  expect((await get(`/queries/${ID}`, {}, { ...deps, athena: gone })).body.code).toBe('UNKNOWN_QUERY_ID');
  const logged: string[] = [];
  const broken = scripted(() => {
    throw new Error('socket hang up at 10.0.3.7');
  });
  const internal = await get(`/queries/${ID}`, {}, { ...deps, athena: broken, log: (m, d) => void logged.push(`${m} ${JSON.stringify(d)}`) });
  expect(internal).toEqual({ statusCode: 500, body: { code: 'INTERNAL', message: 'internal error; the function log has the details' } });
  expect(logged[0]).toContain('socket hang up');
});

test('pages follow each other with an opaque token', async () => {
  const pages: Record<string, unknown> = {
    first: { ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'integer' }] }, Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '1' }] }] }, NextToken: 'athena/token+2' },
    'athena/token+2': { ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'integer' }] }, Rows: [{ Data: [{ VarCharValue: '2' }] }] } },
  };
  const paged = scripted((name, input) => (name === 'GetQueryExecutionCommand' ? SUCCEEDED : pages[(input.NextToken as string) ?? 'first']));
  const first = await get(`/queries/${ID}`, {}, { ...deps, athena: paged });
  expect(first.body.rows).toEqual([[1]]);
  expect(first.body.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/);
  const second = await get(`/queries/${ID}`, { pageToken: first.body.nextPageToken as string }, { ...deps, athena: paged });
  expect(second.body.rows).toEqual([[2]]);
  expect(second.body).not.toHaveProperty('nextPageToken');
});

test('the handler answers API Gateway with JSON, from the settings its stack writes', async () => {
  await queueResults(moto.endpoint, [DAILY]);
  process.env[KPI_API_SETTINGS] = JSON.stringify(settings);
  Object.assign(process.env, { AWS_ENDPOINT_URL_ATHENA: moto.endpoint, AWS_REGION: MOTO_REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  process.env.KPI_QUERIES_DIR = path.join(__dirname, '..', '..', 'queries');
  const { handler } = await import('../../lambda/kpi-api/handler');
  const event = { path: '/kpis/daily-fuel', queryStringParameters: { from: '2026-11-01', to: '2026-11-02' } } as unknown as APIGatewayProxyEvent;
  const response = await handler(event);
  expect(response.statusCode).toBe(200);
  expect(response.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  expect(JSON.parse(response.body).rows[0]).toEqual(['2026-11-01', 720, 36.5]);
});


describe('the live alerts on the API (moto DynamoDB)', () => {
  const T0 = Date.parse('2026-11-20T08:00:00Z');
  const reading = (vehicle: string, i: number, temp: number, speed = 60) => ({
    vehicle_id: vehicle, ts: new Date(T0 + i * 30_000).toISOString(), speed_kmh: speed, engine_temp_c: temp, odometer_km: 1000 + i * 0.5, fuel_used_l: 500 + i * 0.15,
  });
  const rules = loadConfig('dev').alerts;

  beforeAll(async () => {
    const table = { client: alertsClient, tableName: settings.alertsTableName, closedRetentionDays: 30 };
    // veh-a overheats (critical) and then cools (closed); veh-b and veh-c overheat (open); veh-d speeds (warning)
    for (const [vehicle, temps] of [['veh-a', [112, 113, 114, 95, 94, 93]], ['veh-b', [112, 113, 114]], ['veh-c', [115, 116, 117]]] as const) {
      await processVehicle(table, vehicle, temps.map((t, i) => reading(vehicle, i, t)), rules);
    }
    await processVehicle(table, 'veh-d', [0, 1, 2].map((i) => reading('veh-d', i, 90, 120)), rules);
  });

  test('GET /alerts lists open alerts, critical first, a page at a time with a token', async () => {
    const first = await get('/alerts');
    expect(first.statusCode).toBe(200);
    const page1 = first.body.alerts as { vehicle_id: string; severity: string; status: string }[];
    expect(page1.map((a) => `${a.vehicle_id} ${a.severity}`)).toEqual(['veh-b critical', 'veh-c critical']);
    expect(page1.every((a) => a.status === 'open')).toBe(true);
    const second = await get('/alerts', { pageToken: first.body.nextPageToken as string });
    expect((second.body.alerts as { vehicle_id: string }[]).map((a) => a.vehicle_id)).toEqual(['veh-d']);
    expect(second.body).not.toHaveProperty('nextPageToken');
    expect(((await get('/alerts', { severity: 'warning' })).body.alerts as { rule: string }[]).map((a) => a.rule)).toEqual(['speeding']);
  });

  test("GET /vehicles/{id}/alerts lists a vehicle's alerts, closed ones with their closing, never its rule state", async () => {
    const all = await get('/vehicles/veh-a/alerts');
    expect(all.body.alerts).toEqual([
      expect.objectContaining({ vehicle_id: 'veh-a', rule: 'engineOverheat', status: 'closed', peak: 114, closed_at: new Date(T0 + 5 * 30_000).toISOString() }),
    ]);
    expect(JSON.stringify(all.body)).not.toContain('#state');
    expect(JSON.stringify(all.body)).not.toContain('expires_at');
    expect(((await get('/vehicles/veh-a/alerts', { status: 'open' })).body.alerts as unknown[]).length).toBe(0);
  });

  test.each([
    ['/alerts', { severity: 'fatal' }, 'BAD_PARAMETER', 'severity'],
    ['/alerts', { status: 'closed' }, 'BAD_PARAMETER', 'status'],
    ['/alerts', { vehicle: 'veh-a' }, 'UNKNOWN_PARAMETER', 'vehicle'],
    ['/alerts', { pageToken: 'bm90IGpzb24' }, 'BAD_PAGE_TOKEN', 'pageToken'],
    ['/vehicles/veh a;drop/alerts', {}, 'BAD_PARAMETER', 'id'],
    ['/vehicles/veh-a/alerts', { status: 'maybe' }, 'BAD_PARAMETER', 'status'],
  ])('GET %s %j is 400 %s', async (p, query, code, parameter) => {
    const { statusCode, body } = await get(p, query as Record<string, string>);
    expect([statusCode, body.code, body.parameter]).toEqual([400, code, parameter]);
  });
});
