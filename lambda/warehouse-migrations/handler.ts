import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { applyMigrations, Migration } from './core';

/**
 * The warehouse's migrations at deploy: the onEvent handler of a custom resource (CDK's provider
 * framework) whose properties carry the target and every migration's statements, so a new
 * migration in warehouse/migrations/ changes the properties and CloudFormation calls this again.
 * Create and Update apply what is not yet recorded; Delete leaves the database as it is (the
 * namespace's removal policy decides its data's fate, not this resource).
 */
const logger = new Logger({ serviceName: 'warehouse-migrations' });
const client = new RedshiftDataClient({});
/** Stop waiting this long before the Lambda's own timeout, so the error reaches CloudFormation. */
const MARGIN_MS = 30_000;

interface MigrationProperties {
  readonly WorkgroupName: string;
  readonly Database: string;
  readonly SecretArn: string;
  readonly Migrations: { Version: string; Statements: string[] }[];
}

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const props = event.ResourceProperties as unknown as MigrationProperties;
  const physicalResourceId = `${props.WorkgroupName}/${props.Database}/schema_migrations`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const migrations: Migration[] = props.Migrations.map((m) => ({ version: m.Version, statements: m.Statements }));
  const outcome = await applyMigrations(
    client,
    { workgroupName: props.WorkgroupName, database: props.Database, secretArn: props.SecretArn },
    migrations,
    { intervalMs: 2_000, deadline: Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS },
  );
  logger.info('warehouse migrations', { applied: outcome.applied, alreadyApplied: outcome.alreadyApplied.length });
  return { PhysicalResourceId: physicalResourceId, Data: { Applied: outcome.applied.join(',') || 'none', Latest: migrations.at(-1)?.version ?? 'none' } };
}
