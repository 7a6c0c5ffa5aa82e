import { Arn, ArnFormat, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SERVICE as CHECK_SERVICE } from '../../lambda/kafka-record-check/service';
import { KAFKA_RECORD_CHECK_SETTINGS, KafkaRecordCheckSettings, kafkaRecordCheckSettings } from '../../lambda/kafka-record-check/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { EnvironmentConfig } from '../config';
import { METRICS_NAMESPACE } from '../config/metrics';
import { contractOf, DatasetContract, rawPartitionPathTemplate, rawPrefix } from '../contracts';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { DeliveryToS3, KafkaSource, monitorDeliveryFreshness } from './delivery-to-s3';
import { PlatformMonitoring } from './platform-monitoring';
import { privateFunction, PrivateFunction } from './private-function';

export type KafkaConfig = EnvironmentConfig['ingestion']['kafka'];

/** The port MSK's brokers take IAM-authenticated clients on (SASL over TLS). */
export const MSK_IAM_PORT = 9098;

export interface KafkaTopicIngestionProps {
  readonly config: KafkaConfig;
  /** Physical names: `<namePrefix>-<what>`. */
  readonly namePrefix: string;
  readonly contracts: readonly DatasetContract[];
  readonly vpc: ec2.IVpc;
  /** The VPC's CIDR as config declares it (a literal, so the security group's rule is checkable at synth). */
  readonly vpcCidr: string;
  /** Where a serverless cluster's endpoints and the record check run: the private subnets. */
  readonly subnets: ec2.SubnetSelection;
  readonly rawBucket: s3.IBucket;
  readonly rawKey: kms.IKey;
  /** The raw writer role of a dataset's source (LakeAccess.rawWriterIn), which the delivery assumes. */
  readonly rawWriterOf: (source: string) => iam.IRole;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The raw zone's folders a topic's delivery writes, by its dataset's contract: Firehose's prefix namespaces. */
export function kafkaDeliveryPrefixes(contract: DatasetContract, topic: string): { prefix: string; errorOutputPrefix: string } {
  const values: Record<string, string> = { date: '!{timestamp:yyyy-MM-dd}', hour: '!{timestamp:HH}' };
  const layout = contract.raw!;
  let folders = rawPartitionPathTemplate(layout);
  for (const p of layout.partitions) folders = folders.replace(`\${${p.name}}`, values[p.type]);
  return {
    prefix: `${rawPrefix(contract)}${folders}`,
    errorOutputPrefix: `raw/${contract.source}/_errors/kafka-${topic}/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`,
  };
}

/** The delivery stream of a topic: `<prefix>-kafka-<topic>` with the topic's dots and underscores as hyphens (Firehose allows 64 characters). */
export function kafkaDeliveryName(namePrefix: string, topic: string): string {
  const name = `${namePrefix}-kafka-${topic.replace(/[._]/g, '-')}`;
  if (name.length > 64) throw new Error(`delivery stream name ${name} is longer than Firehose's 64 characters: shorten the topic or the prefix`);
  return name;
}

/** The check's settings from config: one delivery per topic. */
export function kafkaRecordCheckSettingsOf(config: KafkaConfig, namePrefix: string, rawBucket: string, account?: string): KafkaRecordCheckSettings {
  return {
    rawBucket,
    expectedBucketOwner: account,
    deliveries: Object.fromEntries(config.topics.map((t) => [kafkaDeliveryName(namePrefix, t.topic), { topic: t.topic, dataset: t.dataset }])),
    maxRecordBytes: config.maxRecordBytes,
  };
}

/**
 * Kafka topics into the raw zone (issue 18): where config asks, an MSK Serverless cluster with IAM
 * authentication in the private subnets (or an existing MSK cluster named by its ARN), and per
 * topic a Firehose delivery with the MSK source that reads it over private connectivity, sends each
 * batch through the Kafka record check (lambda/kafka-record-check: the contract of the topic's
 * dataset, refused records quarantined with their reasons), and writes the accepted records as
 * GZIP NDJSON in the dataset's raw layout, where its daily job reads them with the rest.
 */
export class KafkaTopicIngestion extends Construct {
  /** The cluster the platform created, when config asks for a serverless one. */
  readonly cluster?: msk.CfnServerlessCluster;
  readonly clusterArn: string;
  /** Producers in the VPC reach the serverless cluster through this group (port 9098). */
  readonly clusterSecurityGroup?: ec2.SecurityGroup;
  readonly check: PrivateFunction;
  readonly checkFunctionName: string;
  /** One delivery per topic, by topic. */
  readonly deliveries: Record<string, DeliveryToS3> = {};

  constructor(scope: Construct, id: string, props: KafkaTopicIngestionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    let clusterName: string;
    let clusterUuid: string;
    if (config.cluster.kind === 'serverless') {
      clusterName = `${props.namePrefix}-kafka`;
      this.clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
        vpc: props.vpc,
        description: `${clusterName}: Kafka clients in the VPC, IAM over TLS (${MSK_IAM_PORT}) only`,
        allowAllOutbound: false,
      });
      this.clusterSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(MSK_IAM_PORT), 'Kafka clients of the VPC, IAM authentication over TLS');
      this.cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName,
        // IAM is the only client authentication MSK Serverless has; TLS in transit is always on.
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds, securityGroups: [this.clusterSecurityGroup.securityGroupId] }],
      });
      this.cluster.applyRemovalPolicy(props.removalPolicy);
      this.clusterArn = this.cluster.attrArn;
      clusterUuid = Fn.select(2, Fn.split('/', this.clusterArn));
      // Firehose reads over private connectivity, a managed VPC connection it makes to the cluster:
      // the cluster's policy lets Firehose (and nothing else) create it.
      new msk.CfnClusterPolicy(this, 'FirehoseConnection', {
        clusterArn: this.clusterArn,
        policy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: ['kafka:CreateVpcConnection'], Resource: this.clusterArn }],
        },
      });
    } else {
      // An existing cluster: its owner grants Firehose the VPC connection (README, "Kafka topics").
      this.clusterArn = config.cluster.clusterArn;
      const [name, uuid] = Arn.split(this.clusterArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!.split('/');
      clusterName = name;
      clusterUuid = uuid;
    }

    const contracts = [...new Set(config.topics.map((t) => t.dataset))].map((d) => contractOf(props.contracts, d));
    this.checkFunctionName = `${props.namePrefix}-${CHECK_SERVICE}`;
    const settings = kafkaRecordCheckSettingsOf(config, props.namePrefix, props.rawBucket.bucketName, stack.account);
    this.check = privateFunction(this, {
      name: CHECK_SERVICE,
      functionName: this.checkFunctionName,
      description: "Firehose's record transformation for Kafka topics: checks each record against its dataset's contract, stamps its arrival, and quarantines refused records with their reasons.",
      purpose: "writes refused Kafka records to the raw zone's quarantine of their source",
      environment: {
        ...settingsEnvironment(KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings, settings),
        POWERTOOLS_SERVICE_NAME: CHECK_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      // Firehose waits up to 5 minutes for a transformation; batches of 1 MB take well under a second.
      timeout: Duration.minutes(1),
      memoryMiB: 512,
      concurrency: { unreservedBecause: "Firehose invokes it synchronously, about one batch at a time per topic partition it reads; a reservation would hold capacity back for a load Firehose already bounds" },
      failedInvocations: 'Firehose invokes it synchronously and retries a failed batch 3 times, then writes the batch under the delivery\'s processing-failed error prefix (alarmed through ExecuteProcessing.Success).',
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      logsKey: props.logsKey,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const quarantines = contracts.map((c) => `raw/${c.source}/_quarantine/kafka-`);
    this.check.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [...new Set(quarantines)].map((q) => props.rawBucket.arnForObjects(`${q}*`)) }));
    props.rawKey.grantEncrypt(this.check.role);
    acknowledgeWildcards(this.check.role, [
      { finding: new RegExp(`^Resource::.*/(${quarantines.map(escapeRegExp).join('|')})\\*$`), reason: "the Kafka topics' folders of the raw zone's quarantine, where each batch's refused records are written" },
      GRANT_ACTION_GROUPS,
    ]);

    for (const t of config.topics) {
      const contract = contractOf(props.contracts, t.dataset);
      const { prefix, errorOutputPrefix } = kafkaDeliveryPrefixes(contract, t.topic);
      const source: KafkaSource = {
        clusterArn: this.clusterArn,
        topicName: t.topic,
        topicArn: stack.formatArn({ service: 'kafka', resource: 'topic', resourceName: Fn.join('/', [clusterName, clusterUuid, t.topic]), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        groupsArn: stack.formatArn({ service: 'kafka', resource: 'group', resourceName: Fn.join('/', [clusterName, clusterUuid, '*']), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      };
      const delivery = new DeliveryToS3(this, `Topic-${t.topic.replace(/[^A-Za-z0-9]/g, '')}`, {
        deliveryStreamName: kafkaDeliveryName(props.namePrefix, t.topic),
        bucket: props.rawBucket,
        bucketKey: props.rawKey,
        role: props.rawWriterOf(contract.source),
        prefix,
        errorOutputPrefix,
        bufferIntervalSeconds: config.bufferIntervalSeconds,
        bufferSizeMiB: config.bufferSizeMiB,
        sourceKafka: source,
        transform: this.check.function,
        logsKey: props.logsKey,
        logRetention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
      if (this.cluster) delivery.node.addDependency(this.node.findChild('FirehoseConnection'));
      this.deliveries[t.topic] = delivery;
    }
  }
}

/**
 * Alarms of the Kafka topics: records refused by the check, per topic (the producer does not know
 * unless told); a failed transformation (its batch waits under the processing-failed prefix);
 * records waiting too long to reach S3; and a check that errors.
 */
export function monitorKafkaTopicIngestion(monitoring: PlatformMonitoring, ingestion: KafkaTopicIngestion, config: KafkaConfig, freshnessSeconds: number): void {
  const count = (metricName: string, topic: string) =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: CHECK_SERVICE, topic }, statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) });
  for (const t of config.topics) {
    const id = `kafka-${t.topic.replace(/[._]/g, '-')}`;
    const delivery = ingestion.deliveries[t.topic];
    const deliveryName = delivery.deliveryStream.deliveryStreamName!;
    monitoring.addAlarm(`${id}-refused`, {
      metric: count('KafkaRecordsRefused', t.topic),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `Kafka topic ${t.topic}: records broke the ${t.dataset} contract; each is kept with its reasons under raw/<source>/_quarantine/kafka-${t.topic}/. Tell the producer.`,
      thresholdReason: 'a refused record is a reading the platform does not have, and the producer does not see the reason unless told.',
    });
    monitoring.addAlarm(`${id}-transformation-failed`, {
      metric: new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName: 'ExecuteProcessing.Success', dimensionsMap: { DeliveryStreamName: deliveryName }, statistic: cloudwatch.Stats.MINIMUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      description: `Firehose ${deliveryName}: a batch's record check failed after its retries; the batch is under the delivery's processing-failed prefix (raw/<source>/_errors/kafka-${t.topic}/) and must be replayed once the cause is fixed.`,
      thresholdReason: 'ExecuteProcessing.Success is the share of invocations that succeeded; below 1, some batch failed every retry.',
    });
    monitorDeliveryFreshness(monitoring, `${id}-freshness`, delivery, freshnessSeconds);
  }
  monitoring.addAlarm('kafka-record-check-errors', {
    metric: ingestion.check.function.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: `${ingestion.checkFunctionName}: a batch's check failed (see its log); Firehose retries it 3 times.`,
    thresholdReason: 'a failure is an S3 or KMS error or a misconfigured delivery, rare enough that each is worth a look.',
  });
  monitoring.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Kafka topics: records accepted and refused', left: config.topics.flatMap((t) => [count('KafkaRecordsAccepted', t.topic), count('KafkaRecordsRefused', t.topic)]), width: 12 }),
  );
}
