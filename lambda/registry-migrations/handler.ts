import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Migration } from '../shared/migrations';
import { applyRegistryMigrations, setLoginPasswords } from './core';

/**
 * The device registry's migrations at deploy: the onEvent handler of a custom resource (CDK's
 * provider framework) whose properties carry the cluster and every migration's statements, so a
 * new file in registry/migrations/ changes the properties and CloudFormation calls this again.
 * Create and Update apply what is not yet recorded, then set the logins' passwords from their
 * secrets (a deploy is when a login's secret may have changed); Delete leaves the database as it is (the
 * cluster's removal policy decides its data's fate, not this resource).
 */
const logger = new Logger({ serviceName: 'registry-migrations' });
const client = new RDSDataClient({});
const secrets = new SecretsManagerClient({});

interface MigrationProperties {
  readonly ClusterArn: string;
  readonly Database: string;
  readonly SecretArn: string;
  readonly Migrations: { Version: string; Statements: string[] }[];
  /** Logins the migrations made, each given LOGIN and its secret's password (as a SCRAM verifier). */
  readonly Logins?: { Role: string; SecretArn: string }[];
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const props = event.ResourceProperties as unknown as MigrationProperties;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const migrations: Migration[] = props.Migrations.map((m) => ({ version: m.Version, statements: m.Statements }));
  const where = { resourceArn: props.ClusterArn, secretArn: props.SecretArn, database: props.Database };
  const outcome = await applyRegistryMigrations(client, where, migrations);
  const logins = await setLoginPasswords(client, secrets, where, (props.Logins ?? []).map((l) => ({ role: l.Role, secretArn: l.SecretArn })));
  logger.info('registry migrations', { applied: outcome.applied, alreadyApplied: outcome.alreadyApplied.length, logins });
  return { PhysicalResourceId: `${props.ClusterArn}/${props.Database}/registry_migrations`, Data: { Applied: outcome.applied.join(',') || 'none', Latest: migrations.at(-1)?.version ?? 'none' } };
}
