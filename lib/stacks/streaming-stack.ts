import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { streamShardPlans } from '../config/capacity';
import { contractOf, DatasetContract, landingFolder, landingTable, rawDayPath } from '../contracts';
import { DeliveryToS3, monitorDeliveryFreshness } from '../constructs/delivery-to-s3';
import { FlinkEnrichment, monitorFlinkEnrichment } from '../constructs/flink-enrichment';
import { LakeAccess, QUARANTINE_PREFIX } from '../constructs/lake-access';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { ProcessedZoneDelivery } from '../constructs/processed-zone-delivery';
import { addPullFunctions } from '../constructs/pull-functions';
import { ScheduledPullFunction } from '../constructs/scheduled-pull-function';
import { monitorTelemetryStreams, TelemetryStreams } from '../constructs/telemetry-streams';
import { monitorVehicleIngest, VehicleTelemetryIngest } from '../constructs/vehicle-telemetry-ingest';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface StreamingStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  readonly rawBucket: s3.IBucket;
  readonly processedBucket: s3.IBucket;
  readonly access: LakeAccess;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
}

/** Kinesis streams, IoT Core vehicle telemetry and its raw landing, the sensor pull and the Flink enrichment. */
export class StreamingStack extends PlatformStack {
  /** The telemetry, sensor-readings and device-updates streams. */
  readonly streams: TelemetryStreams;
  /** The Firehose that lands vehicle telemetry in the raw zone, by arrival hour. */
  readonly rawTelemetryDelivery: DeliveryToS3;
  /** The Firehose that keeps every device registry update in the raw zone, by arrival date, for the lake's device history. */
  readonly rawDeviceUpdatesDelivery: DeliveryToS3;
  /** IoT Core: thing type, thing policy and the telemetry rule. */
  readonly vehicleIngest: VehicleTelemetryIngest;
  /** The layer's pull functions, by name (lib/registry/pulls.ts): the sensor pull. */
  readonly pulls: Record<string, ScheduledPullFunction>;
  /** The processed zone's enriched readings, and those the enrichment refused (late, or another ts for a kept reading). */
  readonly enrichedDelivery: ProcessedZoneDelivery;
  readonly rejectedReadingsDelivery: ProcessedZoneDelivery;
  /** The Flink application that deduplicates and enriches sensor readings. */
  readonly enrichment: FlinkEnrichment;

  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const { keys, monitoring } = props;
    const streaming = config.streaming;
    const common = { logsKey: keys.logs, logRetention: config.monitoring.logRetentionDays, removalPolicy: this.removalPolicy };
    const buffering = { bufferIntervalSeconds: streaming.firehose.bufferIntervalSeconds, bufferSizeMiB: streaming.firehose.bufferSizeMiB };

    this.streams = new TelemetryStreams(this, 'Streams', {
      namePrefix: config.resourcePrefix,
      encryptionKey: keys.streams,
      capacityMode: streaming.capacityMode,
      shards: streamShardPlans(streaming),
      retentionHours: streaming.retentionHours,
      removalPolicy: common.removalPolicy,
    });
    const { telemetry, sensorReadings, deviceUpdates } = this.streams.streams;

    const rawZone = { ...common, ...buffering, bucket: props.rawBucket, bucketKey: keys.raw, streamKey: keys.streams };
    const rawTelemetryName = names.resource('raw-telemetry');
    this.rawTelemetryDelivery = new DeliveryToS3(this, 'RawTelemetry', {
      ...rawZone,
      deliveryStreamName: rawTelemetryName,
      role: props.access.rawWriterIn(this, 'iot'),
      prefix: 'raw/iot/telematics/ingest_date=!{timestamp:yyyy-MM-dd}/ingest_hour=!{timestamp:HH}/',
      errorOutputPrefix: 'raw/iot/_errors/telematics/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/',
    });
    // Every device update kept beyond the stream's retention: the lake's device history (processed
    // device_updates, the warehouse's dim_device); the enrichment reads the same stream.
    const deviceUpdatesRaw = contractOf(props.contracts, 'device_updates');
    this.rawDeviceUpdatesDelivery = new DeliveryToS3(this, 'RawDeviceUpdates', {
      ...rawZone,
      deliveryStreamName: names.resource('raw-device-updates'),
      sourceStream: deviceUpdates,
      role: props.access.rawWriterIn(this, deviceUpdatesRaw.source),
      prefix: rawDayPath(deviceUpdatesRaw, '!{timestamp:yyyy-MM-dd}'),
      errorOutputPrefix: `raw/${deviceUpdatesRaw.source}/_errors/${deviceUpdatesRaw.dataset}/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`,
    });
    this.vehicleIngest = new VehicleTelemetryIngest(this, 'Vehicles', {
      ...common,
      namePrefix: config.resourcePrefix,
      telemetryStream: telemetry,
      rawDeliveryStreamName: rawTelemetryName,
      rawDeliveryStreamArn: this.rawTelemetryDelivery.deliveryStreamArn,
    });

    this.pulls = addPullFunctions(this, { ...props, layer: 'streaming', config, names, streams: this.streams.streams, removalPolicy: this.removalPolicy });

    const processedZone = { ...common, ...buffering, bucket: props.processedBucket, bucketKey: keys.processed, streamKey: keys.streams };
    const enriched = contractOf(props.contracts, 'sensor_readings_enriched');
    this.enrichedDelivery = new ProcessedZoneDelivery(this, 'EnrichedReadings', {
      ...processedZone,
      deliveryStreamName: names.resource('sensor-readings-enriched'),
      what: 'enriched sensor readings',
      folder: landingFolder(enriched),
      errorFolder: `processed/_errors/${landingTable(enriched)}/`,
      // By the reading's own time, not its arrival.
      partitionPath: 'event_date=!{partitionKeyFromQuery:event_date}/event_hour=!{partitionKeyFromQuery:event_hour}/',
      partitionKeysQuery: `{event_date: .${enriched.landing!.eventTime}[0:10], event_hour: .${enriched.landing!.eventTime}[11:13]}`,
      catalogTable: {
        contract: enriched,
        databaseName: names.glueDatabase('processed'),
        projectionStartDate: config.catalog.rawProjectionStartDate,
        keepLogicalId: 'EnrichedReadingsTable',
      },
    });
    this.rejectedReadingsDelivery = new ProcessedZoneDelivery(this, 'RejectedReadings', {
      ...processedZone,
      deliveryStreamName: names.resource('sensor-readings-rejected'),
      what: 'rejected sensor readings',
      folder: `${QUARANTINE_PREFIX}sensor_readings/`,
      errorFolder: `${QUARANTINE_PREFIX}_errors/sensor_readings/`,
      partitionPath: 'ingest_date=!{timestamp:yyyy-MM-dd}/',
    });

    this.enrichment = new FlinkEnrichment(this, 'Enrichment', {
      ...common,
      // Parallelism, checkpoints, state TTL and the two watermark delays.
      ...streaming.flink,
      applicationName: names.resource('sensor-enrichment'),
      readingsStream: sensorReadings,
      deviceUpdatesStream: deviceUpdates,
      enrichedDeliveryStreamName: this.enrichedDelivery.deliveryStreamName,
      enrichedDeliveryStreamArn: this.enrichedDelivery.delivery.deliveryStreamArn,
      rejectedDeliveryStreamName: this.rejectedReadingsDelivery.deliveryStreamName,
      rejectedDeliveryStreamArn: this.rejectedReadingsDelivery.delivery.deliveryStreamArn,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      awsApis: props.network.awsApiRoutes,
    });

    monitorTelemetryStreams(monitoring, this.streams, streaming.retentionHours);
    monitorVehicleIngest(monitoring, this.vehicleIngest);
    monitorFlinkEnrichment(monitoring, this.enrichment, this.rejectedReadingsDelivery);
    monitorDeliveryFreshness(monitoring, 'enriched-readings-freshness', this.enrichedDelivery.delivery, config.monitoring.firehoseFreshnessSeconds);
    monitorDeliveryFreshness(monitoring, 'rejected-readings-freshness', this.rejectedReadingsDelivery.delivery, config.monitoring.firehoseFreshnessSeconds);
    monitorDeliveryFreshness(monitoring, 'raw-telemetry-freshness', this.rawTelemetryDelivery, config.monitoring.firehoseFreshnessSeconds);
    monitorDeliveryFreshness(monitoring, 'raw-device-updates-freshness', this.rawDeviceUpdatesDelivery, config.monitoring.firehoseFreshnessSeconds);
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }
}
