import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformMonitoring } from './platform-monitoring';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

/** Firehose converts JSON records to Parquet against this catalog table. */
export interface ParquetConversion {
  readonly databaseName: string;
  readonly tableName: string;
}

export interface DeliveryToS3Props {
  readonly deliveryStreamName: string;
  readonly bucket: s3.IBucket;
  /** Key of the bucket's zone; Firehose encrypts objects with it. */
  readonly bucketKey: kms.IKey;
  /** Key that encrypts records while Firehose holds them: Direct PUT only (a source stream or topic has its own encryption). */
  readonly streamKey?: kms.IKey;
  /** Role Firehose assumes; may write only under `prefix` (and the error prefix). */
  readonly role: iam.IRole;
  /** Object prefix with Firehose timestamp namespaces, e.g. `raw/iot/telematics/ingest_date=!{timestamp:yyyy-MM-dd}/`. */
  readonly prefix: string;
  /** Where records that could not be delivered or converted go, with the error type in the path. */
  readonly errorOutputPrefix: string;
  readonly bufferIntervalSeconds: number;
  readonly bufferSizeMiB: number;
  /** @default - records are written as they come (newline-delimited JSON), GZIP-compressed */
  readonly parquet?: ParquetConversion;
  /**
   * Partition keys taken from each record with a JQ expression, e.g.
   * `{event_date: .ts[0:10], event_hour: .ts[11:13]}`, for use as `!{partitionKeyFromQuery:key}`
   * in the prefix: records land by their own time rather than by arrival.
   * @default - partitions from arrival time only (`!{timestamp:...}`)
   */
  readonly partitionKeysQuery?: string;
  /**
   * A Kinesis stream the delivery reads, instead of records put to it directly. Its records are
   * JSON without a trailing newline (as the Flink job reads them), so Firehose appends one.
   * @default - Direct PUT
   */
  readonly sourceStream?: kinesis.IStream;
  /**
   * A Kafka topic of an MSK cluster the delivery reads (IAM authentication, private connectivity),
   * instead of records put to it directly. Its records reach S3 as the transformation writes them.
   * @default - Direct PUT
   */
  readonly sourceKafka?: KafkaSource;
  /**
   * A Lambda function each batch goes through before S3 (Firehose record transformation): it
   * answers each record Ok (with its new bytes), Dropped or ProcessingFailed; failed records go
   * under the error prefix.
   * @default - records are written as they come
   */
  readonly transform?: lambda.IFunction;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** A topic of an MSK cluster, and the ARNs that IAM authorisation names it and its readers by. */
export interface KafkaSource {
  readonly clusterArn: string;
  readonly topicName: string;
  /** arn:<partition>:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic> */
  readonly topicArn: string;
  /** The cluster's consumer groups: arn:...:group/<cluster name>/<cluster uuid>/* */
  readonly groupsArn: string;
}

/**
 * A Firehose delivery stream into an S3 zone, Direct PUT, reading a Kinesis stream or a Kafka topic: records
 * encrypted at rest in Firehose (streams key; the source stream's own key when it reads one) and in S3 (the zone's key), batched by time or size, either GZIP NDJSON or
 * Parquet converted against a Glue table, every delivery or conversion failure written under an
 * error prefix, and Firehose's own errors logged to an encrypted log group.
 */
export class DeliveryToS3 extends StatefulConstruct {
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly logGroup: logs.LogGroup;
  readonly deliveryStreamArn: string;

  constructor(scope: Construct, id: string, props: DeliveryToS3Props) {
    super(scope, id, props);
    const stack = Stack.of(this);
    const directPut = !props.sourceStream && !props.sourceKafka;
    if (directPut && !props.streamKey) throw new Error(`${props.deliveryStreamName}: a Direct PUT delivery needs the key that encrypts its records (streamKey)`);
    this.logGroup = encryptedLogGroup(this, 'Logs', `/aws/kinesisfirehose/${props.deliveryStreamName}`, props);
    const logStream = new logs.LogStream(this, 'DeliveryErrors', { logGroup: this.logGroup, logStreamName: 'DestinationDelivery', removalPolicy: props.removalPolicy });

    // Grants Firehose needs beyond the role's S3 prefix: its log stream, the zone key for SSE-KMS,
    // and, for Parquet, the table it converts against.
    const statements = [
      new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    ];
    if (props.parquet) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.parquet.databaseName }),
            stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.parquet.databaseName}/${props.parquet.tableName}` }),
          ],
        }),
      );
    }
    if (props.sourceStream) {
      // Reading the source stream and its key, in the policy the delivery waits for: Firehose
      // checks the role can read the stream when the delivery is created. (The stream's own
      // encryption covers the records before S3; Firehose's applies to Direct PUT only.)
      statements.push(
        new iam.PolicyStatement({
          actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
          resources: [props.sourceStream.streamArn],
        }),
      );
      if (props.sourceStream.encryptionKey) statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.sourceStream.encryptionKey.keyArn] }));
    }
    if (props.sourceKafka) {
      // Reading the topic with IAM authentication: the cluster's brokers, the topic's records, and
      // the group descriptions Firehose's reader asks for. Nothing that writes or alters.
      const k = props.sourceKafka;
      statements.push(
        new iam.PolicyStatement({ actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers', 'kafka-cluster:Connect'], resources: [k.clusterArn] }),
        new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData'], resources: [k.topicArn] }),
        new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeGroup'], resources: [k.groupsArn] }),
      );
    }
    if (props.transform) {
      statements.push(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], resources: [props.transform.functionArn, `${props.transform.functionArn}:*`] }));
    }
    const policy = new iam.Policy(this, 'DeliveryPolicy', { roles: [props.role], statements });
    acknowledgeWildcards(policy, [
      ...(props.sourceKafka
        ? [{ finding: /^Resource::arn:.*:kafka:.*:group\/.*\/\*$/, reason: "the cluster's consumer groups, which Firehose's reader describes (read only); IAM names no group before Firehose makes it" }]
        : []),
      ...(props.transform ? [{ finding: /^Resource::<.*\.Arn>:\*$/, reason: "the record transformation's own versions: Firehose may invoke the function qualified; no other function" }] : []),
    ]);
    props.bucketKey.grantEncryptDecrypt(props.role);
    acknowledgeWildcards(props.role, [GRANT_ACTION_GROUPS]);

    const processors: firehose.CfnDeliveryStream.ProcessorProperty[] = [];
    if (props.partitionKeysQuery) {
      processors.push({
        type: 'MetadataExtraction',
        parameters: [
          { parameterName: 'MetadataExtractionQuery', parameterValue: props.partitionKeysQuery },
          { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
        ],
      });
    }
    if (props.transform) {
      processors.push({
        type: 'Lambda',
        parameters: [
          { parameterName: 'LambdaArn', parameterValue: props.transform.functionArn },
          { parameterName: 'NumberOfRetries', parameterValue: '3' },
          // Batches of up to 1 MB or 60 s: the function's memory holds one batch and its answer.
          { parameterName: 'BufferSizeInMBs', parameterValue: '1' },
          { parameterName: 'BufferIntervalInSeconds', parameterValue: '60' },
        ],
      });
    }
    // One record a line, so the raw zone's NDJSON readers (Athena, Spark) see each record.
    if (props.sourceStream) processors.push({ type: 'AppendDelimiterToRecord' });
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'Resource', {
      deliveryStreamName: props.deliveryStreamName,
      deliveryStreamType: props.sourceStream ? 'KinesisStreamAsSource' : props.sourceKafka ? 'MSKAsSource' : 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: directPut ? { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: props.streamKey!.keyArn } : undefined,
      kinesisStreamSourceConfiguration: props.sourceStream ? { kinesisStreamArn: props.sourceStream.streamArn, roleArn: props.role.roleArn } : undefined,
      mskSourceConfiguration: props.sourceKafka
        ? { mskClusterArn: props.sourceKafka.clusterArn, topicName: props.sourceKafka.topicName, authenticationConfiguration: { connectivity: 'PRIVATE', roleArn: props.role.roleArn } }
        : undefined,
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: props.role.roleArn,
        prefix: props.prefix,
        errorOutputPrefix: props.errorOutputPrefix,
        bufferingHints: { intervalInSeconds: props.bufferIntervalSeconds, sizeInMBs: props.bufferSizeMiB },
        // Parquet compresses its own pages (Snappy); the file must not be compressed again.
        compressionFormat: props.parquet ? 'UNCOMPRESSED' : 'GZIP',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.bucketKey.keyArn } },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.logGroup.logGroupName, logStreamName: logStream.logStreamName },
        dynamicPartitioningConfiguration: props.partitionKeysQuery ? { enabled: true, retryOptions: { durationInSeconds: 300 } } : undefined,
        processingConfiguration: processors.length > 0 ? { enabled: true, processors } : undefined,
        dataFormatConversionConfiguration: props.parquet
          ? {
              enabled: true,
              inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
              outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
              schemaConfiguration: {
                catalogId: stack.account,
                databaseName: props.parquet.databaseName,
                tableName: props.parquet.tableName,
                region: stack.region,
                roleArn: props.role.roleArn,
                versionId: 'LATEST',
              },
            }
          : undefined,
      },
    });
    this.deliveryStream.node.addDependency(policy);
    if (props.sourceKafka) {
      Validations.of(this.deliveryStream).acknowledge({
        id: 'AwsSolutions-KDF1',
        reason:
          'Reads a Kafka topic of MSK, where Firehose server-side encryption does not apply (it covers Direct PUT only): ' +
          "MSK encrypts the records at rest and in transit (TLS), and S3 with the zone's key.",
      });
    }
    if (props.sourceStream) {
      Validations.of(this.deliveryStream).acknowledge({
        id: 'AwsSolutions-KDF1',
        reason:
          'Reads a Kinesis stream, where Firehose server-side encryption does not apply (it covers Direct PUT only): ' +
          "the records are encrypted at rest by the source stream's KMS key, and in S3 by the zone's key.",
      });
    }
    this.deliveryStreamArn = this.deliveryStream.attrArn;
  }
}

/** Records waiting in the delivery stream longer than `thresholdSeconds` for two periods in a row. */
export function monitorDeliveryFreshness(monitoring: PlatformMonitoring, id: string, delivery: DeliveryToS3, thresholdSeconds: number): void {
  monitoring.addAlarm(id, {
    metric: new cloudwatch.Metric({
      namespace: 'AWS/Firehose',
      metricName: 'DeliveryToS3.DataFreshness',
      dimensionsMap: { DeliveryStreamName: delivery.deliveryStream.deliveryStreamName! },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(5),
    }),
    threshold: thresholdSeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    description: `Firehose ${delivery.deliveryStream.deliveryStreamName}: records are waiting too long to reach S3.`,
    thresholdReason: 'the buffer interval plus delivery normally keeps records under this age; beyond it, S3, KMS or format conversion is failing.',
  });
}
