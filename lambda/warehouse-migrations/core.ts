import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DataApiTarget, Polling, queryRows, runInOneTransaction } from '../shared/redshift-data';

/** A migration as the stack hands it over: `V<n>__<name>` and its statements (warehouse/migrations, lib/warehouse-sql.ts). */
export interface Migration {
  readonly version: string;
  readonly statements: readonly string[];
}

export interface MigrationOutcome {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

const VERSION = /^V(\d+)__[a-z0-9_]+$/;
const LEDGER = 'public.schema_migrations';

/**
 * Applies the migrations not yet recorded in public.schema_migrations, in order, each with its
 * record in one transaction (one BatchExecuteStatement): a migration that fails leaves no trace and
 * stops the deploy with its error; the ones before it stay applied and recorded, so the next deploy
 * starts from it. A recorded migration is never run again, even if its text changed (that is a new
 * migration's job). The versions are checked before anything runs: they are written into SQL.
 */
export async function applyMigrations(client: RedshiftDataClient, where: DataApiTarget, migrations: readonly Migration[], polling: Polling, now: () => Date = () => new Date()): Promise<MigrationOutcome> {
  const numbers = migrations.map((m) => {
    const match = VERSION.exec(m.version);
    if (!match) throw new Error(`migration version ${JSON.stringify(m.version)} is not V<n>__<lower_snake_name>`);
    if (m.statements.length === 0) throw new Error(`migration ${m.version} has no statements`);
    return Number(match[1]);
  });
  numbers.forEach((n, i) => {
    if (i > 0 && n <= numbers[i - 1]) throw new Error(`migrations out of order: ${migrations[i].version} after ${migrations[i - 1].version}`);
  });
  await runInOneTransaction(client, where, [`CREATE TABLE IF NOT EXISTS ${LEDGER} (version VARCHAR(128) PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`], 'create the migration ledger', polling);
  const recorded = new Set((await queryRows(client, where, `SELECT version FROM ${LEDGER}`, 'read the migration ledger', polling)).map((r) => r[0]));
  const applied: string[] = [];
  for (const m of migrations) {
    if (recorded.has(m.version)) continue;
    const at = now().toISOString().replace('T', ' ').replace('Z', '');
    await runInOneTransaction(client, where, [...m.statements, `INSERT INTO ${LEDGER} (version, applied_at) VALUES ('${m.version}', TIMESTAMP '${at}')`], `migration ${m.version}`, polling);
    applied.push(m.version);
  }
  return { applied, alreadyApplied: migrations.map((m) => m.version).filter((v) => recorded.has(v)) };
}
