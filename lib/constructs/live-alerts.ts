import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALERT_DETAIL_TYPES, ALERT_EVENT_SOURCE } from '../../lambda/telemetry-alerts/events';
import { MOVING_INDEX, OPEN_INDEX } from '../../lambda/telemetry-alerts/store';
import { TELEMETRY_ALERTS_SETTINGS, TelemetryAlertsSettings, telemetryAlertsSettings } from '../../lambda/telemetry-alerts/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { METRICS_NAMESPACE } from '../config/metrics';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformMonitoring } from './platform-monitoring';
import { privateFunction } from './private-function';
import { StatefulConstruct } from './removal';

export interface LiveAlertsProps {
  /** Prefix of the table, function and queue names, e.g. `tlh-dev`. */
  readonly namePrefix: string;
  /** The telemetry stream the rules read. */
  readonly telemetryStream: kinesis.IStream;
  /** The rules and the closed alerts' retention (config `alerts`); the table and bus names and the silence lag are added here. */
  readonly settings: Omit<TelemetryAlertsSettings, 'tableName' | 'eventBusName' | 'silenceLagSeconds'>;
  /** How often the silent-vehicle check runs. */
  readonly silenceCheckEveryMinutes: number;
  readonly stream: {
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly parallelizationFactor: number;
    readonly retryAttempts: number;
    readonly maxRecordAgeSeconds: number;
    /** 0: no window, the state is saved after every batch. */
    readonly tumblingWindowSeconds: number;
  };
  /** Encrypts the table and the on-failure queue. */
  readonly tableKey: kms.IKey;
  /** DynamoDB refuses to delete the table while set: staging and prod. */
  readonly deletionProtection: boolean;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The alerts table's name: the local run creates it under the same name. */
export const alertsTableName = (namePrefix: string): string => `${namePrefix}-fleet-alerts`;

/**
 * Live fleet alerts: a function on the telemetry stream runs the alert rules
 * (lambda/telemetry-alerts) and keeps open and closed alerts in a DynamoDB table, every opening,
 * update and closing published to EventBridge (the default bus, source telemetry-lakehouse.alerts).
 *
 * - The table: on-demand, encrypted with a customer-managed key, point-in-time recovery, TTL on
 *   closed alerts (`expires_at`), deletion protection where configured; a sparse index of open
 *   alerts by severity, and the vehicle as partition key for a vehicle's alerts.
 * - The mapping: batch size, window and parallelisation from config, partial batch responses,
 *   bisect on error, bounded retries and record age, then an encrypted on-failure queue.
 * - The function may read and write the table's items and index, read the stream, put events.
 */
export class LiveAlerts extends StatefulConstruct {
  readonly table: dynamodb.Table;
  readonly function: nodejs.NodejsFunction;
  /** The scheduled silent-vehicle check. */
  readonly silenceCheck: nodejs.NodejsFunction;
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: LiveAlertsProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: alertsTableName(props.namePrefix),
      partitionKey: { name: 'vehicle_id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'alert_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.tableKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expires_at',
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: OPEN_INDEX,
      partitionKey: { name: 'open_severity', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'opened_at', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // The vehicles last seen moving, by when (sparse: only state items carry moving_key): what the silence check queries.
    this.table.addGlobalSecondaryIndex({
      indexName: MOVING_INDEX,
      partitionKey: { name: 'moving_key', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'last_seen', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['silent_since'],
    });

    const eventBusName = 'default';
    // The saved last-seen times lag the stream by up to a tumbling window and a batching window;
    // a minute more covers the IoT rule and a retried batch. The silence check waits that much longer.
    const settings = {
      ...props.settings,
      tableName: this.table.tableName,
      eventBusName,
      silenceLagSeconds: props.stream.tumblingWindowSeconds + props.stream.batchingWindowSeconds + 60,
    };
    // Both functions sit in the same subnets and log alike.
    const placement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets, logsKey: props.logsKey, logRetention: props.logRetention, removalPolicy: props.removalPolicy };
    const putAlertEvents = new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: eventBusName })],
      conditions: { StringEquals: { 'events:source': ALERT_EVENT_SOURCE } },
    });
    const { function: fn, role } = privateFunction(this, {
      name: 'telemetry-alerts',
      functionName: `${props.namePrefix}-telemetry-alerts`,
      description: 'Live fleet alerts: the alert rules over the telemetry stream',
      purpose: 'runs the alert rules on the telemetry stream, keeps alerts in their table, puts their events',
      environment: {
        ...settingsEnvironment(TELEMETRY_ALERTS_SETTINGS, telemetryAlertsSettings, settings),
        POWERTOOLS_SERVICE_NAME: 'telemetry-alerts',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      timeout: Duration.seconds(60),
      memoryMiB: 512,
      concurrency: {
        unreservedBecause:
          "Invoked by the telemetry stream's event source mapping, which runs one batch per shard and parallelization slot at a time: the " +
          "stream's shards (on-demand in some environments, so not known at synth) bound it; a reservation below that would throttle the reading of the stream.",
      },
      failedInvocations: 'Invoked by a Kinesis event source mapping, for which Lambda ignores a dead-letter queue: batches that fail every retry go to its on-failure queue (Failures), which is alarmed.',
      ...placement,
    });
    this.function = fn;
    // Items of the table only: no Scan, no index, no batch or table-level actions.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    props.tableKey.grantEncryptDecrypt(role);
    role.addToPrincipalPolicy(putAlertEvents);

    this.failures = new sqs.Queue(this, 'Failures', {
      queueName: `${props.namePrefix}-telemetry-alerts-failures`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.tableKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the on-failure destination of the alerts mapping (batches that failed every retry, with their shard and sequence numbers): the queue of last resort has no further queue.',
    });
    fn.addEventSource(
      new sources.KinesisEventSource(props.telemetryStream, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: props.stream.batchSize,
        maxBatchingWindow: Duration.seconds(props.stream.batchingWindowSeconds),
        parallelizationFactor: props.stream.parallelizationFactor,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: props.stream.retryAttempts,
        maxRecordAge: Duration.seconds(props.stream.maxRecordAgeSeconds),
        onFailure: new sources.SqsDlq(this.failures),
        ...(props.stream.tumblingWindowSeconds > 0 ? { tumblingWindow: Duration.seconds(props.stream.tumblingWindowSeconds) } : {}),
      }),
    );
    acknowledgeWildcards(role, [GRANT_ACTION_GROUPS]);

    // The silent-vehicle check (lambda/telemetry-alerts-silence): on a schedule, it queries the
    // moving index and opens silences in one transaction each (PutItem and UpdateItem on the table).
    const silence = privateFunction(new Construct(this, 'SilenceCheck'), {
      name: 'telemetry-alerts-silence',
      functionName: `${props.namePrefix}-telemetry-alerts-silence`,
      description: 'Live fleet alerts: opens an alert for each vehicle gone silent while moving',
      purpose: 'queries the alerts table for vehicles gone silent while moving, opens their alerts, puts their events',
      environment: {
        ...settingsEnvironment(TELEMETRY_ALERTS_SETTINGS, telemetryAlertsSettings, settings),
        POWERTOOLS_SERVICE_NAME: 'telemetry-alerts-silence',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      timeout: Duration.seconds(120),
      memoryMiB: 256,
      // One check at a time: two would open the same silence twice (each in its own transaction).
      concurrency: 1,
      failedInvocations:
        "Invoked by a schedule whose event carries no data: a failed check is retried twice, seen by the function's error alarm, and made up by the next run, which finds every silence older than the threshold.",
      ...placement,
    });
    this.silenceCheck = silence.function;
    silence.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${this.table.tableArn}/index/${MOVING_INDEX}`] }));
    silence.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    props.tableKey.grantEncryptDecrypt(silence.role);
    silence.role.addToPrincipalPolicy(putAlertEvents);
    acknowledgeWildcards(silence.role, [GRANT_ACTION_GROUPS]);
    new events.Rule(this, 'SilenceSchedule', {
      description: `Runs ${props.namePrefix}-telemetry-alerts-silence`,
      schedule: events.Schedule.rate(Duration.minutes(props.silenceCheckEveryMinutes)),
      // A missed run is made up by the next one (it finds every silence older than the threshold): two tries, then drop.
      targets: [new targets.LambdaFunction(silence.function, { retryAttempts: 2, maxEventAge: Duration.minutes(props.silenceCheckEveryMinutes) })],
    });
  }
}

/**
 * The alerts' own health: the mapping falling behind the stream, the function failing or
 * throttled, batches given up on; and every critical alert opened, to the on-call topic.
 */
export function monitorLiveAlerts(monitoring: PlatformMonitoring, alerts: LiveAlerts): void {
  const five = { period: Duration.minutes(5) };
  monitoring.addAlarm('telemetry-alerts-iterator-age', {
    metric: alerts.function.metric('IteratorAge', { ...five, statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 120_000,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    description: 'Live alerts: the function is more than two minutes behind the telemetry stream; alerts are late.',
    thresholdReason: 'a live alert two minutes late for fifteen minutes is no longer live: the function is throttled, failing or under-parallelised.',
  });
  monitoring.addAlarm('telemetry-alerts-errors', {
    metric: alerts.function.metricErrors({ ...five, statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Live alerts: invocations are failing (a vehicle failing is reported per record and retried; a function error is a bug or a timeout).',
    thresholdReason: 'the core answers every failure it expects with a partial batch response; an invocation error is unexpected.',
  });
  monitoring.addAlarm('telemetry-alerts-throttles', {
    metric: alerts.function.metricThrottles({ ...five, statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    description: 'Live alerts: the function is throttled; the stream backs up.',
    thresholdReason: 'a throttle in three 5-minute periods in a row is sustained: the account concurrency or the parallelisation factor is too low.',
  });
  monitoring.addAlarm('telemetry-alerts-given-up', {
    metric: alerts.failures.metricApproximateNumberOfMessagesVisible({ ...five, statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Live alerts: batches were given up after every retry (their shard and sequence numbers are in the failures queue); readings in them raised no alert.',
    thresholdReason: 'every message is a batch of readings no rule saw.',
  });
  monitoring.addAlarm('telemetry-alerts-silence-errors', {
    metric: alerts.silenceCheck.metricErrors({ period: Duration.minutes(15), statistic: cloudwatch.Stats.SUM }),
    threshold: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Live alerts: the silent-vehicle check is failing; vehicles that stop sending while moving raise no alert.',
    thresholdReason: 'one failed run is made up by the next (it finds every silence older than the threshold); two in fifteen minutes are not a blip.',
  });
  monitoring.alertOnEvent('fleet-alert-critical', {
    description: 'A critical fleet alert opened (engine overheating, fuel loss): see the alert in the event and in the alerts table',
    eventPattern: { source: [ALERT_EVENT_SOURCE], detailType: [ALERT_DETAIL_TYPES.opened], detail: { severity: ['critical'] } },
  });
}
