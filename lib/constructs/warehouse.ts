import { CfnResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as redshift from 'aws-cdk-lib/aws-redshiftserverless';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

/** The audit logs a namespace exports to CloudWatch Logs, each to `/aws/redshift/serverless/<type>`. */
export const WAREHOUSE_LOG_EXPORTS = ['connectionlog', 'userlog', 'useractivitylog'] as const;
/** The id CDK gives the single function behind every AwsCustomResource of a stack. */
const USAGE_LIMIT_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
/** Redshift's port, the only one the security group opens. */
export const WAREHOUSE_PORT = 5439;

export interface WarehouseProps {
  /** Prefix of the namespace, workgroup and role names, e.g. `tlh-dev`. */
  readonly namePrefix: string;
  readonly databaseName: string;
  readonly adminUsername: string;
  /** Encrypts the namespace's data and its admin secret. */
  readonly warehouseKey: kms.IKey;
  readonly baseRpu: number;
  readonly maxRpu: number;
  /** RPU-hours per period before the breach action: the bill's ceiling. */
  readonly usageLimit: { readonly rpuHours: number; readonly period: 'daily' | 'weekly' | 'monthly'; readonly breachAction: 'log' | 'emit-metric' | 'deactivate' };
  /** Security groups whose members may connect on 5439 (BI tools, an administrator's bastion). */
  readonly admitSecurityGroupIds: readonly string[];
  readonly vpc: ec2.IVpc;
  /** Three subnets in three zones: Redshift Serverless needs no fewer. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Grants the namespace role its reads of the lake (LakeAccess.grantWarehouseReads). */
  readonly grantLakeReads: (grantee: iam.IGrantable) => void;
  /** The audit log groups are the account's, one per type; a second environment in the account must not create them again. */
  readonly createAuditLogGroups: boolean;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The warehouse (issue 12): a Redshift Serverless namespace and workgroup.
 *
 * - Namespace: encrypted with the warehouse key; the admin password generated and kept by Secrets
 *   Manager (`manageAdminPassword`, its secret encrypted with the same key), never in a template;
 *   connection, user and user-activity logs exported to CloudWatch Logs; a role that reads the
 *   processed and aggregated zones through the Glue catalog (Spectrum) and nothing in raw.
 * - Workgroup: the isolated subnets, not publicly accessible, enhanced VPC routing (Spectrum's S3
 *   and Glue traffic stays on the VPC's endpoints), `require_ssl` and user-activity logging on,
 *   base and maximum RPU from config, a security group that admits only the groups config names.
 *   The platform's load and migrations use the Redshift Data API, which needs no network path.
 * - A usage limit on the workgroup's RPU-hours with its breach action (CloudFormation has no
 *   resource for it: an SDK call at deploy, removed with the stack).
 */
export class Warehouse extends StatefulConstruct {
  readonly namespace: redshift.CfnNamespace;
  readonly workgroup: redshift.CfnWorkgroup;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: WarehouseProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    const namespaceName = `${props.namePrefix}-warehouse`;

    this.role = new iam.Role(this, 'NamespaceRole', {
      assumedBy: new iam.CompositePrincipal(new iam.ServicePrincipal('redshift.amazonaws.com'), new iam.ServicePrincipal('redshift-serverless.amazonaws.com')),
      description: `${namespaceName}: reads the processed and aggregated zones through the Glue catalog (Spectrum)`,
    });
    props.grantLakeReads(this.role);

    const auditLogs = props.createAuditLogGroups
      ? WAREHOUSE_LOG_EXPORTS.map((type) => encryptedLogGroup(this, `AuditLog-${type}`, `/aws/redshift/serverless/${type}`, props))
      : [];

    this.namespace = new redshift.CfnNamespace(this, 'Namespace', {
      namespaceName,
      dbName: props.databaseName,
      adminUsername: props.adminUsername,
      manageAdminPassword: true,
      adminPasswordSecretKmsKeyId: props.warehouseKey.keyArn,
      kmsKeyId: props.warehouseKey.keyArn,
      iamRoles: [this.role.roleArn],
      defaultIamRoleArn: this.role.roleArn,
      logExports: [...WAREHOUSE_LOG_EXPORTS],
    });
    this.namespace.applyRemovalPolicy(props.removalPolicy);
    // The log groups exist (with their key and retention) before Redshift would create them plain.
    for (const group of auditLogs) this.namespace.node.addDependency(group);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${namespaceName}: Redshift from the admitted groups only, out to the VPC endpoints`,
      allowAllOutbound: false,
    });
    // Enhanced VPC routing sends Spectrum's S3 and Glue calls through the VPC. The isolated subnets
    // route nowhere but the VPC's endpoints (S3's gateway, Glue's and the others' interfaces), so
    // HTTPS out reaches those only.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the VPC endpoints (isolated subnets: no other route)');
    props.admitSecurityGroupIds.forEach((groupId, i) => {
      this.securityGroup.addIngressRule(ec2.Peer.securityGroupId(groupId), ec2.Port.tcp(WAREHOUSE_PORT), `Redshift from admitted group ${i + 1} (config warehouse.admitSecurityGroupIds)`);
    });

    this.workgroup = new redshift.CfnWorkgroup(this, 'Workgroup', {
      workgroupName: namespaceName,
      namespaceName,
      baseCapacity: props.baseRpu,
      maxCapacity: props.maxRpu,
      enhancedVpcRouting: true,
      publiclyAccessible: false,
      subnetIds: props.vpc.selectSubnets(props.vpcSubnets).subnetIds,
      securityGroupIds: [this.securityGroup.securityGroupId],
      port: WAREHOUSE_PORT,
      configParameters: [
        { parameterKey: 'require_ssl', parameterValue: 'true' },
        { parameterKey: 'enable_user_activity_logging', parameterValue: 'true' },
      ],
    });
    this.workgroup.addResourceDependency(this.namespace);
    this.workgroup.applyRemovalPolicy(props.removalPolicy);

    new cr.AwsCustomResource(this, 'UsageLimit', {
      resourceType: 'Custom::RedshiftServerlessUsageLimit',
      // The provider's log group, encrypted and retained like every other (its name is the provider's, which CDK fixes).
      logGroup: encryptedLogGroup(this, 'UsageLimitLogs', undefined, props),
      installLatestAwsSdk: false,
      onCreate: {
        service: 'redshift-serverless',
        action: 'CreateUsageLimit',
        parameters: {
          resourceArn: this.workgroup.attrWorkgroupWorkgroupArn,
          usageType: 'serverless-compute',
          amount: props.usageLimit.rpuHours,
          period: props.usageLimit.period,
          breachAction: props.usageLimit.breachAction,
        },
        physicalResourceId: cr.PhysicalResourceId.fromResponse('usageLimit.usageLimitId'),
      },
      onUpdate: {
        service: 'redshift-serverless',
        action: 'UpdateUsageLimit',
        parameters: { usageLimitId: new cr.PhysicalResourceIdReference(), amount: props.usageLimit.rpuHours, breachAction: props.usageLimit.breachAction },
        physicalResourceId: cr.PhysicalResourceId.fromResponse('usageLimit.usageLimitId'),
      },
      onDelete: {
        service: 'redshift-serverless',
        action: 'DeleteUsageLimit',
        parameters: { usageLimitId: new cr.PhysicalResourceIdReference() },
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['redshift-serverless:CreateUsageLimit', 'redshift-serverless:UpdateUsageLimit', 'redshift-serverless:DeleteUsageLimit'],
          resources: [this.workgroup.attrWorkgroupWorkgroupArn],
        }),
      ]),
    });
    // The SDK-call provider is CDK's singleton function; its role carries Lambda's basic execution
    // policy, and CDK orders it after its role twice over (cfn-lint W3005), as in every provider.
    const provider = stack.node.findChild(USAGE_LIMIT_PROVIDER_ID);
    const providerFunction = provider.node.defaultChild as CfnResource;
    providerFunction.cfnOptions.metadata = { ...providerFunction.cfnOptions.metadata, 'cfn-lint': { config: { ignore_checks: ['W3005'] } } };
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK-managed provider that sets the workgroup usage limit (CloudFormation has no resource for it); its role and code come with the CDK release.',
    });
  }
}
