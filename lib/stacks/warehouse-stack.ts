import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LakeAccess } from '../constructs/lake-access';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformNetwork } from '../constructs/platform-network';
import { Warehouse } from '../constructs/warehouse';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface WarehouseStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  /** Grants the namespace role its reads of the processed and aggregated zones. */
  readonly access: LakeAccess;
}

/** The warehouse (config `warehouse`): Redshift Serverless with the star schema, loaded from the lake. */
export class WarehouseStack extends PlatformStack {
  readonly warehouse: Warehouse;

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
      grantLakeReads: props.access.grantWarehouseReads,
      createAuditLogGroups: w.createAuditLogGroups,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    new CfnOutput(this, 'WorkgroupName', { value: this.warehouse.workgroup.workgroupName, description: 'The Redshift Serverless workgroup (Data API: --workgroup-name)' });
    new CfnOutput(this, 'DatabaseName', { value: w.databaseName, description: 'The warehouse database' });
  }
}
