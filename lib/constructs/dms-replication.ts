import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IDependable } from 'constructs';
import { acknowledgeWildcards, allowRedundantDependency, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { allowHttpsToAwsApis, AwsApiRoutes } from './platform-network';

/** A source table and the name it lands under in the raw zone (its contract's dataset). */
export interface DmsTableSelection {
  readonly schema: string;
  readonly table: string;
  readonly dataset: string;
}

export interface DmsSourceProps {
  /** DMS engine name of the source database. */
  readonly engine: 'postgres' | 'sqlserver' | 'mysql' | 'oracle';
  readonly databaseName: string;
  /**
   * Secrets Manager secret (full ARN, or name in this account and region) with the host, port,
   * username and password, in the JSON format DMS reads. The endpoint never holds a password.
   */
  readonly secret: string;
  /** Key that encrypts the secret, when it is a customer-managed one. @default - aws/secretsmanager */
  readonly secretKey?: kms.IKey;
  /** Network the database lives in; the replication's only egress besides AWS endpoints. */
  readonly sourceCidr: string;
  readonly port: number;
  /** The server's certificate is always checked: against the chain, and with verify-full its host name. */
  readonly sslMode: 'verify-ca' | 'verify-full';
  /**
   * SSM parameter holding the PEM of the CA(s) that signed the server's certificate; DMS imports it
   * (AWS::DMS::Certificate) through a dynamic reference resolved at deploy.
   */
  readonly caCertificateParameter: string;
  readonly tables: readonly DmsTableSelection[];
  /**
   * PostgreSQL: the schema DMS's heartbeat table goes in, and whether DMS captures DDL with its
   * event trigger (which needs rds_superuser). @default - DMS's defaults (public; captured)
   */
  readonly postgres?: { readonly heartbeatSchema?: string; readonly captureDdls?: boolean };
}

export type DmsCapacity =
  | { readonly mode: 'serverless'; readonly minCapacityUnits: number; readonly maxCapacityUnits: number; readonly multiAz: boolean }
  | { readonly mode: 'provisioned'; readonly instanceClass: string; readonly allocatedStorageGb: number; readonly multiAz: boolean };

export interface DmsToRawZoneProps {
  /** Short identifier, unique per environment: names the endpoints and the replication. */
  readonly identifier: string;
  /** Raw-zone source folder: tables land in raw/<sourceName>/<dataset>/<yyyy-MM-dd>/. */
  readonly sourceName: string;
  readonly source: DmsSourceProps;
  readonly capacity: DmsCapacity;
  readonly vpc: ec2.IVpc;
  /** Private subnets with a route to the source network. */
  readonly subnets: ec2.SubnetSelection;
  /** Where HTTPS to AWS's APIs goes in the VPC: the replication's only egress beside its source. */
  readonly awsApis: AwsApiRoutes;
  readonly rawBucket: s3.IBucket;
  readonly rawKey: kms.IKey;
  /** Role DMS assumes to write the raw zone; may write only raw/<sourceName>/ (LakeAccess). */
  readonly targetRole: iam.IRole;
  /** The account-level DMS roles; every DMS resource here is created after them. */
  readonly serviceRolesReady: IDependable;
  readonly cdcMaxBatchIntervalSeconds: number;
  readonly cdcMinFileSizeKb: number;
}

/** The commit-timestamp column DMS adds to every row (contracts: raw.metadataColumns). */
export const DMS_COMMIT_TIMESTAMP_COLUMN = 'commit_ts';

/** A replication's parts, whatever its target (buildReplication makes them; each target's construct assigns them). */
export abstract class DmsReplication extends Construct implements DmsReplicationParts {
  readonly securityGroup!: ec2.SecurityGroup;
  readonly subnetGroup!: dms.CfnReplicationSubnetGroup;
  readonly sourceEndpoint!: dms.CfnEndpoint;
  readonly targetEndpoint!: dms.CfnEndpoint;
  readonly secretAccessRole!: iam.Role;
  /** Serverless replication, when capacity.mode is serverless. */
  readonly replicationConfig?: dms.CfnReplicationConfig;
  /** Instance and task, when capacity.mode is provisioned. */
  readonly replicationInstance?: dms.CfnReplicationInstance;
  readonly replicationTask?: dms.CfnReplicationTask;
}

/**
 * Full load plus CDC from one relational source into the raw zone as Parquet.
 *
 * Creates the replication subnet group (private subnets), a security group whose only egress is
 * the source's port in the source network and HTTPS (AWS endpoints, S3 gateway), the
 * source endpoint reading its credentials from Secrets Manager through an access role, an S3
 * target endpoint, and either a DMS Serverless replication or, as a config option, a provisioned
 * replication instance and task. Nothing is publicly accessible.
 *
 * The S3 target writes what the contracts declare: Parquet with the `Op` column on full-load and
 * CDC rows (I, U, D), a `commit_ts` column, one folder per commit date (`yyyy-MM-dd`), SSE-KMS
 * with the raw zone's key, the expected bucket owner checked, and CDC batched into files by time
 * or size. Schema and table are renamed by table-mapping rules so that files land under
 * raw/<sourceName>/<dataset>/.
 */
export class DmsToRawZone extends DmsReplication {
  /** The table mappings, as DMS receives them (JSON). */
  readonly tableMappings!: TableMappings;

  constructor(scope: Construct, id: string, props: DmsToRawZoneProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateSelections(props.identifier, props.source.tables);
    this.tableMappings = tableMappingsFor(props.sourceName, props.source.tables);
    const parts = buildReplication(this, props, this.tableMappings, () => {
      const target = new dms.CfnEndpoint(this, 'Target', {
        endpointIdentifier: `${props.identifier}-raw-zone`,
        endpointType: 'target',
        engineName: 's3',
        s3Settings: {
          bucketName: props.rawBucket.bucketName,
          bucketFolder: 'raw',
          serviceAccessRoleArn: props.targetRole.roleArn,
          expectedBucketOwner: stack.account,
          dataFormat: 'parquet',
          parquetVersion: 'parquet-2-0',
          parquetTimestampInMillisecond: true,
          enableStatistics: true,
          compressionType: 'GZIP',
          includeOpForFullLoad: true,
          cdcInsertsAndUpdates: false,
          timestampColumnName: DMS_COMMIT_TIMESTAMP_COLUMN,
          datePartitionEnabled: true,
          datePartitionSequence: 'YYYYMMDD',
          datePartitionDelimiter: 'DASH',
          datePartitionTimezone: 'UTC',
          cdcMaxBatchInterval: props.cdcMaxBatchIntervalSeconds,
          cdcMinFileSize: props.cdcMinFileSizeKb,
          encryptionMode: 'SSE_KMS',
          serverSideEncryptionKmsKeyId: props.rawKey.keyArn,
        },
      });
      target.node.addDependency(props.targetRole);
      return target;
    }, { s3: true });
    Object.assign(this, parts);
  }
}

/** What every replication is made of, whatever its target. */
export interface DmsReplicationParts {
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnetGroup: dms.CfnReplicationSubnetGroup;
  readonly sourceEndpoint: dms.CfnEndpoint;
  readonly targetEndpoint: dms.CfnEndpoint;
  readonly secretAccessRole: iam.Role;
  readonly replicationConfig?: dms.CfnReplicationConfig;
  readonly replicationInstance?: dms.CfnReplicationInstance;
  readonly replicationTask?: dms.CfnReplicationTask;
}

/** The props every replication takes, whatever its target. */
export type DmsReplicationProps = Pick<DmsToRawZoneProps, 'identifier' | 'source' | 'capacity' | 'vpc' | 'subnets' | 'awsApis' | 'serviceRolesReady'>;

/**
 * The replication's subnet group (private subnets), a security group whose only egress is the
 * source's port in the source network and HTTPS (AWS endpoints), the source endpoint reading its
 * credentials from Secrets Manager through an access role, the target endpoint `target()` makes,
 * and either a DMS Serverless replication or a provisioned instance and task: full load and CDC.
 * Made in `scope` with fixed ids (SubnetGroup, SecurityGroup, SecretAccessRole, Source, Target,
 * Replication or Instance and Task), so every replication's resources are named alike.
 */
export function buildReplication(scope: Construct, props: DmsReplicationProps, tableMappings: TableMappings, target: () => dms.CfnEndpoint, reaches: { s3: boolean }): DmsReplicationParts {
  const stack = Stack.of(scope);
  const subnetGroup = new dms.CfnReplicationSubnetGroup(scope, 'SubnetGroup', {
    replicationSubnetGroupDescription: `${props.identifier}: private subnets of the platform VPC`,
    subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
  });
  subnetGroup.node.addDependency(props.serviceRolesReady);

  const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc: props.vpc,
    description: `DMS ${props.identifier}: to the source database and AWS endpoints only`,
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.ipv4(props.source.sourceCidr), ec2.Port.tcp(props.source.port), 'source database');
  // HTTPS to AWS's APIs (Secrets Manager, KMS, Kinesis, CloudWatch Logs) through the interface
  // endpoints, and to S3 through the gateway endpoint where the target is S3; no other address.
  allowHttpsToAwsApis(securityGroup, props.awsApis, reaches);

  // Secrets Manager access: DMS assumes this role through its regional service principal.
  const secretArn = secretArnOf(stack, props.source.secret);
  const secretAccessRole = new iam.Role(scope, 'SecretAccessRole', {
    assumedBy: new iam.ServicePrincipal(`dms.${stack.region}.amazonaws.com`),
    description: `DMS ${props.identifier}: reads the source's connection secret`,
  });
  secretAccessRole.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secretArn] }),
  );
  props.source.secretKey?.grantDecrypt(secretAccessRole);

  // The CA DMS checks the source's certificate against. DMS certificates cannot be changed in place,
  // so a new PEM in the parameter replaces the certificate (and updates the endpoint) on the next deploy.
  const sourceCa = new dms.CfnCertificate(scope, 'SourceCa', {
    certificateIdentifier: `${props.identifier}-source-ca`,
    certificatePem: `{{resolve:ssm:${props.source.caCertificateParameter}}}`,
  });
  const sourceEndpoint = new dms.CfnEndpoint(scope, 'Source', {
    endpointIdentifier: `${props.identifier}-source`,
    endpointType: 'source',
    engineName: props.source.engine,
    databaseName: props.source.databaseName,
    sslMode: props.source.sslMode,
    certificateArn: sourceCa.ref,
    ...sourceEngineSettings(props.source, secretAccessRole.roleArn),
  });
  const targetEndpoint = target();

  const replicationSettings = {
    Logging: { EnableLogging: true },
    // Full load first, then CDC from the same point; DMS stops and reports on a table error.
    ErrorBehavior: { TableErrorPolicy: 'STOP_TASK', DataErrorPolicy: 'LOG_ERROR' },
  };
  const parts = { securityGroup, subnetGroup, sourceEndpoint, targetEndpoint, secretAccessRole };
  if (props.capacity.mode === 'serverless') {
    const replicationConfig = new dms.CfnReplicationConfig(scope, 'Replication', {
      replicationConfigIdentifier: props.identifier,
      resourceIdentifier: props.identifier,
      replicationType: 'full-load-and-cdc',
      sourceEndpointArn: sourceEndpoint.ref,
      targetEndpointArn: targetEndpoint.ref,
      tableMappings,
      replicationSettings,
      computeConfig: {
        minCapacityUnits: props.capacity.minCapacityUnits,
        maxCapacityUnits: props.capacity.maxCapacityUnits,
        multiAz: props.capacity.multiAz,
        replicationSubnetGroupId: subnetGroup.ref,
        vpcSecurityGroupIds: [securityGroup.securityGroupId],
      },
    });
    replicationConfig.node.addDependency(props.serviceRolesReady);
    return { ...parts, replicationConfig };
  }
  const replicationInstance = new dms.CfnReplicationInstance(scope, 'Instance', {
    replicationInstanceIdentifier: props.identifier,
    replicationInstanceClass: props.capacity.instanceClass,
    allocatedStorage: props.capacity.allocatedStorageGb,
    multiAz: props.capacity.multiAz,
    publiclyAccessible: false,
    autoMinorVersionUpgrade: true,
    replicationSubnetGroupIdentifier: subnetGroup.ref,
    vpcSecurityGroupIds: [securityGroup.securityGroupId],
  });
  replicationInstance.node.addDependency(props.serviceRolesReady);
  const replicationTask = new dms.CfnReplicationTask(scope, 'Task', {
    replicationTaskIdentifier: props.identifier,
    // Fixed so that CloudWatch task metrics (dimension ReplicationTaskIdentifier) are known at synth.
    resourceIdentifier: props.identifier,
    migrationType: 'full-load-and-cdc',
    replicationInstanceArn: replicationInstance.ref,
    sourceEndpointArn: sourceEndpoint.ref,
    targetEndpointArn: targetEndpoint.ref,
    tableMappings: JSON.stringify(tableMappings),
    replicationTaskSettings: JSON.stringify(replicationSettings),
  });
  return { ...parts, replicationInstance, replicationTask };
}

export interface DmsToKinesisProps extends DmsReplicationProps {
  /** The stream the rows go to, encrypted with `streamKey`. */
  readonly stream: kinesis.IStream;
  readonly streamKey: kms.IKey;
  /** The column whose value is each record's partition key: one key's changes keep their order on one shard. */
  readonly partitionKeyColumn: string;
}

/**
 * Full load plus CDC from one relational source onto a Kinesis stream, as DMS's Kinesis records
 * (one JSON line each, `{"data", "metadata"}`; no control details, transaction details or DDL:
 * the readers need the rows). Each selected table's records are partitioned by
 * `partitionKeyColumn`, so the changes of one key (a sensor) arrive in commit order.
 */
export class DmsToKinesis extends DmsReplication {
  /** The role DMS assumes to put records on the stream. */
  readonly targetRole: iam.Role;
  readonly tableMappings: TableMappings;

  constructor(scope: Construct, id: string, props: DmsToKinesisProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.targetRole = new iam.Role(this, 'TargetRole', {
      assumedBy: new iam.ServicePrincipal(`dms.${stack.region}.amazonaws.com`),
      description: `DMS ${props.identifier}: puts the source's rows on its stream`,
    });
    // DMS's documented minimum for a Kinesis target, on the one stream, and its key to encrypt.
    this.targetRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kinesis:DescribeStream', 'kinesis:PutRecord', 'kinesis:PutRecords'], resources: [props.stream.streamArn] }),
    );
    props.streamKey.grantEncrypt(this.targetRole);
    acknowledgeWildcards(this.targetRole, [GRANT_ACTION_GROUPS]);
    this.tableMappings = kinesisTableMappings(props.source.tables, props.partitionKeyColumn);
    const parts = buildReplication(this, props, this.tableMappings, () => {
      const target = new dms.CfnEndpoint(this, 'Target', {
        endpointIdentifier: `${props.identifier}-stream`,
        endpointType: 'target',
        engineName: 'kinesis',
        kinesisSettings: {
          streamArn: props.stream.streamArn,
          serviceAccessRoleArn: this.targetRole.roleArn,
          messageFormat: 'json-unformatted',
          includeControlDetails: false,
          includeTransactionDetails: false,
          includeTableAlterOperations: false,
          includePartitionValue: false,
          includeNullAndEmpty: true,
        },
      });
      // Its policy too, not only the role the ARN already waits for: DMS checks the role's access when the endpoint is made.
      target.node.addDependency(this.targetRole);
      allowRedundantDependency(target);
      return target;
    }, { s3: false });
    Object.assign(this, parts);
  }
}

/** Selection of each table, and an object mapping that partitions its records by `partitionKeyColumn`. */
export function kinesisTableMappings(tables: readonly DmsTableSelection[], partitionKeyColumn: string): TableMappings {
  const rules: Record<string, unknown>[] = [];
  let id = 0;
  for (const t of tables) {
    rules.push({ 'rule-type': 'selection', 'rule-id': String(++id), 'rule-name': `include-${t.dataset}`, 'object-locator': { 'schema-name': t.schema, 'table-name': t.table }, 'rule-action': 'include' });
    rules.push({
      'rule-type': 'object-mapping',
      'rule-id': String(++id),
      'rule-name': `partition-${t.dataset}-by-${partitionKeyColumn}`,
      'rule-action': 'map-record-to-record',
      'object-locator': { 'schema-name': t.schema, 'table-name': t.table },
      'mapping-parameters': { 'partition-key-type': 'attribute-name', 'partition-key-name': partitionKeyColumn },
    });
  }
  return { rules };
}

export interface TableMappings {
  readonly rules: readonly Record<string, unknown>[];
}

/**
 * Selection rules for the configured tables, and renames that place them at
 * raw/<sourceName>/<dataset>/: DMS writes <bucketFolder>/<schema>/<table>/, so the schema becomes
 * the source name and the table its dataset. Column names are kept: the ETL maps them (contracts).
 */
export function tableMappingsFor(sourceName: string, tables: readonly DmsTableSelection[]): TableMappings {
  const rules: Record<string, unknown>[] = [];
  let id = 0;
  const next = () => String(++id);
  for (const t of tables) {
    rules.push({
      'rule-type': 'selection',
      'rule-id': next(),
      'rule-name': `include-${t.dataset}`,
      'object-locator': { 'schema-name': t.schema, 'table-name': t.table },
      'rule-action': 'include',
    });
  }
  for (const schema of [...new Set(tables.map((t) => t.schema))].filter((s) => s !== sourceName)) {
    rules.push({
      'rule-type': 'transformation',
      'rule-id': next(),
      'rule-name': `schema-${schema}-to-${sourceName}`,
      'rule-target': 'schema',
      'object-locator': { 'schema-name': schema },
      'rule-action': 'rename',
      value: sourceName,
    });
  }
  for (const t of tables.filter((x) => x.table !== x.dataset)) {
    rules.push({
      'rule-type': 'transformation',
      'rule-id': next(),
      'rule-name': `table-${t.table}-to-${t.dataset}`,
      'rule-target': 'table',
      'object-locator': { 'schema-name': t.schema, 'table-name': t.table },
      'rule-action': 'rename',
      value: t.dataset,
    });
  }
  return { rules };
}

function validateSelections(identifier: string, tables: readonly DmsTableSelection[]): void {
  const datasets = tables.map((t) => t.dataset);
  const duplicate = datasets.find((d, i) => datasets.indexOf(d) !== i);
  if (duplicate) throw new Error(`${identifier}: two tables land as dataset '${duplicate}'`);
}

/** The secret's ARN for IAM: as given, or, for a name, with the six-character suffix Secrets Manager appends. */
export function secretArnOf(stack: Stack, secret: string): string {
  if (secret.startsWith('arn:')) return secret;
  return stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secret}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

function sourceEngineSettings(source: DmsSourceProps, secretsManagerAccessRoleArn: string): Partial<dms.CfnEndpointProps> {
  const settings = { secretsManagerSecretId: source.secret, secretsManagerAccessRoleArn };
  switch (source.engine) {
    case 'postgres':
      // Heartbeats keep the replication slot's WAL position moving on a quiet database.
      return { postgreSqlSettings: { ...settings, heartbeatEnable: true, heartbeatFrequency: 5, ...source.postgres } };
    case 'sqlserver':
      return { microsoftSqlServerSettings: settings };
    case 'mysql':
      return { mySqlSettings: settings };
    case 'oracle':
      return { oracleSettings: settings };
  }
}
