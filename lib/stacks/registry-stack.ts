import { CfnOutput, CfnResource } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeWildcards, allowRedundantDependency, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { backUpAuroraCluster, PlatformBackup } from '../constructs/platform-backup';
import { Construct } from 'constructs';
import { DeviceRegistry, monitorDeviceRegistry } from '../constructs/device-registry';
import { monitorDmsReplication } from '../constructs/dms-monitoring';
import { DmsServiceRoles } from '../constructs/dms-service-roles';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { REGISTRY_DMS_LOGIN, RegistryChangeStream } from '../constructs/registry-change-stream';
import { REGISTRY_FLEET_LOGIN, RegistryLoginRotation, registryLoginSecret } from '../constructs/registry-logins';
import { RegistryMigrations } from '../constructs/registry-migrations';
import { registryMigrations } from '../registry-sql';
import { registryFleetSecretName } from '../config/naming';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface RegistryStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  readonly monitoring: PlatformMonitoring;
  /** Where the registry's changes go: the device-updates stream (streaming stack). */
  readonly deviceUpdatesStream: kinesis.IStream;
  readonly dmsServiceRoles: DmsServiceRoles;
  /** The daily backup (security stack); none where config turns backups off. */
  readonly backup?: PlatformBackup;
}

/** The device registry of record (config `registry`): Aurora PostgreSQL Serverless v2, its migrations at deploy, its changes streamed by DMS, its alarms. */
export class RegistryStack extends PlatformStack {
  readonly registry: DeviceRegistry;
  readonly migrations: RegistryMigrations;
  readonly changes: RegistryChangeStream;
  /** The fleet team's login (V005), which `npm run registry` signs in with, found by its name. */
  readonly fleetSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: RegistryStackProps) {
    super(scope, id, props);
    const { config } = this;
    const r = config.registry;
    this.registry = new DeviceRegistry(this, 'Registry', {
      namePrefix: config.resourcePrefix,
      engineVersion: r.engineVersion,
      databaseName: r.databaseName,
      adminUsername: r.adminUsername,
      registryKey: props.keys.registry,
      minAcu: r.minAcu,
      maxAcu: r.maxAcu,
      readers: r.readers,
      backupRetentionDays: r.backupRetentionDays,
      deletionProtection: r.deletionProtection,
      admitSecurityGroupIds: r.admitSecurityGroupIds,
      vpc: props.network.vpc,
      vpcSubnets: props.network.isolatedSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    backUpAuroraCluster(this, props.backup, this.registry.cluster, this.names.resource('registry'));
    this.changes = new RegistryChangeStream(this, 'Changes', {
      identifier: this.names.resource('registry-changes'),
      registry: this.registry,
      databaseName: r.databaseName,
      caBundleParameter: r.caBundleParameter,
      registryKey: props.keys.registry,
      stream: props.deviceUpdatesStream,
      streamKey: props.keys.streams,
      capacity: config.ingestion.dms.capacity,
      vpc: props.network.vpc,
      subnets: props.network.privateSubnets,
      awsApis: props.network.awsApiRoutes,
      serviceRolesReady: props.dmsServiceRoles.ready,
      removalPolicy: this.removalPolicy,
    });
    this.fleetSecret = registryLoginSecret(this, 'FleetSecret', {
      username: REGISTRY_FLEET_LOGIN,
      description: `The fleet team's login to the device registry (${REGISTRY_FLEET_LOGIN}): its three operations, and reading`,
      secretName: registryFleetSecretName(config),
      registryKey: props.keys.registry,
      removalPolicy: this.removalPolicy,
    });
    const logins = [
      { role: REGISTRY_DMS_LOGIN, secret: this.changes.connectionSecret },
      { role: REGISTRY_FLEET_LOGIN, secret: this.fleetSecret },
    ];
    this.migrations = new RegistryMigrations(this, 'Migrations', {
      namePrefix: config.resourcePrefix,
      clusterArn: this.registry.cluster.clusterArn,
      databaseName: r.databaseName,
      masterSecretArn: this.registry.masterSecretArn,
      registryKey: props.keys.registry,
      migrations: registryMigrations(),
      logins,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    // The Data API answers once the writer instance is up, not when the cluster resource is; the
    // cluster itself is already a dependency through the properties' references.
    this.migrations.resource.node.addDependency(this.registry.cluster);
    allowRedundantDependency(this.migrations.resource.node.defaultChild as CfnResource);
    const rotation = new RegistryLoginRotation(this, 'LoginRotation', {
      namePrefix: config.resourcePrefix,
      clusterArn: this.registry.cluster.clusterArn,
      masterSecretArn: this.registry.masterSecretArn,
      databaseName: r.databaseName,
      registryKey: props.keys.registry,
      logins,
      rotateAfterDays: r.loginRotationDays,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    rotation.after(this.migrations.resource);
    monitorDeviceRegistry(props.monitoring, this.registry, r.maxAcu);
    // DMS starts only once its login can sign in: after the migrations made it and set its password.
    const replication = this.changes.replication;
    (replication.replicationConfig ?? replication.replicationTask)!.node.addDependency(this.migrations.resource);
    monitorDmsReplication(props.monitoring, 'dms-registry', replication, config.monitoring.dmsCdcLatencySeconds, 'the device-updates stream');

    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);

    new CfnOutput(this, 'ClusterArn', { value: this.registry.cluster.clusterArn, description: 'The registry cluster (Data API: --resource-arn)' });
    new CfnOutput(this, 'MasterSecretArn', { value: this.registry.masterSecretArn, description: 'The master secret RDS keeps and rotates (the migrations only)' });
    new CfnOutput(this, 'FleetSecretArn', { value: this.fleetSecret.secretArn, description: "The fleet team's login (npm run registry; Data API: --secret-arn)" });
    new CfnOutput(this, 'DatabaseName', { value: r.databaseName, description: 'The registry database' });
  }
}
