import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkMigrations, Migration, MigrationOutcome, sqlTimestamp } from '../shared/migrations';
import { queryRows, RdsDataTarget, runInOneTransaction } from '../shared/rds-data';
import { scramSha256Verifier } from '../shared/scram';

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

/** A login the migrations create without a password (V004: registry_dms), and the secret that holds it. */
export interface RegistryLogin {
  readonly role: string;
  readonly secretArn: string;
}

/**
 * Lets each login sign in with its secret's password: the role (which a migration made, with its
 * grants) gets LOGIN and the password's SCRAM verifier, never the password. Run at every deploy,
 * so a secret replaced by a new one is taken up. A secret whose username is not the role's is
 * refused: it would sign a different user in.
 */
export async function setLoginPasswords(client: RDSDataClient, secrets: SecretsManagerClient, where: RdsDataTarget, logins: readonly RegistryLogin[]): Promise<string[]> {
  for (const login of logins) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(login.role)) throw new Error(`login ${login.role}: not a plain role name`);
    const value = JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: login.secretArn }))).SecretString ?? '{}') as { username?: string; password?: string };
    if (value.username !== login.role) throw new Error(`login ${login.role}: its secret's username is ${value.username ?? 'missing'}`);
    if (!value.password) throw new Error(`login ${login.role}: its secret has no password`);
    // V004's function: the verifier as a parameter, never in the statement's text.
    await queryRows(client, where, 'SELECT public.set_login_password(:role, :verifier)', `set the password of ${login.role}`, { role: login.role, verifier: scramSha256Verifier(value.password) });
  }
  return logins.map((l) => l.role);
}
