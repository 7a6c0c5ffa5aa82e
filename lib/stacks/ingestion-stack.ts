import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { checkDmsSource, checkKafkaTopics, checkPartnerDatasets } from '../config/ingestion-checks';
import { contractOf, DatasetContract } from '../contracts';
import { DmsServiceRoles } from '../constructs/dms-service-roles';
import { monitorDmsReplication } from '../constructs/dms-monitoring';
import { DmsToRawZone } from '../constructs/dms-replication';
import { KafkaTopicIngestion, monitorKafkaTopicIngestion } from '../constructs/kafka-topic-ingestion';
import { LakeAccess } from '../constructs/lake-access';
import { monitorPartnerFileDrops, PartnerFileDrops } from '../constructs/partner-file-drops';
import { monitorTelemetryIngestApi, TelemetryIngestApi } from '../constructs/telemetry-ingest-api';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { addPullFunctions } from '../constructs/pull-functions';
import { ScheduledPullFunction } from '../constructs/scheduled-pull-function';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface IngestionStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  readonly rawBucket: s3.IBucket;
  /** The lake's server access log bucket, which the partner landing bucket logs to. */
  readonly accessLogsBucket: s3.IBucket;
  /** The telemetry stream (streaming stack), which the HTTPS ingestion API writes. */
  readonly telemetryStream: kinesis.IStream;
  readonly access: LakeAccess;
  readonly dmsServiceRoles: DmsServiceRoles;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
}

/**
 * Batch ingestion into the raw zone: DMS from the business databases, the layer's pull functions
 * (the weather pull), and, where config enables them, partners' files over SFTP, their telemetry
 * over HTTPS, and Kafka topics.
 */
export class IngestionStack extends PlatformStack {
  readonly replications: Record<string, DmsToRawZone> = {};
  /** The layer's pull functions, by name (lib/registry/pulls.ts). */
  readonly pulls: Record<string, ScheduledPullFunction>;
  /** Partner file drops over SFTP, where config enables them (ingestion.partnerFiles). */
  readonly partnerFiles?: PartnerFileDrops;
  /** The HTTPS ingestion API, where config enables it (ingestion.httpsApi). */
  readonly ingestApi?: TelemetryIngestApi;
  /** Kafka topics delivered by Firehose, where config enables them (ingestion.kafka). */
  readonly kafka?: KafkaTopicIngestion;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const { dms } = config.ingestion;

    for (const [sourceName, source] of Object.entries(dms.sources)) {
      checkDmsSource(config.envName, sourceName, source.tables, props.contracts);
      const replication = new DmsToRawZone(this, `Dms-${sourceName}`, {
        identifier: names.resource(`${sourceName.replace(/_/g, '-')}-to-raw`),
        sourceName,
        source,
        capacity: dms.capacity,
        vpc: props.network.vpc,
        subnets: props.network.privateSubnets,
        awsApis: props.network.awsApiRoutes,
        rawBucket: props.rawBucket,
        rawKey: props.keys.raw,
        targetRole: props.access.rawWriterRole(sourceName),
        serviceRolesReady: props.dmsServiceRoles.ready,
        cdcMaxBatchIntervalSeconds: dms.cdcMaxBatchIntervalSeconds,
        cdcMinFileSizeKb: dms.cdcMinFileSizeKb,
      });
      monitorDmsReplication(props.monitoring, `dms-${sourceName.replace(/_/g, '-')}`, replication, config.monitoring.dmsCdcLatencySeconds);
      this.replications[sourceName] = replication;
    }

    this.pulls = addPullFunctions(this, { ...props, layer: 'ingestion', config, names, removalPolicy: this.removalPolicy });

    const { partnerFiles } = config.ingestion;
    if (partnerFiles.enabled) {
      checkPartnerDatasets(config.envName, partnerFiles.partners, props.contracts);
      this.partnerFiles = new PartnerFileDrops(this, 'PartnerFiles', {
        config: partnerFiles,
        namePrefix: config.resourcePrefix,
        landingBucketName: names.partnerLandingBucket(),
        contracts: props.contracts,
        vpc: props.network.vpc,
        subnets: props.network.privateSubnets,
        rawBucket: props.rawBucket,
        rawKey: props.keys.raw,
        accessLogsBucket: props.accessLogsBucket,
        logsKey: props.keys.logs,
        logRetention: config.monitoring.logRetentionDays,
        noncurrentVersionExpirationDays: config.lifecycle.noncurrentVersionExpirationDays,
        abortIncompleteMultipartUploadDays: config.lifecycle.abortIncompleteMultipartUploadDays,
        removalPolicy: this.removalPolicy,
      });
      monitorPartnerFileDrops(props.monitoring, this.partnerFiles, partnerFiles);
    }
    const { httpsApi } = config.ingestion;
    if (httpsApi.enabled) {
      this.ingestApi = new TelemetryIngestApi(this, 'TelemetryIngestApi', {
        apiName: names.resource('telemetry-ingest'),
        contract: contractOf(props.contracts, 'telematics'),
        partitionKeyField: 'vehicle_id',
        receivedAtField: 'ingested_at',
        stream: props.telemetryStream,
        streamKey: props.keys.streams,
        partners: httpsApi.partners,
        throttle: httpsApi.throttle,
        waf: httpsApi.waf.enabled ? httpsApi.waf : undefined,
        logsKey: props.keys.logs,
        logRetention: config.monitoring.logRetentionDays,
        removalPolicy: this.removalPolicy,
      });
      monitorTelemetryIngestApi(props.monitoring, this.ingestApi);
    }
    const { kafka } = config.ingestion;
    if (kafka.enabled) {
      checkKafkaTopics(config.envName, kafka.topics);
      this.kafka = new KafkaTopicIngestion(this, 'KafkaTopics', {
        config: kafka,
        namePrefix: config.resourcePrefix,
        contracts: props.contracts,
        vpc: props.network.vpc,
        vpcCidr: config.network.vpcCidr,
        subnets: props.network.privateSubnets,
        rawBucket: props.rawBucket,
        rawKey: props.keys.raw,
        rawWriterOf: (source) => props.access.rawWriterIn(this, source),
        logsKey: props.keys.logs,
        logRetention: config.monitoring.logRetentionDays,
        removalPolicy: this.removalPolicy,
      });
      monitorKafkaTopicIngestion(props.monitoring, this.kafka, kafka, config.monitoring.firehoseFreshnessSeconds);
    }
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }
}
