import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DatasetContract, landingTable } from '../contracts';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { DeliveryToS3 } from './delivery-to-s3';
import { projectedTable } from './lake-catalog';
import { StatefulConstruct } from './removal';

/** A Parquet dataset of the processed zone, with the catalog table Firehose converts against and Athena reads. */
export interface ProcessedCatalogTable {
  /** The dataset's contract: the table's name (its `landing`), description and columns. */
  readonly contract: DatasetContract;
  /** The processed zone's Glue database. */
  readonly databaseName: string;
  /** First day partition projection offers (yyyy-MM-dd). */
  readonly projectionStartDate: string;
  /**
   * The logical ID the table had before it moved into this construct. A table has a fixed name,
   * so a new logical ID would make CloudFormation create a second table of that name and fail.
   * @default - the ID this construct gives it
   */
  readonly keepLogicalId?: string;
}

export interface ProcessedZoneDeliveryProps {
  readonly deliveryStreamName: string;
  /** What the stream carries, for the role's description, e.g. `enriched sensor readings`. */
  readonly what: string;
  readonly bucket: s3.IBucket;
  readonly bucketKey: kms.IKey;
  readonly streamKey: kms.IKey;
  /** The one folder the stream writes, e.g. `processed/sensor_readings_enriched/`; the role may write nothing else. */
  readonly folder: string;
  /** Its error folder, e.g. `processed/_errors/sensor_readings_enriched/`. */
  readonly errorFolder: string;
  /** Partition folders below `folder`, with Firehose namespaces, e.g. `ingest_date=!{timestamp:yyyy-MM-dd}/`. */
  readonly partitionPath: string;
  /** JQ expression for `!{partitionKeyFromQuery:...}` in partitionPath. @default - arrival time only */
  readonly partitionKeysQuery?: string;
  /**
   * Records are converted to Parquet against this table, partitioned by event_date and event_hour.
   * @default - GZIP NDJSON with no catalog table
   */
  readonly catalogTable?: ProcessedCatalogTable;
  readonly bufferIntervalSeconds: number;
  readonly bufferSizeMiB: number;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Firehose converts to Parquet only with a buffer of at least 64 MiB. */
const PARQUET_MIN_BUFFER_MIB = 64;

/**
 * A Firehose delivery into one folder of the processed zone, written by a role of its own that
 * may put objects under that folder and its error folder and nowhere else, optionally converted
 * to Parquet against a catalog table derived from the dataset's contract.
 */
export class ProcessedZoneDelivery extends StatefulConstruct {
  readonly delivery: DeliveryToS3;
  readonly role: iam.Role;
  readonly table?: glue.CfnTable;
  /** The folder of the processed bucket it writes. */
  readonly folder: string;

  constructor(scope: Construct, id: string, props: ProcessedZoneDeliveryProps) {
    super(scope, id, props);
    const { folder, errorFolder } = props;
    this.folder = folder;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: `Firehose: writes ${props.what} under ${folder} of the processed zone`,
    });
    props.bucket.grantPut(this.role, `${folder}*`);
    props.bucket.grantPut(this.role, `${errorFolder}*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${folder}*`, `${errorFolder}*`] } },
      }),
    );
    acknowledgeWildcards(this.role, [
      GRANT_ACTION_GROUPS,
      {
        finding: new RegExp(`^Resource::.*\\/(${escapeRegExp(folder)}|${escapeRegExp(errorFolder)})\\*$`),
        reason: `Objects under the ${props.what}' folder (and its error folder) of the processed zone, which this Firehose alone writes.`,
      },
    ]);

    const catalog = props.catalogTable;
    if (catalog) {
      this.table = projectedTable(this, 'Table', {
        databaseName: catalog.databaseName,
        tableName: landingTable(catalog.contract),
        description: catalog.contract.description,
        location: props.bucket.s3UrlForObject(folder),
        format: 'parquet',
        columns: catalog.contract.columns.map((c) => ({ name: c.name, type: c.type, comment: c.description })),
        partitions: [
          { name: 'event_date', type: 'date' },
          { name: 'event_hour', type: 'hour' },
        ],
        pathStyle: 'hive',
        projectionStartDate: catalog.projectionStartDate,
      });
      if (catalog.keepLogicalId) this.table.overrideLogicalId(catalog.keepLogicalId);
    }

    // 'Default' is left out of logical IDs: the delivery's named stream and log group keep the
    // IDs they had when the stack built them directly, so an update does not replace them.
    this.delivery = new DeliveryToS3(this, 'Default', {
      deliveryStreamName: props.deliveryStreamName,
      bucket: props.bucket,
      bucketKey: props.bucketKey,
      streamKey: props.streamKey,
      role: this.role,
      prefix: `${folder}${props.partitionPath}`,
      errorOutputPrefix: `${errorFolder}!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`,
      partitionKeysQuery: props.partitionKeysQuery,
      bufferIntervalSeconds: props.bufferIntervalSeconds,
      bufferSizeMiB: catalog ? Math.max(PARQUET_MIN_BUFFER_MIB, props.bufferSizeMiB) : props.bufferSizeMiB,
      parquet: catalog ? { databaseName: catalog.databaseName, tableName: landingTable(catalog.contract) } : undefined,
      logsKey: props.logsKey,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    if (this.table) this.delivery.node.addDependency(this.table);
  }

  get deliveryStreamName(): string {
    return this.delivery.deliveryStream.deliveryStreamName!;
  }
}
