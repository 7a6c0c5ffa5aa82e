import { CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from '../nag/acknowledgements';
import { LAMBDA_BUNDLING, lambdaEntry, PATHS, REPO_ROOT } from '../paths';
import { networkInterfacesPolicy } from './lambda-network';
import { encryptedLogGroup } from './log-groups';

export interface PrivateFunctionProps {
  /** Folder under lambda/ whose handler.ts is the entry point. */
  readonly name: string;
  readonly functionName: string;
  readonly description: string;
  /** What the role is for, in its description. */
  readonly purpose: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memoryMiB: number;
  /**
   * Reserved concurrency: the most instances at once, held back from the account's pool. Or, where a
   * reservation would do harm, why there is none (acknowledges the compliance packs' LambdaConcurrency).
   */
  readonly concurrency: number | { readonly unreservedBecause: string };
  /**
   * Where a failed invocation is seen. The compliance packs ask every function for a dead-letter
   * queue, which Lambda uses only for asynchronous invocations; this is the reason given instead.
   */
  readonly failedInvocations: string;
  /** @default - the handler's bundle only */
  readonly commandHooks?: nodejs.ICommandHooks;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export interface PrivateFunction {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly securityGroup: ec2.SecurityGroup;
}

/**
 * A Lambda function of the platform in the private subnets, built in `scope` (children
 * FunctionLogs, SecurityGroup, FunctionRole, NetworkInterfaces, Function): an encrypted log group,
 * HTTPS out only, X-Ray, and a role of its own with no AWS managed policy (its log group, its
 * network interfaces, X-Ray); the caller grants what the function does.
 */
export function privateFunction(scope: Construct, props: PrivateFunctionProps): PrivateFunction {
  const logGroup = encryptedLogGroup(scope, 'FunctionLogs', `/aws/lambda/${props.functionName}`, props);
  const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', { vpc: props.vpc, description: `${props.functionName}: HTTPS to AWS endpoints only`, allowAllOutbound: false });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS');
  const role = new iam.Role(scope, 'FunctionRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `${props.functionName}: ${props.purpose}` });
  logGroup.grantWrite(role);
  const networkPolicy = networkInterfacesPolicy(scope, role, props.vpc, props.vpcSubnets, securityGroup);
  const fn = new nodejs.NodejsFunction(scope, 'Function', {
    functionName: props.functionName,
    description: props.description,
    entry: lambdaEntry(props.name),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: PATHS.lockFile,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memoryMiB,
    timeout: props.timeout,
    reservedConcurrentExecutions: typeof props.concurrency === 'number' ? props.concurrency : undefined,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: props.commandHooks ? { ...LAMBDA_BUNDLING, commandHooks: props.commandHooks } : LAMBDA_BUNDLING,
    role,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: [securityGroup],
  });
  fn.node.addDependency(networkPolicy);
  // CDK also makes the function depend on its role, which the Role property (a GetAtt) already
  // orders; cfn-lint flags that as redundant (W3005). Keep the two dependencies that matter: the
  // role's grants and its network-interface policy must exist before the function is created.
  const stack = Stack.of(scope);
  const logicalIdOf = (c: Construct) => stack.resolve((c.node.defaultChild as CfnResource).logicalId) as string;
  (fn.node.defaultChild as CfnResource).addOverride('DependsOn', [logicalIdOf(role.node.findChild('DefaultPolicy')), logicalIdOf(networkPolicy)]);
  Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; the tracing statement Lambda needs must name *.',
  });
  if (typeof props.concurrency !== 'number') acknowledgeCompliance(fn, 'LambdaConcurrency', props.concurrency.unreservedBecause);
  acknowledgeCompliance(fn, 'LambdaDLQ', props.failedInvocations);
  return { function: fn, role, logGroup, securityGroup };
}
