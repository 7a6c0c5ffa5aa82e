import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { shardsFor, telemetryLoad } from '../config/capacity';
import { sensorPullEnvironment } from '../config/pull-functions';
import { contractOf, DatasetContract, processedTableName } from '../contracts';
import { DeliveryToS3 } from '../constructs/delivery-to-s3';
import { FlinkEnrichment } from '../constructs/flink-enrichment';
import { projectedTable } from '../constructs/lake-catalog';
import { LakeAccess, QUARANTINE_PREFIX } from '../constructs/lake-access';
import { METRICS_NAMESPACE, PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { dataRemovalPolicy } from '../constructs/removal';
import { monitorScheduledPull } from '../constructs/scheduled-pull-monitoring';
import { ScheduledPullFunction } from '../constructs/scheduled-pull-function';
import { StreamName, TelemetryStreams } from '../constructs/telemetry-streams';
import { VehicleTelemetryIngest } from '../constructs/vehicle-telemetry-ingest';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
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
  readonly enrichedDelivery: DeliveryToS3;
  /** Readings the enrichment refused (late, or another ts for a reading already kept), with reasons. */
  readonly rejectedReadingsDelivery: DeliveryToS3;
  readonly enrichment: FlinkEnrichment;

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
    this.enrichedDelivery = this.buildEnrichedDelivery(props);
    this.rejectedReadingsDelivery = this.buildRejectedReadingsDelivery(props);
    const flinkConfig = streaming.flink;
    this.enrichment = new FlinkEnrichment(this, 'Enrichment', {
      applicationName: names.resource('sensor-enrichment'),
      readingsStream: this.streams.streams.sensorReadings,
      deviceUpdatesStream: this.streams.streams.deviceUpdates,
      enrichedDeliveryStreamName: this.enrichedDelivery.deliveryStream.deliveryStreamName!,
      enrichedDeliveryStreamArn: this.enrichedDelivery.deliveryStreamArn,
      rejectedDeliveryStreamName: this.rejectedReadingsDelivery.deliveryStream.deliveryStreamName!,
      rejectedDeliveryStreamArn: this.rejectedReadingsDelivery.deliveryStreamArn,
      parallelism: flinkConfig.parallelism,
      parallelismPerKpu: flinkConfig.parallelismPerKpu,
      autoScaling: flinkConfig.autoScaling,
      checkpointIntervalSeconds: flinkConfig.checkpointIntervalSeconds,
      stateTtlHours: flinkConfig.stateTtlHours,
      readingsMaxDelaySeconds: flinkConfig.readingsMaxDelaySeconds,
      deviceUpdatesMaxDelaySeconds: flinkConfig.deviceUpdatesMaxDelaySeconds,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.logsKey,
      logRetention,
      removalPolicy,
    });

    this.addMonitoring(props.monitoring);
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }

  /**
   * The processed zone's sensor readings: Parquet written by Firehose from the Flink job's JSON,
   * partitioned by the reading's own date and hour (not arrival), against a catalog table derived
   * from the enriched contract and read by Athena through partition projection.
   */
  private buildEnrichedDelivery(props: StreamingStackProps): DeliveryToS3 {
    const { config, names } = this;
    const contract = contractOf(props.contracts, 'sensor_readings_enriched');
    const tableName = processedTableName(contract);
    const databaseName = names.glueDatabase('processed');
    const prefix = `processed/${tableName}/`;
    const errorPrefix = `processed/_errors/${tableName}/`;
    const table = projectedTable(this, 'EnrichedReadingsTable', {
      databaseName,
      tableName,
      description: contract.description,
      location: props.processedBucket.s3UrlForObject(prefix),
      format: 'parquet',
      columns: contract.columns.map((c) => ({ name: c.name, type: c.type, comment: c.description })),
      partitions: [
        { name: 'event_date', type: 'date' },
        { name: 'event_hour', type: 'hour' },
      ],
      pathStyle: 'hive',
      projectionStartDate: config.catalog.rawProjectionStartDate,
    });

    const role = this.processedWriterRole(props, 'EnrichedDeliveryRole', 'enriched sensor readings', prefix, errorPrefix);
    const delivery = new DeliveryToS3(this, 'EnrichedReadings', {
      deliveryStreamName: names.resource('sensor-readings-enriched'),
      bucket: props.processedBucket,
      bucketKey: props.processedKey,
      streamKey: props.streamsKey,
      role,
      prefix: `${prefix}event_date=!{partitionKeyFromQuery:event_date}/event_hour=!{partitionKeyFromQuery:event_hour}/`,
      errorOutputPrefix: `${errorPrefix}!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`,
      partitionKeysQuery: '{event_date: .ts[0:10], event_hour: .ts[11:13]}',
      // Parquet conversion needs a buffer of at least 64 MiB.
      bufferIntervalSeconds: config.streaming.firehose.bufferIntervalSeconds,
      bufferSizeMiB: Math.max(64, config.streaming.firehose.bufferSizeMiB),
      parquet: { databaseName, tableName },
      logsKey: props.logsKey,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: dataRemovalPolicy(config),
    });
    delivery.node.addDependency(table);
    return delivery;
  }

  /**
   * Readings the Flink job does not enrich, as GZIP NDJSON with their quarantine_reasons: late
   * readings (beyond readingsMaxDelaySeconds) and copies of a kept reading with another ts. They
   * land by arrival date beside the Glue jobs' quarantine, and every one is counted and alarmed.
   */
  private buildRejectedReadingsDelivery(props: StreamingStackProps): DeliveryToS3 {
    const { config, names } = this;
    const prefix = `${QUARANTINE_PREFIX}sensor_readings/`;
    const errorPrefix = `${QUARANTINE_PREFIX}_errors/sensor_readings/`;
    return new DeliveryToS3(this, 'RejectedReadings', {
      deliveryStreamName: names.resource('sensor-readings-rejected'),
      bucket: props.processedBucket,
      bucketKey: props.processedKey,
      streamKey: props.streamsKey,
      role: this.processedWriterRole(props, 'RejectedReadingsDeliveryRole', 'rejected sensor readings', prefix, errorPrefix),
      prefix: `${prefix}ingest_date=!{timestamp:yyyy-MM-dd}/`,
      errorOutputPrefix: `${errorPrefix}!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`,
      bufferIntervalSeconds: config.streaming.firehose.bufferIntervalSeconds,
      bufferSizeMiB: config.streaming.firehose.bufferSizeMiB,
      logsKey: props.logsKey,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: dataRemovalPolicy(config),
    });
  }

  /** A Firehose role that writes only under one folder of the processed zone and its error folder. */
  private processedWriterRole(props: StreamingStackProps, id: string, what: string, prefix: string, errorPrefix: string): iam.Role {
    const role = new iam.Role(this, id, {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: `Firehose: writes ${what} under ${prefix} of the processed zone`,
    });
    props.processedBucket.grantPut(role, `${prefix}*`);
    props.processedBucket.grantPut(role, `${errorPrefix}*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [props.processedBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`, `${errorPrefix}*`] } },
      }),
    );
    acknowledgeWildcards(role, [
      {
        finding: new RegExp(`^Resource::.*\\/(${escapeRegExp(prefix)}|${escapeRegExp(errorPrefix)})\\*$`),
        reason: `Objects under the ${what}' folder (and its error folder) of the processed zone, which this Firehose alone writes.`,
      },
    ]);
    return role;
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
      environment: sensorPullEnvironment(config, { rawBucket: props.rawBucket.bucketName, account: this.account, readingsStream: readings.streamName }),
      timeout: Duration.seconds(pull.timeoutSeconds),
      memorySize: pull.memoryMiB,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.logsKey,
      logRetention: config.monitoring.logRetentionDays,
      deadLetterKey: props.rawKey,
      removalPolicy: dataRemovalPolicy(config),
    });
    readings.grantWrite(role);
    monitorScheduledPull(props.monitoring, 'sensor-pull', fn, [
      {
        metricName: 'ReadingsQuarantined',
        description: 'readings were quarantined (raw/sensors/_quarantine/), each with its reasons: the contract, a ts outside the window, a Kinesis limit, or a reading_id repeated with another ts.',
        thresholdReason: 'a quarantined reading is missing from the stream and the enriched table; the API sending one is a fault at the source worth a look.',
      },
    ]);
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
    const flinkMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/KinesisAnalytics',
        metricName,
        dimensionsMap: { Application: this.enrichment.application.applicationName! },
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
    this.freshnessAlarm(monitoring, 'enriched-readings-freshness', this.enrichedDelivery);
    this.freshnessAlarm(monitoring, 'rejected-readings-freshness', this.rejectedReadingsDelivery);
    monitoring.addAlarm('sensor-readings-rejected', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'IncomingRecords',
        dimensionsMap: { DeliveryStreamName: this.rejectedReadingsDelivery.deliveryStream.deliveryStreamName! },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description:
        'Flink enrichment: sensor readings were rejected (late beyond readingsMaxDelaySeconds, or a copy with another ts); they are not in the enriched table. ' +
        `Their reasons are under s3://<processed bucket>/${QUARANTINE_PREFIX}sensor_readings/.`,
      thresholdReason: 'every rejected reading is a reading missing from the enriched table: one is worth a look (a sensor clock, a stalled pull, a source sending two times for one id).',
    });
    this.freshnessAlarm(monitoring, 'raw-telemetry-freshness', this.rawTelemetryDelivery);
  }

  private freshnessAlarm(monitoring: PlatformMonitoring, id: string, delivery: DeliveryToS3): void {
    monitoring.addAlarm(id, {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensionsMap: { DeliveryStreamName: delivery.deliveryStream.deliveryStreamName! },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: this.config.monitoring.firehoseFreshnessSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      description: `Firehose ${delivery.deliveryStream.deliveryStreamName}: records are waiting too long to reach S3.`,
      thresholdReason: 'the buffer interval plus delivery normally keeps records under this age; beyond it, S3, KMS or format conversion is failing.',
    });
  }
}
