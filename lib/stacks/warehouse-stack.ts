import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LakeAccess } from '../constructs/lake-access';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformNetwork } from '../constructs/platform-network';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { monitorWarehouse, Warehouse } from '../constructs/warehouse';
import { WarehouseLoadTarget } from '../constructs/warehouse-load';
import { WarehouseMigrations } from '../constructs/warehouse-migrations';
import { warehouseLoadStatements, warehouseMigrations } from '../warehouse-sql';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface WarehouseStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  /** Grants the namespace role its reads of the processed and aggregated zones. */
  readonly access: LakeAccess;
  readonly monitoring: PlatformMonitoring;
}

/**
 * The warehouse (config `warehouse`): Redshift Serverless with the star schema, its migrations
 * applied at deploy, and what the daily pipeline needs to load it (loadTarget).
 */
export class WarehouseStack extends PlatformStack {
  readonly warehouse: Warehouse;
  readonly migrations: WarehouseMigrations;
  /** For the processing stack's daily state machine. */
  readonly loadTarget: WarehouseLoadTarget;

  constructor(scope: Construct, id: string, props: WarehouseStackProps) {
    super(scope, id, props);
    const { config } = this;
    const w = config.warehouse;
    this.warehouse = new Warehouse(this, 'Warehouse', {
      namePrefix: config.resourcePrefix,
      databaseName: w.databaseName,
      adminUsername: w.adminUsername,
      warehouseKey: props.keys.warehouse,
      baseRpu: w.baseRpu,
      maxRpu: w.maxRpu,
      usageLimit: w.usageLimit,
      admitSecurityGroupIds: w.admitSecurityGroupIds,
      vpc: props.network.vpc,
      vpcSubnets: props.network.warehouseSubnets,
      awsApis: props.network.awsApiRoutes,
      grantLakeReads: props.access.grantWarehouseReads,
      createAuditLogGroups: w.createAuditLogGroups,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    const { workgroup } = this.warehouse;
    this.migrations = new WarehouseMigrations(this, 'Migrations', {
      namePrefix: config.resourcePrefix,
      workgroupName: workgroup.workgroupName,
      workgroupArn: workgroup.attrWorkgroupWorkgroupArn,
      databaseName: w.databaseName,
      adminSecretArn: this.warehouse.adminSecretArn,
      warehouseKey: props.keys.warehouse,
      migrations: warehouseMigrations('redshift', {
        processed_database: this.names.glueDatabase('processed'),
        aggregated_database: this.names.glueDatabase('aggregated'),
        namespace_role_arn: this.warehouse.role.roleArn,
      }),
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    // The migrations run once the workgroup exists (their properties name it, but not by reference).
    this.migrations.resource.node.addDependency(workgroup);
    this.loadTarget = { workgroupName: workgroup.workgroupName, workgroupArn: workgroup.attrWorkgroupWorkgroupArn, databaseName: w.databaseName, statements: warehouseLoadStatements() };
    monitorWarehouse(props.monitoring, this.warehouse, w.usageLimit);

    new CfnOutput(this, 'WorkgroupName', { value: this.warehouse.workgroup.workgroupName, description: 'The Redshift Serverless workgroup (Data API: --workgroup-name)' });
    new CfnOutput(this, 'DatabaseName', { value: w.databaseName, description: 'The warehouse database' });
  }
}
