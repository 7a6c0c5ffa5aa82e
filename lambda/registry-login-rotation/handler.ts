import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { rotateLoginSecret, RotationStep } from './core';

/**
 * Secrets Manager's rotation function for the registry's logins (registry_dms, registry_fleet):
 * environment CLUSTER_ARN, MASTER_SECRET_ARN, DATABASE, ROLES (the logins it may rotate, comma-separated).
 */
const logger = new Logger({ serviceName: 'registry-login-rotation' });
const secrets = new SecretsManagerClient({});
const data = new RDSDataClient({});

export async function handler(event: { SecretId: string; ClientRequestToken: string; Step: RotationStep }): Promise<void> {
  const master = { resourceArn: process.env.CLUSTER_ARN!, secretArn: process.env.MASTER_SECRET_ARN!, database: process.env.DATABASE! };
  const outcome = await rotateLoginSecret({ secrets, data, master, roles: process.env.ROLES!.split(',') }, event.Step, event.SecretId, event.ClientRequestToken);
  logger.info('rotation step', { step: event.Step, secret: event.SecretId, outcome });
}
