import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';
import { startPythonStandIn } from './python-stand-in';

export interface RdsDataStandIn {
  /** An RDS Data API client of the AWS SDK, pointed at the stand-in. */
  readonly client: RDSDataClient;
  /** Where it listens, for a process that builds its own client (AWS_ENDPOINT_URL_RDS_DATA). */
  readonly endpoint: string;
  /** The PostgreSQL behind it, for a test that reads what the SQL wrote. */
  readonly postgresPort: number;
  stop(): Promise<void>;
}

/**
 * Starts the RDS Data API stand-in (rds_data_api.py: the Data API's protocol, the SQL on a real
 * PostgreSQL). `secretRoles` maps a secret ARN to the database role its calls run under; other
 * secrets run as the master.
 */
export async function startRdsData(options: { secretRoles?: Record<string, string> } = {}): Promise<RdsDataStandIn> {
  const args = Object.entries(options.secretRoles ?? {}).flatMap(([arn, role]) => ['--secret-role', `${arn}=${role}`]);
  const server = await startPythonStandIn<{ endpoint: string; postgresPort: number }>('rds_data_api.py', args, 'the RDS Data API stand-in');
  return {
    client: new RDSDataClient({ endpoint: server.ready.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
    endpoint: server.ready.endpoint,
    postgresPort: server.ready.postgresPort,
    stop: server.stop,
  };
}
