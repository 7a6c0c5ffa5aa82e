import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as redshift from 'aws-cdk-lib/aws-redshiftserverless';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProviderFunction } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { PlatformMonitoring } from './platform-monitoring';
import { allowHttpsToAwsApis, AwsApiRoutes, SDK_CALL_PROVIDER_ID } from './platform-network';
import { StatefulConstruct } from './removal';

/** The audit logs a namespace exports to CloudWatch Logs, each to `/aws/redshift/serverless/<type>`. */
export const WAREHOUSE_LOG_EXPORTS = ['connectionlog', 'userlog', 'useractivitylog'] as const;
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
  /** Where HTTPS to AWS's APIs goes in the VPC: the workgroup's only egress. */
  readonly awsApis: AwsApiRoutes;
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
  /**
   * The ARN of the admin secret Redshift keeps (manageAdminPassword). CloudFormation returns no such
   * attribute, so it is read from the namespace at deploy (GetNamespace).
   */
  readonly adminSecretArn: string;

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
    // Enhanced VPC routing sends Spectrum's S3 and Glue calls through the VPC: to S3's gateway
    // endpoint and to Glue's and the others' interface endpoints, and nowhere else.
    allowHttpsToAwsApis(this.securityGroup, props.awsApis, { s3: true });
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
    const namespaceAnswer = new cr.AwsCustomResource(this, 'AdminSecret', {
      resourceType: 'Custom::RedshiftServerlessAdminSecret',
      logGroup: encryptedLogGroup(this, 'AdminSecretLogs', undefined, props),
      installLatestAwsSdk: false,
      onUpdate: {
        service: 'redshift-serverless',
        action: 'GetNamespace',
        parameters: { namespaceName },
        physicalResourceId: cr.PhysicalResourceId.of(`${namespaceName}/admin-secret`),
        outputPaths: ['namespace.adminPasswordSecretArn'],
      },
      // Its policy names the namespace by GetAtt, which also orders the call after the namespace.
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['redshift-serverless:GetNamespace'], resources: [this.namespace.attrNamespaceNamespaceArn] })]),
    });
    this.adminSecretArn = namespaceAnswer.getResponseField('namespace.adminPasswordSecretArn');

    // Both SDK calls run in CDK's singleton SDK-call function of the stack.
    const provider = stack.node.findChild(SDK_CALL_PROVIDER_ID);
    acknowledgeCdkProviderFunction(
      provider,
      provider.node.defaultChild as CfnResource,
      "makes the warehouse's SDK calls at deploy: the workgroup's usage limit and the read of the admin secret's ARN (CloudFormation has no resource or attribute for either)",
    );
  }
}

/** Days in each usage-limit period, to turn the limit into a daily share. A month counts 31 days, so the share is never above the limit's pace. */
const PERIOD_DAYS = { daily: 1, weekly: 7, monthly: 31 } as const;
/** The share of the daily budget at which the alarm warns, before the limit's breach action. */
const COMPUTE_WARNING_SHARE = 0.8;

/**
 * Alerts of the warehouse: a day's compute (RPU-seconds, AWS/Redshift-Serverless ComputeSeconds)
 * above 80% of the usage limit's daily share. The limit's own breach action (log, emit-metric,
 * deactivate) acts at the period's end; this says days earlier that the period is on course to
 * reach it. The load's failures alert through the daily pipeline's execution-failed rule.
 */
export function monitorWarehouse(monitoring: PlatformMonitoring, warehouse: Warehouse, usageLimit: WarehouseProps['usageLimit']): void {
  const dailyBudgetSeconds = (usageLimit.rpuHours * 3600) / PERIOD_DAYS[usageLimit.period];
  monitoring.addAlarm('warehouse-compute-near-limit', {
    metric: new cloudwatch.Metric({
      namespace: 'AWS/Redshift-Serverless',
      metricName: 'ComputeSeconds',
      dimensionsMap: { Workgroup: warehouse.workgroup.workgroupName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.days(1),
    }),
    threshold: Math.round(dailyBudgetSeconds * COMPUTE_WARNING_SHARE),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    description:
      `The warehouse used over ${COMPUTE_WARNING_SHARE * 100}% of a day's share of its usage limit (${usageLimit.rpuHours} RPU-hours ${usageLimit.period}, breach action ${usageLimit.breachAction}). ` +
      'Find the heavy queries in SYS_QUERY_HISTORY; raise warehouse.usageLimit only for a known cause.',
    thresholdReason: `a day at this pace reaches the ${usageLimit.period} limit before the period ends; ${COMPUTE_WARNING_SHARE * 100}% leaves a day to act before the breach action.`,
  });
}
