import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';
import { startPythonStandIn } from './python-stand-in';

export interface RedshiftDataStandIn {
  /** A Data API client of the AWS SDK, pointed at the stand-in. */
  readonly client: RedshiftDataClient;
  /** The PostgreSQL behind it, for a test that reads what the SQL wrote. */
  readonly postgresPort: number;
  stop(): Promise<void>;
}

/**
 * Starts the Data API stand-in (redshift_data_api.py: the Data API's protocol, the SQL on a real
 * PostgreSQL) and waits for its ready line. `iamDbRoles` are the database roles a call without a
 * secret (the IAM identity) runs under, as Redshift takes them from the role's RedshiftDbRoles tag.
 */
export async function startRedshiftData(options: { iamDbRoles?: string[] } = {}): Promise<RedshiftDataStandIn> {
  const server = await startPythonStandIn<{ endpoint: string; postgresPort: number }>(
    'redshift_data_api.py', ['--iam-db-roles', (options.iamDbRoles ?? []).join(':')], 'the Redshift Data API stand-in');
  return {
    client: new RedshiftDataClient({ endpoint: server.ready.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
    postgresPort: server.ready.postgresPort,
    stop: server.stop,
  };
}
