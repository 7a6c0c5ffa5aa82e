import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { shardsFor, telemetryLoad } from '../config/capacity';
import { DatasetContract } from '../contracts';
import { DeliveryToS3 } from '../constructs/delivery-to-s3';
import { LakeAccess } from '../constructs/lake-access';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { dataRemovalPolicy } from '../constructs/removal';
import { monitorScheduledPull } from '../constructs/scheduled-pull-monitoring';
import { ScheduledPullFunction } from '../constructs/scheduled-pull-function';
import { StreamName, TelemetryStreams } from '../constructs/telemetry-streams';
import { VehicleTelemetryIngest } from '../constructs/vehicle-telemetry-ingest';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { METRICS_NAMESPACE } from './ingestion-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface StreamingStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly rawBucket: s3.IBucket;
  readonly rawKey: kms.IKey;
  readonly processedBucket: s3.IBucket;
  readonly processedKey: kms.IKey;
  readonly streamsKey: kms.IKey;
  readonly logsKey: kms.IKey;
  readonly access: LakeAccess;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
}

/** Kinesis streams, IoT Core vehicle telemetry and its raw landing, the sensor pull and the Flink enrichment. */
export class StreamingStack extends PlatformStack {
  readonly streams: TelemetryStreams;
  readonly rawTelemetryDelivery: DeliveryToS3;
  readonly vehicleIngest: VehicleTelemetryIngest;
  readonly sensorPull: ScheduledPullFunction;

  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const streaming = config.streaming;
    const removalPolicy = dataRemovalPolicy(config);
    const logRetention = config.monitoring.logRetentionDays;

    const load = streaming.expectedLoad;
    this.streams = new TelemetryStreams(this, 'Streams', {
      namePrefix: config.resourcePrefix,
      encryptionKey: props.streamsKey,
      capacityMode: streaming.capacityMode,
      shards: {
        telemetry: shardsFor(telemetryLoad(load.telemetry), streaming.headroom),
        sensorReadings: shardsFor(load.sensorReadings, streaming.headroom),
        deviceUpdates: shardsFor(load.deviceUpdates, streaming.headroom),
      },
      retentionHours: streaming.retentionHours,
      removalPolicy,
    });

    const rawTelemetryName = names.resource('raw-telemetry');
    this.rawTelemetryDelivery = new DeliveryToS3(this, 'RawTelemetry', {
      deliveryStreamName: rawTelemetryName,
      bucket: props.rawBucket,
      bucketKey: props.rawKey,
      streamKey: props.streamsKey,
      // Imported as mutable so grants added here become a policy of this stack, not of the role's.
      role: iam.Role.fromRoleName(this, 'IotWriterRole', props.access.rawWriterRole('iot').roleName, { mutable: true }),
      prefix: 'raw/iot/telematics/ingest_date=!{timestamp:yyyy-MM-dd}/ingest_hour=!{timestamp:HH}/',
      errorOutputPrefix: 'raw/iot/_errors/telematics/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/',
      bufferIntervalSeconds: streaming.firehose.bufferIntervalSeconds,
      bufferSizeMiB: streaming.firehose.bufferSizeMiB,
      logsKey: props.logsKey,
      logRetention,
      removalPolicy,
    });

    this.vehicleIngest = new VehicleTelemetryIngest(this, 'Vehicles', {
      namePrefix: config.resourcePrefix,
      telemetryStream: this.streams.streams.telemetry,
      rawDeliveryStreamName: rawTelemetryName,
      rawDeliveryStreamArn: this.rawTelemetryDelivery.deliveryStreamArn,
      logsKey: props.logsKey,
      logRetention,
      removalPolicy,
    });

    this.sensorPull = this.buildSensorPull(props);

    this.addMonitoring(props.monitoring);
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }

  private buildSensorPull(props: StreamingStackProps): ScheduledPullFunction {
    const { config, names } = this;
    const pull = config.streaming.sensorPull;
    // Imported as mutable so that the grants added here become a policy of this stack.
    const role = iam.Role.fromRoleName(this, 'SensorsWriterRole', props.access.rawWriterRole('sensors').roleName, { mutable: true });
    const readings = this.streams.streams.sensorReadings;
    const fn = new ScheduledPullFunction(this, 'SensorPull', {
      name: 'sensor-pull',
      description: 'Pulls sensor readings (Dataset A) into the raw zone as Parquet and onto the sensor-readings stream',
      functionName: names.resource('sensor-pull'),
      schedule: pull.schedule,
      role,
      environment: {
        RAW_BUCKET: props.rawBucket.bucketName,
        EXPECTED_BUCKET_OWNER: this.account,
        SENSOR_STREAM_NAME: readings.streamName,
        SENSOR_API_BASE_URL: pull.apiBaseUrl,
        WINDOW_MINUTES: String(pull.windowMinutes),
        REQUEST_TIMEOUT_MS: String(pull.requestTimeoutMs),
        MAX_ATTEMPTS: String(pull.maxAttempts),
        POWERTOOLS_SERVICE_NAME: 'sensor-pull',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      // Pages and PutRecords retries of a busy window, with room to spare; well under the schedule.
      timeout: Duration.minutes(4),
      memorySize: 1024,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.logsKey,
      logRetention: config.monitoring.logRetentionDays,
      deadLetterKey: props.rawKey,
      removalPolicy: dataRemovalPolicy(config),
    });
    readings.grantWrite(role);
    monitorScheduledPull(props.monitoring, 'sensor-pull', fn);
    return fn;
  }

  private addMonitoring(monitoring: PlatformMonitoring): void {
    const { config } = this;
    const retentionMs = config.streaming.retentionHours * 3_600_000;
    for (const [name, stream] of Object.entries(this.streams.streams) as [StreamName, typeof this.streams.streams.telemetry][]) {
      monitoring.addAlarm(`${name}-iterator-age`, {
        metric: stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
        threshold: retentionMs / 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: `Kinesis ${name}: consumers are falling behind; records will expire unread.`,
        thresholdReason: 'half the retention period: the consumer still has the other half to catch up before records expire.',
      });
      monitoring.addAlarm(`${name}-write-throttling`, {
        metric: stream.metricWriteProvisionedThroughputExceeded({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        description: `Kinesis ${name}: writes are throttled; the load exceeds the stream's capacity.`,
        thresholdReason: 'producers retry a throttled record, so one burst is harmless; throttling in three 5-minute periods in a row means the declared load (config streaming.expectedLoad) is too low.',
      });
    }

    // Each failed rule action writes one event to the error log group; count them.
    new logs.MetricFilter(this, 'IotRuleFailures', {
      logGroup: this.vehicleIngest.errorLogGroup,
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
        dimensionsMap: { Rule: this.vehicleIngest.ruleName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: 'IoT telemetry rule: an action failed; the message is in the error log group, to replay.',
      thresholdReason: 'every failure is a telemetry message missing from the stream or the raw zone.',
    });
    monitoring.addAlarm('raw-telemetry-freshness', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensionsMap: { DeliveryStreamName: this.rawTelemetryDelivery.deliveryStream.deliveryStreamName! },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: config.monitoring.firehoseFreshnessSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      description: 'Firehose raw-telemetry: records are waiting too long to reach S3.',
      thresholdReason: 'the buffer interval plus delivery normally keeps records under this age; beyond it, S3 or KMS writes are failing.',
    });
  }
}
