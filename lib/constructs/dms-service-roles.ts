import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, DependencyGroup, IDependable } from 'constructs';

export interface DmsServiceRolesProps {
  /**
   * Create the roles (true) or expect them to exist (false). They have fixed names, one pair per
   * account, so exactly one environment per account creates them.
   */
  readonly create: boolean;
}

/** The role names DMS looks up by name; they cannot be changed. */
export const DMS_VPC_ROLE_NAME = 'dms-vpc-role';
export const DMS_CLOUDWATCH_LOGS_ROLE_NAME = 'dms-cloudwatch-logs-role';

/**
 * The account-level roles AWS DMS needs before any replication subnet group, replication
 * instance or serverless replication can be created. DMS finds them by their fixed names and
 * requires exactly the AWS managed policies attached here.
 */
export class DmsServiceRoles extends Construct {
  readonly vpcRole: iam.IRole;
  readonly cloudWatchLogsRole: iam.IRole;
  /** DMS resources depend on this so CloudFormation creates the roles first (when created here). */
  readonly ready: IDependable;

  constructor(scope: Construct, id: string, props: DmsServiceRolesProps) {
    super(scope, id);
    const ready = new DependencyGroup();
    this.ready = ready;
    if (!props.create) {
      this.vpcRole = iam.Role.fromRoleName(this, 'VpcRole', DMS_VPC_ROLE_NAME);
      this.cloudWatchLogsRole = iam.Role.fromRoleName(this, 'CloudWatchLogsRole', DMS_CLOUDWATCH_LOGS_ROLE_NAME);
      return;
    }
    const dms = new iam.ServicePrincipal('dms.amazonaws.com');
    const vpcRole = new iam.Role(this, 'VpcRole', {
      roleName: DMS_VPC_ROLE_NAME,
      assumedBy: dms,
      description: 'Lets AWS DMS manage the network interfaces of replication in this account (fixed name).',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonDMSVPCManagementRole')],
    });
    const logsRole = new iam.Role(this, 'CloudWatchLogsRole', {
      roleName: DMS_CLOUDWATCH_LOGS_ROLE_NAME,
      assumedBy: dms,
      description: 'Lets AWS DMS write replication logs to CloudWatch Logs in this account (fixed name).',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonDMSCloudWatchLogsRole')],
    });
    for (const [role, policy] of [
      [vpcRole, 'AmazonDMSVPCManagementRole'],
      [logsRole, 'AmazonDMSCloudWatchLogsRole'],
    ] as const) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
        reason: `AWS DMS requires its account-level role to carry exactly the AWS managed policy ${policy}.`,
      });
    }
    this.vpcRole = vpcRole;
    this.cloudWatchLogsRole = logsRole;
    ready.add(vpcRole, logsRole);
  }
}
