import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAMBDA_BUNDLING, lambdaEntry, PATHS, REPO_ROOT } from '../paths';
import { acknowledgeCompliance } from '../nag/acknowledgements';
import { networkInterfacesPolicy } from './lambda-network';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

export interface ScheduledPullFunctionProps {
  /** Folder under lambda/ whose handler.ts is the entry point, e.g. `weather-pull`. */
  readonly name: string;
  readonly description: string;
  /** Physical function name (deterministic, for dashboards and runbooks). */
  readonly functionName: string;
  /** EventBridge schedule expression. */
  readonly schedule: string;
  /** Execution role; grants for logs, network interfaces and the dead-letter queue are added here. */
  readonly role: iam.IRole;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** Key of the dead-letter queue, which holds the failed events. */
  readonly deadLetterKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Lambda function bundled from lambda/<name>/handler.ts that an EventBridge schedule invokes
 * asynchronously: arm64, in private subnets (egress through NAT to the outside API), its own
 * KMS-encrypted log group, two async retries, and then a KMS-encrypted dead-letter queue.
 */
/** Lambda's retries of a failed scheduled run (asynchronous invocation), before its on-failure destination. The local run simulates them. */
export const PULL_RETRY_ATTEMPTS = 2;

export class ScheduledPullFunction extends StatefulConstruct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: events.Rule;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ScheduledPullFunctionProps) {
    super(scope, id, props);
    this.logGroup = encryptedLogGroup(this, 'Logs', `/aws/lambda/${props.functionName}`, props);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.deadLetterKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is the dead-letter destination of the ${props.name} function: the queue of last resort has no further queue.`,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.name}: HTTPS out only (the API, and AWS through endpoints)`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: lambdaEntry(props.name),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: PATHS.lockFile,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: props.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: LAMBDA_BUNDLING,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      // One run at a time: a run that outlasts its schedule's interval (a slow API, a retry) makes
      // the next scheduled invocation wait, throttled, in Lambda's async queue (retried for up to
      // maxEventAge) instead of running beside it. Nothing is lost by the wait: each run pulls the
      // window of its own event's time, not of the moment it starts.
      reservedConcurrentExecutions: 1,
      retryAttempts: PULL_RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    acknowledgeCompliance(
      this.function,
      'LambdaDLQ',
      'Its failed invocations go to an on-failure destination (DeadLetters, alarmed), which, unlike a dead-letter queue, keeps the error and the scheduled event whose window must be pulled again.',
    );
    this.logGroup.grantWrite(props.role);
    this.function.node.addDependency(networkInterfacesPolicy(this, props.role, props.vpc, props.vpcSubnets, this.securityGroup));

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs ${props.functionName}`,
      schedule: events.Schedule.expression(props.schedule),
      targets: [new targets.LambdaFunction(this.function)],
    });
  }
}
