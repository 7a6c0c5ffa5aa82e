import * as path from 'path';
import { AthenaClient, GetQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { allRows, AthenaSender, queryStatus, resultPage, startKpiQuery, typedValue, waitForQuery } from '../../lambda/shared/kpi/athena';
import { kpiOf, loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { KpiError } from '../../lambda/shared/kpi/errors';
import { createWorkGroup, motoAthena, queueResults, stepQueries } from '../../tools/stand-ins/athena';
import { Moto, startMoto } from '../../tools/stand-ins/moto';

/** The Athena core on moto_server's Athena (real SDK round trips); the faults moto cannot produce (a failed query, several pages) on a scripted client. */
const catalogue = loadCatalogue(path.join(__dirname, '..', '..', 'queries'));
const byCity = kpiOf(catalogue, 'fuel-by-city');
const settings = { workGroup: 'tlh-test-analytics', database: 'tlh_test_aggregated', resultReuseMaxAgeMinutes: 60, bytesScannedCutoff: 1_000_000 };
const instant = { now: () => 0, sleep: async () => undefined };

let moto: Moto;
let athena: AthenaClient;

beforeAll(async () => {
  moto = await startMoto();
  athena = motoAthena(moto.endpoint);
  await createWorkGroup(athena, settings.workGroup, 's3://results/athena-results/');
});
afterAll(async () => moto?.stop());
beforeEach(async () => stepQueries(moto.endpoint, 0));

async function failureOf(promise: Promise<unknown>): Promise<KpiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KpiError) return error;
    throw error;
  }
  throw new Error('expected a KpiError');
}

test('a KPI runs in the workgroup with its values as execution parameters, never in the SQL', async () => {
  const id = await startKpiQuery(athena, settings, byCity, { from: '2026-11-01', to: '2026-11-07', city: "L'Hospitalet" });
  const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
  expect(QueryExecution!.WorkGroup).toBe(settings.workGroup);
  expect(QueryExecution!.ExecutionParameters).toEqual(["'2026-11-01'", "'2026-11-07'", "'L''Hospitalet'", "'L''Hospitalet'"]);
  expect(QueryExecution!.Query).not.toContain('Hospitalet');
  expect(QueryExecution!.Query).toContain('(? = \'\' OR city = ?)');
});

test('the wait walks through QUEUED and RUNNING with capped backoff, then the rows come typed, header row left out', async () => {
  await stepQueries(moto.endpoint, 2);
  await queueResults(moto.endpoint, [
    {
      columns: [['city', 'varchar'], ['intervals', 'bigint'], ['distance_km', 'double'], ['fuel_l_per_100km', 'double']],
      rows: [['Barcelona', '720', '504.0', '36.0'], ['Madrid', '1436', '1002.5', null]],
    },
  ]);
  const id = await startKpiQuery(athena, settings, byCity, { from: '2026-11-01', to: '2026-11-07' });
  const sleeps: number[] = [];
  const status = await waitForQuery(athena, settings, id, { timeoutMs: 60_000, pollInitialMs: 100, pollMaxMs: 300, now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
  expect(status.state).toBe('SUCCEEDED');
  // moto moves a state on every second poll: QUEUED, RUNNING, RUNNING, SUCCEEDED; three waits, doubling, capped at 300
  expect(sleeps).toEqual([100, 200, 300]);
  const page = await allRows(athena, id, 1000);
  expect(page.columns.map((c) => c.name)).toEqual(['city', 'intervals', 'distance_km', 'fuel_l_per_100km']);
  expect(page.rows).toEqual([
    ['Barcelona', 720, 504, 36],
    ['Madrid', 1436, 1002.5, null],
  ]);
});

test('past the timeout the query is returned still running, with its id to poll', async () => {
  await stepQueries(moto.endpoint, 50);
  const id = await startKpiQuery(athena, settings, byCity, { from: '2026-11-01', to: '2026-11-07' });
  let clock = 0;
  const status = await waitForQuery(athena, settings, id, { timeoutMs: 1_000, pollInitialMs: 400, pollMaxMs: 400, now: () => clock, sleep: async (ms) => void (clock += ms) });
  expect(status).toMatchObject({ queryId: id, state: 'QUEUED' });
  expect(clock).toBe(1_000);
});

test('a cancelled query is an error naming it', async () => {
  await stepQueries(moto.endpoint, 50);
  const id = await startKpiQuery(athena, settings, byCity, { from: '2026-11-01', to: '2026-11-07' });
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  const error = await failureOf(waitForQuery(athena, settings, id, { timeoutMs: 1_000, pollInitialMs: 10, pollMaxMs: 10, ...instant }));
  expect(error.code).toBe('QUERY_CANCELLED');
  expect(error.message).toContain(id);
});

test('an id that is not a query id is refused before Athena is asked', async () => {
  expect((await failureOf(queryStatus(athena, settings, '../../etc'))).code).toBe('UNKNOWN_QUERY_ID');
});

/** A client that answers from a script: the faults moto cannot produce. */
function scripted(answers: Record<string, (input: Record<string, unknown>) => unknown>): AthenaSender & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push(name);
      const answer = answers[name];
      if (!answer) throw new Error(`unscripted ${name}`);
      return answer(command.input);
    }) as AthenaSender['send'],
  };
}

const ID = '6a1c4f52-8b8e-4f6b-9f0a-3d2b1c0e9a77';

test("a failed query is an error with Athena's reason", async () => {
  const client = scripted({
    GetQueryExecutionCommand: () => ({ QueryExecution: { Status: { State: 'FAILED', AthenaError: { ErrorMessage: "COLUMN_NOT_FOUND: line 1:8: Column 'town' cannot be resolved" } } } }),
  });
  const error = await failureOf(queryStatus(client, settings, ID));
  expect(error).toMatchObject({ code: 'QUERY_FAILED', status: 502 });
  expect(error.message).toContain("Column 'town' cannot be resolved");
});

test("a query the workgroup's scan cutoff cancelled is told apart from one a person cancelled", async () => {
  const cancelled = (bytes: number, reason: string) =>
    scripted({ GetQueryExecutionCommand: () => ({ QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: reason }, Statistics: { DataScannedInBytes: bytes } } }) });
  expect((await failureOf(queryStatus(cancelled(1_000_001, 'Query cancelled'), settings, ID))).code).toBe('SCAN_LIMIT_REACHED');
  expect((await failureOf(queryStatus(cancelled(10, 'Bytes scanned limit was exceeded'), settings, ID))).code).toBe('SCAN_LIMIT_REACHED');
  expect((await failureOf(queryStatus(cancelled(10, 'Query cancelled by user'), settings, ID))).code).toBe('QUERY_CANCELLED');
});

test('results come page after page; the header row only leads the first', async () => {
  const columns = { ResultSetMetadata: { ColumnInfo: [{ Name: 'metric_date', Type: 'date' }, { Name: 'fuel_l', Type: 'double' }] } };
  const row = (...values: (string | undefined)[]) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });
  const pages: Record<string, unknown> = {
    first: { ResultSet: { ...columns, Rows: [row('metric_date', 'fuel_l'), row('2026-11-01', '12.5')] }, NextToken: 't2' },
    t2: { ResultSet: { ...columns, Rows: [row('2026-11-02', '13')] }, NextToken: 't3' },
    t3: { ResultSet: { ...columns, Rows: [row('2026-11-03', undefined)] } },
  };
  const client = scripted({ GetQueryResultsCommand: (input) => pages[(input.NextToken as string) ?? 'first'] });
  const all = await allRows(client, ID, 1);
  expect(all.rows).toEqual([['2026-11-01', 12.5], ['2026-11-02', 13], ['2026-11-03', null]]);
  expect(client.calls).toHaveLength(3);
  const second = await resultPage(client, ID, { nextToken: 't2', maxResults: 1 });
  expect(second).toMatchObject({ rows: [['2026-11-02', 13]], nextToken: 't3' });
});

test('a start Athena refuses is a failed query with its reason', async () => {
  const refusing = scripted({ StartQueryExecutionCommand: () => { throw Object.assign(new Error('Query has 3 parameters but 4 were given'), { name: 'InvalidRequestException' }); } });
  const error = await failureOf(startKpiQuery(refusing, settings, byCity, { from: '2026-11-01', to: '2026-11-02' }));
  expect([error.code, error.message]).toEqual(['QUERY_FAILED', 'Athena refused the query: Query has 3 parameters but 4 were given']);
});

test('throttling and missing credentials become their codes', async () => {
  const failing = (name: string) => scripted({ StartQueryExecutionCommand: () => { throw Object.assign(new Error('slow down'), { name }); } });
  expect((await failureOf(startKpiQuery(failing('ThrottlingException'), settings, byCity, { from: '2026-11-01', to: '2026-11-02' }))).code).toBe('THROTTLED');
  expect((await failureOf(startKpiQuery(failing('CredentialsProviderError'), settings, byCity, { from: '2026-11-01', to: '2026-11-02' }))).code).toBe('NO_CREDENTIALS');
});

test('values take their column types; bigints beyond 2^53 keep their digits', () => {
  expect(typedValue('9007199254740993', 'bigint')).toBe('9007199254740993');
  expect(typedValue('42', 'integer')).toBe(42);
  expect(typedValue('1.5', 'decimal(10,2)')).toBe(1.5);
  expect(typedValue('true', 'boolean')).toBe(true);
  expect(typedValue('2026-11-01', 'date')).toBe('2026-11-01');
  expect(typedValue(undefined, 'double')).toBeNull();
});
