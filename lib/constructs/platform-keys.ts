import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { StatefulConstruct } from './removal';

export interface PlatformKeysProps {
  /** Alias prefix, e.g. `tlh-dev`; each key gets `alias/<prefix>/<purpose>`. */
  readonly aliasPrefix: string;
  /** Days between scheduling a key's deletion and its deletion (7 to 30). */
  readonly pendingWindowDays: number;
  /** From `dataRemovalPolicy(config)`. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Name of the trail that may encrypt its log files with the logs key; the key policy names
   * exactly that trail's ARN.
   */
  /** The trails whose log files the logs key encrypts (and nothing else of CloudTrail's). */
  readonly trailNames: readonly string[];
}

/**
 * The platform's customer-managed KMS keys, one per trust boundary, all with yearly rotation.
 *
 * One key per zone rather than one for the lake: a role that may decrypt the aggregated zone
 * (the analysts' query role) cannot read raw data even if an S3 grant were widened by mistake.
 * Key policies keep the default account-root statement, so IAM policies built from grant*()
 * calls decide who uses a key; services that act on their own behalf (CloudWatch Logs,
 * CloudTrail, CloudWatch Alarms, EventBridge) are named in the policy, each with the narrowest
 * condition the service supports.
 */
export class PlatformKeys extends StatefulConstruct {
  /** Raw zone: DMS, IoT, weather and sensor landings. */
  readonly raw: kms.Key;
  /** Processed zone: cleaned Iceberg tables. */
  readonly processed: kms.Key;
  /** Aggregated zone: KPI tables the analysts read. */
  readonly aggregated: kms.Key;
  /** Athena query results. */
  readonly queryResults: kms.Key;
  /** CloudWatch log groups (flow logs, Lambda, Glue, DMS, Flink) and CloudTrail log files. */
  readonly logs: kms.Key;
  /** The SNS alert topic. */
  readonly alerts: kms.Key;
  /** Kinesis streams and Firehose delivery streams (data in flight). */
  readonly streams: kms.Key;
  /** Operational data: the live fleet alerts table (DynamoDB). */
  readonly operations: kms.Key;
  /** The warehouse: the Redshift Serverless namespace and its admin secret. */
  readonly warehouse: kms.Key;
  /** The device registry: its Aurora storage, master secret and Performance Insights. */
  readonly registry: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeysProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    const newKey = (purpose: string, description: string) =>
      new kms.Key(this, purpose, {
        alias: `alias/${props.aliasPrefix}/${purpose}`,
        description,
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        pendingWindow: Duration.days(props.pendingWindowDays),
        removalPolicy: props.removalPolicy,
      });

    this.raw = newKey('raw', 'Raw zone of the telemetry lakehouse');
    this.processed = newKey('processed', 'Processed zone of the telemetry lakehouse');
    this.aggregated = newKey('aggregated', 'Aggregated zone of the telemetry lakehouse');
    this.queryResults = newKey('query-results', 'Athena query results of the telemetry lakehouse');
    this.logs = newKey('logs', 'CloudWatch Logs and CloudTrail of the telemetry lakehouse');
    this.alerts = newKey('alerts', 'SNS alert topic of the telemetry lakehouse');
    this.streams = newKey('streams', 'Kinesis and Firehose streams of the telemetry lakehouse');
    this.operations = newKey('operations', 'Operational data of the telemetry lakehouse: the live alerts table');
    this.warehouse = newKey('warehouse', 'The Redshift Serverless warehouse of the telemetry lakehouse and its admin secret');
    this.registry = newKey('registry', 'The device registry (Aurora PostgreSQL) of the telemetry lakehouse: storage, master secret, Performance Insights');

    // CloudWatch Logs encrypts with the key on the log group's behalf; the encryption context
    // names the log group, so the key serves only log groups of this account and region.
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );

    // CloudTrail encrypts log files for exactly these trails (aws:SourceArn) of this account.
    const trailArn = props.trailNames.map((name) => stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: name }));
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncryptLogFiles',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({ service: 'cloudtrail', region: '*', resource: 'trail', resourceName: '*' }) },
        },
      }),
    );
    this.logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailDescribeKey',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    // CloudWatch Alarms and EventBridge publish to the encrypted alert topic as themselves: SNS
    // asks KMS for a data key on their behalf. Without these statements alarms deploy, change
    // state, and deliver nothing. SNS does not pass a source ARN to KMS for these publishers, so
    // no condition narrows them further; the key encrypts nothing but alert messages.
    for (const [sid, service] of [
      ['CloudWatchAlarmsPublishToAlertTopic', 'cloudwatch.amazonaws.com'],
      ['EventBridgePublishToAlertTopic', 'events.amazonaws.com'],
    ] as const) {
      this.alerts.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }
  }
}
