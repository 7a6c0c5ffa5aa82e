import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { warehouseLoadStatements, warehouseMigrations } from '../../lib/warehouse-sql';
import { applyMigrations, Migration } from '../../lambda/warehouse-migrations/core';
import { queryRows, runInOneTransaction, StatementFailed } from '../../lambda/shared/redshift-data';
import { startRedshiftData, RedshiftDataStandIn } from '../../tools/stand-ins/redshift-data';

/**
 * The deploy-time migrations through the AWS SDK's Data API client, against the Data API stand-in
 * whose SQL runs on a real PostgreSQL: the project's own migrations (their PostgreSQL selection),
 * then the ledger's rules with migrations written here.
 */
jest.setTimeout(120_000);
let api: RedshiftDataStandIn;
const polling = () => ({ intervalMs: 5, deadline: Date.now() + 60_000 });
const admin = (database: string) => ({ workgroupName: 'tlh-test-warehouse', database, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin' });
const at = () => new Date('2026-12-01T03:00:00Z');

beforeAll(async () => {
  api = await startRedshiftData({ iamDbRoles: ['warehouse_loader'] });
});
afterAll(async () => api?.stop());

const ledger = async (client: RedshiftDataClient, database: string) =>
  (await queryRows(client, admin(database), 'SELECT version, applied_at FROM public.schema_migrations ORDER BY version', 'ledger', polling())).map(([v, t]) => `${v}@${t}`);

describe('warehouse migrations at deploy, through the Data API', () => {
  test("the project's migrations apply once, in order, each recorded; a second deploy applies nothing", async () => {
    const migrations = warehouseMigrations('postgres');
    const first = await applyMigrations(api.client, admin('project'), migrations, polling(), at);
    expect(first).toEqual({
      applied: ['V001__schemas', 'V002__staging', 'V003__core', 'V005__mart', 'V006__roles', 'V007__devices_and_readings', 'V008__devices_and_readings_physical_and_grants'],
      alreadyApplied: [],
    });
    expect(await ledger(api.client, 'project')).toEqual(first.applied.map((v) => `${v}@2026-12-01 03:00:00`));
    const second = await applyMigrations(api.client, admin('project'), migrations, polling());
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied });
    const tables = await queryRows(api.client, admin('project'), "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN ('core', 'mart') ORDER BY 1", 'tables', polling());
    expect(tables.map((r) => r[0])).toEqual(expect.arrayContaining(['core.fact_fuel_interval', 'core.dim_customer', 'mart.telemetry_metrics']));
  });

  test('the daily load runs as the IAM identity under warehouse_loader: it loads, and it cannot migrate', async () => {
    const loader = { workgroupName: 'tlh-test-warehouse', database: 'project' };
    await runInOneTransaction(api.client, admin('project'), ["INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES (DATE '2026-11-02', TIMESTAMP '2026-11-03 02:00:00')"], 'lake row', polling());
    await runInOneTransaction(api.client, loader, warehouseLoadStatements(), 'daily load', polling());
    expect(await queryRows(api.client, loader, 'SELECT date_key, intervals FROM core.load_log', 'log', polling())).toEqual([['20261102', '0']]);
    await expect(runInOneTransaction(api.client, loader, ["INSERT INTO public.schema_migrations VALUES ('V999__x', TIMESTAMP '2026-12-01 00:00:00')"], 'a loader migrating', polling())).rejects.toThrow(
      'a loader migrating failed: ERROR: permission denied for table schema_migrations',
    );
  });

  test('a migration that fails leaves nothing of itself, names its statement, stops the ones after it; the next deploy resumes from it', async () => {
    const good: Migration = { version: 'V001__first', statements: ['CREATE SCHEMA s', 'CREATE TABLE s.t (a INTEGER)'] };
    const broken: Migration = { version: 'V002__broken', statements: ['CREATE TABLE s.u (a INTEGER)', 'INSERT INTO s.missing VALUES (1)'] };
    const after: Migration = { version: 'V003__after', statements: ['CREATE TABLE s.v (a INTEGER)'] };
    const error = await applyMigrations(api.client, admin('failing'), [good, broken, after], polling(), at).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatementFailed);
    expect((error as Error).message).toBe('migration V002__broken failed: ERROR: relation "s.missing" does not exist (in: INSERT INTO s.missing VALUES (1))');
    expect(await ledger(api.client, 'failing')).toEqual(['V001__first@2026-12-01 03:00:00']);
    const tables = await queryRows(api.client, admin('failing'), "SELECT table_name FROM information_schema.tables WHERE table_schema = 's' ORDER BY 1", 'tables', polling());
    expect(tables).toEqual([['t']]);
    const fixed: Migration = { version: 'V002__broken', statements: ['CREATE TABLE s.u (a INTEGER)'] };
    expect(await applyMigrations(api.client, admin('failing'), [good, fixed, after], polling(), at)).toEqual({ applied: ['V002__broken', 'V003__after'], alreadyApplied: ['V001__first'] });
  });

  test('versions are checked before any SQL runs: a malformed one, or one out of order, is refused by name', async () => {
    await expect(applyMigrations(api.client, admin('refused'), [{ version: "V1__x'; DROP TABLE t; --", statements: ['SELECT 1'] }], polling())).rejects.toThrow(
      `migration version "V1__x'; DROP TABLE t; --" is not V<n>__<lower_snake_name>`,
    );
    await expect(applyMigrations(api.client, admin('refused'), [{ version: 'V2__b', statements: ['SELECT 1'] }, { version: 'V1__a', statements: ['SELECT 1'] }], polling())).rejects.toThrow(
      'migrations out of order: V1__a after V2__b',
    );
    await expect(applyMigrations(api.client, admin('refused'), [{ version: 'V1__a', statements: [] }], polling())).rejects.toThrow('migration V1__a has no statements');
  });

  test('a call under a database role that does not exist fails, as Redshift refuses the sign-in', async () => {
    const stranger = await startRedshiftData({ iamDbRoles: ['no_such_role'] });
    try {
      await expect(runInOneTransaction(stranger.client, { workgroupName: 'w', database: 'd' }, ['SELECT 1'], 'a stranger', polling())).rejects.toThrow('a stranger failed: ERROR: role "no_such_role" does not exist');
    } finally {
      await stranger.stop();
    }
  });

  test('a statement still running at the deadline is an error that says so, not a success', async () => {
    const gone = { intervalMs: 1_000, deadline: Date.now() };
    await expect(runInOneTransaction(api.client, admin('deadline'), ['SELECT 1'], 'slow statement', gone)).rejects.toThrow(/^slow statement still STARTED at the deadline \(statement [0-9a-f-]+\); it may still finish/);
  });
});
