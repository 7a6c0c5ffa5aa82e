import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { streamShardPlans } from '../lib/config/capacity';
import { loadConfig } from '../lib/config';
import { contractOf, loadContracts } from '../lib/contracts';
import { DataQualityRulesets } from '../lib/constructs/data-quality-rulesets';
import { DeliveryToS3 } from '../lib/constructs/delivery-to-s3';
import { DeviceRegistry } from '../lib/constructs/device-registry';
import { RegistryChangeStream } from '../lib/constructs/registry-change-stream';
import { RegistryLoginRotation } from '../lib/constructs/registry-logins';
import { KpiApi } from '../lib/constructs/kpi-api';
import { LiveAlerts } from '../lib/constructs/live-alerts';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { LakeAccess } from '../lib/constructs/lake-access';
import { NamedQueries } from '../lib/constructs/named-queries';
import { PlatformKeys } from '../lib/constructs/platform-keys';
import { ProcessedZoneDelivery } from '../lib/constructs/processed-zone-delivery';
import { QueryWorkgroup } from '../lib/constructs/query-workgroup';
import { ENVIRONMENT_CONTEXT } from '../lib/constructs/removal';
import { KafkaConfig, KafkaTopicIngestion } from '../lib/constructs/kafka-topic-ingestion';
import { PartnerFileDrops } from '../lib/constructs/partner-file-drops';
import { TelemetryIngestApi } from '../lib/constructs/telemetry-ingest-api';
import { SecureBucket } from '../lib/constructs/secure-bucket';
import { TelemetryStreams } from '../lib/constructs/telemetry-streams';
import { Warehouse } from '../lib/constructs/warehouse';
import { WarehouseMigrations } from '../lib/constructs/warehouse-migrations';
import { warehouseMigrations } from '../lib/warehouse-sql';
import { acknowledgeCompliance, platformNagPacks } from '../lib/nag/acknowledgements';
import { backUpAuroraCluster, backUpDataOfRecord, PlatformBackup } from '../lib/constructs/platform-backup';
import * as backup from 'aws-cdk-lib/aws-backup';
import { PATHS } from '../lib/paths';
import { loadCatalogue } from '../lambda/shared/kpi/catalogue';
import { CDK_CONTEXT } from './helpers/platform';

/**
 * Each construct alone in a bare stack, with cdk-nag's AwsSolutions checks and the platform's
 * acknowledgements, so that a construct is secure by itself and not only as the stacks use it;
 * and a passing and a failing case for each guard a construct enforces.
 */
const contracts = loadContracts();
const retain = RemovalPolicy.RETAIN;

/** A bare stack in an app of its own, in `environment` (the context every platform stack sets). */
function bareStack(environment: string | undefined = 'staging'): { app: App; stack: Stack } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlh-construct-'));
  const app = new App({ context: { ...CDK_CONTEXT, ...(environment ? { [ENVIRONMENT_CONTEXT]: environment } : {}) }, outdir });
  const stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { app, stack };
}

/** The findings of the platform's cdk-nag packs on an app, as `<rule> <path>` lines; synth fails on any, and this returns them. */
function nagFindings(app: App): string[] {
  Validations.of(app).addPlugins(...platformNagPacks(app));
  try {
    app.synth();
    return [];
  } catch (e) {
    return String(e)
      .split('\n')
      .filter((l) => /(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security)-/.test(l));
  }
}

/** A throwaway VPC of isolated subnets, in `zones` zones. */
function isolatedVpc(stack: Stack, zones: number): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: zones, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'A throwaway VPC for this construct test; the platform VPC has flow logs (PlatformNetwork).' });
  acknowledgeCompliance(vpc, 'VPCFlowLogsEnabled', 'A throwaway VPC for this construct test; the platform VPC has flow logs (PlatformNetwork).');
  return vpc;
}
/** The interface endpoints' group and S3's prefix list of a VPC the bare stack does not build. */
const awsApis = { endpointSecurityGroupId: 'sg-0123456789abcdef0', s3PrefixListId: 'pl-6da54004' };
const keyIn = (stack: Stack) => new kms.Key(stack, 'Key', { enableKeyRotation: true });
/** The daily backup the stacks of staging and prod add their data of record to (SecurityStack builds it). */
const backupIn = (stack: Stack) =>
  new PlatformBackup(stack, 'DailyBackup', { vaultName: 'x-backup', planName: 'x-daily-backup', keyAlias: 'alias/x/backup', keyPendingWindowDays: 30, retentionDays: 35, schedule: 'cron(0 3 * * ? *)', vaultLock: 'governance' });
const logBucketIn = (scope: Construct) =>
  new SecureBucket(scope, 'AccessLogs', { accessLogTarget: true, noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7, removalPolicy: retain, recovery: 'Access logs of a test bucket.' }).bucket;
const dataBucketIn = (scope: Construct, key: kms.IKey) =>
  new SecureBucket(scope, 'Data', { encryptionKey: key, serverAccessLogsBucket: logBucketIn(scope), noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7, removalPolicy: retain, recovery: 'A test bucket of generated objects.' }).bucket;
const deliveryCommon = (stack: Stack, key: kms.IKey) => ({
  bucket: dataBucketIn(stack, key),
  bucketKey: key,
  streamKey: key,
  bufferIntervalSeconds: 60,
  bufferSizeMiB: 5,
  logsKey: key,
  logRetention: logs.RetentionDays.ONE_MONTH,
  removalPolicy: retain,
});

function kafkaTopicsIn(stack: Stack, cluster: KafkaConfig['cluster']): void {
  const key = keyIn(stack);
  const writer = new iam.Role(stack, 'RawWriter', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
  new KafkaTopicIngestion(stack, 'KafkaTopics', {
    config: { ...loadConfig('dev').ingestion.kafka, cluster },
    namePrefix: 'x',
    contracts,
    vpc: isolatedVpc(stack, 2),
    vpcCidr: '10.0.0.0/16',
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    rawBucket: dataBucketIn(stack, key),
    rawKey: key,
    rawWriterOf: () => writer,
    logsKey: key,
    logRetention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: retain,
  });
}

/** Each construct, built alone in a bare stack. */
const BUILDERS: Record<string, (stack: Stack) => void> = {
  SecureBucket: (stack) => dataBucketIn(stack, keyIn(stack)),
  PlatformKeys: (stack) => new PlatformKeys(stack, 'Keys', { aliasPrefix: 'x', pendingWindowDays: 7, trailNames: ['x-trail'], removalPolicy: retain }),
  TelemetryStreams: (stack) =>
    new TelemetryStreams(stack, 'Streams', {
      namePrefix: 'x',
      encryptionKey: keyIn(stack),
      capacityMode: 'provisioned',
      shards: streamShardPlans(loadConfig('dev').streaming),
      retentionHours: 24,
      removalPolicy: retain,
    }),
  DeliveryToS3: (stack) => {
    const key = keyIn(stack);
    const role = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    new DeliveryToS3(stack, 'Delivery', { ...deliveryCommon(stack, key), deliveryStreamName: 'x-delivery', role, prefix: 'raw/x/', errorOutputPrefix: 'raw/_errors/x/' });
  },
  ProcessedZoneDelivery: (stack) =>
    new ProcessedZoneDelivery(stack, 'Enriched', {
      ...deliveryCommon(stack, keyIn(stack)),
      deliveryStreamName: 'x-enriched',
      what: 'enriched readings',
      folder: 'processed/sensor_readings/',
      errorFolder: 'processed/_errors/sensor_readings/',
      partitionPath: 'event_date=!{partitionKeyFromQuery:event_date}/event_hour=!{partitionKeyFromQuery:event_hour}/',
      partitionKeysQuery: '{event_date: .ts[0:10], event_hour: .ts[11:13]}',
      catalogTable: { contract: contractOf(contracts, 'sensor_readings_enriched'), databaseName: 'x_processed', projectionStartDate: '2026-01-01' },
    }),
  QueryWorkgroup: (stack) => {
    const key = keyIn(stack);
    new QueryWorkgroup(stack, 'Workgroup', { workgroupName: 'x', resultsBucket: dataBucketIn(stack, key), resultsKey: key, bytesScannedCutoffPerQuery: 10 ** 9, removalPolicy: retain });
  },
  LakeAccess: (stack) => {
    const key = keyIn(stack);
    const bucket = dataBucketIn(stack, key);
    new LakeAccess(stack, 'Access', {
      zoneBuckets: { raw: bucket, processed: bucket, aggregated: bucket },
      queryResultsBucket: bucket,
      databaseNames: { raw: 'x_raw', processed: 'x_processed', aggregated: 'x_aggregated' },
      workgroupArn: 'arn:aws:athena:eu-west-1:123456789012:workgroup/x',
      contracts,
    });
  },
  DataQualityRulesets: (stack) => new DataQualityRulesets(stack, 'Rules', { namePrefix: 'x', databaseName: 'x_processed', contracts: contracts.filter((c) => c.processed) }),
  KpiApi: (stack) => {
    const key = keyIn(stack);
    const vpc = isolatedVpc(stack, 2);
    new KpiApi(stack, 'KpiApi', {
      apiName: 'x-kpi-api',
      settings: { athena: { workGroup: 'x', database: 'x_aggregated', resultReuseMaxAgeMinutes: 60, bytesScannedCutoff: 10 ** 10 }, maxRangeDays: 366, syncWaitMs: 20_000, pageSize: 1000 },
      catalogue: loadCatalogue(PATHS.queries),
      grantQueries: (grantee) => iam.Grant.addToPrincipal({ grantee, actions: ['athena:StartQueryExecution'], resourceArns: ['arn:aws:athena:eu-west-1:123456789012:workgroup/x'] }),
      alerts: { table: dynamodb.Table.fromTableName(stack, 'AlertsTable', 'x-fleet-alerts'), key },
      throttle: { rateLimit: 10, burstLimit: 20 },
      reservedConcurrency: 10,
      waf: { requestsPerFiveMinutesPerIp: 1000 },
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: retain,
    });
  },
  LiveAlerts: (stack) => {
    const key = keyIn(stack);
    const vpc = isolatedVpc(stack, 2);
    const { stream, closedRetentionDays, ...rules } = loadConfig('dev').alerts;
    const alerts = new LiveAlerts(stack, 'Alerts', {
      namePrefix: 'x',
      telemetryStream: new kinesis.Stream(stack, 'Telemetry', { encryption: kinesis.StreamEncryption.MANAGED }),
      settings: { closedRetentionDays, rules },
      silenceCheckEveryMinutes: rules.vehicleSilent.checkEveryMinutes,
      stream,
      tableKey: key,
      deletionProtection: true,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: retain,
    });
    backUpDataOfRecord(stack, backupIn(stack), { selectionName: 'x-alerts', resources: [backup.BackupResource.fromDynamoDbTable(alerts.table)], store: alerts.table, rule: 'DynamoDBInBackupPlan' });
  },
  PlatformBackup: (stack) => backupIn(stack),
  Warehouse: (stack) => {
    const key = keyIn(stack);
    const vpc = isolatedVpc(stack, 3);
    const w = loadConfig('dev').warehouse;
    new Warehouse(stack, 'Warehouse', {
      namePrefix: 'x',
      databaseName: w.databaseName,
      adminUsername: w.adminUsername,
      warehouseKey: key,
      baseRpu: w.baseRpu,
      maxRpu: w.maxRpu,
      usageLimit: w.usageLimit,
      admitSecurityGroupIds: [],
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      awsApis,
      grantLakeReads: (grantee) => iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: ['arn:aws:s3:::lake/processed/data.parquet'] }),
      createAuditLogGroups: true,
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: retain,
    });
  },
  WarehouseMigrations: (stack) => {
    const key = keyIn(stack);
    new WarehouseMigrations(stack, 'Migrations', {
      namePrefix: 'x',
      workgroupName: 'x-warehouse',
      workgroupArn: 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/11111111-2222-3333-4444-555555555555',
      databaseName: 'telemetry',
      adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!x-warehouse-admin-AbCdEf',
      warehouseKey: key,
      migrations: warehouseMigrations('redshift', { processed_database: 'x_processed', aggregated_database: 'x_aggregated', namespace_role_arn: 'arn:aws:iam::123456789012:role/x' }),
      vpc: isolatedVpc(stack, 2),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: retain,
    });
  },
  // The registry and its change stream: DMS's own login, its secret rotated, its Kinesis target (issue 15).
  RegistryChangeStream: (stack) => {
    const key = keyIn(stack);
    const vpc = isolatedVpc(stack, 2);
    const registry = new DeviceRegistry(stack, 'Registry', {
      namePrefix: 'x', engineVersion: '17.7', databaseName: 'registry', adminUsername: 'registry_admin', registryKey: key, minAcu: 0.5, maxAcu: 4, readers: 1,
      backupRetentionDays: 14, deletionProtection: true, admitSecurityGroupIds: [], vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logsKey: key, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: retain,
    });
    backUpAuroraCluster(stack, backupIn(stack), registry.cluster, 'x-registry');
    const stream = kinesis.Stream.fromStreamArn(stack, 'Stream', 'arn:aws:kinesis:eu-west-1:123456789012:stream/x-device-updates');
    const changes = new RegistryChangeStream(stack, 'Changes', {
      identifier: 'x-registry-changes', registry, databaseName: 'registry', caBundleParameter: '/x/rds-ca-bundle', registryKey: key, stream, streamKey: key,
      capacity: { mode: 'serverless', minCapacityUnits: 1, maxCapacityUnits: 4, multiAz: false }, vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      awsApis, serviceRolesReady: new Construct(stack, 'DmsRolesReady'), removalPolicy: retain,
    });
    // its login's secret is rotated (and, without this, reported: AwsSolutions-SMG4)
    new RegistryLoginRotation(stack, 'Rotation', {
      namePrefix: 'x', clusterArn: registry.cluster.clusterArn, masterSecretArn: registry.masterSecretArn, databaseName: 'registry', registryKey: key,
      logins: [{ role: 'registry_dms', secret: changes.connectionSecret }], rotateAfterDays: 30, vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logsKey: key, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: retain,
    });
  },
  // Partner files over SFTP (issue 18): the server, a jailed user, the landing bucket and the check.
  PartnerFileDrops: (stack) => {
    const key = keyIn(stack);
    new PartnerFileDrops(stack, 'PartnerFiles', {
      config: loadConfig('dev').ingestion.partnerFiles,
      namePrefix: 'x',
      landingBucketName: 'x-partner-landing-123456789012-eu-west-1',
      contracts,
      vpc: isolatedVpc(stack, 2),
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      rawBucket: dataBucketIn(stack, key),
      rawKey: key,
      accessLogsBucket: logBucketIn(new Construct(stack, 'Logs')),
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      noncurrentVersionExpirationDays: 30,
      abortIncompleteMultipartUploadDays: 7,
      removalPolicy: retain,
    });
  },
  // The HTTPS ingestion API (issue 18): partner keys, the contract model, Kinesis PutRecords, a WAF.
  TelemetryIngestApi: (stack) => {
    const key = keyIn(stack);
    new TelemetryIngestApi(stack, 'IngestApi', {
      apiName: 'x-telemetry-ingest',
      contract: contractOf(contracts, 'telematics'),
      partitionKeyField: 'vehicle_id',
      receivedAtField: 'ingested_at',
      stream: kinesis.Stream.fromStreamArn(stack, 'Telemetry', 'arn:aws:kinesis:eu-west-1:123456789012:stream/x-telemetry'),
      streamKey: key,
      partners: [{ name: 'partner-a', rateLimit: 5, burstLimit: 10, dailyQuota: 1000 }],
      throttle: { rateLimit: 50, burstLimit: 100 },
      waf: { requestsPerFiveMinutesPerIp: 2000 },
      logsKey: key,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: retain,
    });
  },
  // Kafka topics (issue 18): an MSK Serverless cluster, a topic's Firehose delivery with the MSK source, the record check.
  KafkaTopicIngestion: (stack) => kafkaTopicsIn(stack, { kind: 'serverless' }),
  // The same with an existing cluster named by its ARN: no cluster, no cluster policy.
  KafkaTopicIngestionOnAnExistingCluster: (stack) => kafkaTopicsIn(stack, { kind: 'existing', clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/fleet/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-2' }),
  NamedQueries: (stack) => new NamedQueries(stack, 'Queries', { namePrefix: 'x', directory: PATHS.queries, database: 'x_aggregated', workGroup: 'x' }),
};

describe('each construct alone in a bare stack', () => {
  test.each(Object.keys(BUILDERS))('%s: zero unacknowledged cdk-nag findings', (name) => {
    const { app, stack } = bareStack();
    BUILDERS[name](stack);
    expect(nagFindings(app)).toEqual([]);
  });

  test('the bare-stack check is live: a bucket without encryption, TLS or logs is reported', () => {
    const { app, stack } = bareStack();
    new s3.Bucket(stack, 'Careless', { enforceSSL: false });
    const findings = nagFindings(app).join('\n');
    expect(findings).toContain('AwsSolutions-S1');
    expect(findings).toContain('AwsSolutions-S10');
  });
});

describe('construct guards', () => {
  describe('SecureBucket', () => {
    const props = { noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7, removalPolicy: retain, recovery: 'A test bucket of generated objects.' };

    test('a data bucket with a key and an access-log bucket, and a log target without a key, are built', () => {
      const { stack } = bareStack();
      dataBucketIn(stack, keyIn(stack));
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::S3::Bucket', 2);
      template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'Data/' } });
    });

    test('a data bucket without a key is refused', () => {
      const { stack } = bareStack();
      expect(() => new SecureBucket(stack, 'NoKey', { ...props, serverAccessLogsBucket: logBucketIn(stack) })).toThrow(/Bare\/NoKey: a data bucket needs an encryptionKey/);
    });

    test('a data bucket without access logging is refused', () => {
      const { stack } = bareStack();
      expect(() => new SecureBucket(stack, 'NoLogs', { ...props, encryptionKey: keyIn(stack) })).toThrow(/Bare\/NoLogs: a data bucket needs a serverAccessLogsBucket/);
    });

    test('Object Lock is refused on a bucket that DESTROY would have to empty, and on an access-log target', () => {
      const { stack } = bareStack('dev');
      const logs = logBucketIn(stack);
      expect(() => new SecureBucket(stack, 'Destroyed', { ...props, removalPolicy: RemovalPolicy.DESTROY, encryptionKey: keyIn(stack), serverAccessLogsBucket: logs, objectLockDays: 30 })).toThrow(
        /Destroyed: Object Lock is only for a retained data bucket/,
      );
      expect(() => new SecureBucket(stack, 'LockedLogs', { ...props, accessLogTarget: true, objectLockDays: 30 })).toThrow(/LockedLogs: Object Lock is only for a retained data bucket/);
    });

    test('an SSE-KMS access-log target is refused', () => {
      const { stack } = bareStack();
      expect(() => new SecureBucket(stack, 'KmsLogs', { ...props, accessLogTarget: true, encryptionKey: keyIn(stack) })).toThrow(/cannot deliver server access logs to an SSE-KMS bucket/);
    });
  });

  describe('removal guard inside the constructs', () => {
    const bucket = (stack: Stack, removalPolicy: RemovalPolicy) =>
      new SecureBucket(stack, 'Logs', { accessLogTarget: true, noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7, removalPolicy, recovery: 'Access logs of a test bucket.' });

    test('DESTROY is accepted in dev, and deletes the bucket with its stack', () => {
      const { stack } = bareStack('dev');
      bucket(stack, RemovalPolicy.DESTROY);
      Template.fromStack(stack).hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    });

    test.each(['staging', 'prod', undefined])('DESTROY is refused in %s', (environment) => {
      const { stack } = bareStack(environment);
      expect(() => bucket(stack, RemovalPolicy.DESTROY)).toThrow(/refusing RemovalPolicy.DESTROY in environment/);
      expect(() => new PlatformKeys(stack, 'Keys', { aliasPrefix: 'x', pendingWindowDays: 7, trailNames: ['t'], removalPolicy: RemovalPolicy.DESTROY })).toThrow(/Bare\/Keys: refusing/);
    });

    test('RETAIN is accepted anywhere', () => {
      const { stack } = bareStack('prod');
      bucket(stack, retain);
      Template.fromStack(stack).hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    });
  });

  describe('LakeAccess', () => {
    const build = (stack: Stack, extra: typeof contracts) => {
      const key = keyIn(stack);
      const bucket = dataBucketIn(stack, key);
      return new LakeAccess(stack, 'Access', {
        zoneBuckets: { raw: bucket, processed: bucket, aggregated: bucket },
        queryResultsBucket: bucket,
        databaseNames: { raw: 'x_raw', processed: 'x_processed', aggregated: 'x_aggregated' },
        workgroupArn: 'arn:aws:athena:eu-west-1:123456789012:workgroup/x',
        contracts: [...contracts, ...extra],
      });
    };

    test('one writer role per source, each trusted by its writer', () => {
      const { stack } = bareStack();
      const access = build(stack, []);
      const sources = [...new Set(contracts.filter((c) => c.raw).map((c) => c.source))];
      for (const source of sources) expect(access.rawWriterRole(source)).toBeDefined();
      expect(() => access.rawWriterRole('nobody')).toThrow(/No raw writer for source 'nobody'; known: /);
    });

    test('a source with two writers is refused', () => {
      const { stack } = bareStack();
      const weather = contractOf(contracts, 'weather');
      const otherWriter = { ...weather, dataset: 'weather_by_firehose', raw: { ...weather.raw!, writer: 'firehose' as const } };
      expect(() => build(stack, [otherWriter])).toThrow(/Source weather has two writers: lambda and firehose/);
    });
  });
});
