import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { PlatformMonitoring } from './platform-monitoring';
import { StatefulConstruct } from './removal';

/** PostgreSQL's port: the only one the security group opens. */
export const REGISTRY_PORT = 5432;
/** The log Aurora PostgreSQL exports, to `/aws/rds/cluster/<cluster>/postgresql`. */
const LOG_EXPORT = 'postgresql';

export interface DeviceRegistryProps {
  /** Prefix of the cluster's name, e.g. `tlh-dev`: the cluster is `<prefix>-registry`. */
  readonly namePrefix: string;
  /** Aurora PostgreSQL `major.minor`, e.g. `16.6`. */
  readonly engineVersion: string;
  readonly databaseName: string;
  readonly adminUsername: string;
  /** Encrypts the storage, the master secret and Performance Insights. */
  readonly registryKey: kms.IKey;
  readonly minAcu: number;
  readonly maxAcu: number;
  /** Serverless v2 readers besides the writer, each a failover target. */
  readonly readers: number;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  /** Security groups whose members may connect on 5432 (an administrator's bastion). */
  readonly admitSecurityGroupIds: readonly string[];
  readonly vpc: ec2.IVpc;
  /** The isolated subnets: the registry talks to nothing outside the VPC. */
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** RETAIN (or DESTROY where dev allows it); a retained cluster leaves a final snapshot. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The device registry of record (issue 15): an Aurora PostgreSQL Serverless v2 cluster.
 *
 * - Isolated subnets, no public access, a security group that admits only the groups config
 *   names (DMS and the platform's functions are added by their constructs), no egress.
 * - Storage, the master secret and Performance Insights encrypted with the registry's own key.
 *   The master password is generated, kept and rotated by RDS in Secrets Manager
 *   (`manageMasterUserPassword`): it never passes through a template, and no rotation function
 *   is needed. IAM database authentication for the platform's own users; the RDS Data API for
 *   the fleet team's command (no network path to the isolated subnets needed).
 * - A cluster parameter group that refuses connections without TLS (`rds.force_ssl`) and turns on
 *   logical replication (`rds.logical_replication`) for DMS's change capture.
 * - Backups kept per environment, deletion protection and a final snapshot where config says,
 *   PostgreSQL's log exported to an encrypted, retained log group made before the cluster.
 */
export class DeviceRegistry extends StatefulConstruct {
  readonly cluster: rds.DatabaseCluster;
  readonly securityGroup: ec2.SecurityGroup;
  readonly parameterGroup: rds.ParameterGroup;
  readonly logGroup: logs.LogGroup;
  readonly clusterIdentifier: string;

  constructor(scope: Construct, id: string, props: DeviceRegistryProps) {
    super(scope, id, props);
    this.clusterIdentifier = `${props.namePrefix}-registry`;
    const major = props.engineVersion.split('.')[0];
    const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.of(props.engineVersion, major) });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Device registry ${this.clusterIdentifier}: PostgreSQL from admitted groups only; no egress`,
      allowAllOutbound: false,
    });
    props.admitSecurityGroupIds.forEach((groupId, i) => {
      this.securityGroup.addIngressRule(ec2.Peer.securityGroupId(groupId), ec2.Port.tcp(REGISTRY_PORT), `PostgreSQL from admitted group ${i + 1} (config registry.admitSecurityGroupIds)`);
    });

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `Device registry ${this.clusterIdentifier}: TLS only, logical replication for DMS`,
      parameters: {
        'rds.force_ssl': '1',
        'rds.logical_replication': '1',
        // Every connection and DDL statement in the exported log: who changed the registry's schema.
        log_connections: '1',
        log_disconnections: '1',
        log_statement: 'ddl',
      },
    });

    // Made before the cluster, so the export lands in a group with the logs key and a retention
    // (RDS would otherwise create it unencrypted and kept forever).
    this.logGroup = encryptedLogGroup(this, 'PostgresqlLog', `/aws/rds/cluster/${this.clusterIdentifier}/${LOG_EXPORT}`, props);

    const instance = (name: string) => ({
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: props.registryKey,
      performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT,
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
      // Named, not left to RDS's default of the day: DMS's verify-full checks the certificate against this CA's bundle (config registry.caBundleParameter).
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      instanceIdentifier: `${this.clusterIdentifier}-${name}`,
    });
    const retained = props.removalPolicy === RemovalPolicy.RETAIN;
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine,
      clusterIdentifier: this.clusterIdentifier,
      defaultDatabaseName: props.databaseName,
      credentials: rds.Credentials.fromUsername(props.adminUsername, { encryptionKey: props.registryKey }),
      manageMasterUserPassword: true,
      writer: rds.ClusterInstance.serverlessV2('Writer', instance('writer')),
      readers: Array.from({ length: props.readers }, (_, i) => rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { ...instance(`reader-${i + 1}`), scaleWithWriter: true })),
      serverlessV2MinCapacity: props.minAcu,
      serverlessV2MaxCapacity: props.maxAcu,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      port: REGISTRY_PORT,
      storageEncrypted: true,
      storageEncryptionKey: props.registryKey,
      iamAuthentication: true,
      enableDataApi: true,
      parameterGroup: this.parameterGroup,
      cloudwatchLogsExports: [LOG_EXPORT],
      backup: { retention: Duration.days(props.backupRetentionDays) },
      copyTagsToSnapshot: true,
      // OS metrics every minute (memory, swap, processes), beside the cluster's CloudWatch metrics.
      monitoringInterval: Duration.seconds(60),
      deletionProtection: props.deletionProtection,
      // A retained environment's cluster leaves a final snapshot when its stack goes.
      removalPolicy: retained ? RemovalPolicy.SNAPSHOT : props.removalPolicy,
    });
    this.cluster.node.addDependency(this.logGroup);
    if (!props.deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'Deletion protection is off where config allows it, dev alone (the config schema refuses it off in staging and prod), so a dev environment can be torn down.',
      });
      acknowledgeCompliance(
        this.cluster,
        'RDSInstanceDeletionProtectionEnabled',
        'Deletion protection is off where config allows it, dev alone (the config schema refuses it off in staging and prod), so a dev environment can be torn down.',
      );
    }
    const monitoringRole = this.cluster.node.tryFindChild('MonitoringRole');
    if (!monitoringRole) throw new Error(`${this.node.path}: expected the enhanced-monitoring role`);
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: "RDS's own policy for enhanced monitoring: it lets the RDS agent write OS metrics to the RDSOSMetrics log group and nothing else.",
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'PostgreSQL keeps its standard port: another number hides nothing from a caller already inside the isolated subnets, ' +
        'and the cluster is reached only through a security group admitting named groups, with TLS forced and IAM or Data API authentication.',
    });
  }

  /** The master secret RDS keeps (CloudFormation's attribute; the L2 exposes no secret object for it). */
  get masterSecretArn(): string {
    return (this.cluster.node.defaultChild as rds.CfnDBCluster).attrMasterUserSecretSecretArn;
  }

  /** The writer's identifier, the dimension of its instance metrics. */
  get writerIdentifier(): string {
    return `${this.clusterIdentifier}-writer`;
  }
}

/**
 * Alarms on the registry: CPU, connections, memory, and the logical replication slot DMS reads
 * falling behind (WAL kept for a stalled slot grows until the storage bill, or the disk, says so).
 */
export function monitorDeviceRegistry(monitoring: PlatformMonitoring, registry: DeviceRegistry, maxAcu: number): void {
  const writer = { DBInstanceIdentifier: registry.writerIdentifier };
  const metric = (metricName: string, statistic: string, dimensionsMap: Record<string, string> = writer) =>
    new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap, statistic, period: Duration.minutes(5) });
  monitoring.addAlarm('registry-cpu-high', {
    metric: metric('CPUUtilization', cloudwatch.Stats.AVERAGE),
    threshold: 80,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    description: `Device registry ${registry.clusterIdentifier}: the writer's CPU stays high.`,
    thresholdReason: `at ${maxAcu} ACU a registry written a few times a day should idle; 80% for 15 minutes is a runaway query or a capacity too small for a fleet-wide change.`,
  });
  monitoring.addAlarm('registry-connections-high', {
    metric: metric('DatabaseConnections', cloudwatch.Stats.MAXIMUM),
    threshold: 100,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    description: `Device registry ${registry.clusterIdentifier}: many connections at once.`,
    thresholdReason: 'its callers are DMS (one or two), the migrations and the Data API; 100 means a client leaks connections, well before Serverless v2 refuses new ones.',
  });
  monitoring.addAlarm('registry-memory-low', {
    metric: metric('FreeableMemory', cloudwatch.Stats.MINIMUM),
    threshold: 256 * 1024 * 1024,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 3,
    description: `Device registry ${registry.clusterIdentifier}: the writer is short of memory.`,
    thresholdReason: 'under 256 MiB free for 15 minutes the writer swaps or cancels queries; raise maxAcu.',
  });
  monitoring.addAlarm('registry-replication-slot-lag', {
    metric: metric('OldestLogicalReplicationSlotLag', cloudwatch.Stats.MAXIMUM),
    threshold: 1024 * 1024 * 1024,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    description: `Device registry ${registry.clusterIdentifier}: DMS's replication slot has fallen behind; device changes are not reaching the platform.`,
    thresholdReason: "the registry writes kilobytes a day, so a gigabyte of WAL held for DMS's slot means the change capture has stopped, not that it is busy.",
  });
}
