import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IDependable } from 'constructs';

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
  readonly sslMode: 'require' | 'verify-ca' | 'verify-full';
  readonly tables: readonly DmsTableSelection[];
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
export class DmsToRawZone extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnetGroup: dms.CfnReplicationSubnetGroup;
  readonly sourceEndpoint: dms.CfnEndpoint;
  readonly targetEndpoint: dms.CfnEndpoint;
  readonly secretAccessRole: iam.Role;
  /** The table mappings, as DMS receives them (JSON). */
  readonly tableMappings: TableMappings;
  /** Serverless replication, when capacity.mode is serverless. */
  readonly replicationConfig?: dms.CfnReplicationConfig;
  /** Instance and task, when capacity.mode is provisioned. */
  readonly replicationInstance?: dms.CfnReplicationInstance;
  readonly replicationTask?: dms.CfnReplicationTask;

  constructor(scope: Construct, id: string, props: DmsToRawZoneProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateSelections(props.identifier, props.source.tables);

    this.subnetGroup = new dms.CfnReplicationSubnetGroup(this, 'SubnetGroup', {
      replicationSubnetGroupDescription: `${props.identifier}: private subnets of the platform VPC`,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    this.subnetGroup.node.addDependency(props.serviceRolesReady);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `DMS ${props.identifier}: to the source database and AWS endpoints only`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.source.sourceCidr), ec2.Port.tcp(props.source.port), 'source database');
    // HTTPS to AWS APIs: interface endpoints inside the VPC and S3 through the gateway endpoint.
    // S3's addresses are a managed prefix list whose id only a lookup can resolve (synth stays
    // offline), so the rule is any address on 443; the route tables send S3 to the endpoint.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS (S3 gateway, interface endpoints)');

    // Secrets Manager access: DMS assumes this role through its regional service principal.
    const secretArn = secretArnOf(stack, props.source.secret);
    this.secretAccessRole = new iam.Role(this, 'SecretAccessRole', {
      assumedBy: new iam.ServicePrincipal(`dms.${stack.region}.amazonaws.com`),
      description: `DMS ${props.identifier}: reads the source's connection secret`,
    });
    this.secretAccessRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secretArn] }),
    );
    props.source.secretKey?.grantDecrypt(this.secretAccessRole);

    this.sourceEndpoint = new dms.CfnEndpoint(this, 'Source', {
      endpointIdentifier: `${props.identifier}-source`,
      endpointType: 'source',
      engineName: props.source.engine,
      databaseName: props.source.databaseName,
      sslMode: props.source.sslMode,
      ...sourceEngineSettings(props.source.engine, props.source.secret, this.secretAccessRole.roleArn),
    });

    this.targetEndpoint = new dms.CfnEndpoint(this, 'Target', {
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
    this.targetEndpoint.node.addDependency(props.targetRole);

    this.tableMappings = tableMappingsFor(props.sourceName, props.source.tables);
    const replicationSettings = {
      Logging: { EnableLogging: true },
      // Full load first, then CDC from the same point; DMS stops and reports on a table error.
      ErrorBehavior: { TableErrorPolicy: 'STOP_TASK', DataErrorPolicy: 'LOG_ERROR' },
    };

    if (props.capacity.mode === 'serverless') {
      this.replicationConfig = new dms.CfnReplicationConfig(this, 'Replication', {
        replicationConfigIdentifier: props.identifier,
        resourceIdentifier: props.identifier,
        replicationType: 'full-load-and-cdc',
        sourceEndpointArn: this.sourceEndpoint.ref,
        targetEndpointArn: this.targetEndpoint.ref,
        tableMappings: this.tableMappings,
        replicationSettings,
        computeConfig: {
          minCapacityUnits: props.capacity.minCapacityUnits,
          maxCapacityUnits: props.capacity.maxCapacityUnits,
          multiAz: props.capacity.multiAz,
          replicationSubnetGroupId: this.subnetGroup.ref,
          vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
        },
      });
      this.replicationConfig.node.addDependency(props.serviceRolesReady);
    } else {
      this.replicationInstance = new dms.CfnReplicationInstance(this, 'Instance', {
        replicationInstanceIdentifier: props.identifier,
        replicationInstanceClass: props.capacity.instanceClass,
        allocatedStorage: props.capacity.allocatedStorageGb,
        multiAz: props.capacity.multiAz,
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        replicationSubnetGroupIdentifier: this.subnetGroup.ref,
        vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      });
      this.replicationInstance.node.addDependency(props.serviceRolesReady);
      this.replicationTask = new dms.CfnReplicationTask(this, 'Task', {
        replicationTaskIdentifier: props.identifier,
        // Fixed so that CloudWatch task metrics (dimension ReplicationTaskIdentifier) are known at synth.
        resourceIdentifier: props.identifier,
        migrationType: 'full-load-and-cdc',
        replicationInstanceArn: this.replicationInstance.ref,
        sourceEndpointArn: this.sourceEndpoint.ref,
        targetEndpointArn: this.targetEndpoint.ref,
        tableMappings: JSON.stringify(this.tableMappings),
        replicationTaskSettings: JSON.stringify(replicationSettings),
      });
    }
  }
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

function sourceEngineSettings(engine: DmsSourceProps['engine'], secretId: string, secretsManagerAccessRoleArn: string): Partial<dms.CfnEndpointProps> {
  const settings = { secretsManagerSecretId: secretId, secretsManagerAccessRoleArn };
  switch (engine) {
    case 'postgres':
      // Heartbeats keep the replication slot's WAL position moving on a quiet database.
      return { postgreSqlSettings: { ...settings, heartbeatEnable: true, heartbeatFrequency: 5 } };
    case 'sqlserver':
      return { microsoftSqlServerSettings: settings };
    case 'mysql':
      return { mySqlSettings: settings };
    case 'oracle':
      return { oracleSettings: settings };
  }
}
