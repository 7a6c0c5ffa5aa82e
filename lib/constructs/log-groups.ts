import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** What every log group of the platform shares: its key, how long it keeps events, whether it outlives its stack. */
export interface LogGroupSettings {
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A log group encrypted with the logs key, keeping events for the environment's retention.
 * `name` is given where a service writes to a fixed name (`/aws/lambda/<function>`, ...).
 */
export function encryptedLogGroup(scope: Construct, id: string, name: string | undefined, settings: LogGroupSettings): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    logGroupName: name,
    encryptionKey: settings.logsKey,
    retention: settings.logRetention,
    removalPolicy: settings.removalPolicy,
  });
}
