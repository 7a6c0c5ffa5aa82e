import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { applyRegistryMigrations, setLoginPasswords } from '../../lambda/registry-migrations/core';
import { Migration } from '../../lambda/shared/migrations';
import { queryRows, RdsDataTarget } from '../../lambda/shared/rds-data';
import { postgresStatements, registryMigrations } from '../../lib/registry-sql';
import { RdsDataStandIn, startRdsData } from '../../tools/stand-ins/rds-data';
import { MOTO_CREDENTIALS, MOTO_REGION, Moto, startMoto } from '../../tools/stand-ins/moto';

/**
 * The registry's deploy-time migrations through the AWS SDK's RDS Data API client, against the
 * stand-in whose SQL runs on a real PostgreSQL, one statement a call as the service takes them: the
 * project's own migrations (split by lib/registry-sql.ts), then the registry's operations called as
 * the fleet team's command calls them, then the ledger's rules with migrations written here.
 */
jest.setTimeout(120_000);
let api: RdsDataStandIn;
let moto: Moto;
const master = (database: string): RdsDataTarget => ({ resourceArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:tlh-test-registry', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master', database });
const at = () => new Date('2026-12-01T03:00:00Z');

beforeAll(async () => {
  [api, moto] = await Promise.all([startRdsData(), startMoto()]);
});
afterAll(async () => Promise.all([api?.stop(), moto?.stop()]));

const ledger = async (database: string) => (await queryRows(api.client, master(database), 'SELECT version, applied_at FROM public.registry_migrations ORDER BY version', 'ledger')).map(([v, t]) => `${v}@${t}`);

describe("DMS's login at deploy", () => {
  test('its password is set from its secret as a SCRAM verifier; a secret naming another user is refused', async () => {
    await applyRegistryMigrations(api.client, master('logins'), registryMigrations(), at);
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    const secret = async (name: string, value: object) => (await secrets.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }))).ARN!;
    const dms = await secret('registry-dms', { username: 'registry_dms', password: 'Xq3vP9zL2mW8kR4tY7uB1nC6', host: 'h', port: 5432 });
    const canLogin = async () => (await queryRows(api.client, master('logins'), "SELECT rolcanlogin, rolreplication, rolpassword FROM pg_authid WHERE rolname = 'registry_dms'", 'role'))[0];
    expect((await canLogin()).slice(0, 2)).toEqual([false, true]);  // made by V004 without a login, with replication
    expect(await setLoginPasswords(api.client, secrets, master('logins'), [{ role: 'registry_dms', secretArn: dms }])).toEqual(['registry_dms']);
    const [login, , verifier] = await canLogin();
    expect(login).toBe(true);
    expect(String(verifier)).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(String(verifier)).not.toContain('Xq3vP9zL2mW8kR4tY7uB1nC6');
    // what DMS may read: the streamed table and nothing else of the registry
    const granted = await queryRows(api.client, master('logins'), "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = 'registry_dms' ORDER BY 1", 'grants');
    expect(granted).toEqual([['device_versions', 'SELECT']]);
    const other = await secret('other', { username: 'someone_else', password: 'p' });
    await expect(setLoginPasswords(api.client, secrets, master('logins'), [{ role: 'registry_dms', secretArn: other }])).rejects.toThrow("login registry_dms: its secret's username is someone_else");
  });
});

describe('registry migrations at deploy, through the RDS Data API', () => {
  test("the project's migrations apply once, in order, each recorded; a second deploy applies nothing", async () => {
    const migrations = registryMigrations();
    const first = await applyRegistryMigrations(api.client, master('project'), migrations, at);
    expect(first).toEqual({ applied: ['V001__registry', 'V002__operations', 'V003__changes_strictly_in_time_order', 'V004__dms_login', 'V005__fleet_login'], alreadyApplied: [] });
    expect(await ledger('project')).toEqual(['V001__registry@2026-12-01 03:00:00+00:00', 'V002__operations@2026-12-01 03:00:00+00:00', 'V003__changes_strictly_in_time_order@2026-12-01 03:00:00+00:00', 'V004__dms_login@2026-12-01 03:00:00+00:00', 'V005__fleet_login@2026-12-01 03:00:00+00:00']);
    expect(await applyRegistryMigrations(api.client, master('project'), migrations)).toEqual({ applied: [], alreadyApplied: first.applied });

    // The operations, as the command calls them: named, typed parameters; the time cast in SQL.
    const call = async (sql: string, values: Record<string, string | number>) => (await queryRows(api.client, master('project'), sql, 'operation', values))[0][0];
    expect(await call('SELECT registry.add_vehicle(:vehicle, CAST(:at AS TIMESTAMPTZ))', { vehicle: 'VAN-001', at: '2026-11-01T08:00:00Z' })).toBe('added');
    expect(await call('SELECT registry.mount_sensor(:sensor, :type, :vehicle, CAST(:at AS TIMESTAMPTZ), :scale, :offset)',
      { sensor: 'VAN-001-temp', type: 'temp', vehicle: 'VAN-001', at: '2026-11-01T08:00:00Z', scale: 1, offset: 0 })).toBe('mounted');
    expect(await call('SELECT registry.calibrate(:sensor, :version, :scale, :offset, CAST(:at AS TIMESTAMPTZ))',
      { sensor: 'VAN-001-temp', version: 2, scale: 1.02, offset: -1.5, at: '2026-11-02T12:00:30Z' })).toBe('calibrated');
    const versions = await queryRows(api.client, master('project'), 'SELECT version, calibration_scale, calibration_offset FROM registry.device_versions ORDER BY version', 'versions');
    expect(versions).toEqual([[1, 1, 0], [2, 1.02, -1.5]]);
    // A refused call surfaces PostgreSQL's words and SQLSTATE.
    await expect(call('SELECT registry.calibrate(:sensor, :version, :scale, :offset, CAST(:at AS TIMESTAMPTZ))',
      { sensor: 'VAN-001-temp', version: 3, scale: 0, offset: 0, at: '2026-11-03T00:00:00Z' })).rejects.toThrow(/calibration_scale_positive.*SQLState: 23514/);
  });

  test('a failing migration leaves nothing of itself and names its statement; the earlier ones stay', async () => {
    const good: Migration = { version: 'V001__things', statements: ['CREATE TABLE things (id INTEGER PRIMARY KEY)'] };
    const bad: Migration = { version: 'V002__broken', statements: ['CREATE TABLE others (id INTEGER)', 'INSERT INTO nowhere VALUES (1)'] };
    await expect(applyRegistryMigrations(api.client, master('failing'), [good, bad], at)).rejects.toThrow(
      /migration V002__broken, statement 2 of 3 \(INSERT INTO nowhere VALUES \(1\)\): .*relation "nowhere" does not exist/,
    );
    expect(await ledger('failing')).toEqual(['V001__things@2026-12-01 03:00:00+00:00']);
    const tables = await queryRows(api.client, master('failing'), "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", 'tables');
    expect(tables.map((r) => r[0])).toEqual(['registry_migrations', 'things']); // no `others`: rolled back with the failure
  });

  test('versions are checked before any SQL: named, non-empty, in order', async () => {
    const m = (version: string, statements = ['SELECT 1']): Migration => ({ version, statements });
    await expect(applyRegistryMigrations(api.client, master('order'), [m('V2__b'), m('V1__a')])).rejects.toThrow('migrations out of order: V1__a after V2__b');
    await expect(applyRegistryMigrations(api.client, master('order'), [m("V1__a'); DROP TABLE x; --")])).rejects.toThrow(/is not V<n>__<lower_snake_name>/);
    await expect(applyRegistryMigrations(api.client, master('order'), [m('V1__a', [])])).rejects.toThrow('migration V1__a has no statements');
    expect(await queryRows(api.client, master('order'), "SELECT to_regclass('public.registry_migrations') IS NULL", 'no ledger')).toEqual([[true]]);
  });

  test('the Data API takes one statement a call, so a migration file is split where PostgreSQL would split it', async () => {
    expect(postgresStatements("SELECT 1; -- a; comment\nSELECT 'a;b'; CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$; SELECT $x$;$x$; /* c; */ SELECT \"a;\"")).toEqual([
      'SELECT 1', "SELECT 'a;b'", 'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$', 'SELECT $x$;$x$', 'SELECT "a;"',
    ]);
    expect(() => postgresStatements('SELECT $$ never closed')).toThrow('an unterminated $$ body at offset 7');
    expect(() => postgresStatements("SELECT 'open")).toThrow("an unterminated ' quote at offset 7");
    await expect(api.client.send(new ExecuteStatementCommand({ ...master('split'), sql: 'SELECT 1; SELECT 2' }))).rejects.toThrow("Multistatements aren't supported.");
  });
});
