import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { checkMigrations, Migration, MigrationOutcome, sqlTimestamp } from '../shared/migrations';
import { DataApiTarget, Polling, queryRows, runInOneTransaction } from '../shared/redshift-data';

export type { Migration, MigrationOutcome } from '../shared/migrations';

const LEDGER = 'public.schema_migrations';

/**
 * Applies the migrations not yet recorded in public.schema_migrations, in order, each with its
 * record in one transaction (one BatchExecuteStatement): a migration that fails leaves no trace and
 * stops the deploy with its error; the ones before it stay applied and recorded, so the next deploy
 * starts from it. A recorded migration is never run again, even if its text changed (that is a new
 * migration's job). The versions are checked before anything runs: they are written into SQL.
 */
export async function applyMigrations(client: RedshiftDataClient, where: DataApiTarget, migrations: readonly Migration[], polling: Polling, now: () => Date = () => new Date()): Promise<MigrationOutcome> {
  checkMigrations(migrations);
  await runInOneTransaction(client, where, [`CREATE TABLE IF NOT EXISTS ${LEDGER} (version VARCHAR(128) PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`], 'create the migration ledger', polling);
  const recorded = new Set((await queryRows(client, where, `SELECT version FROM ${LEDGER}`, 'read the migration ledger', polling)).map((r) => r[0]));
  const applied: string[] = [];
  for (const m of migrations) {
    if (recorded.has(m.version)) continue;
    await runInOneTransaction(client, where, [...m.statements, `INSERT INTO ${LEDGER} (version, applied_at) VALUES ('${m.version}', TIMESTAMP '${sqlTimestamp(now())}')`], `migration ${m.version}`, polling);
    applied.push(m.version);
  }
  return { applied, alreadyApplied: migrations.map((m) => m.version).filter((v) => recorded.has(v)) };
}
