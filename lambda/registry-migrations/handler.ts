import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Migration } from '../shared/migrations';
import { applyRegistryMigrations } from './core';

/**
 * The device registry's migrations at deploy: the onEvent handler of a custom resource (CDK's
 * provider framework) whose properties carry the cluster and every migration's statements, so a
 * new file in registry/migrations/ changes the properties and CloudFormation calls this again.
 * Create and Update apply what is not yet recorded; Delete leaves the database as it is (the
 * cluster's removal policy decides its data's fate, not this resource).
 */
const logger = new Logger({ serviceName: 'registry-migrations' });
const client = new RDSDataClient({});

interface MigrationProperties {
  readonly ClusterArn: string;
  readonly Database: string;
  readonly SecretArn: string;
  readonly Migrations: { Version: string; Statements: string[] }[];
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const props = event.ResourceProperties as unknown as MigrationProperties;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const migrations: Migration[] = props.Migrations.map((m) => ({ version: m.Version, statements: m.Statements }));
  const outcome = await applyRegistryMigrations(client, { resourceArn: props.ClusterArn, secretArn: props.SecretArn, database: props.Database }, migrations);
  logger.info('registry migrations', { applied: outcome.applied, alreadyApplied: outcome.alreadyApplied.length });
  return { PhysicalResourceId: `${props.ClusterArn}/${props.Database}/registry_migrations`, Data: { Applied: outcome.applied.join(',') || 'none', Latest: migrations.at(-1)?.version ?? 'none' } };
}
