import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as flink from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../nag/acknowledgements';
import { flinkApplicationZip } from './flink-application-code';
import { PlatformMonitoring } from './platform-monitoring';
import { encryptedLogGroup } from './log-groups';
import { allowHttpsToAwsApis, AwsApiRoutes } from './platform-network';
import { StatefulConstruct } from './removal';

export interface FlinkEnrichmentProps {
  readonly applicationName: string;
  readonly readingsStream: kinesis.IStream;
  readonly deviceUpdatesStream: kinesis.IStream;
  /** Name and ARN of the Firehose that writes enriched readings to the processed zone. */
  readonly enrichedDeliveryStreamName: string;
  readonly enrichedDeliveryStreamArn: string;
  /** Name and ARN of the Firehose that writes rejected readings (late, conflicting copies) to the quarantine. */
  readonly rejectedDeliveryStreamName: string;
  readonly rejectedDeliveryStreamArn: string;
  readonly parallelism: number;
  readonly parallelismPerKpu: number;
  readonly autoScaling: boolean;
  readonly checkpointIntervalSeconds: number;
  readonly stateTtlHours: number;
  /** How late a reading may arrive and still be placed by its own time. */
  readonly readingsMaxDelaySeconds: number;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Where HTTPS to AWS's APIs goes in the VPC: the application's only egress. */
  readonly awsApis: AwsApiRoutes;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** A stream or shard with no records for this long stops holding the watermark back. */
const IDLE_TIMEOUT_SECONDS = 60;

/**
 * The Managed Service for Apache Flink application (FLINK-1_20, PyFlink) that deduplicates
 * sensor readings, joins device updates and writes enriched readings through Firehose
 * (flink-app/). Code: the application zip built from this repository at synth. Checkpoints on,
 * snapshots on, parallelism per environment, runtime properties from here, logs to an encrypted
 * log group, running in private subnets.
 */
export class FlinkEnrichment extends StatefulConstruct {
  readonly application: flink.CfnApplication;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: FlinkEnrichmentProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    const code = new s3assets.Asset(this, 'Code', { path: flinkApplicationZip() });

    this.logGroup = encryptedLogGroup(this, 'Logs', `/aws/kinesis-analytics/${props.applicationName}`, props);
    const logStream = new logs.LogStream(this, 'LogStream', { logGroup: this.logGroup, logStreamName: 'application', removalPolicy: props.removalPolicy });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Flink ${props.applicationName}: HTTPS to AWS endpoints only`,
      allowAllOutbound: false,
    });
    // Kinesis, Firehose, KMS and CloudWatch through their interface endpoints. No S3: the service
    // loads the application's code itself, and the job reads and writes streams only.
    allowHttpsToAwsApis(this.securityGroup, props.awsApis, { s3: false });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Flink enrichment: reads the sensor and device streams, writes the enriched Firehose',
    });
    // The application's own code object only, not the whole bootstrap asset bucket.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [code.bucket.arnForObjects(code.s3ObjectKey)] }),
    );
    props.readingsStream.grantRead(this.role);
    props.deviceUpdatesStream.grantRead(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [props.enrichedDeliveryStreamArn, props.rejectedDeliveryStreamArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    );
    this.logGroup.grantWrite(this.role);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [this.logGroup.logGroupArn] }));
    // Managed Flink places the application's network interfaces with the execution role. EC2
    // authorizes the Describe calls only on "*"; the interfaces themselves are bounded: created only
    // in the application's subnets with its security group, and shared or deleted only in the
    // platform's VPC (AWS's example policy grants all four on "*").
    const vpcArn = stack.formatArn({ service: 'ec2', resource: 'vpc', resourceName: props.vpc.vpcId });
    const interfaces = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces'],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: this.securityGroup.securityGroupId }),
          ...props.vpc.selectSubnets(props.vpcSubnets).subnets.map((s) => stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s.subnetId })),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface'],
        resources: [interfaces],
        conditions: { ArnEquals: { 'ec2:Vpc': vpcArn } },
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Managed Flink in a VPC needs the EC2 Describe calls, which EC2 authorizes only on "*"; they read, they change nothing.',
    });
    acknowledgeWildcards(this.role, [
      {
        finding: /^Resource::arn:[^:]+:ec2:[^:]+:(<AWS::AccountId>|\d{12}):network-interface\/\*$/,
        reason: 'An interface to be created has no id yet; creation is bounded by the subnets and security group of the same statement, sharing and deletion by the VPC condition.',
      },
      {
        finding: /^Resource::arn:[^:]+:logs:[^:]+:(<AWS::AccountId>|\d{12}):log-group:\*$/,
        reason: 'Managed Flink lists log groups (DescribeLogGroups) to validate its logging option; the action lists, it reads no log data.',
      },
    ]);

    this.application = new flink.CfnApplication(this, 'Application', {
      applicationName: props.applicationName,
      applicationDescription: 'Deduplicates sensor readings, joins device updates, calibrates; writes through Firehose to the processed zone',
      runtimeEnvironment: 'FLINK-1_20',
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: {
        applicationCodeConfiguration: {
          codeContentType: 'ZIPFILE',
          codeContent: { s3ContentLocation: { bucketArn: code.bucket.bucketArn, fileKey: code.s3ObjectKey } },
        },
        applicationSnapshotConfiguration: { snapshotsEnabled: true },
        flinkApplicationConfiguration: {
          checkpointConfiguration: {
            configurationType: 'CUSTOM',
            checkpointingEnabled: true,
            checkpointInterval: props.checkpointIntervalSeconds * 1000,
            minPauseBetweenCheckpoints: Math.floor((props.checkpointIntervalSeconds * 1000) / 2),
          },
          monitoringConfiguration: { configurationType: 'CUSTOM', logLevel: 'INFO', metricsLevel: 'APPLICATION' },
          parallelismConfiguration: {
            configurationType: 'CUSTOM',
            parallelism: props.parallelism,
            parallelismPerKpu: props.parallelismPerKpu,
            autoScalingEnabled: props.autoScaling,
          },
        },
        environmentProperties: {
          propertyGroups: [
            { propertyGroupId: 'kinesis.analytics.flink.run.options', propertyMap: { python: 'main.py', jarfile: 'lib/connectors.jar' } },
            {
              propertyGroupId: 'enrichment',
              propertyMap: {
                'aws.region': stack.region,
                'readings.stream': props.readingsStream.streamName,
                'device-updates.stream': props.deviceUpdatesStream.streamName,
                'enriched.delivery-stream': props.enrichedDeliveryStreamName,
                'rejected.delivery-stream': props.rejectedDeliveryStreamName,
                'readings.max-delay.seconds': String(props.readingsMaxDelaySeconds),
                'state.ttl.hours': String(props.stateTtlHours),
                'idle.timeout.seconds': String(IDLE_TIMEOUT_SECONDS),
              },
            },
          ],
        },
        vpcConfigurations: [
          { subnetIds: props.vpc.selectSubnets(props.vpcSubnets).subnetIds, securityGroupIds: [this.securityGroup.securityGroupId] },
        ],
      },
    });
    // The grants must exist before the service checks them; the role itself is implied by the reference.
    this.application.node.addDependency(this.role.node.findChild('DefaultPolicy'));
    this.application.applyRemovalPolicy(props.removalPolicy);

    new flink.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: { logStreamArn: stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    });
  }
}

/**
 * The Flink job failing over or stopped, its checkpoints failing, and every reading it rejected
 * (counted as the records entering the rejected-readings delivery, whose folder is named).
 */
export function monitorFlinkEnrichment(monitoring: PlatformMonitoring, enrichment: FlinkEnrichment, rejected: { deliveryStreamName: string; folder: string }): void {
  const flinkMetric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/KinesisAnalytics',
      metricName,
      dimensionsMap: { Application: enrichment.application.applicationName! },
      statistic,
      period: Duration.minutes(5),
    });
  monitoring.addAlarm('flink-downtime', {
    metric: flinkMetric('downtime', cloudwatch.Stats.MAXIMUM),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Flink enrichment: the job is restarting or down; enriched readings are not flowing.',
    thresholdReason: 'downtime is 0 while the job runs; any value means it is failing over or stopped.',
  });
  monitoring.addAlarm('flink-failed-checkpoints', {
    metric: flinkMetric('numberOfFailedCheckpoints', cloudwatch.Stats.MAXIMUM),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    description: 'Flink enrichment: checkpoints are failing; a restart would replay from an old position.',
    thresholdReason: 'the counter grows with each failure since the job started; one failure can be a transient S3 error, growth over 15 minutes is not.',
  });
  monitoring.addAlarm('sensor-readings-rejected', {
    metric: new cloudwatch.Metric({
      namespace: 'AWS/Firehose',
      metricName: 'IncomingRecords',
      dimensionsMap: { DeliveryStreamName: rejected.deliveryStreamName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description:
      'Flink enrichment: sensor readings were rejected (late beyond readingsMaxDelaySeconds, or a copy with another ts); they are not in the enriched table. ' +
      `Their reasons are under s3://<processed bucket>/${rejected.folder}.`,
    thresholdReason: 'every rejected reading is a reading missing from the enriched table: one is worth a look (a sensor clock, a stalled pull, a source sending two times for one id).',
  });
}
