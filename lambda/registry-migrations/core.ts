import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { checkMigrations, Migration, MigrationOutcome, sqlTimestamp } from '../shared/migrations';
import { queryRows, RdsDataTarget, runInOneTransaction } from '../shared/rds-data';

const LEDGER = 'public.registry_migrations';

/**
 * Applies the registry's migrations not yet recorded in public.registry_migrations (the ledger
 * tools/engines/registry_sql.py keeps locally), in order, each with its record in one transaction
 * through the RDS Data API: a migration that fails is rolled back whole and stops the deploy with
 * the statement's error; the ones before it stay applied. A recorded migration never runs again.
 */
export async function applyRegistryMigrations(client: RDSDataClient, where: RdsDataTarget, migrations: readonly Migration[], now: () => Date = () => new Date()): Promise<MigrationOutcome> {
  checkMigrations(migrations);
  await queryRows(client, where, `CREATE TABLE IF NOT EXISTS ${LEDGER} (version VARCHAR(128) PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`, 'create the migration ledger');
  const recorded = new Set((await queryRows(client, where, `SELECT version FROM ${LEDGER}`, 'read the migration ledger')).map((r) => String(r[0])));
  const applied: string[] = [];
  for (const m of migrations) {
    if (recorded.has(m.version)) continue;
    await runInOneTransaction(client, where, [...m.statements, `INSERT INTO ${LEDGER} (version, applied_at) VALUES ('${m.version}', TIMESTAMPTZ '${sqlTimestamp(now())}+00')`], `migration ${m.version}`);
    applied.push(m.version);
  }
  return { applied, alreadyApplied: migrations.map((m) => m.version).filter((v) => recorded.has(v)) };
}
