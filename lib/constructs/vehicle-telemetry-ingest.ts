import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../config/metrics';
import { PlatformMonitoring } from './platform-monitoring';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

export interface VehicleTelemetryIngestProps {
  /** Prefix of the thing type, policy and rule names, e.g. `tlh-dev`. */
  readonly namePrefix: string;
  readonly telemetryStream: kinesis.IStream;
  /** Name and ARN of the Firehose delivery stream that lands raw telemetry. */
  readonly rawDeliveryStreamName: string;
  readonly rawDeliveryStreamArn: string;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The MQTT topic a vehicle publishes to, relative to the rule (what `topic()` sees). */
export const VEHICLE_TOPIC_PATTERN = 'vehicles/+/telemetry';

/** Where rule failures are logged (one JSON event per failed action, with the payload). */
export const ERROR_LOG_GROUP_SUFFIX = 'iot-telemetry-errors';

/**
 * AWS IoT Core for vehicle telemetry.
 *
 * - A thing type `<prefix>-vehicle` and a thing policy: a vehicle connects only with its own thing
 *   name as client id and only while its certificate is attached to that thing, and publishes only
 *   to its own telemetry topic, through Basic Ingest (`$aws/rules/<rule>/vehicles/<thing>/telemetry`:
 *   straight to the rule, no message-broker charge, no other subscriber can listen).
 * - A topic rule (SQL 2016-03-23) that adds `vehicle_id` from the topic (trustworthy: the policy
 *   pins it to the thing name) and `ingested_at`, and sends every message to the telemetry stream
 *   (partition key: the vehicle) and to the Firehose that lands raw telemetry.
 * - An error action: every failed action is logged, payload included, to an encrypted log group
 *   that a metric filter counts for the rule-failure alarm.
 */
export class VehicleTelemetryIngest extends StatefulConstruct {
  readonly thingType: iot.CfnThingType;
  readonly thingPolicy: iot.CfnPolicy;
  readonly rule: iot.CfnTopicRule;
  readonly ruleName: string;
  readonly errorLogGroup: logs.LogGroup;
  readonly ruleRole: iam.Role;

  constructor(scope: Construct, id: string, props: VehicleTelemetryIngestProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    // Rule names allow only letters, digits and underscores.
    this.ruleName = `${props.namePrefix.replace(/-/g, '_')}_vehicle_telemetry`;

    this.thingType = new iot.CfnThingType(this, 'ThingType', {
      thingTypeName: `${props.namePrefix}-vehicle`,
      thingTypeProperties: { thingTypeDescription: 'A fleet vehicle that publishes telemetry', searchableAttributes: ['fleet', 'model'] },
    });

    const thingName = '${iot:Connection.Thing.ThingName}';
    this.thingPolicy = new iot.CfnPolicy(this, 'ThingPolicy', {
      policyName: `${props.namePrefix}-vehicle`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Connect',
            Resource: stack.formatArn({ service: 'iot', resource: 'client', resourceName: thingName }),
            Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
          },
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: stack.formatArn({ service: 'iot', resource: 'topic', resourceName: `$aws/rules/${this.ruleName}/vehicles/${thingName}/telemetry` }),
          },
        ],
      },
    });

    this.errorLogGroup = encryptedLogGroup(this, 'Errors', `/${props.namePrefix}/${ERROR_LOG_GROUP_SUFFIX}`, props);

    this.ruleRole = new iam.Role(this, 'RuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'IoT rule: writes vehicle telemetry to its stream and Firehose, and its errors to the error log group',
    });
    props.telemetryStream.grantWrite(this.ruleRole);
    this.ruleRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [props.rawDeliveryStreamArn] }));
    this.errorLogGroup.grantWrite(this.ruleRole);
    this.ruleRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [this.errorLogGroup.logGroupArn] }));

    this.rule = new iot.CfnTopicRule(this, 'Rule', {
      ruleName: this.ruleName,
      topicRulePayload: {
        description: 'Vehicle telemetry to the telemetry stream and the raw zone',
        awsIotSqlVersion: '2016-03-23',
        sql: `SELECT *, topic(2) AS vehicle_id, timestamp() AS ingested_at FROM '${VEHICLE_TOPIC_PATTERN}'`,
        ruleDisabled: false,
        actions: [
          { kinesis: { streamName: props.telemetryStream.streamName, partitionKey: '${topic(2)}', roleArn: this.ruleRole.roleArn } },
          { firehose: { deliveryStreamName: props.rawDeliveryStreamName, separator: '\n', batchMode: false, roleArn: this.ruleRole.roleArn } },
        ],
        errorAction: { cloudwatchLogs: { logGroupName: this.errorLogGroup.logGroupName, roleArn: this.ruleRole.roleArn } },
      },
    });
  }

  /** The topic a vehicle's firmware publishes to (Basic Ingest). */
  publishTopicFor(thingName: string): string {
    return `$aws/rules/${this.ruleName}/vehicles/${thingName}/telemetry`;
  }
}

/** Every failed rule action (one event each in the error log group) counted, and alarmed on the first. */
export function monitorVehicleIngest(monitoring: PlatformMonitoring, ingest: VehicleTelemetryIngest): void {
  new logs.MetricFilter(ingest, 'RuleFailures', {
    logGroup: ingest.errorLogGroup,
    filterPattern: logs.FilterPattern.allEvents(),
    metricNamespace: METRICS_NAMESPACE,
    metricName: 'IotRuleActionFailures',
    metricValue: '1',
    dimensions: { Rule: '$.ruleName' },
  });
  monitoring.addAlarm('iot-rule-failures', {
    metric: new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'IotRuleActionFailures',
      dimensionsMap: { Rule: ingest.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'IoT telemetry rule: an action failed; the message is in the error log group, to replay.',
    thresholdReason: 'every failure is a telemetry message missing from the stream or the raw zone.',
  });
}
